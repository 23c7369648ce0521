"""What the register importers share: the shape of their ``--mapping`` files, columns every row must
fill, status labels sorted into categories, and classification levels (機密性2 → 2).

The registers a 情報政策課 keeps in Excel (assets, backups, cloud services, vendor contracts,
self-inspections, exceptions) are read row by row as the roster is (:mod:`csvrows`); these are
the few rules they have in common beyond that.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from auditor.evidence.importers.csvrows import Table, fold_label, text_column

_CLASS_PREFIX = re.compile(r"^(機密性|完全性|可用性|confidentiality|integrity|availability|[cia])[:：\-]?")
_LEVEL = re.compile(r"^([1-3])[ab]?$")
_LABELS = {"type": "list", "schema": {"type": ["string", "integer"], "empty": False}}


def mapping_schema(fmt: str, columns: dict[str, tuple[str, ...]], values: tuple[str, ...] = ()) -> dict[str, Any]:
    """The schema of a register's ``--mapping`` file: its format, its columns, and its value labels."""
    schema: dict[str, Any] = {
        "format": {"type": "string", "required": True, "allowed": [fmt]},
        "columns": {"type": "dict", "schema": {key: {"type": "string", "empty": False} for key in columns}},
    }
    if values:
        schema["status_values"] = {"type": "dict", "schema": {category: _LABELS for category in values}}
    return schema


def class_level(value: Any) -> int | None:
    """The level of a class cell (``機密性2``, ``2``, ``2A``, an XLSX number 2), or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() and 1 <= value <= 3 else None
    text = "".join(unicodedata.normalize("NFKC", str(value)).split()).casefold()
    found = _LEVEL.match(_CLASS_PREFIX.sub("", text, count=1))
    return int(found.group(1)) if found else None


def class_columns(table: Table, index: int | None, facts: dict[str, list[Any]], key: str,
                  memo: dict[Any, Any]) -> None:
    """Add a class column to ``facts`` as ``key`` (the level) and ``key_label`` (as written)."""
    if index is None:
        return
    labels = text_column(table, index, memo) or []
    raw = table.values(index)
    facts[key] = [class_level(cell if table.sheet is not None else label) for cell, label in zip(raw, labels,
                                                                                                  strict=True)]
    facts[f"{key}_label"] = labels


def categories(table: Table, index: int, statuses: dict[str, str], shared: dict[Any, Any],
               known: dict[str | None, str]) -> tuple[list[str], list[str | None]]:
    """Each row's status category (``other`` for a label not listed) and the label as written."""
    labels = text_column(table, index, shared) or []
    for label in set(labels) - known.keys():
        known[label] = statuses.get(fold_label(label or ""), "other")
    return [known[label] for label in labels], labels


def required_text(table: Table, index: int, what: str, facts: dict[str, list[Any]], key: str,
                  shared: dict[Any, Any] | None = None) -> None:
    """A column every row must fill; an empty cell is refused naming its row and column."""
    values = text_column(table, index, shared) or []
    if None in values:
        raise table.error(f"empty {what}: every row of the register needs one", table.lines[values.index(None)], index)
    facts[key] = values
