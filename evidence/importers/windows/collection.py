"""One run of ``collect-windows.ps1``: its folder, or the zip made of it, and the manifest.

The script writes ``auditor-raw-<COMPUTER>-<yyyyMMddHHmmss>/`` and zips it with
``Compress-Archive``, whose Windows PowerShell 5.1 version stores the folder itself as the
top-level entry and separates paths with backslashes (``auditor-raw-PC-101-...\\os.json``),
against the zip specification; both separators are read. The folder may also be given as the
directory it was extracted into, when that holds nothing but the one collection folder.

Files are named in sources as ``<collection folder>/<file>``, whether they were read from the
folder or from the zip, so that the two give the same bundle and an inspector finds the file
in either. Only the files directly in the collection folder are read.

What may come back on a USB stick is not trusted. A zip is never extracted: its members are
read in memory, after the whole central directory has been checked: at most ``MAX_MEMBERS``
members, their uncompressed sizes together within the "collection" limit of
:mod:`auditor.limits` and each read member within the "text" limit, no member compressed
beyond ``MAX_RATIO`` (deflate on real outputs stays under 50:1), and no member with an
absolute path, a drive letter or a ``..`` component, a symbolic link, an encrypted member, or
two members whose names differ only in case (Windows could not have held both; which one
was meant cannot be told). In a folder, a symbolic link is refused rather than followed (the
script writes none, and following one would read any file the auditor can), files are opened
without following links, and the same limits apply. Any of these is an InputError (exit 2)
naming the member or file.
"""

from __future__ import annotations

import io
import lzma
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from auditor.evidence.importers.textio import decode
from auditor.evidence.importers.windows import psjson

from auditor.errors import InputError
from auditor.limits import MAX_FILE_BYTES, check_size

MANIFEST = "manifest.json"
FORMAT = "auditor-windows-raw/1"
MAX_MEMBERS = 1000  # the script writes some 25 files
MAX_RATIO = 500  # uncompressed : compressed, for members over RATIO_FLOOR bytes
RATIO_FLOOR = 1 << 20
HINT = "give the folder or the .zip that collect-windows.ps1 wrote (auditor collect --windows-script FILE)"
# What reading a broken or hostile member can raise besides BadZipFile (RuntimeError: encrypted;
# NotImplementedError: an unknown compression method; zlib/lzma errors: a corrupt stream).
_MEMBER_ERRORS = (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError, NotImplementedError, zlib.error,
                  lzma.LZMAError)


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
        inner = [p for p in folder.iterdir()
                 if not p.is_symlink() and p.is_dir() and (p / MANIFEST).is_file()]
        if len(inner) == 1:
            folder = inner[0]
    regular: list[tuple[str, Path, int]] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(str(folder), f"cannot list: {exc.strerror or exc}") from None
    for entry in entries:
        item = Path(entry.path)
        if entry.is_symlink():
            raise InputError(str(item), "a symbolic link in the collection: collect-windows.ps1 writes none, and it "
                             "is not followed (it could point at any file); copy the collection without links")
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as exc:
            raise InputError(str(item), f"cannot read: {exc.strerror or exc}") from None
        if stat.S_ISREG(info.st_mode):  # folders, pipes and devices are not outputs of the script
            check_size(item, "text", info.st_size)
            regular.append((entry.name, item, info.st_size))
    check_size(folder, "collection", sum(size for _name, _item, size in regular))
    files: dict[str, bytes] = {}
    for file_name, item, _size in regular:
        key = file_name.casefold()
        if key in files:
            first = next(n for n, _i, _s in regular if n.casefold() == key)
            raise InputError(str(item), f"{first!r} and {file_name!r} differ only in case: Windows cannot hold both "
                             "in one folder, and which one collect-windows.ps1 wrote cannot be told")
        files[key] = _read_regular(item)
    return Collection(label=folder.resolve().name, files=files)


