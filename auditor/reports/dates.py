"""Dates as the city writes them: ISO 8601, or the Japanese era (和暦: 令和8年11月2日).

Reports show the dates of the results document (collection times, waiver and attestation
dates, the evaluation date) through :func:`show_date`, so that ``--date-style wareki``
changes every date of every format at once. Eras from the Meiji era on, by their first day.
"""

from __future__ import annotations

from datetime import date, datetime

STYLES = ("iso", "wareki")

# (first day, name in Japanese, name in English)
ERAS = (
    (date(2019, 5, 1), "令和", "Reiwa"),
    (date(1989, 1, 8), "平成", "Heisei"),
    (date(1926, 12, 25), "昭和", "Showa"),
    (date(1912, 7, 30), "大正", "Taisho"),
    (date(1868, 10, 23), "明治", "Meiji"),
)


def wareki(day: date, lang: str = "ja") -> str:
    """``令和8年11月2日`` (the era's first year written 元年), or ``Reiwa 8 (2026)-11-02`` in English."""
    for start, ja, en in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            if lang == "ja":
                return f"{ja}{'元' if year == 1 else year}年{day.month}月{day.day}日"
            return f"{en} {year} ({day.isoformat()})"
    return day.isoformat()  # before the Meiji era: no era is used for it here


def show_date(value: str | None, style: str = "iso", lang: str = "ja") -> str:
    """A date or instant of the results document (ISO text) as ``style`` shows it; ``-`` for none.

    An instant keeps its time of day (``令和8年11月2日 08:41``); text that is not a date is shown as it is.
    """
    if not value:
        return "-"
    if style == "iso":
        return value
    text = str(value)
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return f"{wareki(moment.date(), lang)} {moment.strftime('%H:%M')}"
        return wareki(date.fromisoformat(text), lang)
    except ValueError:
        return text
