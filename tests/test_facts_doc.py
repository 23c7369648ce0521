"""docs/facts.md keeps up with the fact schemas and the suppliers table.

A new area or field that reaches ``auditor/schemas/facts.py`` or ``auditor/suppliers.py``
without a word in the document fails here, naming what is missing, so that the reference a
check author or an inspector reads cannot fall behind the code again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from auditor.schemas.facts import FACT_SCHEMAS
from auditor.suppliers import SUPPLIERS

DOC = Path(__file__).resolve().parents[1] / "docs" / "facts.md"
AREA_HEADING = re.compile(r"^### `([a-z0-9_]+)`", re.MULTILINE)
ANY_HEADING = re.compile(r"^#{1,3} ", re.MULTILINE)
INDEX_HEADING = "## Who writes each area"
INDEX_ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (.+) \|$", re.MULTILINE)


def sections(text: str) -> dict[str, str]:
    """Each ``### `area` `` section's text (heading included), up to the next heading of level 1-3."""
    starts = [m.start() for m in ANY_HEADING.finditer(text)] + [len(text)]
    out: dict[str, str] = {}
    for match in AREA_HEADING.finditer(text):
        end = next(s for s in starts if s > match.start())
        assert match.group(1) not in out, f"docs/facts.md: two sections for `{match.group(1)}`"
        out[match.group(1)] = text[match.start():end]
    return out


def index_rows(text: str) -> dict[str, str]:
    """The rows of the "Who writes each area" table: area → its "written by" cell."""
    assert INDEX_HEADING in text, f"docs/facts.md has no section {INDEX_HEADING!r}"
    body = text.split(INDEX_HEADING, 1)[1]
    body = body[:ANY_HEADING.search(body).start()] if ANY_HEADING.search(body) else body
    rows: dict[str, str] = {}
    for match in INDEX_ROW.finditer(body):
        assert match.group(1) not in rows, f"the table names `{match.group(1)}` twice"
        rows[match.group(1)] = match.group(2)
    return rows


def _records(rule: Any) -> list[dict[str, Any]]:
    """The record rules (rules with a mapping ``schema``) inside ``rule``, outermost first."""
    if not isinstance(rule, dict):
        return []
    out: list[dict[str, Any]] = []
    schema = rule.get("schema")
    if isinstance(schema, dict):
        if rule.get("type") == "list":  # a list's rule for its items
            out += _records(schema)
        else:
            out.append(rule)
            for sub in schema.values():
                out += _records(sub)
    return out + _records(rule.get("valuesrules"))


def shared_records() -> set[int]:
    """Record rules that several areas reuse (the export-row ``source``): described once, not per area."""
    seen: dict[int, set[str]] = {}
    for area, rule in FACT_SCHEMAS.items():
        for record in _records(rule)[1:]:
            seen.setdefault(id(record), set()).add(area)
    distinct = {id(rule): area for area, rule in FACT_SCHEMAS.items()}  # an area given twice is one
    return {key for key, areas in seen.items() if len({distinct[id(FACT_SCHEMAS[a])] for a in areas}) > 1}


def field_names(rule: Any, skip: set[int] = frozenset()) -> set[str]:
    """Every key a Cerberus rule names, at any depth (records, lists of records, nested records,
    mappings of records), except the keys inside the records of ``skip``."""
    names: set[str] = set()
    for record in _records(rule):
        if id(record) not in skip:
            names |= set(record["schema"])
    return names


def mentioned(name: str, text: str) -> bool:
    """``name`` appears as a whole word (``umask`` in ``login_defs.umask``, not in ``umask_set``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_schema_area_has_a_section(doc):
    missing = sorted(set(FACT_SCHEMAS) - set(sections(doc)))
    assert not missing, f"docs/facts.md has no `### `area`` section for {missing}"


def test_every_supplied_area_has_a_section(doc):
    missing = sorted(set(SUPPLIERS) - set(sections(doc)))
    assert not missing, f"auditor/suppliers.py names areas docs/facts.md does not document: {missing}"


def test_every_section_is_an_area_of_the_schemas(doc):
    stale = sorted(set(sections(doc)) - set(FACT_SCHEMAS))
    assert not stale, f"docs/facts.md documents areas the schemas do not know (renamed or removed?): {stale}"


def test_every_field_of_an_area_is_in_its_section(doc):
    found = sections(doc)
    shared = shared_records()
    missing = {}
    for area, rule in FACT_SCHEMAS.items():
        # areas that share one schema object (firewall_input_rules is firewall_rules' shape) share its words
        text = "".join(found.get(other, "") for other, same in FACT_SCHEMAS.items() if same is rule)
        absent = sorted(name for name in field_names(rule, shared) if not mentioned(name, text))
        if absent:
            missing[area] = absent
    assert not missing, f"fields of the schemas docs/facts.md does not describe, by area: {missing}"


def test_every_field_of_a_shared_record_is_in_the_document(doc):
    shared = shared_records()
    assert shared, "no record is shared between areas: the export-row source should be"
    names = {name for area in FACT_SCHEMAS.values() for record in _records(area) if id(record) in shared
             for name in record["schema"]}
    assert {"file", "line", "sheet"} <= names
    assert not sorted(name for name in names if not mentioned(name, doc))


def test_the_who_writes_table_is_the_suppliers_table(doc):
    rows = index_rows(doc)
    assert set(rows) == set(SUPPLIERS), (f"missing rows: {sorted(set(SUPPLIERS) - set(rows))}; "
                                         f"rows for no supplied area: {sorted(set(rows) - set(SUPPLIERS))}")
    unnamed = {area: absent for area, cell in rows.items() if (absent := [s for s in SUPPLIERS[area] if s not in cell])}
    assert not unnamed, f"suppliers the table's row does not name, by area: {unnamed}"


def test_the_checks_catch_a_missing_section_and_field():
    """The parsing above sees what is there and misses what is not (else the tests prove nothing)."""
    text = ("## Areas\n\n### `os`\n| family | `linux` |\n\n### `accounts` — list\nname\n\n## Next\n"
            "### `routing`\nip_forward_v4\n")
    assert set(sections(text)) == {"os", "accounts", "routing"}
    assert "ip_forward_v4" not in sections(text)["accounts"]
    assert field_names(FACT_SCHEMAS["routing"]) == {"ip_forward_v4", "ip_forward_v6", "default_gateways"}
    assert {"rules", "origin", "kind", "ports", "log_mode"} <= field_names(FACT_SCHEMAS["firewall_rules"])
    assert {"umask", "duplicate_uids", "mode"} <= field_names(FACT_SCHEMAS["linux_baseline"])
    roster = field_names(FACT_SCHEMAS["hr_roster"])
    assert {"hired_on", "source", "sheet"} <= roster
    assert "sheet" not in field_names(FACT_SCHEMAS["hr_roster"], shared_records()) and "source" in roster
    assert mentioned("umask", "login_defs.umask |") and not mentioned("umask", "umask_set")
    table = f"{INDEX_HEADING}\n\n| area | written by |\n|---|---|\n| `os` | auditor collect (Linux) |\n\n## Areas\n"
    assert index_rows(table) == {"os": "auditor collect (Linux)"}
