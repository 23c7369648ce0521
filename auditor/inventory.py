"""The run's own targets as organisation evidence (``audit_targets``), for checks against a register.

GL-C15 asks that every collected endpoint is in the asset register and that every registered
one has fresh evidence. The second half cannot be judged from one endpoint's bundle, nor from
the register alone: it needs the list of what this run was given. So the audit adds that list
to the organisation's evidence, from the bundle headers it has read already (target id, kind,
segment, department, newest ``collected_at``), and a register check compares the two with
``match`` like any other list. Nothing is read from the hosts; a target's id is its host name
as the collectors name it by default.

The area is the audit's to write: a bundle that supplies ``audit_targets`` itself is broken
evidence for the checks that read it (named), never merged with the run's own list.
"""

from __future__ import annotations

from typing import Any

from auditor.bundles import BundleFile, Target
from auditor.clock import parse_date, parse_instant

AREA = "audit_targets"
ORIGIN = "(the run's bundles)"


def _entry(target_id: str, files: list[BundleFile]) -> dict[str, Any]:
    newest = max(files, key=lambda b: parse_instant(b.collected_at))
    header = newest.header
    return {"id": target_id, "kind": header["kind"], "segment": header.get("segment"),
            "department": header.get("department"), "collected_at": newest.collected_at}


def attach(org: Target | None, groups: dict[str, list[BundleFile]]) -> Target | None:
    """``org`` with the run's other targets added as the ``audit_targets`` area (dated as of the
    newest of their collections); None stays None, as no register can be in the run."""
    if org is None:
        return None
    found = [_entry(target_id, files) for target_id, files in groups.items()
             if files and files[0].header["kind"] != "organization"]
    if AREA in org.facts:
        supplied = org.area_file.get(AREA, "a bundle")
        org.area_problems[AREA] = (f"{supplied}: facts.{AREA} is written by the audit from the run's bundles; "
                                   "a bundle may not supply it")
        org.area_problem_at[AREA] = (supplied, f"facts.{AREA}")
        return org
    org.facts[AREA] = found
    org.area_file[AREA] = ORIGIN
    if found:
        org.area_date[AREA] = max(parse_date(entry["collected_at"]) for entry in found)
    return org
