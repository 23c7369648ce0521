"""Dates and instants as the auditor writes and reads them (ISO 8601, always with an offset)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now_iso() -> str:
    """The current time with the local UTC offset, to the second (run times, collection times)."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def parse_date(value: str) -> date:
    """The calendar date of an ISO date (``2026-11-02``) or instant (its own offset's date).

    Raises ValueError for anything else.
    """
    if "T" in value or " " in value.strip():
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    return date.fromisoformat(value)
