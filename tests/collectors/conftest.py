"""Fixtures for the Linux collector tests: a fixed time zone and a fake root tree."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from linux_support import FIXTURES, MAIN_RELEASE_TIME, PACKAGES_TIME, SECURITY_RELEASE_TIME


@pytest.fixture
def tokyo_tz() -> Iterator[None]:
    """Run with the local time zone set to Asia/Tokyo so instants are deterministic."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def fake_root(tmp_path: Path, tokyo_tz: None) -> Path:
    """A writable copy of tests/fixtures/linux/root with fixed package-index times."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "root", root, symlinks=True)
    lists = root / "var/lib/apt/lists"
    os.utime(lists / "deb.debian.org_debian_dists_bookworm_InRelease", (MAIN_RELEASE_TIME, MAIN_RELEASE_TIME))
    os.utime(lists / "security.debian.org_debian-security_dists_bookworm-security_InRelease",
             (SECURITY_RELEASE_TIME, SECURITY_RELEASE_TIME))
    os.utime(lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
             (PACKAGES_TIME, PACKAGES_TIME))
    return root
