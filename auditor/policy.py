"""Loading a policy: the control catalogue (WHAT), the checks (HOW) and the profiles.

A policy directory holds ``policy.yaml`` (id, version, default profile, where the
controls, profiles and checks live). Every file is validated on load; any problem is
an :class:`InputError` naming the file, the key and the line. The embedded default
policy is the package's own ``policies/`` with ``checks/`` beside it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from auditor import conditions
from auditor.conditions.quantifiers import fields_of as _fields
from auditor.errors import InputError
from auditor.parameters import Parameter, check_settings, load_catalogue
from auditor.parameters import unknown as unknown_parameter
from auditor.schemas import documents as S
from auditor.schemas import validated
from auditor.yamldoc import YamlDoc, load_yaml

SEVERITY_RANK = {name: i for i, name in enumerate(reversed(S.SEVERITIES))}  # low 0 … critical 3
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Placeholders a message may use besides the profile's parameters (which it may also name).
MESSAGE_FIELDS = {"actual", "expected", "item", "items", "count", "title"}


@dataclass(frozen=True)
class Control:
    id: str
    group: str
    family: str
    reference: str
    severity: str
    mode: str
    applies: dict[str, Any]
    evidence: list[str]
    parameters: list[str]
    title: dict[str, str]
    rationale: dict[str, str]
    remediation: dict[str, str]
    source: str
    revision: str | None = None
    withdrawn: bool = False
    not_automated: dict[str, str] | None = None  # why no check reads evidence for it
    audit_items: tuple[str, ...] = ()  # the audit guideline's 監査項目 numbers, where recorded


@dataclass(frozen=True)
class Check:
    id: str
    controls: list[str]
    title: dict[str, str]
    severity: str
    applies_to: dict[str, Any]
    remediation: dict[str, str]
    source: str
    manual: bool = False
    reads: list[str] = field(default_factory=list)
    condition: dict[str, Any] | None = None
    applies_if: dict[str, Any] | None = None
    item: str | None = None
    message: dict[str, str] | None = None

    @property
    def params(self) -> set[str]:
        found: set[str] = set()
        for cond in (self.condition, self.applies_if):
            if cond is not None:
                found |= conditions.params_of(cond)
        found |= {f.split(".", 1)[1] for f in _fields(self.applies_if) if f.startswith("params.")}
        for text in (self.message or {}).values():
            found |= {p for p in PLACEHOLDER.findall(text) if p not in MESSAGE_FIELDS}
        return found


@dataclass(frozen=True)
class Profile:
    id: str
    title: dict[str, str]
    extends: str | None
    model: str | None
    controls: dict[str, list[str]]
    checks: dict[str, list[str]]
    parameters: dict[str, Any]
    source: str
    description: dict[str, str] | None = None
    line_of: Callable[[tuple[Any, ...]], int | None] | None = field(default=None, compare=False, repr=False)


@dataclass
class Policy:
    id: str
    version: str
    title: dict[str, str]
    default_profile: str
    families: dict[str, dict[str, str]]
    controls: dict[str, Control]
    checks: dict[str, Check]
    profiles: dict[str, Profile]
    sha256: str
    root: str
    parameters: dict[str, Parameter] = field(default_factory=dict)
    embedded: bool = False  # the policy shipped with the program (no --policy)
    files: list[tuple[str, bytes]] = field(default_factory=list, repr=False)  # (name, bytes) of every file read

    def check_profile(self, profile: Profile) -> None:
        """Refuse a profile that sets a parameter this policy does not have, or a value of the wrong type."""
        check_settings(profile.parameters, self.parameters, profile.source, profile.line_of, ("parameters",))


def default_policy_dir() -> Path:
    return Path(str(files("auditor.policies")))


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


class _Reader:
    """Reads the policy's files, remembering their bytes for the policy's hash."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.digest_parts: list[tuple[str, bytes]] = []

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.base.parent))
        except ValueError:
            return str(path)

    def load(self, path: Path) -> YamlDoc:
        doc = load_yaml(path, self.display(path), kind="policy")
        self.digest_parts.append((self.display(path), doc.raw))
        return doc

    def sha256(self) -> str:
        h = hashlib.sha256()
        for name, raw in sorted(self.digest_parts):
            h.update(name.encode() + b"\0" + hashlib.sha256(raw).digest())
        return h.hexdigest()


def _localized(doc: dict[str, Any], key: str) -> dict[str, str] | None:
    value = doc.get(key)
    return dict(value) if value else None


def load_control(doc: YamlDoc) -> Control:
    d = validated(doc.data, S.CONTROL, doc.path, doc.line_of)
    return Control(
        id=d["id"], group=d["group"], family=str(d["family"]), reference=d["reference"], severity=d["severity"],
        mode=d["mode"], applies=d["applies"], evidence=d["evidence"], parameters=d["parameters"],
        title=d["title"], rationale=d["rationale"], remediation=d["remediation"], source=doc.path,
        revision=d.get("revision"), withdrawn=d["withdrawn"], not_automated=d.get("not_automated"),
        audit_items=tuple(d["audit_items"]),
    )