def _read_regular(item: Path) -> bytes:
    """A file's bytes, opened without following a link that replaced it since it was listed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(item, flags)
    except OSError as exc:
        raise InputError(str(item), f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InputError(str(item), "not a regular file any more: the collection changed while it was read")
        data = file.read(MAX_FILE_BYTES["text"] + 1)
    check_size(item, "text", len(data))
    return data


def _member_name(info: zipfile.ZipInfo, path: Path) -> PurePosixPath:
    """A member's path with either separator; an absolute, drive or ``..`` path is refused."""
    text = info.filename.replace("\\", "/")
    parts = text.split("/")
    if text.startswith("/") or (len(parts[0]) == 2 and parts[0][1] == ":") or ".." in parts:
        raise InputError(str(path), f"{info.filename}: a member outside the collection folder (an absolute path, a "
                         "drive or ..); Compress-Archive writes none")
    if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
        raise InputError(str(path), f"{info.filename}: a symbolic link in the zip; Compress-Archive writes none")
    if info.flag_bits & 0x1:
        raise InputError(str(path), f"{info.filename}: an encrypted member; Compress-Archive writes none")
    return PurePosixPath(text)


def _from_zip(path: Path, data: bytes) -> Collection:
    check_size(path, "collection", len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _MEMBER_ERRORS as exc:
        raise InputError(str(path), f"not a readable zip file: {exc}") from None
    if len(infos) > MAX_MEMBERS:
        raise InputError(str(path), f"{len(infos):,} members; a collection has some 25 and at most {MAX_MEMBERS:,} "
                         "are read")
    check_size(path, "collection", sum(info.file_size for info in infos))
    entries: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    seen: dict[str, str] = {}
    for info in infos:
        name = _member_name(info, path)
        if info.is_dir() or info.filename.endswith(("/", "\\")):
            continue
        key = str(name).casefold()
        if key in seen:
            raise InputError(str(path), f"{seen[key]!r} and {info.filename!r}: two members of one name (Windows "
                             "ignores case); which one collect-windows.ps1 wrote cannot be told")
        seen[key] = info.filename
        entries.append((info, name))
    manifests = [name for _info, name in entries if name.name.casefold() == MANIFEST]
    if len(manifests) != 1:
        found = "no" if not manifests else f"{len(manifests)}"
        raise InputError(str(path), f"{found} {MANIFEST} in the zip: one collection per zip; {HINT}")
    folder = manifests[0].parent
    files: dict[str, bytes] = {}
    for info, name in entries:
        if str(name.parent).casefold() != str(folder).casefold():  # folder names, too, ignore case on Windows
            continue
        check_size(f"{path}: {info.filename}", "text", info.file_size)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputError(str(path), f"{info.filename}: compressed {info.file_size // max(info.compress_size, 1):,}"
                             f" to 1, beyond the {MAX_RATIO} to 1 of any real output (a zip bomb?)")
        try:
            with archive.open(info) as member:
                raw = member.read(info.file_size + 1)
        except _MEMBER_ERRORS as exc:
            raise InputError(str(path), f"{info.filename}: cannot be read from the zip: {exc}") from None
        if len(raw) != info.file_size:
            raise InputError(str(path), f"{info.filename}: holds more or less than the {info.file_size:,} bytes its "
                             "entry in the zip says")
        files[name.name.casefold()] = raw
    label = folder.name if str(folder) not in ("", ".") else path.stem
    return Collection(label=label, files=files)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def parse_manifest(data: bytes, name: str) -> Manifest:
    """The manifest's header and steps; a manifest the script did not write is refused."""
    text, _encoding = decode(data, name)
    doc = psjson.loads(text, name, what="JSON")
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
    files: dict[str, str] = {}
    for index, entry in enumerate(steps):
        if not isinstance(entry, dict) or not _text(entry.get("name")) or not _text(entry.get("file")) \
                or entry.get("status") not in ("ok", "failed"):
            raise InputError(name, f"steps[{index}]: expected name, file and status ok or failed, found {entry!r}")
        step_name = entry["name"]
        if step_name in manifest.steps:
            raise InputError(name, f"steps[{index}]: step {step_name!r} appears twice")
        file_key = entry["file"].casefold()
        if file_key in files:
            raise InputError(name, f"steps[{index}]: step {step_name!r} names the file {entry['file']!r} of step "
                             f"{files[file_key]!r}; each step writes its own file")
        files[file_key] = step_name
        code = entry.get("exit_code")
        manifest.steps[step_name] = Step(
            name=step_name, file=entry["file"], command=str(entry.get("command") or step_name),
            ok=entry["status"] == "ok", error=_text(entry.get("error")), error_type=_text(entry.get("error_type")),
            exit_code=code if isinstance(code, int) and not isinstance(code, bool) else None)
    return manifest
