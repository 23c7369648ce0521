"""Every registered format, from a stored run that had an unreadable file and a lone surrogate.

Issue #15: the files of a fleet that could not be read are listed in every report, and output
encodes lone surrogates safely in every format. Issue #13: every format renders from a stored
results file with no evidence present. One fleet is audited once, its evidence removed, and each
format rendered with `auditor report`; the output must be valid UTF-8 (or a workbook that
openpyxl opens) and must name the unread file.
"""

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.reports import formats

ROOT = Path(__file__).parents[1]
UNREAD = "truncated-lg-kikaku-07.json"


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("formats")
    fleet = base / "fleet"
    fleet.mkdir()
    shutil.copy(ROOT / "examples" / "fleet" / "lg-soumu-02.json", fleet)
    shutil.copy(ROOT / "examples" / "fleet" / "ad-kakuu-local-accounts.json", fleet)
    text = (ROOT / "examples" / "fleet" / "lg-jousei-04.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    doc["target"]["id"] = "lg-\ud800-04"  # a lone surrogate, as a JSON escape
    (fleet / "odd.json").write_text(json.dumps(doc), encoding="ascii")
    (fleet / UNREAD).write_text(text[: len(text) // 2], encoding="utf-8")
    results = base / "results.json"
    assert main(["audit", str(fleet), "--format", "json", "--out", str(results), "--as-of", "2026-11-02"]) == 1
    stored_doc = json.loads(results.read_text(encoding="utf-8"))
    assert [Path(u["path"]).name for u in stored_doc["run"]["unread"]] == [UNREAD]
    shutil.rmtree(fleet)  # a stored run is rendered with no evidence present
    return results


def _text_of(fmt: str, data: bytes) -> str:
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for v in row if v is not None)
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    return data.decode("utf-8")  # strict: a lone surrogate must not reach the file raw


@pytest.mark.parametrize("fmt", sorted(formats()))
@pytest.mark.parametrize("view", ["admin", "trainer", "inspector"])
def test_each_format_renders_a_stored_run_safely_and_names_the_unread_file(stored, tmp_path, capsys, fmt, view):
    out = tmp_path / f"report.{fmt}"
    code = main(["report", str(stored), "--format", fmt, "--view", view, "--out", str(out)])
    assert code == 1, capsys.readouterr().err  # the run's gate: evidence incomplete
    text = _text_of(fmt, out.read_bytes())
    assert UNREAD in text, f"{fmt} ({view}) does not name the unread file"
    assert "\ud800" not in text
