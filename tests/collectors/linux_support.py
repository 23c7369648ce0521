"""Paths and constants shared by the Linux collector tests (imported by name, unlike conftest)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linux"

# Package-index times set on the fake tree: the security InRelease is the newest Release
# file; the Packages file is newer still but is not a Release file.
MAIN_RELEASE_TIME = datetime(2026, 1, 11, 0, 0, 0, tzinfo=UTC).timestamp()
SECURITY_RELEASE_TIME = datetime(2026, 1, 12, 9, 0, 0, tzinfo=UTC).timestamp()
PACKAGES_TIME = datetime(2026, 1, 14, 9, 0, 0, tzinfo=UTC).timestamp()


def fixture_text(relative: str) -> str:
    """The text of a file under tests/fixtures/linux."""
    return (FIXTURES / relative).read_text(encoding="utf-8")
