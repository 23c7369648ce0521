"""``disk_encryption``: /proc/mounts and the device-mapper stack under /sys/block."""

from __future__ import annotations

from pathlib import Path

from auditor.evidence.collectors.linux.disk_encryption import collect, parse_mounts
from linux_support import area_problems, collect_area, file_context, messages

AREA = "disk_encryption"


def _dm(root: Path, node: str, name: str, uuid: str, slaves: list[str]) -> None:
    (root / f"sys/block/{node}/dm").mkdir(parents=True, exist_ok=True)
    (root / f"sys/block/{node}/dm/name").write_text(name + "\n")
    (root / f"sys/block/{node}/dm/uuid").write_text(uuid + "\n")
    (root / f"sys/block/{node}/slaves").mkdir(exist_ok=True)
    for slave in slaves:
        (root / f"sys/block/{node}/slaves/{slave}").write_text("")


def _mounts(root: Path, *lines: str) -> None:
    (root / "proc/mounts").write_text("".join(line + "\n" for line in lines))


def test_mount_fields_are_unescaped() -> None:
    assert parse_mounts("/dev/sdb1 /srv/a\\040b\\134c xfs rw 0 0\nbroken\n") == [("/dev/sdb1", "/srv/a b\\c", "xfs")]


def test_fake_root_lvm_on_luks(fake_root: Path) -> None:
    builder = collect_area(collect, file_context(fake_root))
    fact = builder.facts[AREA]
    # /boot and /boot/efi are not volumes here; the USB disk (removable) and the snap image neither
    assert [(v["mount"], v["encrypted"], v["method"]) for v in fact["volumes"]] == [
        ("/", True, "luks2"), ("/home", True, "luks2"), ("/srv/共有 データ", False, None)]
    assert fact["system_encrypted"] is True and fact["all_fixed_encrypted"] is False  # /srv is not encrypted
    assert messages(builder, AREA) == []
    assert area_problems(AREA, fact) == {}
    # the sysfs facts behind it are one hashed source
    sysfs = next(s for s in builder.sources if s["parser"] == "linux.sys_block")
    assert sysfs["area"] == AREA and len(sysfs["sha256"]) == 64


def test_boot_partitions_do_not_spoil_all_fixed(fake_root: Path) -> None:
    text = (fake_root / "proc/mounts").read_text()
    (fake_root / "proc/mounts").write_text("".join(line + "\n" for line in text.splitlines() if "sdb1" not in line))
    fact = collect_area(collect, file_context(fake_root)).facts[AREA]
    assert fact["all_fixed_encrypted"] is True
    assert [v["mount"] for v in fact["volumes"]] == ["/", "/home"]


def test_plain_partition_root(tmp_path: Path) -> None:
    (tmp_path / "sys/block/nvme0n1/nvme0n1p2").mkdir(parents=True)
    (tmp_path / "sys/block/nvme0n1/removable").write_text("0\n")
    (tmp_path / "proc").mkdir()
    _mounts(tmp_path, "/dev/nvme0n1p2 / ext4 rw 0 0", "tmpfs /tmp tmpfs rw 0 0")
    fact = collect_area(collect, file_context(tmp_path)).facts[AREA]
    assert fact == {"volumes": [{"mount": "/", "device": "/dev/nvme0n1p2", "system": True, "encrypted": False,
                                 "method": None, "protection_on": False}],
                    "system_encrypted": False, "all_fixed_encrypted": False}


def test_integrity_layer_and_mixed_lvm(tmp_path: Path) -> None:
    for disk in ("sda", "sdb"):
        (tmp_path / f"sys/block/{disk}/{disk}1").mkdir(parents=True)
        (tmp_path / f"sys/block/{disk}/removable").write_text("0\n")
    _dm(tmp_path, "dm-0", "verity", "CRYPT-VERITY-8f1e2d3c4b5a69788796a5b4c3d2e1f0-verity", ["sda1"])
    _dm(tmp_path, "dm-1", "data_crypt", "CRYPT-PLAIN-data_crypt", ["sdb1"])
    _dm(tmp_path, "dm-2", "vg-data", "LVM-abc", ["dm-1", "sda1"])  # one PV encrypted, one not
    (tmp_path / "proc").mkdir()
    _mounts(tmp_path, "/dev/mapper/verity / ext4 ro 0 0", "/dev/mapper/data_crypt /srv ext4 rw 0 0",
            "/dev/dm-2 /var xfs rw 0 0")
    fact = collect_area(collect, file_context(tmp_path)).facts[AREA]
    assert [(v["mount"], v["encrypted"], v["method"]) for v in fact["volumes"]] == [
        ("/", False, None), ("/srv", True, "plain"), ("/var", False, None)]


def test_root_not_on_a_block_device(tmp_path: Path) -> None:
    (tmp_path / "sys/block").mkdir(parents=True)
    (tmp_path / "proc").mkdir()
    _mounts(tmp_path, "rpool/ROOT/ubuntu / zfs rw 0 0", "rpool/home /home zfs rw 0 0", "/dev/root /data ext4 rw 0 0")
    builder = collect_area(collect, file_context(tmp_path))
    assert builder.facts[AREA] == {"volumes": []}
    assert messages(builder, AREA) == [
        "/ is on rpool/ROOT/ubuntu (zfs), not a block device: its encryption is not read from these files",
        "/home is on rpool/home (zfs), not a block device: its encryption is not read from these files",
        "/data: the disk under /dev/root is not found in /sys/block",
    ]


def test_missing_proc_mounts(tmp_path: Path) -> None:
    builder = collect_area(collect, file_context(tmp_path))
    assert AREA not in builder.facts
    assert messages(builder, AREA) == [f"{tmp_path / 'proc/mounts'}: not found"]

