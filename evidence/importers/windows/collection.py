"""One run of ``collect-windows.ps1``: its folder, or the zip made of it, and the manifest.

The script writes ``auditor-raw-<COMPUTER>-<yyyyMMddHHmmss>/`` and zips it with
``Compress-Archive``, whose Windows PowerShell 5.1 version stores the folder itself as the
top-level entry and separates paths with backslashes (``auditor-raw-PC-101-...\\os.json``),
against the zip specification; both separators are read. The folder may also be given as the
directory it was extracted into, when that holds nothing but the one collection folder.

Files are named in sources as ``<collection folder>/<file>``, whether they were read from the
folder or from the zip, so that the two give the same bundle and an inspector finds the file
in either. Only the files directly in the collection folder are read, each at most
``MAX_FILE_BYTES``: a zip is never extracted to disk.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from auditor.evidence.importers.textio import decode

from auditor.errors import InputError

MANIFEST = "manifest.json"
FORMAT = "auditor-windows-raw/1"
MAX_FILE_BYTES = 64 * 1024 * 1024  # the largest output seen (software.json) is well under 5 MB
HINT = "give the folder or the .zip that collect-windows.ps1 wrote (auditor collect --windows-script FILE)"


@dataclass(frozen=True)
class Step:
    """One manifest entry: a step of the script, the file it wrote, and how it ended."""

    name: str
    file: str
    command: str
    ok: bool
    error: str | None
    error_type: str | None
    exit_code: int | None


@dataclass
class Manifest:
    computer: str | None
    started_at: str | None
    elevated: bool | None
    user: str | None
    steps: dict[str, Step] = field(default_factory=dict)


@dataclass
class Collection:
    """The collection's files by lower-case name (Windows names are case-insensitive)."""

    label: str
    files: dict[str, bytes]
    manifest: Manifest = field(init=False)

    def name(self, file: str) -> str:
        """How a file of the collection is named in sources, records and messages."""
        return f"{self.label}/{file}"

    def get(self, file: str) -> bytes | None:
        return self.files.get(file.casefold())


def open_collection(path: Path, data: bytes) -> Collection:
    """Read a collection folder, or a zip of one, and its manifest."""
    if path.is_dir():
        collection = _from_directory(path)
    elif data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        collection = _from_zip(path, data)
    else:
        raise InputError(str(path), f"neither a folder nor a zip file; {HINT}")
    raw = collection.get(MANIFEST)
    if raw is None:
        raise InputError(str(path), f"no {MANIFEST} in the collection; {HINT}")
    collection.manifest = parse_manifest(raw, collection.name(MANIFEST))
    return collection


def _from_directory(path: Path) -> Collection:
    folder = path
    if not (folder / MANIFEST).is_file():
        inner = [p for p in folder.iterdir() if p.is_dir() and (p / MANIFEST).is_file()]
        if len(inner) == 1:
            folder = inner[0]
    files: dict[str, bytes] = {}
    for item in sorted(folder.iterdir()):
        if not item.is_file():
            continue
        if item.stat().st_size > MAX_FILE_BYTES:
            raise InputError(str(item), f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: not an output of "
                             "collect-windows.ps1")
        try:
            files[item.name.casefold()] = item.read_bytes()
        except OSError as exc:
            raise InputError(str(item), f"cannot read: {exc.strerror or exc}") from None
    return Collection(label=folder.resolve().name, files=files)


def _from_zip(path: Path, data: bytes) -> Collection:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [(info, PurePosixPath(info.filename.replace("\\", "/"))) for info in archive.infolist()
                   if not info.is_dir() and not info.filename.endswith(("/", "\\"))]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(str(path), f"not a readable zip file: {exc}") from None
    manifests = [name for _info, name in entries if name.name.casefold() == MANIFEST]
    if len(manifests) != 1:
        found = "no" if not manifests else f"{len(manifests)}"
        raise InputError(str(path), f"{found} {MANIFEST} in the zip: one collection per zip; {HINT}")
    folder = manifests[0].parent
    files: dict[str, bytes] = {}
    for info, name in entries:
        if name.parent != folder:
            continue
        if info.file_size > MAX_FILE_BYTES:
            raise InputError(str(path), f"{info.filename}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: not an "
                             "output of collect-windows.ps1")
        try:
            files[name.name.casefold()] = archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:  # RuntimeError: encrypted
            raise InputError(str(path), f"{info.filename}: cannot be read from the zip: {exc}") from None
    label = folder.name if str(folder) not in ("", ".") else path.stem
    return Collection(label=label, files=files)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def parse_manifest(data: bytes, name: str) -> Manifest:
    """The manifest's header and steps; a manifest the script did not write is refused."""
    text, _encoding = decode(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(name, f"not JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise InputError(name, f"expected \"format\": \"{FORMAT}\", found {found!r}; {HINT}")
    steps = doc.get("steps")
    if isinstance(steps, dict) and isinstance(steps.get("value"), list):  # 5.1's wrapped array
        steps = steps["value"]
    if isinstance(steps, dict):
        steps = [steps]
    if not isinstance(steps, list):
        raise InputError(name, "\"steps\" is not a list of steps")
    manifest = Manifest(computer=_text(doc.get("computer")), started_at=_text(doc.get("started_at")),
                        elevated=doc.get("elevated") if isinstance(doc.get("elevated"), bool) else None,
                        user=_text(doc.get("user")))
    for index, entry in enumerate(steps):
        if not isinstance(entry, dict) or not _text(entry.get("name")) or not _text(entry.get("file")) \
                or entry.get("status") not in ("ok", "failed"):
            raise InputError(name, f"steps[{index}]: expected name, file and status ok or failed, found {entry!r}")
        step_name = entry["name"]
        if step_name in manifest.steps:
            raise InputError(name, f"steps[{index}]: step {step_name!r} appears twice")
        code = entry.get("exit_code")
        manifest.steps[step_name] = Step(
            name=step_name, file=entry["file"], command=str(entry.get("command") or step_name),
            ok=entry["status"] == "ok", error=_text(entry.get("error")), error_type=_text(entry.get("error_type")),
            exit_code=code if isinstance(code, int) and not isinstance(code, bool) else None)
    return manifest
