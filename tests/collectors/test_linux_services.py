"""``services`` (GL-A17/A18): the running systemd services read from /proc under a fake root."""

from __future__ import annotations

from pathlib import Path

from auditor.evidence.collectors.linux.services import collect, process_name, service_of
from linux_support import area_problems, collect_area, file_context, messages

AREA = "services"


def _process(root: Path, pid: int, comm: str, cgroup: str, cmdline: bytes = b"") -> None:
    folder = root / "proc" / str(pid)
    folder.mkdir(parents=True)
    (folder / "comm").write_text(comm + "\n", encoding="utf-8")
    (folder / "cgroup").write_text(cgroup, encoding="utf-8")
    (folder / "cmdline").write_bytes(cmdline)


def test_running_services_and_their_processes(tmp_path: Path) -> None:
    _process(tmp_path, 1, "systemd", "0::/init.scope\n")
    _process(tmp_path, 612, "falcond", "0::/system.slice/falcon-sensor.service\n", b"/opt/CrowdStrike/falcond\0")
    _process(tmp_path, 640, "falcon-sensor-b", "0::/system.slice/falcon-sensor.service\n",
             b"/opt/CrowdStrike/falcon-sensor-bpf\0")                    # comm cut at 15 characters
    _process(tmp_path, 700, "wdavdaemon", "0::/system.slice/mdatp.service\n", b"/opt/microsoft/mdatp/wdavdaemon\0")
    _process(tmp_path, 900, "sshd", "12:pids:/system.slice/ssh.service\n1:name=systemd:/system.slice/ssh.service\n")
    _process(tmp_path, 1500, "bash", "0::/user.slice/user-1000.slice/session-3.scope\n")
    _process(tmp_path, 1600, "containerd-shim", "0::/system.slice/containerd.service/kubepods/pod1\n")
    wants = tmp_path / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    (wants / "falcon-sensor.service").symlink_to("/lib/systemd/system/falcon-sensor.service")
    builder = collect_area(collect, file_context(tmp_path))
    fact = builder.facts[AREA]
    assert area_problems(AREA, fact) == {} and messages(builder, AREA) == []
    assert [(s["name"], s["start_mode"], s["processes"]) for s in fact] == [
        ("containerd", None, ["containerd-shim"]),
        ("falcon-sensor", "auto", ["falcon-sensor-bpf", "falcond"]),
        ("mdatp", None, ["wdavdaemon"]),
        ("ssh", None, ["sshd"]),
    ]
    assert {s["state"] for s in fact} == {"running"}
    assert builder.sources[0]["parser"] == "linux.proc_services"


def test_a_tree_without_processes_is_an_error_not_an_empty_list(tmp_path: Path) -> None:
    (tmp_path / "proc/sys").mkdir(parents=True)
    builder = collect_area(collect, file_context(tmp_path))
    assert AREA not in builder.facts and any("no process directories" in m for m in messages(builder, AREA))


def test_parsers() -> None:
    assert service_of("0::/system.slice/system-getty.slice/getty@tty1.service\n") == "getty@tty1"
    assert service_of("0::/\n") is None
    assert service_of("3:cpu:/system.slice/cron.service\n") is None  # a controller hierarchy, not systemd's
    assert process_name("sophos_threat_d", b"/opt/sophos-spl/sophos_threat_detector\0--x\0") == "sophos_threat_detector"
    assert process_name("kworker/0:1-eve", b"") == "kworker/0:1-eve"
