"""Building `auditor-evidence/1` bundles.

Every collector and importer goes through :class:`BundleBuilder`, so that each fact
is traceable to the raw inputs it came from (name, parser, size, sha256) and every
failure is written down in ``errors`` instead of being dropped.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.clock import now_iso

FORMAT = "auditor-evidence/1"
TARGET_KINDS = ("endpoint", "directory", "network", "organization")
SEGMENTS = ("mynumber", "lgwan", "internet")


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
        self.facts[area] = value

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
            ok_codes: tuple[int, ...] = (0,)) -> str | None:
        """Run an OS tool (never through a shell) and record its output as a source.

        Returns stdout as text, or None after recording an error (missing tool,
        non-zero exit, time-out).
        """
        name = "command: " + " ".join(argv)
        env = dict(os.environ, LC_ALL="C", LANG="C")
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout, env=env, check=False,
                                  stdin=subprocess.DEVNULL)
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
            "facts": dict(sorted(self.facts.items())),
            "sources": self.sources,
            "errors": self.errors,
        }
