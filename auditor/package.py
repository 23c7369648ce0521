"""The evidence package for inspections (監査・自己点検): ``auditor export`` and ``auditor verify``.

``auditor export RESULTS.json --out FILE.zip`` gathers, for one stored run, everything an
inspector needs to check it: the results, the HTML reports rendered from them, the policy
files (controls, checks, profiles, parameters) as they were hashed for the run, the tailoring,
waivers and attestations files, and every piece of evidence — each bundle, or each export an
``audit --import`` read. Each is checked against the hash the run recorded before it is
packed: a file changed since the audit is refused, not packed. ``manifest.json`` lists every
member with its size and SHA-256; the manifest's own SHA-256 is printed, for the inspector to
record apart from the package.

``auditor verify FILE.zip`` recomputes every hash, names each member that differs, was added
or was removed, checks that the results cite exactly the evidence packed, and exits 1 on any
mismatch (2 when the file is not a readable package). With ``--manifest-sha256`` it also checks
the manifest against the digest recorded at export, so that a package rewritten whole, manifest
and all, is caught too. Member names are checked before anything is read: absolute paths, ``..``,
backslashes, links and duplicate names are refused, as are sizes beyond the package limit.

With ``--pseudonymize`` the people in it are replaced by keyed pseudonyms (see
:mod:`auditor.pseudonyms`); the manifest then records the SHA-256 each file had before.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from auditor import __version__, jsonio, output
from auditor.clock import now_iso
from auditor.errors import InputError
from auditor.limits import MAX_FILE_BYTES, check_size

FORMAT = "auditor-package/1"
MANIFEST = "manifest.json"
MAX_MEMBERS = 200_000
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # every member's date: the same inputs make the same members


@dataclass
class Member:
    path: str
    data: bytes
    role: str
    original_sha256: str | None = None  # before pseudonymisation
    source: str | None = None  # the file it was read from


@dataclass
class Package:
    members: list[Member] = field(default_factory=list)
    not_packaged: list[dict[str, str]] = field(default_factory=list)

    def add(self, path: str, data: bytes, role: str, source: str | None = None) -> None:
        taken = {m.path for m in self.members}
        stem, dot, suffix = path.rpartition(".")
        candidate, n = path, 2
        while candidate in taken:  # two exports named ad.csv in different folders
            candidate = f"{stem}-{n}.{suffix}" if dot else f"{path}-{n}"
            n += 1
        self.members.append(Member(candidate, data, role, source=source))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _resolve(base: Path, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else base / path


def _read_checked(path: Path, expected: str | None, what: str) -> bytes:
    """A file the run read, refused when missing or different from what the run recorded."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read the {what} this run used: {exc.strerror or exc}") from None
    if expected and _sha256(data) != expected:
        raise InputError(str(path), f"the {what} changed since the audit (SHA-256 differs from the results'): "
                         "audit again, then export")
    return data


