"""Area ``disk_encryption``: which fixed volumes are encrypted (LUKS / dm-crypt).

Read from files, not lsblk: the mounted block devices from /proc/mounts, and for each one
the device-mapper stack under /sys/block (``dm/name``, ``dm/uuid``, ``slaves/``). A volume is
encrypted when every path from its device down to the disks passes a dm-crypt layer, whose
``dm/uuid`` is ``CRYPT-<TYPE>-...`` (``CRYPT-LUKS2-…`` → ``luks2``); integrity-only layers
(``CRYPT-VERITY``, ``CRYPT-INTEGRITY``) are not encryption. LVM on LUKS is found through the
LVM volume's ``slaves``.

Left out: removable disks (``removable`` = 1), loop devices and read-only images (squashfs,
ISO), network and virtual file systems, and the boot partitions (/boot, /boot/efi, /efi): the
firmware and the boot loader must read those unencrypted, they hold no data, and Windows'
EFI and recovery partitions (no drive letter) are not volumes there either. A file system
that is not on a block device (ZFS datasets, for instance) cannot be judged from these
files: an error says so.
"""

from __future__ import annotations

import json
import os
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, read_text

AREA = "disk_encryption"
CRYPT_METHODS = {"LUKS1": "luks1", "LUKS2": "luks2", "PLAIN": "plain", "BITLK": "bitlk", "TCRYPT": "tcrypt"}
IMAGE_FSTYPES = {"squashfs", "iso9660", "udf", "erofs"}
BOOT_MOUNTS = ("/boot", "/boot/efi", "/efi")
DATA_FSTYPES = {"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "bcachefs", "f2fs", "jfs", "reiserfs", "vfat",
                "exfat", "ntfs", "ntfs3"}
_MAX_DEPTH = 16


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        code = field[i + 1:i + 4]
        if field[i] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mounts(text: str) -> list[tuple[str, str, str]]:
    """``(device, mount point, fstype)`` of each /proc/mounts line, in order."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append((_unescape(parts[0]), _unescape(parts[1]), parts[2]))
    return out


class SysBlock:
    """The parts of /sys/block the stack walk needs, read under the collection root."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen: dict[str, Any] = {}  # what was read, recorded as the source
        self._dm_names: dict[str, str] | None = None
        self._disks: list[str] | None = None

    def _read(self, absolute: str) -> str | None:
        try:
            return self.ctx.path(absolute).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None

    def _list(self, absolute: str) -> list[str] | None:
        try:
            return sorted(os.listdir(self.ctx.path(absolute)))
        except OSError:
            return None

    def disks(self) -> list[str]:
        if self._disks is None:
            self._disks = self._list("/sys/block") or []
            self.seen["block"] = self._disks
        return self._disks

    def dm_by_name(self, name: str) -> str | None:
        if self._dm_names is None:
            self._dm_names = {}
            for disk in self.disks():
                if disk.startswith("dm-"):
                    dm_name = self._read(f"/sys/block/{disk}/dm/name")
                    if dm_name:
                        self._dm_names[dm_name] = disk
        return self._dm_names.get(name)

    def dm(self, node: str) -> dict[str, Any] | None:
        """``{uuid, slaves}`` of a device-mapper node, None for any other device."""
        if not node.startswith("dm-"):
            return None
        info = {"name": self._read(f"/sys/block/{node}/dm/name"),
                "uuid": self._read(f"/sys/block/{node}/dm/uuid") or "",
                "slaves": self._list(f"/sys/block/{node}/slaves") or []}
        self.seen[node] = info
        return info

    def parent_disk(self, node: str) -> str | None:
        """The whole disk a node is or belongs to (``sda2`` → ``sda``), None when unknown."""
        disks = self.disks()
        if node in disks:
            return node
        for disk in disks:
            if self.ctx.path(f"/sys/block/{disk}/{node}").exists():
                return disk
        return None

    def removable(self, disk: str) -> bool:
        value = self._read(f"/sys/block/{disk}/removable")
        self.seen[f"{disk}/removable"] = value
        return value == "1"


def node_of(device: str, sysblock: SysBlock) -> str | None:
    """The /sys/block node of a mounted device path (``/dev/mapper/root`` → ``dm-0``)."""
    if device.startswith("/dev/mapper/"):
        return sysblock.dm_by_name(device[len("/dev/mapper/"):])
    if device.startswith("/dev/"):
        name = device[len("/dev/"):]
        if "/" in name:
            return None  # /dev/disk/by-*, /dev/VG/LV: symlinks the kernel does not write in /proc/mounts
        return name
    return None


