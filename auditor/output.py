"""Writing reports and bundles without ever destroying evidence.

Three rules, for files an inspector may have to trust:

- an output path that is one of the run's inputs (the same file by any name: a symbolic or
  hard link included), or lies inside a directory the run reads, is refused before any work
  is done: ``auditor audit X.json --out X.json`` would replace the evidence with its report,
  and a report written into the evidence directory would be read as evidence next month;
- the output is written to a temporary file beside it and renamed over it, so an
  interrupted run leaves the previous file whole, never half a report;
- reports and bundles hold personal data (account and staff names), so they are created
  readable by their owner only (mode 0600).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from auditor.errors import InputError


@dataclass
class Inputs:
    """What a run reads: files (known by device and inode) and directories (by their real path)."""

    files: dict[tuple[int, int], str] = field(default_factory=dict)
    directories: list[tuple[str, str]] = field(default_factory=list)  # (real path, as given)

    def add(self, paths: Iterable[str | Path | None]) -> Inputs:
        for raw in paths:
            if raw is None:
                continue
            try:
                info = os.stat(raw)
            except OSError:
                continue  # the reader reports a missing input, with its own message
            if stat.S_ISDIR(info.st_mode):
                self.directories.append((os.path.realpath(raw), str(raw)))
            else:
                self.files[(info.st_dev, info.st_ino)] = str(raw)
        return self

    def refuse_overlap(self, out: str) -> None:
        """InputError when writing ``out`` would overwrite an input or write into an input directory."""
        real = os.path.realpath(out)
        try:
            info = os.stat(real)
        except OSError:
            info = None
        if info is not None and (info.st_dev, info.st_ino) in self.files:
            given = self.files[(info.st_dev, info.st_ino)]
            raise InputError(out, f"is an input of this run ({given}): writing the output there would destroy it; "
                             "choose another --out")
        for folder, given in self.directories:
            if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
                raise InputError(out, f"is inside {given}, which this run reads: the output would be read as input "
                                 "next time; choose an --out outside it")


@contextlib.contextmanager
def atomic(out: str, private: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write ``out`` through, piece by piece: renamed over ``out`` only when the
    block ends without an exception (a temporary file beside it until then), so an interrupted or
    failed run leaves the previous file whole. ``private``: mode 0600 (reports and bundles name
    people). A device or pipe (``/dev/stdout``) is written to directly, as it cannot be replaced.
    """
    real = os.path.realpath(out)  # through a symbolic link: the link stays, its target is replaced
    try:
        info = os.stat(real)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(out, f"cannot write: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError(out, "is a directory: --out names a file")
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:
            with open(real, "wb") as stream:
                yield stream
        except OSError as exc:
            raise InputError(out, f"cannot write: {exc.strerror or exc}") from None
        return
    folder, name = os.path.split(real)
    try:
        handle, temporary = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".part")
    except OSError as exc:
        raise InputError(out, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise InputError(out, f"cannot write: {exc.strerror or exc}") from None
        raise


def write(data: bytes, out: str, private: bool = True) -> None:
    """Write ``data`` to ``out`` whole or not at all (see :func:`atomic`)."""
    with atomic(out, private) as stream:
        stream.write(data)


def write_stdout(text: str | bytes) -> None:
    """Text or bytes to standard output; what the console's encoding cannot show (a lone surrogate
    read from a bundle or a file name that is not UTF-8) is written as its escape, not a traceback."""
    stdout = sys.stdout
    data = text if isinstance(text, bytes) else text.encode(stdout.encoding or "utf-8", "backslashreplace")
    if hasattr(stdout, "buffer"):
        stdout.flush()
        stdout.buffer.write(data)
        stdout.buffer.flush()
    else:  # a text stream without bytes underneath (tests capture this way)
        stdout.write(data.decode(stdout.encoding or "utf-8", "replace"))
