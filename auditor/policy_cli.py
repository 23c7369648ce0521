"""``auditor policy list | show ID | validate PATH``: reading the policy without auditing."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from tabulate import tabulate

from auditor import bundles
from auditor.attestations import load_attestations
from auditor.errors import InputError
from auditor.output import write_stdout
from auditor.parameters import load_catalogue
from auditor.policy import Policy, load_check, load_control, load_policy, load_profile
from auditor.selection import load_tailoring, resolve
from auditor.waivers import load_waivers
from auditor.yamldoc import load_yaml


def _list(policy: Policy) -> str:
    lines = [f"{policy.id} {policy.version}  ({policy.root})", ""]
    rows = []
    for p in policy.profiles.values():
        sel = resolve(policy, p.id)
        mark = "*" if p.id == policy.default_profile else ""
        rows.append([p.id + mark, p.extends or "-", p.model or "-", len(sel.controls), len(sel.checks), p.title["ja"]])
    lines += [tabulate(rows, headers=["profile", "extends", "model", "controls", "checks", "title"]), "",
              "* default", ""]
    rows = [[c.id, c.severity, c.mode, c.reference, sum(c.id in k.controls for k in policy.checks.values()),
             c.title["ja"]] for c in policy.controls.values()]
    lines += [tabulate(rows, headers=["control", "severity", "mode", "reference", "checks", "title"]), ""]
    rows = [[k.id, k.severity, ", ".join(k.controls), k.title["ja"]] for k in policy.checks.values()]
    lines.append(tabulate(rows, headers=["check", "severity", "controls", "title"]))
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def _show(policy: Policy, item_id: str) -> str:
    for table in (policy.controls, policy.checks, policy.profiles):
        if item_id in table:
            item = table[item_id]
            fields = {k: getattr(item, k) for k in item.__dataclass_fields__}
            return json.dumps(_plain(fields), ensure_ascii=False, indent=2) + "\n"
    raise InputError(item_id, f"no control, check or profile with this id in policy {policy.id}")


def _validate(path_text: str, policy_dir: str | None) -> str:
    path = Path(path_text)
    if path.is_dir():
        policy = load_policy(path)
        for profile_id in policy.profiles:
            resolve(policy, profile_id)
        return (f"{path}: valid policy {policy.id} {policy.version}: {len(policy.controls)} controls, "
                f"{len(policy.checks)} checks, {len(policy.profiles)} profiles\n")
    if not path.is_file():
        raise InputError(str(path), "no such file or directory")
    if path.suffix.lower() == ".csv":  # the one CSV document: attestations as Excel writes them
        found = load_attestations(path, load_policy(policy_dir))
        return f"{path}: valid attestations: {len(found.items)}\n"
    if path.suffix == ".json":
        groups = bundles.index([path])
        target = bundles.load_target(*next(iter(groups.items())))
        problems = [target.problem] if target.problem else list(target.area_problems.values())
        if problems:  # each problem already starts with the file's name
            file, _, problem = problems[0].partition(": ")
            raise InputError(file, problem)
        return f"{path}: valid evidence bundle for target {target.id}\n"
    doc = load_yaml(path)
    data = doc.data if isinstance(doc.data, dict) else {}
    if data.get("format") == "auditor-waivers/1":
        return f"{path}: valid waivers: {len(load_waivers(path, load_policy(policy_dir)).items)}\n"
    if data.get("format") == "auditor-attestations/1":
        return f"{path}: valid attestations: {len(load_attestations(path, load_policy(policy_dir)).items)}\n"
    if data.get("format") == "auditor-parameters/1":
        return f"{path}: valid parameter catalogue: {len(load_catalogue(doc.data, doc.path, doc.line_of))} parameters\n"
    if data.get("format") == "auditor-tailoring/1":
        tailoring = load_tailoring(path)
        resolve(load_policy(policy_dir), None, tailoring)
        return f"{path}: valid tailoring of profile {tailoring.profile}\n"
    policy = load_policy(policy_dir)
    if "rationale" in data:
        return f"{path}: valid control {load_control(doc).id}\n"
    if any(k in data for k in ("reads", "condition", "manual")):
        return f"{path}: valid check {load_check(doc, policy.controls).id}\n"
    profile = load_profile(doc)
    policy.check_profile(profile)
    policy.profiles[profile.id] = profile
    resolve(policy, profile.id)
    return f"{path}: valid profile {profile.id}\n"


def _copy(destination: str) -> str:
    """The embedded policy (its directory and the checks it names) copied into ``destination``.

    A city writes its own controls, checks and profiles on a copy rather than in the installed
    package; ``--policy DIR/policies`` then audits with it. Nothing is written over.
    """
    import shutil

    from auditor.policy import default_policy_dir

    target = Path(destination)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(destination, "exists and is not an empty directory: nothing is written over")
    source = default_policy_dir()
    checks = (source / load_yaml(source / "policy.yaml").data["checks"]).resolve()
    ignore = shutil.ignore_patterns("__pycache__", "*.py", "*.pyc")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target / "policies", ignore=ignore)
    shutil.copytree(checks, target / "checks", ignore=ignore)
    manifest = target / "policies" / "policy.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(re.sub(r"(?m)^checks:.*$", "checks: ../checks", text), encoding="utf-8")
    policy = load_policy(target / "policies")
    return (f"{target / 'policies'}: copy of policy {policy.id} {policy.version} ({len(policy.controls)} controls, "
            f"{len(policy.checks)} checks); audit with --policy {target / 'policies'}\n")


def run(args: argparse.Namespace) -> int:
    if args.action == "copy":
        write_stdout(_copy(args.directory))
        return 0
    if args.action == "validate":
        write_stdout(_validate(args.path, args.policy))
        return 0
    policy = load_policy(args.policy)
    if args.action == "coverage":
        from auditor.coverage import coverage, render

        if args.profile is not None and args.profile not in policy.profiles:
            raise InputError(args.profile, f"no profile with this name in policy {policy.id} "
                             f"(profiles: {', '.join(policy.profiles)})")
        write_stdout(render(coverage(policy, args.profile, args.lang), args.format))
        return 0
    write_stdout(_list(policy) if args.action == "list" else _show(policy, args.id))
    return 0
