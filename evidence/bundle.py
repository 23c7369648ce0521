"""Building `auditor-evidence/1` bundles.

Every collector and importer goes through :class:`BundleBuilder`, so that each fact
is traceable to the raw inputs it came from (name, parser, size, sha256) and every
failure is written down in ``errors`` instead of being dropped.

A list area of records (directory accounts, a roster) is added batch by batch with
:meth:`BundleBuilder.add_records`: kept in ``facts`` when the bundle is built in memory, or,
when a spool is attached (``auditor import --out``: see :mod:`auditor.evidence.spool`),
encoded as it comes and not kept, so that a million-row export never holds its records.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from auditor import __version__
from auditor.clock import now_iso

FORMAT = "auditor-evidence/1"
TARGET_KINDS = ("endpoint", "directory", "network", "organization")
SEGMENTS = ("mynumber", "lgwan", "internet")


class RecordSpool(Protocol):
    """Where the records of list areas go instead of ``facts`` (see :mod:`auditor.evidence.spool`)."""

    def add(self, area: str, records: list[dict[str, Any]]) -> None: ...

    def __contains__(self, area: object) -> bool: ...

    def __len__(self) -> int: ...  # the areas spooled so far


def start_tool(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start an OS tool the one way collectors do: no shell, no input, the C locale (so that its
    output is the English a parser expects), output captured. Raises ``OSError`` (``FileNotFoundError``
    for a missing tool) as ``subprocess.Popen`` does; the process is running when it returns."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def finish_tool(proc: subprocess.Popen[bytes], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Wait for a started tool, as ``subprocess.run`` does: all of its output, or after ``timeout``
    seconds from now the tool killed and ``subprocess.TimeoutExpired`` raised."""
    with proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        except BaseException:
            proc.kill()
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def run_tool(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run an OS tool (:func:`start_tool`, then :func:`finish_tool`)."""
    return finish_tool(start_tool(argv), timeout)


@dataclass
class BundleBuilder:
    """Accumulates facts, sources and errors for one target, then emits the bundle."""

    target_id: str
    kind: str
    collector_name: str
    segment: str | None = None
    department: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    collected_at: str = field(default_factory=now_iso)
    collector_version: str = __version__
    facts: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    spool: RecordSpool | None = None

    def add_source(self, name: str, parser: str, data: bytes, area: str | None = None) -> None:
        """Record one raw input by name, the parser that read it, its size and hash.

        ``area`` names the fact area it feeds, so a result can cite the exact inputs behind it.
        """
        entry: dict[str, Any] = {"name": name, "parser": parser, "size": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest()}
        if area:
            entry["area"] = area
        self.sources.append(entry)

    def add_error(self, area: str, message: str, source: str | None = None) -> None:
        """Record why an area (or part of one) could not be collected."""
        entry = {"area": area, "message": message}
        if source:
            entry["source"] = source
        self.errors.append(entry)

    def set_fact(self, area: str, value: Any) -> None:
        if self.spool is not None and area in self.spool:
            raise RuntimeError(f"{area}: its records are spooled; it cannot also be set whole")
        self.facts[area] = value

    def add_records(self, area: str, records: list[dict[str, Any]]) -> None:
        """Append records to the list area ``area``, which exists (empty) after the first call.

        With a spool attached they are encoded there now and not kept: an importer hands each
        batch over as it is made, and what it holds is one batch, not the whole export.
        """
        if self.spool is None:
            self.facts.setdefault(area, []).extend(records)
        elif area in self.facts:
            raise RuntimeError(f"{area}: set whole already; its records cannot also be spooled")
        else:
            self.spool.add(area, records)

    def read_file(self, path: str | os.PathLike[str], area: str, parser: str) -> bytes | None:
        """Read a raw input file, recording it as a source, or record an error and return None."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            self.add_error(area, f"{p}: not found", str(p))
            return None
        except OSError as exc:
            self.add_error(area, f"{p}: {exc.strerror or exc}", str(p))
            return None
        self.add_source(str(p), parser, data, area)
        return data

    def run(self, argv: list[str], area: str, parser: str, timeout: float = 10.0,
            ok_codes: tuple[int, ...] = (0,),
            started: Callable[[], subprocess.CompletedProcess[bytes]] | None = None) -> str | None:
        """Run an OS tool (never through a shell) and record its output as a source.

        Returns stdout as text, or None after recording an error (missing tool,
        non-zero exit, time-out). ``started`` waits for the same command started earlier with
        :func:`run_tool` (a slow tool the collector started first) instead of running it again:
        its outcome, or the exception it ended with, is recorded the same way.
        """
        name = "command: " + " ".join(argv)
        try:
            proc = started() if started is not None else run_tool(argv, timeout)
        except FileNotFoundError:
            self.add_error(area, f"{argv[0]}: command not found", name)
            return None
        except subprocess.TimeoutExpired:
            self.add_error(area, f"{argv[0]}: no answer within {timeout:g} s", name)
            return None
        except OSError as exc:
            self.add_error(area, f"{argv[0]}: {exc.strerror or exc}", name)
            return None
        if proc.returncode not in ok_codes:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = detail[-1] if detail else "no message"
            self.add_error(area, f"{argv[0]} exited with {proc.returncode}: {reason}", name)
            return None
        self.add_source(name, parser, proc.stdout, area)
        return proc.stdout.decode("utf-8", "replace")

    def build(self) -> dict[str, Any]:
        """The bundle as a JSON-ready dict, keys in the documented order."""
        if self.spool is not None and len(self.spool):
            raise RuntimeError("a bundle with spooled records is written by its spool, not built")
        return self.document(self.facts)

    def document(self, facts: dict[str, Any]) -> dict[str, Any]:
        """The bundle with these facts (the spool writes its frame with a placeholder for each list)."""
        return {
            "format": FORMAT,
            "target": {
                "id": self.target_id,
                "kind": self.kind,
                "segment": self.segment,
                "department": self.department,
                "labels": dict(sorted(self.labels.items())),
            },
            "collected_at": self.collected_at,
            "collector": {"name": self.collector_name, "version": self.collector_version,
                          "host": socket.gethostname()},
            "facts": dict(sorted(facts.items())),
            "sources": self.sources,
            "errors": self.errors,
        }
