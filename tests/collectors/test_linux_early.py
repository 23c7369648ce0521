"""The slowest tool (apt list --upgradable) starts first and the rest of the collection, and of a
host audit, overlaps it; the bundle is the one a serial collection gives.

The tools are scripts on PATH that write when they started and ended (the clock's nanoseconds)
before they answer: ``apt`` sleeps first, as the real one spends its second reading the package
lists. Overlap is shown by the order of those instants, not by timing the run.
"""

from __future__ import annotations

import concurrent.futures
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from auditor.evidence.collectors import CollectOptions
from auditor.evidence.collectors.linux import collector, early
from auditor.evidence.collectors.linux.osrelease import distro_family, parse_os_release

from auditor import cli

APT_SLEEP = 1.0
UPGRADABLE = ("Listing...\n"
              "openssl/stable-security 3.0.15-1~deb12u1 amd64 [upgradable from: 3.0.14-1~deb12u2]\n"
              "libssl3/stable-security 3.0.15-1~deb12u1 amd64 [upgradable from: 3.0.14-1~deb12u2]\n"
              "tzdata/stable-updates 2025a-0+deb12u1 all [upgradable from: 2024b-0+deb12u1]\n")


def _debian_host() -> bool:
    try:
        return distro_family(parse_os_release(Path("/etc/os-release").read_text("utf-8", "replace"))) == "debian"
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not (sys.platform.startswith("linux") and _debian_host()),
                                reason="collects this Debian-family host live")


def _tool(folder: Path, log: Path, name: str, output: str = "", sleep: float = 0.0) -> None:
    script = folder / name
    script.write_text("#!/bin/sh\n"
                      f"echo \"start $(date +%s%N)\" >> '{log / name}'\n"
                      + (f"sleep {sleep}\n" if sleep else "")
                      + f"printf '%s' '{output}'\n"
                      f"echo \"end $(date +%s%N)\" >> '{log / name}'\n")
    script.chmod(0o755)


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH whose apt, systemctl and timedatectl record when they ran; returns their log folder."""
    folder, log = tmp_path / "bin", tmp_path / "log"
    folder.mkdir()
    log.mkdir()
    _tool(folder, log, "apt", UPGRADABLE, sleep=APT_SLEEP)
    _tool(folder, log, "systemctl", "active\n")
    _tool(folder, log, "timedatectl", "NTPSynchronized=yes\n")
    monkeypatch.setenv("PATH", f"{folder}:/usr/sbin:/usr/bin:/sbin:/bin")
    return log


def _runs(log: Path) -> dict[str, list[tuple[int, int]]]:
    """Each tool's (start, end) instants, in nanoseconds, one pair per run."""
    out: dict[str, list[tuple[int, int]]] = {}
    for path in sorted(log.iterdir()):
        marks = [line.split() for line in path.read_text().splitlines()]
        starts = [int(t) for what, t in marks if what == "start"]
        ends = [int(t) for what, t in marks if what == "end"]
        out[path.name] = list(zip(starts, ends, strict=True))
    return out


