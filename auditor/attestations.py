"""Attestations: a person's dated statement that a manual control holds, with its document.

Many of the guideline's requirements are proved by a document, not a host: the committee's
minutes, the yearly audit report, the server-room entry log. A check marked ``manual`` stays
``manual`` until someone attests it: who, on which day, on which document (its name and,
optionally, its SHA-256 so that the inspector can verify the copy handed over), valid until
when. Judged as of each result's evaluation date:

- a valid attestation (attested on or before that date, valid until on or after it) makes the
  result ``pass``, shown as attested;
- an expired one makes it ``fail``, with the date it lapsed;
- one dated after the evaluation date, or none, leaves it ``manual``.

The file is YAML (``auditor-attestations/1``) or CSV as Excel writes it (UTF-8 with a BOM or
CP932), one attestation a row with the columns of :data:`CSV_COLUMNS`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import InputError
from auditor.i18n import text
from auditor.limits import check_size
from auditor.schemas import documents as S
from auditor.schemas import validated
from auditor.waivers import as_date
from auditor.yamldoc import load_yaml

if TYPE_CHECKING:
    from auditor.engine import Result
    from auditor.policy import Policy

CSV_COLUMNS = ("control", "check", "targets", "attested_by", "attested_on", "valid_until", "document", "sha256",
               "statement")


@dataclass
class Attestation:
    control: str | None
    check: str | None
    targets: list[str]
    attested_by: str
    attested_on: date
    valid_until: date
    document: str
    sha256: str | None
    statement: str | None
    line: int | None
    used: int = 0

    def covers(self, check_id: str, controls: list[str], target_id: str) -> bool:
        named = (self.check is not None and self.check == check_id) or (self.control is not None
                                                                        and self.control in controls)
        return named and any(fnmatchcase(target_id, p) for p in self.targets)

    def brief(self) -> dict[str, Any]:
        return {"attested_by": self.attested_by, "attested_on": self.attested_on.isoformat(),
                "valid_until": self.valid_until.isoformat(), "document": self.document, "sha256": self.sha256,
                "statement": self.statement}


@dataclass
class Attestations:
    source: str
    items: list[Attestation]
    latest: date | None = None

    def passes_over(self, check: Any) -> bool:
        """Applying to an unjudged result (not applicable, no day) changes nothing: only manual
        results are attested, and only a judged one moves the latest day."""
        return True

    def apply(self, result: Result) -> Result:
        """A manual result attested (pass), lapsed (fail) or left manual (see the module)."""
        day = result.as_of
        if day is not None and (self.latest is None or day > self.latest):
            self.latest = day
        if result.status != "manual" or day is None:
            return result
        found = [a for a in self.items if a.covers(result.check.id, result.check.controls, result.target.id)
                 and a.attested_on <= day]
        if not found:
            return result
        best = max(found, key=lambda a: (a.valid_until, a.attested_on))
        best.used += 1
        result.attestation = {**best.brief(), "file": self.source, "line": best.line}
        values = {"by": best.attested_by, "on": best.attested_on.isoformat(), "document": best.document,
                  "until": best.valid_until.isoformat()}
        if best.valid_until >= day:
            result.status, result.message = "pass", text("status_attested", **values)
        else:
            from auditor.conditions import Finding

            result.status, result.message = "fail", text("status_attestation_expired", **values)
            result.findings = [Finding(item=best.document, actual=f"valid until {best.valid_until.isoformat()}",
                                       expected=f"valid on {day.isoformat()}")]
        return result

    def counters(self) -> tuple[date | None, list[int]]:
        """What applying has counted, for :meth:`absorb` (see :meth:`auditor.waivers.Waivers.counters`)."""
        return self.latest, [a.used for a in self.items]

    def absorb(self, counted: tuple[date | None, list[int]]) -> None:
        latest, used = counted
        if latest is not None and (self.latest is None or latest > self.latest):
            self.latest = latest
        for a, n in zip(self.items, used, strict=True):
            a.used += n

    def summary(self, run_date: date | None) -> list[dict[str, Any]]:
        day = run_date or self.latest or date.today()
        return [{"control": a.control, "check": a.check, "targets": a.targets, **a.brief(), "file": self.source,
                 "line": a.line, "used": a.used,
                 "state": "pending" if day < a.attested_on else "expired" if day > a.valid_until else "valid"}
                for a in self.items]


def _rows_of_csv(path: Path) -> list[tuple[dict[str, Any], int]]:
    """The CSV's rows as attestation entries with their line numbers (Excel's UTF-8 with BOM, or CP932)."""
    from auditor.evidence.importers.textio import decode

    check_size(path, "config")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    content, _ = decode(raw, str(path))
    reader = csv.reader(content.splitlines())
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(str(path), f"empty: expected a header row with {', '.join(CSV_COLUMNS)}") from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise InputError(str(path), f"unknown column {unknown[0]!r} (expected: {', '.join(CSV_COLUMNS)})", line=1)
    for name in header:
        if header.count(name) > 1:
            raise InputError(str(path), f"column {name!r} is given twice", line=1)
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            raise InputError(str(path), f"{len(values)} cells, but the header has {len(header)}", line=line)
        cells = {h: v.strip() for h, v in zip(header, values, strict=False) if v.strip()}
        entry: dict[str, Any] = {k: cells[k] for k in ("control", "check", "attested_by", "attested_on",
                                                       "valid_until", "statement") if k in cells}
        if "targets" in cells:
            entry["targets"] = [t.strip() for t in cells["targets"].split(";") if t.strip()]
        entry["document"] = {"name": cells.get("document", ""), "sha256": cells.get("sha256") or None}
        if not entry["document"]["name"]:
            del entry["document"]
        rows.append((entry, line))
    return rows


def load_attestations(path: str | Path, policy: Policy) -> Attestations:
    """An attestations file (YAML or CSV), checked against the policy: each names an existing control or check."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        rows = _rows_of_csv(path)
        data = {"format": "auditor-attestations/1", "attestations": [entry for entry, _ in rows]}
        lines = [line for _, line in rows]

        def line_of(keys: tuple[Any, ...]) -> int | None:
            return lines[keys[1]] if len(keys) > 1 and isinstance(keys[1], int) and keys[1] < len(lines) else None

        source = str(path)
    else:
        doc = load_yaml(path)
        data, line_of, source = doc.data, doc.line_of, doc.path
    data = validated(data, S.ATTESTATIONS, source, line_of)
    items = []
    for n, entry in enumerate(data["attestations"]):
        where, line = f"attestations[{n}]", line_of(("attestations", n))
        control, check = entry.get("control"), entry.get("check")
        if (control is None) == (check is None):
            raise InputError(source, "an attestation names one control or one check", where=where, line=line)
        if control is not None and control not in policy.controls:
            raise InputError(source, f"unknown control {control!r} of policy {policy.id}", where=f"{where}.control",
                             line=line_of(("attestations", n, "control")))
        if check is not None and check not in policy.checks:
            raise InputError(source, f"unknown check {check!r} of policy {policy.id}", where=f"{where}.check",
                             line=line_of(("attestations", n, "check")))
        on = as_date(entry["attested_on"], source, f"{where}.attested_on", line_of(("attestations", n, "attested_on")))
        until = as_date(entry["valid_until"], source, f"{where}.valid_until",
                        line_of(("attestations", n, "valid_until")))
        if until < on:
            raise InputError(source, f"valid until {until.isoformat()}, before it was attested ({on.isoformat()})",
                             where=f"{where}.valid_until", line=line_of(("attestations", n, "valid_until")))
        items.append(Attestation(control=control, check=check, targets=entry.get("targets", ["*"]),
                                 attested_by=entry["attested_by"], attested_on=on, valid_until=until,
                                 document=entry["document"]["name"], sha256=entry["document"].get("sha256"),
                                 statement=entry.get("statement"), line=line))
    return Attestations(source=source, items=items)