def load_check(doc: YamlDoc, controls: dict[str, Control]) -> Check:
    d = validated(doc.data, S.CHECK, doc.path, doc.line_of)
    if d["manual"]:
        for key in ("reads", "condition", "applies_if"):
            if key in d:
                raise doc.error((key,), "a manual check has no reads, condition or applies_if")
    else:
        for key in ("reads", "condition"):
            if key not in d:
                raise doc.error((key,), "required key is missing (or set manual: true)")
    for key in ("condition", "applies_if"):
        if key in d:
            found = conditions.validate(d[key], (key,))
            if found:
                raise doc.error(*found[0])
    for i, control_id in enumerate(d["controls"]):
        if control_id not in controls:
            raise doc.error(("controls", i), f"unknown control {control_id!r}")
    severity = d.get("severity") or max((controls[c].severity for c in d["controls"]),
                                        key=SEVERITY_RANK.__getitem__)
    reads = d.get("reads", [])
    return Check(
        id=d["id"], controls=d["controls"], title=d["title"], severity=severity, applies_to=d["applies_to"],
        remediation=d["remediation"], source=doc.path, manual=d["manual"],
        reads=[reads] if isinstance(reads, str) else list(reads), condition=d.get("condition"),
        applies_if=d.get("applies_if"), item=d.get("item"), message=_localized(d, "message"),
    )


def load_profile(doc: YamlDoc) -> Profile:
    d = validated(doc.data, S.PROFILE, doc.path, doc.line_of)
    return Profile(
        id=d["id"], title=d["title"], extends=d["extends"], model=d.get("model"), controls=d["controls"],
        checks=d["checks"], parameters=d["parameters"], source=doc.path, description=_localized(d, "description"),
        line_of=doc.line_of,
    )


def _unique(items: dict[str, Any], new_id: str, source: str, what: str) -> None:
    if new_id in items:
        raise InputError(source, f"duplicate {what} id {new_id!r} (also in {items[new_id].source})", where="id")


def load_policy(directory: str | Path | None = None) -> Policy:
    """Load and cross-check a whole policy directory (the embedded one by default).

    A policy loaded before from the same files by the same program is served from the user's
    cache (:mod:`auditor.policy_cache`: every file is read and hashed again to decide).
    """
    from auditor import policy_cache

    base = Path(directory) if directory is not None else default_policy_dir()
    manifest_path = base / "policy.yaml"
    if not base.is_dir():
        raise InputError(str(base), "policy directory not found")
    if not manifest_path.is_file():
        raise InputError(str(manifest_path), "not found: a policy directory needs a policy.yaml")
    cached = policy_cache.load(base, embedded=directory is None)
    if cached is not None:
        return cached
    policy, folders = _load(base, manifest_path, embedded=directory is None)
    policy_cache.store(base, policy, folders)
    return policy


def _load(base: Path, manifest_path: Path, embedded: bool) -> tuple[Policy, dict[str, str]]:
    """The policy the files make, and its policy.yaml's folder and file keys (for the cache)."""
    reader = _Reader(base)
    mdoc = reader.load(manifest_path)
    manifest = validated(mdoc.data, S.POLICY, mdoc.path, mdoc.line_of)

    def folder(key: str) -> Path:
        path = (base / manifest[key]).resolve()
        if not path.exists():
            raise mdoc.error((key,), f"{path} does not exist")
        return path

    fdoc = reader.load(folder("families"))
    families = validated({"families": fdoc.data}, {"families": S.FAMILIES}, fdoc.path,
                         lambda keys: fdoc.line_of(keys[1:]))["families"]

    pdoc = reader.load(folder("parameters"))
    catalogue = load_catalogue(pdoc.data, pdoc.path, pdoc.line_of)

    controls: dict[str, Control] = {}
    for path in _yaml_files(folder("controls")):
        control = load_control(reader.load(path))
        _unique(controls, control.id, control.source, "control")
        if control.family not in families:
            raise InputError(control.source, f"unknown family {control.family!r}", where="family")
        for n, name in enumerate(control.parameters):
            if name not in catalogue:
                raise InputError(control.source, unknown_parameter(name, catalogue), where=f"parameters[{n}]")
        controls[control.id] = control

    profiles: dict[str, Profile] = {}
    for path in _yaml_files(folder("profiles")):
        profile = load_profile(reader.load(path))
        _unique(profiles, profile.id, profile.source, "profile")
        profiles[profile.id] = profile

    checks: dict[str, Check] = {}
    for path in _yaml_files(folder("checks")):
        check = load_check(reader.load(path), controls)
        _unique(checks, check.id, check.source, "check")
        for name in sorted(check.params - catalogue.keys()):
            raise InputError(check.source, f"uses {unknown_parameter(name, catalogue)}")
        checks[check.id] = check

    if manifest["default_profile"] not in profiles:
        raise mdoc.error(("default_profile",), f"no profile {manifest['default_profile']!r} in this policy")
    policy = Policy(
        id=manifest["id"], version=str(manifest["version"]), title=manifest["title"],
        default_profile=manifest["default_profile"], families=families,
        controls=dict(sorted(controls.items())), checks=dict(sorted(checks.items())),
        profiles=dict(sorted(profiles.items())), sha256=reader.sha256(), root=str(base), parameters=catalogue,
        embedded=embedded, files=sorted(reader.digest_parts),
    )
    for profile in policy.profiles.values():
        policy.check_profile(profile)
    return policy, {key: manifest[key] for key in ("families", "parameters", "controls", "profiles", "checks")}
