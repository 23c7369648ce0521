"""Fake trees for the patch-history and time-sync tests (imported by name, like linux_support)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from linux_support import FIXTURES

HISTORY = FIXTURES / "patch-history"
# What logrotate leaves on Debian: dpkg.log.1 plain (delaycompress), older dpkg rotations and
# every rotation of apt's history.log gzipped.
DEBIAN_GZIPPED = ("var/log/dpkg.log.2", "var/log/apt/history.log.1", "var/log/apt/history.log.2")


def gzip_in_place(path: Path) -> Path:
    """Compress ``path`` to ``path.gz`` as logrotate does (the plain file goes)."""
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes(), mtime=0))
    path.unlink()
    return target


def debian_history(root: Path, compressed: tuple[str, ...] = DEBIAN_GZIPPED) -> Path:
    """Replace the fake root's dpkg logs by the patch-history scenario: an openssl upgrade on
    2026-09-10, then only new installs, a reinstall and a failed upgrade up to 2026-11-01."""
    for old in (root / "var/log").glob("dpkg.log*"):
        old.unlink()
    shutil.copytree(HISTORY / "debian", root, dirs_exist_ok=True)
    for relative in compressed:
        gzip_in_place(root / relative)
    return root


def rhel_history(root: Path) -> Path:
    """Make the fake root a Rocky Linux 9 host with the dnf.rpm.log scenario."""
    (root / "etc/os-release").write_text('NAME="Rocky Linux"\nVERSION_ID="9.4"\nID="rocky"\n'
                                         'ID_LIKE="rhel centos fedora"\n', encoding="utf-8")
    for old in (root / "var/log").glob("dpkg.log*"):
        old.unlink()
    shutil.copytree(HISTORY / "rhel", root, dirs_exist_ok=True)
    return root