def _member_name(folder: str, name: str) -> str:
    """``folder/name`` with nothing that could escape the package (only the path's last parts kept)."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    safe = "/".join(part.replace(":", "_") for part in parts[-3:]) or "file"
    return f"{folder}/{safe}"


def _policy_members(package: Package, run: dict[str, Any]) -> None:
    from auditor.policy import load_policy

    recorded = run["policy"]
    policy = load_policy(None if recorded.get("embedded") else recorded.get("root"))
    if policy.sha256 != recorded.get("sha256"):
        raise InputError(recorded.get("root") or "(embedded policy)", "the policy changed since the audit "
                         f"(hash {policy.sha256[:12]}…, the run recorded {str(recorded.get('sha256'))[:12]}…): "
                         "audit again with this policy, then export")
    for name, data in policy.files:
        package.add(_member_name("policy", name), data, "policy")


def _input_members(package: Package, run: dict[str, Any], base: Path) -> None:
    tailoring = run["policy"].get("tailoring")
    recorded = [("tailoring", tailoring)] if tailoring else []
    recorded += [(key, run[key]) for key in ("waivers", "attestations") if run.get(key)]
    for role, entry in recorded:
        path = _resolve(base, entry["file"])
        data = _read_checked(path, entry.get("sha256"), f"{role} file")
        package.add(_member_name(f"inputs/{role}", path.name), data, role, source=entry["file"])


def _evidence_members(package: Package, run: dict[str, Any], base: Path) -> None:
    for entry in run.get("evidence", []):
        imported = entry.get("imported")
        if imported:
            paths = [_resolve(base, f) for f in imported["files"]]
            datas = [_read_checked(p, None, "export") for p in paths]
            if _sha256(b"".join(datas)) != entry["sha256"] and not (len(datas) == 1 and
                                                                     _sha256(datas[0]) == entry["sha256"]):
                raise InputError(", ".join(map(str, paths)), "the export changed since the audit (SHA-256 differs "
                                 "from the results'): audit again, then export")
            for path, data in zip(paths, datas, strict=True):
                package.add(_member_name(f"evidence/exports/{imported['kind']}", path.name), data, "export",
                            source=str(path))
            continue
        path = _resolve(base, entry["file"])
        if not path.is_file():
            package.not_packaged.append({"file": entry["file"], "reason": "not a file (evidence collected in the "
                                         "audit itself): collect with auditor collect --out to keep it"})
            continue
        data = _read_checked(path, entry["sha256"], "evidence bundle")
        package.add(_member_name(f"evidence/bundles/{entry['target']}", path.name), data, "bundle",
                    source=entry["file"])


def _reports(doc: dict[str, Any]) -> list[tuple[str, bytes]]:
    from auditor.reports import ReportOptions, formats

    lang = doc["run"].get("lang") or "ja"
    rendered = []
    for view in ("admin", "inspector"):
        text = formats()["html"](doc, ReportOptions(lang=lang, view=view))
        rendered.append((f"reports/report-{view}.html",
                         text.encode("utf-8", "backslashreplace") if isinstance(text, str) else text))
    return rendered


def _pseudonymize(package: Package, doc: dict[str, Any], key: bytes) -> dict[str, Any]:
    """Replace the people of every member (and of the results) by keyed pseudonyms, keeping the hashes before."""
    from auditor.evidence.importers import ImportOptions, import_files
    from auditor.pseudonyms import Pseudonymizer

    names = Pseudonymizer(key)
    for member in package.members:
        if member.role == "bundle":
            names.learn(jsonio.decode(member.data))
    for entry in doc["run"].get("evidence", []):
        if entry.get("imported"):  # the people an export names, as its importer reads them
            base = Path(doc["run"].get("cwd") or ".")
            files = [str(_resolve(base, f)) for f in entry["imported"]["files"]]
            names.learn(import_files(entry["imported"]["kind"], files, ImportOptions()))
    for member in package.members:
        if member.role not in ("bundle", "export"):
            continue
        member.original_sha256 = _sha256(member.data)
        if member.role == "bundle":
            member.data = jsonio.encode(names.document(jsonio.decode(member.data)))
        else:
            from auditor.evidence.importers.textio import decode

            text, _ = decode(member.data, member.path)
            member.data = names.text(text).encode("utf-8")  # re-encoded as UTF-8 (the original's encoding is gone)
    return names.document(doc)


def export(results_path: str, out: str, pseudonymize: bool = False, key_file: str | None = None) -> str:
    """Write the package of a stored run; return the manifest's SHA-256."""
    from auditor.report_cli import load_results

    doc = load_results(results_path)
    run = doc["run"]
    base = Path(run.get("cwd") or ".")
    package = Package()
    _policy_members(package, run)
    _input_members(package, run, base)
    _evidence_members(package, run, base)
    key = None
    if pseudonymize:
        from auditor.pseudonyms import key_id, load_key

        key = load_key(key_file)
        doc = _pseudonymize(package, doc, key)
    results_data = jsonio.encode(doc)
    package.members.insert(0, Member("results/results.json", results_data, "results",
                                     original_sha256=_sha256(Path(results_path).read_bytes()) if pseudonymize else None,
                                     source=results_path))
    for name, data in _reports(doc):
        package.members.insert(1, Member(name, data, "report"))
    manifest = {
        "format": FORMAT,
        "created_at": now_iso(),
        "tool_version": __version__,
        "run": {"id": run.get("id"), "started_at": run.get("started_at"), "policy": {
            k: run["policy"].get(k) for k in ("id", "version", "profile", "sha256")}},
        "pseudonymized": pseudonymize,
        "key_id": key_id(key) if key is not None else None,
        "files": [{"path": m.path, "size": len(m.data), "sha256": _sha256(m.data), "role": m.role,
                   **({"original_sha256": m.original_sha256} if m.original_sha256 else {}),
                   **({"source": m.source} if m.source and not pseudonymize else {})} for m in package.members],
        "not_packaged": package.not_packaged,
    }
    manifest["self_sha256"] = _sha256(jsonio.compact(manifest))  # a changed byte anywhere in it shows
    manifest_data = jsonio.encode(manifest)
    with output.atomic(out, private=True) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [(MANIFEST, manifest_data), *((m.path, m.data) for m in package.members)]:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o600) << 16
            archive.writestr(info, data)
    return _sha256(manifest_data)


# --- verify --------------------------------------------------------------------------------------