def _comparable(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle without what differs between any two collections of a live host: the time, the
    listening sockets other programs open meanwhile, the number of processes in a source's name."""
    facts = {area: value for area, value in bundle["facts"].items() if area != "listening"}
    sources = sorted((s["name"] if not s["name"].startswith("/proc/*/cgroup") else "/proc/*/cgroup",
                      s["parser"], s.get("area")) for s in bundle["sources"] if s.get("area") != "listening")
    errors = [e for e in bundle["errors"] if e["area"] != "listening"]
    return {"target": bundle["target"], "facts": facts, "sources": sources, "errors": errors}


class _OneWorker(concurrent.futures.ThreadPoolExecutor):
    """The collector's pool with one thread: the areas run one after another, in AREAS order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(max_workers=1)


def test_apt_starts_first_and_the_rest_overlaps_it_with_the_serial_bundle(
        tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overlapped, _ = collector.collect_timed(CollectOptions())
    first = _runs(tools)
    [(apt_start, apt_end)] = first["apt"]
    others = [run for name, runs in first.items() if name != "apt" for run in runs]
    assert others, first  # systemctl and timedatectl ran
    assert all(apt_start < start and end < apt_end for start, end in others), first
    assert overlapped["facts"]["updates"]["pending"] == 3
    assert overlapped["facts"]["updates"]["packages_pending_security"] == ["libssl3", "openssl"]

    for path in tools.iterdir():
        path.unlink()
    with monkeypatch.context() as serial:
        serial.setattr(early, "slow_commands", lambda root: [])  # nothing started early
        serial.setattr(collector, "ThreadPoolExecutor", _OneWorker)
        alone, _ = collector.collect_timed(CollectOptions())
    second = _runs(tools)
    [(apt_start, apt_end)] = second["apt"]
    assert all(start > apt_end for name, runs in second.items() if name != "apt" for start, _ in runs), second

    assert _comparable(overlapped) == _comparable(alone)
    apt_source = [s for s in overlapped["sources"] if s["parser"] == "linux.apt_upgradable"]
    assert apt_source == [s for s in alone["sources"] if s["parser"] == "linux.apt_upgradable"]
    assert apt_source[0]["size"] == len(UPGRADABLE)


def test_a_started_tool_that_fails_is_recorded_as_if_run_then(tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tools.parent / "bin"
    (folder / "apt").write_text("#!/bin/sh\necho 'E: Could not open lock file' >&2\nexit 100\n")
    bundle, _ = collector.collect_timed(CollectOptions())
    assert "pending" not in bundle["facts"]["updates"]
    [error] = [e for e in bundle["errors"] if e["area"] == "updates" and e["message"].startswith("apt ")]
    assert error["message"] == "apt exited with 100: E: Could not open lock file"
    (folder / "apt").unlink()
    monkeypatch.setenv("PATH", str(folder))  # no apt anywhere on it
    bundle, _ = collector.collect_timed(CollectOptions())
    assert {"area": "updates", "message": "apt: command not found",
            "source": "command: " + " ".join(early.APT_UPGRADABLE)} in bundle["errors"]


def test_prestart_returns_with_apt_running_and_each_collection_starts_its_own(tools: Path, tmp_path: Path) -> None:
    early.prestart()
    early.prestart()  # once only, until a collection takes it
    [command] = early.start("/").values()
    assert command.argv == early.APT_UPGRADABLE
    # running already (it sleeps): the kernel ran the script as /bin/sh .../bin/apt list --upgradable ...
    cmdline = Path(f"/proc/{command.pid}/cmdline").read_bytes().decode().split("\0")
    assert str(tools.parent / "bin" / "apt") in cmdline and "--upgradable" in cmdline
    assert command.result().stdout.decode() == UPGRADABLE and command.result().returncode == 0
    collector.collect_timed(CollectOptions())
    assert len(_runs(tools)["apt"]) == 2  # the one above, then the collection's own
    assert early.slow_commands(tmp_path) == [] and early.start(tmp_path) == {}  # a captured tree runs nothing


def test_a_host_audit_loads_the_policy_while_apt_runs(tools: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.policy

    monkeypatch.setenv("AUDITOR_NO_CACHE", "1")  # a policy loaded in full, as on a first run
    loaded: list[int] = []
    load = auditor.policy.load_policy

    def timed(*args: Any) -> Any:
        policy = load(*args)
        loaded.append(time.time_ns())
        return policy

    monkeypatch.setattr(auditor.policy, "load_policy", timed)
    out = tmp_path / "results.json"
    assert cli.main(["audit", "--format", "json", "--out", str(out), "--lang", "en"]) in (0, 1)
    runs = _runs(tools)
    [(apt_start, apt_end)] = runs["apt"]
    [policy_loaded] = loaded
    assert apt_start < policy_loaded < apt_end, (runs, loaded)
    assert all(apt_start < start and end < apt_end for name, r in runs.items() if name != "apt" for start, end in r)
    doc = json.loads(out.read_text(encoding="utf-8"))
    [result] = [r for r in doc["results"] if r["check"] == "no-pending-security-updates"]
    assert result["status"] == "fail" and "2 security update(s) are pending" in result["message"]
