"""Paths and constants shared by the Linux collector tests (imported by name, unlike conftest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cerberus
import psutil
import pytest
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.collectors.linux.common import Context

from auditor.schemas.bundle import BODY, HEADER
from auditor.schemas.facts import FACT_SCHEMAS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linux"

# Package-index times set on the fake tree: the security InRelease is the newest Release
# file; the Packages file is newer still but is not a Release file.
MAIN_RELEASE_TIME = datetime(2026, 1, 11, 0, 0, 0, tzinfo=UTC).timestamp()
SECURITY_RELEASE_TIME = datetime(2026, 1, 12, 9, 0, 0, tzinfo=UTC).timestamp()
PACKAGES_TIME = datetime(2026, 1, 14, 9, 0, 0, tzinfo=UTC).timestamp()


def fixture_text(relative: str) -> str:
    """The text of a file under tests/fixtures/linux."""
    return (FIXTURES / relative).read_text(encoding="utf-8")


# --- a pretend live system: commands, processes and the collector's uid ----------------------

TODAY = datetime(2026, 1, 15).date()


class FakeHost:
    """Stands in for the running system while an area is collected from a fake tree.

    ``commands`` maps the command line (``" ".join(argv)``) to its stdout, or to
    ``(exit code, stderr)`` for a failing tool; a command not listed is "not found", as
    BundleBuilder.run reports it. ``processes`` are the names in the process table.
    """

    def __init__(self, commands: dict[str, Any] | None = None, processes: tuple[str, ...] | list[str] = ()) -> None:
        self.commands = dict(commands or {})
        self.processes = list(processes)
        self.calls: list[str] = []

    def run(self, builder: BundleBuilder, argv: list[str], area: str, parser: str, timeout: float = 10.0,
            ok_codes: tuple[int, ...] = (0,)) -> str | None:
        line = " ".join(argv)
        self.calls.append(line)
        name = "command: " + line
        if line not in self.commands:
            builder.add_error(area, f"{argv[0]}: command not found", name)
            return None
        answer = self.commands[line]
        if isinstance(answer, tuple):
            code, stderr = answer
            if code not in ok_codes:
                builder.add_error(area, f"{argv[0]} exited with {code}: {stderr}", name)
                return None
            answer = ""
        builder.add_source(name, parser, answer.encode(), area)
        return answer

    def process_iter(self, attrs: list[str] | None = None) -> Iterator[SimpleNamespace]:
        return iter([SimpleNamespace(info={"name": name}) for name in self.processes])

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
        def run(builder: BundleBuilder, *args: Any, **kwargs: Any) -> str | None:
            return self.run(builder, *args, **kwargs)

        monkeypatch.setattr(BundleBuilder, "run", run)
        monkeypatch.setattr(psutil, "process_iter", self.process_iter)
        return self


def live_context(root: Path, euid: int = 0) -> Context:
    """A context that treats ``root`` as the running system (commands and processes faked)."""
    return Context(root=root, live=True, today=TODAY, euid=euid)


def file_context(root: Path) -> Context:
    """A context for ``root`` as a captured file tree."""
    return Context(root=root, live=False, today=TODAY)


def collect_area(fn: Callable[[BundleBuilder, Context], None], ctx: Context) -> BundleBuilder:
    """Run one area function into a fresh builder."""
    builder = BundleBuilder(target_id="t", kind="endpoint", collector_name="test")
    fn(builder, ctx)
    return builder


def messages(builder_or_bundle: BundleBuilder | dict[str, Any], area: str) -> list[str]:
    """The error messages recorded for ``area``."""
    errors = builder_or_bundle.errors if isinstance(builder_or_bundle, BundleBuilder) else builder_or_bundle["errors"]
    return [e["message"] for e in errors if e["area"] == area]


def schema_problems(bundle: dict[str, Any]) -> dict[str, Any]:
    """What is wrong with a whole bundle: its header and body, and every known fact area."""
    problems: dict[str, Any] = {}
    validator = cerberus.Validator({**HEADER, **BODY})
    if not validator.validate(bundle):
        problems["bundle"] = validator.errors
    for area, value in bundle.get("facts", {}).items():
        if area in FACT_SCHEMAS:
            check = cerberus.Validator({area: FACT_SCHEMAS[area]})
            if not check.validate({area: value}):
                problems[area] = check.errors
    return problems


def area_problems(area: str, value: Any) -> dict[str, Any]:
    """Schema problems of one area's value (empty when it is valid)."""
    validator = cerberus.Validator({area: FACT_SCHEMAS[area]})
    return {} if validator.validate({area: value}) else validator.errors
