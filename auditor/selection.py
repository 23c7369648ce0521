"""Which checks run, with which parameters: profile inheritance and tailoring.

A profile selects controls and checks by id or glob (``GL-B*``) and sets parameters;
``extends`` chains profiles, the child applied after the parent. A tailoring file
adjusts one profile without editing it, and every change carries a reason, which is
reported with the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.parameters import check_settings
from auditor.policy import Check, Policy, Profile
from auditor.schemas import documents as S
from auditor.schemas import validated
from auditor.yamldoc import load_yaml


@dataclass
class Tailoring:
    id: str
    profile: str
    select: list[dict[str, str]]
    unselect: list[dict[str, str]]
    parameters: dict[str, dict[str, Any]]
    source: str
    sha256: str = ""
    line_of: Callable[[tuple[Any, ...]], int | None] | None = field(default=None, compare=False, repr=False)


@dataclass
class Selection:
    """The resolved audit plan: checks in id order and the parameter values they use."""

    policy: Policy
    profile: Profile
    controls: list[str]
    checks: list[Check]
    params: dict[str, Any]
    tailoring: Tailoring | None = None
    changes: list[dict[str, str]] = field(default_factory=list)


def load_tailoring(path: str | Path) -> Tailoring:
    doc = load_yaml(path)
    d = validated(doc.data, S.TAILORING, doc.path, doc.line_of)
    return Tailoring(id=d["id"], profile=d["profile"], select=d["select"], unselect=d["unselect"],
                     parameters=d["parameters"], source=doc.path, sha256=hashlib.sha256(doc.raw).hexdigest(),
                     line_of=doc.line_of)


def _chain(policy: Policy, profile_id: str, source: str) -> list[Profile]:
    chain: list[Profile] = []
    current: str | None = profile_id
    while current is not None:
        if current not in policy.profiles:
            known = ", ".join(policy.profiles)
            where = chain[-1].source if chain else source
            raise InputError(where, f"unknown profile {current!r} (available: {known})",
                             where="extends" if chain else None)
        profile = policy.profiles[current]
        if profile in chain:
            raise InputError(profile.source, f"profiles extend each other in a loop at {current!r}", where="extends")
        chain.append(profile)
        current = profile.extends
    return list(reversed(chain))


def _apply(ids: list[str], chosen: list[str], select: list[str], unselect: list[str]) -> list[str]:
    picked = set(chosen)
    for pattern in select:
        picked |= {i for i in ids if fnmatchcase(i, pattern)}
    for pattern in unselect:
        picked -= {i for i in ids if fnmatchcase(i, pattern)}
    return [i for i in ids if i in picked]


def _toggle(ids: list[str], chosen: list[str], patterns: list[str], verb: str) -> list[str]:
    return _apply(ids, chosen, patterns, []) if verb == "select" else _apply(ids, chosen, [], patterns)


def _check_pattern(policy: Policy, pattern: str, source: str, where: str) -> None:
    if not any(fnmatchcase(i, pattern) for i in (*policy.controls, *policy.checks)):
        raise InputError(source, f"{pattern!r} matches no control or check of policy {policy.id}", where=where)


def resolve(policy: Policy, profile_id: str | None = None, tailoring: Tailoring | None = None) -> Selection:
    """Apply the profile chain and the tailoring; verify every parameter a check uses is set."""
    if tailoring is not None:
        if profile_id is not None and profile_id != tailoring.profile:
            raise InputError(tailoring.source, f"tailors profile {tailoring.profile!r}, "
                             f"but --profile is {profile_id!r}", where="profile")
        profile_id = tailoring.profile
    chain = _chain(policy, profile_id or policy.default_profile, tailoring.source if tailoring else "--profile")
    control_ids, check_ids = list(policy.controls), list(policy.checks)
    controls: list[str] = []
    params: dict[str, Any] = {}
    explicit_checks: list[tuple[list[str], list[str]]] = []
    for profile in chain:
        for key in ("controls", "checks"):
            for verb in ("select", "unselect"):
                for n, pattern in enumerate(getattr(profile, key).get(verb, [])):
                    _check_pattern(policy, pattern, profile.source, f"{key}.{verb}[{n}]")
        controls = _apply(control_ids, controls, profile.controls.get("select", []),
                          profile.controls.get("unselect", []))
        explicit_checks.append((profile.checks.get("select", []), profile.checks.get("unselect", [])))
        params.update(profile.parameters)

    active = {c for c in controls if not policy.controls[c].withdrawn}
    checks = [i for i in check_ids if set(policy.checks[i].controls) & active]
    for select, unselect in explicit_checks:
        checks = _apply(check_ids, checks, select, unselect)

    changes: list[dict[str, str]] = []
    if tailoring is not None:
        for verb, entries in (("select", tailoring.select), ("unselect", tailoring.unselect)):
            for n, entry in enumerate(entries):
                _check_pattern(policy, entry["id"], tailoring.source, f"{verb}[{n}].id")
                targets_controls = any(fnmatchcase(c, entry["id"]) for c in policy.controls)
                if targets_controls:
                    pick = {c for c in control_ids if fnmatchcase(c, entry["id"])}
                    related = [i for i in check_ids if set(policy.checks[i].controls) & pick]
                    controls = _toggle(control_ids, controls, [entry["id"]], verb)
                else:
                    related = [i for i in check_ids if fnmatchcase(i, entry["id"])]
                checks = _toggle(check_ids, checks, related, verb)
                changes.append({"action": verb, "id": entry["id"], "reason": entry["reason"]})
        check_settings(tailoring.parameters, policy.parameters, tailoring.source, tailoring.line_of, ("parameters",),
                       value_key="value")
        for name, change in tailoring.parameters.items():
            params[name] = change["value"]
            changes.append({"action": "set", "id": name, "value": repr(change["value"]), "reason": change["reason"]})

    selected = [policy.checks[i] for i in checks]
    for check in selected:
        missing = sorted(check.params - params.keys())
        if missing:
            raise InputError(chain[-1].source, f"check {check.id} ({check.source}) needs parameter "
                             f"{missing[0]!r}, which profile {chain[-1].id!r} does not set", where="parameters")
    return Selection(policy=policy, profile=chain[-1], controls=controls, checks=selected, params=params,
                     tailoring=tailoring, changes=changes)