def crypt_method(node: str, sysblock: SysBlock, depth: int = 0) -> tuple[bool, str | None, list[str]]:
    """(encrypted, method, leaf nodes): encrypted when every path down the dm stack meets a
    dm-crypt layer; the leaves are the non-dm devices reached (to find the disks)."""
    info = sysblock.dm(node)
    if info is None or depth > _MAX_DEPTH:
        return False, None, [node]
    uuid = info["uuid"]
    if uuid.startswith("CRYPT-"):
        kind = uuid.split("-", 2)[1] if uuid.count("-") >= 1 else ""
        method = CRYPT_METHODS.get(kind.upper())
        if method:
            leaves = []
            for slave in info["slaves"]:
                leaves.extend(crypt_method(slave, sysblock, depth + 1)[2])
            return True, method, leaves
    if not info["slaves"]:
        return False, None, []
    results = [crypt_method(slave, sysblock, depth + 1) for slave in info["slaves"]]
    leaves = [leaf for r in results for leaf in r[2]]
    if all(r[0] for r in results):
        methods = sorted({r[1] or "" for r in results})
        return True, "+".join(methods), leaves
    return False, None, leaves


def build_volumes(mounts: list[tuple[str, str, str]], sysblock: SysBlock) -> tuple[list[dict[str, Any]], list[str]]:
    """Volumes (one per mounted block device, at "/" or else its shortest mount point) and
    the problems met (mounts whose device could not be judged)."""
    by_device: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    for device, mount, fstype in mounts:
        if fstype in IMAGE_FSTYPES:
            continue
        if not device.startswith("/dev/"):
            if mount == "/" or (fstype in DATA_FSTYPES and mount.startswith(("/home", "/srv", "/var"))):
                problems.append(f"{mount} is on {device} ({fstype}), not a block device: its encryption "
                                "is not read from these files")
            continue
        if device.startswith("/dev/loop") or mount in BOOT_MOUNTS:
            continue
        known = by_device.get(device)
        if known is None or mount == "/" or (known[0] != "/" and (len(mount), mount) < (len(known[0]), known[0])):
            by_device[device] = (mount, fstype)
    volumes = []
    for device, (mount, _fstype) in by_device.items():
        node = node_of(device, sysblock)
        if node is None:
            problems.append(f"{mount}: device {device} not found under /sys/block")
            continue
        encrypted, method, leaves = crypt_method(node, sysblock)
        disks = {sysblock.parent_disk(leaf) for leaf in leaves} if leaves else {sysblock.parent_disk(node)}
        if None in disks:
            problems.append(f"{mount}: the disk under {device} is not found in /sys/block")
            continue
        if any(sysblock.removable(disk) for disk in disks if disk):
            continue
        volumes.append({"mount": mount, "device": device, "system": mount == "/",
                        "encrypted": encrypted, "method": method, "protection_on": encrypted})
    volumes.sort(key=lambda v: (v["mount"] != "/", v["mount"]))
    return volumes, problems


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Mounted block devices and their dm-crypt layers."""
    text = read_text(builder, ctx, "/proc/mounts", AREA, "linux.proc_mounts")
    if text is None:
        return
    sysblock = SysBlock(ctx)
    volumes, problems = build_volumes(parse_mounts(text), sysblock)
    builder.add_source(f"{ctx.path('/sys/block')}: dm name, uuid, slaves; removable", "linux.sys_block",
                       json.dumps(sysblock.seen, sort_keys=True).encode(), AREA)
    for problem in problems:
        builder.add_error(AREA, problem, "/proc/mounts")
    facts: dict[str, Any] = {"volumes": volumes}
    system = next((v for v in volumes if v["system"]), None)
    if system is not None:
        facts["system_encrypted"] = system["encrypted"]
    elif not any(p.startswith("/ ") or p.startswith("/:") for p in problems):
        builder.add_error(AREA, "no block device is mounted at /", "/proc/mounts")
    if not problems:
        facts["all_fixed_encrypted"] = all(v["encrypted"] for v in volumes)
    builder.set_fact(AREA, facts)
