"""The compiled-policy cache: what :func:`auditor.policy.load_policy` returns, kept as plain data.

Loading the embedded policy parses and validates some 270 YAML files (a tenth of a second, the
largest part of a host audit's own work); reading them and hashing them takes a few
milliseconds. So a loaded policy is stored in the user's cache (:mod:`auditor.cache`) and served
again only while all of these are what they were when it was stored:

- the bytes of every file the policy is made of (policy.yaml, the families and parameters
  files, every YAML file under the controls, profiles and checks folders) and their names: the
  same SHA-256 as the policy's own ``sha256``, computed from a fresh read of each file on every
  load, so a file changed by one byte, added or removed is never served from the cache;
- the program: its version, the Python that runs it, and the size and modification time of
  each module that decides what a loaded policy is (the ``auditor`` package's own modules,
  its schemas and its condition operators), so that a changed validator never serves a policy
  it would refuse;
- the policy directory's path.

An entry is found by the policy directory, its policy.yaml and the program; the check above
then decides whether it is still good. A policy that failed to load is never stored, so its
error is found again, by the same code, on every load. A profile's ``line_of`` (the lines of its
keys, for an error message naming one) parses the profile's bytes again when first asked.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import sys
from pathlib import Path
from typing import Any

from auditor import __version__, cache
from auditor.parameters import Parameter
from auditor.policy import Check, Control, Policy, Profile, _Reader, _yaml_files

KIND = "policies"
LAYOUT = 1  # bump when the stored data's shape changes
FOLDERS = ("families", "parameters", "controls", "profiles", "checks")
_FILES = ("families", "parameters")  # single files; the others are folders read recursively


@functools.cache
def code_fingerprint() -> bytes:
    """Version, Python and the (name, size, mtime) of the modules that load a policy."""
    package = Path(__file__).parent
    h = hashlib.sha256(f"{LAYOUT}\0{__version__}\0{sys.version}\0{sys.implementation.cache_tag}\0".encode())
    for folder in (package, package / "schemas", package / "conditions"):
        for path in sorted(folder.glob("*.py")):
            try:
                info = path.stat()
            except OSError:
                continue
            h.update(f"{path.relative_to(package)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return h.digest()


def _entry_key(base: Path, manifest_raw: bytes) -> str:
    h = hashlib.sha256(code_fingerprint())
    h.update(str(base.absolute()).encode("utf-8", "surrogateescape") + b"\0")
    h.update(hashlib.sha256(manifest_raw).digest())
    return h.hexdigest()


def _read_files(base: Path, manifest_path: Path, folders: dict[str, str]) -> _Reader | None:
    """Every file of the policy, read as load_policy reads them (names and bytes), or None when
    one cannot be read (the full load then says why)."""
    reader = _Reader(base)
    try:
        paths = [manifest_path]
        for key in FOLDERS:
            path = (base / folders[key]).resolve()
            if not path.exists():
                return None
            paths.extend([path] if key in _FILES else _yaml_files(path))
        for path in paths:
            reader.digest_parts.append((reader.display(path), path.read_bytes()))
    except (OSError, KeyError, TypeError, ValueError):
        return None
    return reader


def load(base: Path, embedded: bool) -> Policy | None:
    """The cached policy of the directory ``base``, when it is still the policy the files make; else None."""
    manifest_path = base / "policy.yaml"
    try:
        manifest_raw = manifest_path.read_bytes()
    except OSError:
        return None
    data = cache.read(KIND, _entry_key(base, manifest_raw))
    if not isinstance(data, dict) or not isinstance(data.get("folders"), dict):
        return None
    reader = _read_files(base, manifest_path, data["folders"])
    if reader is None or reader.sha256() != data.get("sha256"):
        return None
    try:
        return _from_plain(data["policy"], reader, base, embedded)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # an entry of another shape: rebuilt


def store(base: Path, policy: Policy, folders: dict[str, str]) -> None:
    """Keep a freshly loaded ``policy`` (``folders``: its policy.yaml's folder and file keys)."""
    manifest = dict(policy.files).get(_Reader(base).display(base / "policy.yaml"))
    if manifest is None:
        return
    data = {"folders": {key: folders[key] for key in FOLDERS}, "sha256": policy.sha256, "policy": _to_plain(policy)}
    cache.write(KIND, _entry_key(base, manifest), data)


def _fields(obj: Any) -> dict[str, Any]:
    """A policy dataclass's fields (``line_of`` is rebuilt, not kept)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name != "line_of"}


def _to_plain(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id, "version": policy.version, "title": policy.title,
        "default_profile": policy.default_profile, "families": policy.families,
        "controls": [_fields(c) for c in policy.controls.values()],
        "checks": [_fields(c) for c in policy.checks.values()],
        "profiles": [_fields(p) for p in policy.profiles.values()],
        "parameters": [_fields(p) for p in policy.parameters.values()],
    }


def _from_plain(d: dict[str, Any], reader: _Reader, base: Path, embedded: bool) -> Policy:
    raw = dict(reader.digest_parts)
    controls = [Control(**c) for c in d["controls"]]
    checks = [Check(**c) for c in d["checks"]]
    profiles = [Profile(**p, line_of=_lines_of(p["source"], raw[p["source"]])) for p in d["profiles"]]
    parameters = [Parameter(**p) for p in d["parameters"]]
    return Policy(
        id=d["id"], version=d["version"], title=d["title"], default_profile=d["default_profile"],
        families=d["families"], controls={c.id: c for c in controls}, checks={c.id: c for c in checks},
        profiles={p.id: p for p in profiles}, sha256=reader.sha256(), root=str(base),
        parameters={p.name: p for p in parameters}, embedded=embedded, files=sorted(reader.digest_parts),
    )


def _lines_of(name: str, raw: bytes) -> Any:
    """A profile's ``line_of``, parsing its file again the first time it is asked (only to word an error)."""
    @functools.cache
    def doc() -> Any:
        from auditor.yamldoc import parse_yaml

        return parse_yaml(raw, name)

    return lambda keys: doc().line_of(keys)