@dataclass
class Verdict:
    problems: list[tuple[str, str]] = field(default_factory=list)  # (member, what is wrong)
    checked: int = 0
    manifest_sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_infos(path: str, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members by name, after checking every name and size (nothing is read before)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(path, f"{len(infos):,} members; a package has at most {MAX_MEMBERS:,}")
    total = 0
    found: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or ".." in parts or (parts and ":" in parts[0]):
            raise InputError(path, f"member {name!r} would be written outside the package: refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(path, f"member {name!r} is a symbolic link: refused")
        if info.flag_bits & 0x1:
            raise InputError(path, f"member {name!r} is encrypted: refused")
        if name in found:
            raise InputError(path, f"member {name!r} is given twice")
        total += info.file_size
        found[name] = info
    if total > MAX_FILE_BYTES["package"]:
        raise InputError(path, f"members unpack to {total:,} bytes, beyond the package limit")
    return found


def _digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            if size > info.file_size:
                break  # more than the directory says: reported as different below
    return digest.hexdigest(), size


def verify(path: str, manifest_sha256: str | None = None) -> Verdict:
    """Check a package against its manifest (see the module); InputError when it is no readable package."""
    check_size(path, "package")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(path, f"not a readable zip: {exc}") from None
    verdict = Verdict()
    with archive:
        infos = _safe_infos(path, archive)
        if MANIFEST not in infos:
            raise InputError(path, f"no {MANIFEST}: not a package written by auditor export")
        if infos[MANIFEST].file_size > MAX_FILE_BYTES["results"]:
            raise InputError(path, f"{MANIFEST} is too large")
        try:
            raw = archive.read(MANIFEST)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{path}:{MANIFEST}", f"cannot be read: {exc}") from None
        verdict.manifest_sha256 = _sha256(raw)
        if manifest_sha256 and manifest_sha256.lower() != verdict.manifest_sha256:
            verdict.problems.append((MANIFEST, f"differs from the manifest recorded at export ({manifest_sha256})"))
        manifest = _manifest(raw, verdict)
        if manifest is None:
            return verdict
        listed = {entry["path"]: entry for entry in manifest["files"]}
        for name, entry in listed.items():
            info = infos.get(name)
            if info is None:
                verdict.problems.append((name, "removed: listed in the manifest, missing from the package"))
                continue
            try:
                sha, size = _digest(archive, info)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                verdict.problems.append((name, f"changed: it cannot be read back ({exc})"))
                continue
            verdict.checked += 1
            if sha != entry.get("sha256") or size != entry.get("size"):
                verdict.problems.append((name, "changed: its SHA-256 differs from the manifest's"))
        for name in infos:
            if name != MANIFEST and name not in listed:
                verdict.problems.append((name, "added: in the package, not in the manifest"))
        if not manifest.get("pseudonymized") and "results/results.json" in infos \
                and not any(n == "results/results.json" for n, _ in verdict.problems):
            verdict.problems.extend(_evidence_cited(archive, listed))
    return verdict


def _manifest(raw: bytes, verdict: Verdict) -> dict[str, Any] | None:
    """The manifest when it is whole; otherwise None, with what is wrong added to the verdict (a manifest
    edited by one byte fails the package, naming it, as any other member would)."""
    try:
        manifest = jsonio.decode(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        verdict.problems.append((MANIFEST, f"changed: no longer valid JSON ({exc})"))
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
            manifest.get("files"), list) or not all(isinstance(e, dict) and isinstance(e.get("path"), str)
                                                   for e in manifest["files"]):
        verdict.problems.append((MANIFEST, f"changed: not an {FORMAT} manifest with its files"))
        return None
    recorded = manifest.pop("self_sha256", None)
    if recorded != _sha256(jsonio.compact(manifest)):
        verdict.problems.append((MANIFEST, "changed: its content differs from the digest it was written with"))
    return manifest


def _evidence_cited(archive: zipfile.ZipFile, listed: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """The results must cite exactly the bundles packed, by the same hashes."""
    try:
        doc = jsonio.decode(archive.read("results/results.json"))
    except (ValueError, UnicodeDecodeError):
        return [("results/results.json", "not valid JSON")]
    packed = {e["sha256"] for e in listed.values() if e.get("role") == "bundle"}
    cited = {e.get("sha256") for e in doc.get("run", {}).get("evidence", []) if not e.get("imported")}
    problems = []
    if cited - packed:
        problems.append(("results/results.json", f"cites {len(cited - packed)} bundle(s) the package does not hold"))
    if packed - cited:
        problems.append(("evidence/bundles", f"{len(packed - cited)} bundle(s) packed that the results do not cite"))
    return problems


def verify_lines(verdict: Verdict, path: str) -> str:
    out = io.StringIO()
    for name, problem in verdict.problems:
        out.write(f"{path}: {name}: {problem}\n")
    state = "OK" if verdict.ok else f"FAILED ({len(verdict.problems)} problem(s))"
    out.write(f"{path}: {state}: {verdict.checked} file(s) checked; manifest SHA-256 {verdict.manifest_sha256}\n")
    return out.getvalue()


def guard_paths(results_path: str) -> list[str]:
    """What ``export`` reads, so that ``--out`` cannot be one of them."""
    from auditor.report_cli import load_results

    try:
        doc = load_results(results_path)
    except InputError:
        return [results_path]
    run = doc["run"]
    base = Path(run.get("cwd") or ".")
    paths = [results_path]
    for entry in run.get("evidence", []):
        names = entry["imported"]["files"] if entry.get("imported") else [entry["file"]]
        paths += [str(_resolve(base, n)) for n in names if os.path.exists(_resolve(base, n))]
    return paths
