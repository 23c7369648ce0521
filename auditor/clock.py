"""Dates and instants as the auditor writes and reads them (ISO 8601, always with an offset)."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The dates a run may be judged as of (``--as-of``, a bundle's ``collected_at``): ages, fiscal
# years (年度) and expiry are reckoned from them, and at the ends of the calendar that arithmetic
# has no year to go to (the fiscal year of 0001-01-01 began in year 0).
EARLIEST_EVALUATION = date(1970, 1, 1)
LATEST_EVALUATION = date(9998, 12, 31)


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


def evaluation_date_problem(day: date) -> str | None:
    """Why ``day`` cannot be a date to judge as of, or None when it can."""
    if EARLIEST_EVALUATION <= day <= LATEST_EVALUATION:
        return None
    return (f"{day.isoformat()} is outside the dates an audit can be judged as of "
            f"({EARLIEST_EVALUATION.isoformat()} to {LATEST_EVALUATION.isoformat()})")


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant with its offset (``Z`` allowed); ValueError naming what is wrong otherwise."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a real date and time: {value!r} ({exc})") from None
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (such as +09:00)")
    return moment
