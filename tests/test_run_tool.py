"""BundleBuilder.run: a tool run now and the same tool started earlier are recorded alike."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from auditor.evidence.bundle import BundleBuilder, finish_tool, run_tool, start_tool


def _builder() -> BundleBuilder:
    return BundleBuilder(target_id="t", kind="endpoint", collector_name="test")


def _records(argv: list[str], early: bool) -> tuple[str | None, list[dict], list[dict]]:
    """What run records, running the tool itself or waiting for one started apart (its outcome or error)."""
    builder = _builder()
    if early:
        out = builder.run(argv, "area", "parser", timeout=5, started=lambda: finish_tool(start_tool(argv), 5))
    else:
        out = builder.run(argv, "area", "parser", timeout=5)
    return out, builder.sources, builder.errors


@pytest.mark.parametrize("argv", [
    ["sh", "-c", "printf 'a\\nb\\n'"],
    ["sh", "-c", "echo partial; echo 'E: broken' >&2; exit 3"],
    ["no-such-tool-anywhere", "--version"],
])
def test_started_earlier_or_now_the_same_records(argv: list[str]) -> None:
    now = _records(argv, early=False)
    assert now == _records(argv, early=True)
    assert now[1] or now[2]  # something was recorded


def test_the_records_themselves() -> None:
    assert _records(["sh", "-c", "printf 'a\\nb\\n'"], early=True)[0] == "a\nb\n"
    _, sources, errors = _records(["sh", "-c", "echo 'E: broken' >&2; exit 3"], early=False)
    assert sources == [] and errors == [{"area": "area", "message": "sh exited with 3: E: broken",
                                         "source": "command: sh -c echo 'E: broken' >&2; exit 3"}]
    assert _records(["no-such-tool-anywhere"], early=False)[2][0]["message"] == \
        "no-such-tool-anywhere: command not found"


def test_a_tool_past_its_time_is_killed_and_reported(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    builder = _builder()
    started = time.monotonic()
    assert builder.run(["sh", "-c", f"echo $$ > '{pid_file}'; exec sleep 30"], "area", "parser", timeout=0.5) is None
    assert time.monotonic() - started < 20  # not the tool's 30 s
    assert builder.errors[0]["message"] == "sh: no answer within 0.5 s"
    assert not Path(f"/proc/{pid_file.read_text().strip()}").exists()  # killed and reaped


def test_run_tool_uses_the_c_locale() -> None:
    out = run_tool(["sh", "-c", "echo $LC_ALL $LANG"], 5)
    assert out.stdout == b"C C\n" and out.returncode == 0 and out.stderr == b""
