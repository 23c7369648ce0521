"""``auditor import`` writes its bundle batch by batch (importers.import_to_file, evidence.spool): the file
written is, byte for byte, ``jsonio.encode`` of the bundle ``import_files`` builds in memory, in every
encoding and shape of export, wherever the batches are cut; and it meets the bundle schemas (the check
tests/conftest.py makes of every bundle built in memory, made here of the file)."""

from __future__ import annotations

import codecs
import io
import os
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from auditor.evidence.importers import ImportOptions, csvrows, import_files, import_to_file
from auditor.evidence.importers.textio import TextStream

from auditor import bundles, jsonio
from auditor.cli import main
from auditor.errors import InputError

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
OPTIONS = ImportOptions(target_id="t", collected_at="2026-11-02T09:00:00+09:00")
AD_HEADER = '"SamAccountName","DisplayName","Department","Enabled","LastLogonDate","MemberOf"'
DEPARTMENTS = ("情報政策課", "市民課", "税務課")


def ad_text(rows: int, name: str = "職員") -> str:
    """An AD export as PowerShell 5.1 writes it (#TYPE line, every field quoted), with a multi-line field."""
    lines = ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser", AD_HEADER]
    for i in range(rows):
        display = f"{name} {i}" if i % 97 else f"{name}\n{i}"  # a quoted field across lines, now and then
        logon = "" if i % 5 == 0 else f"2026/{i % 12 + 1}/{i % 28 + 1} {i % 24}:{i % 60:02d}:00"
        groups = "CN=Domain Users,CN=Users,DC=x,DC=local" + (";CN=Domain Admins,CN=Users,DC=x,DC=local" * (i % 7 == 0))
        lines.append(f'"u{i:05d}","{display}","{DEPARTMENTS[i % 3]}","{"False" if i % 11 == 0 else "True"}",'
                     f'"{logon}","{groups}"')
    return "\r\n".join(lines) + "\r\n"


def roster_rows(rows: int) -> list[list[object]]:
    statuses = ("在職", "退職", "休職", "転出", "その他")
    return [["職員番号", "氏名", "所属", "在職区分", "発令日"]] + [
        [f"{i:06d}", f"架空 職員{i}", DEPARTMENTS[i % 3], statuses[i % 5], f"令和{i % 7 + 2}年{i % 12 + 1}月1日"]
        for i in range(rows)]


def training_rows(rows: int) -> list[list[object]]:
    return [["職員番号", "研修名", "受講日", "修了"]] + [
        [f"{i:06d}", ("情報セキュリティ研修", "標的型メール訓練")[i % 2], f"2026/{i % 12 + 1}/{i % 28 + 1}",
         ("修了", "未修了", "")[i % 3]] for i in range(rows)]


def csv_text(rows: list[list[object]]) -> str:
    return "\r\n".join(",".join(map(str, row)) for row in rows) + "\r\n"


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名簿"
    sheet.append(["令和8年4月1日現在"])  # a title above the table, as Excel sheets often have
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ENCODINGS = {
    "cp932": lambda text: text.encode("cp932"),
    "utf-16-le": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-8-sig": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-8": lambda text: text.encode("utf-8"),
}
TABLES = {"hr-roster": roster_rows, "training": training_rows}


def export(kind: str, form: str, rows: int) -> bytes:
    if kind == "ad-users":
        return ENCODINGS[form](ad_text(rows))
    table = TABLES[kind](rows)
    return xlsx(table) if form == "xlsx" else ENCODINGS[form](csv_text(table))


def check_written(kind: str, paths: list[Path], out: Path, options: ImportOptions = OPTIONS) -> bytes:
    """Import to ``out``; assert it is the in-memory bundle's encoding and meets the schemas; its bytes."""
    import_to_file(kind, [str(p) for p in paths], options, str(out))
    data = out.read_bytes()
    assert data == jsonio.encode(import_files(kind, [str(p) for p in paths], options))
    [(target_id, files)] = bundles.index([out]).items()
    target = bundles.load_target(target_id, files)
    assert target.problem is None, target.problem
    assert not target.area_problems, target.area_problems
    assert os.stat(out).st_mode & 0o777 == 0o600  # bundles name people
    return data


CASES = [(kind, form) for kind in ("ad-users", "hr-roster", "training") for form in ENCODINGS] + [
    ("hr-roster", "xlsx"), ("training", "xlsx")]


@pytest.mark.parametrize(("kind", "form"), CASES)
@pytest.mark.parametrize("block", [64, 1000, 1 << 18])
def test_the_bundle_written_is_the_bundle_built(tmp_path, monkeypatch, kind, form, block):
    monkeypatch.setattr(csvrows, "BLOCK_SIZE", block)  # pieces of text, so batches of rows, of this size
    monkeypatch.setattr(csvrows, "XLSX_BATCH", max(1, block // 40))
    path = tmp_path / ("export.xlsx" if form == "xlsx" else "export.csv")
    path.write_bytes(export(kind, form, 300))
    data = check_written(kind, [path], tmp_path / "b.json")
    area = {"ad-users": "directory_accounts", "hr-roster": "hr_roster", "training": "training_records"}[kind]
    assert len(jsonio.decode(data)["facts"][area]) == 300


@pytest.mark.parametrize("kind", ["ad-users", "hr-roster", "training"])
def test_several_files_and_files_without_rows(tmp_path, kind):
    first, empty, second = tmp_path / "a.csv", tmp_path / "e.csv", tmp_path / "b.csv"
    first.write_bytes(export(kind, "cp932", 40))
    second.write_bytes(export(kind, "utf-8-sig", 3))
    empty.write_bytes(export(kind, "utf-8", 0))
    check_written(kind, [first, empty, second], tmp_path / "b.json")
    data = check_written(kind, [empty], tmp_path / "only-empty.json")
    assert b': []' in data


def test_the_fixtures_and_the_command_line(tmp_path, capsysbinary):
    for kind, name in (("ad-users", "ad-users-ps51.csv"), ("ad-users", "ad-users-raw-ps7.csv"),
                       ("ad-users", "ad-users-ps51-ascii.csv"), ("hr-roster", "roster-excel-cp932.csv"),
                       ("training", "training-utf8bom.csv")):
        expected = check_written(kind, [EXPORTS / name], tmp_path / "b.json")
        args = ["import", kind, str(EXPORTS / name), "--target", "t", "--collected-at", OPTIONS.collected_at]
        assert main([*args, "--out", str(tmp_path / "cli.json")]) == 0
        assert (tmp_path / "cli.json").read_bytes() == expected
        capsysbinary.readouterr()
        assert main(args) == 0  # standard output
        assert capsysbinary.readouterr().out == expected
    mapping = EXPORTS / "roster-mapping.yaml"
    check_written("hr-roster", [EXPORTS / "roster-custom-utf8bom.csv"], tmp_path / "b.json",
                  ImportOptions(target_id="t", mapping=str(mapping)))


def test_importers_without_batches_are_written_the_same_way(tmp_path):
    windows = EXPORTS.parent / "windows"
    for kind, name in (("secedit", "secedit-weak.inf"), ("hotfix", "hotfix-ps51.csv"), ("auditpol", "auditpol-ja.csv")):
        if (windows / name).is_file():
            check_written(kind, [windows / name], tmp_path / "b.json")


# ---------------------------------------------------------------- the ASCII-export rule (ad-users)

def test_an_ascii_export_loses_its_mangled_names_in_every_batch(tmp_path, monkeypatch):
    # '?' names from the first batch to the last: the rest of the file is looked at when the first one comes
    monkeypatch.setattr(csvrows, "BLOCK_SIZE", 200)
    path = tmp_path / "ad.csv"
    path.write_bytes(ad_text(120, name="?? ??").encode("ascii", "replace"))  # the departments too
    data = check_written("ad-users", [path], tmp_path / "b.json")
    bundle = jsonio.decode(data)
    assert not any("display_name" in r for r in bundle["facts"]["directory_accounts"])
    [error] = bundle["errors"]
    assert "240 display name(s) and department(s) (left out)" in error["message"]


@pytest.mark.parametrize("late", ["é", "石", "?"])
def test_a_file_ascii_until_its_last_rows(tmp_path, monkeypatch, late):
    # Every batch but the last is ASCII with '?' names: whether they are dropped depends on the file's last
    # bytes, which are read long after the first batch has gone to the spool.
    monkeypatch.setattr(csvrows, "BLOCK_SIZE", 128)
    path = tmp_path / "ad.csv"
    path.write_bytes(ad_text(80, name="?? ??").encode("ascii", "replace")
                     + f'"last","{late}","x","True","",""\r\n'.encode())
    data = check_written("ad-users", [path], tmp_path / "b.json")
    accounts = jsonio.decode(data)["facts"]["directory_accounts"]
    assert ("display_name" in accounts[0]) == (late != "?")


def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(csvrows, "BLOCK_SIZE", 128)
    monkeypatch.setattr(TextStream, "rest_is_ascii", lambda self: False)  # as if its end had been rewritten
    path = tmp_path / "ad.csv"
    path.write_bytes(ad_text(50, name="?? ??").encode("ascii", "replace"))
    with pytest.raises(InputError, match="changed while it was read"):
        import_to_file("ad-users", [str(path)], OPTIONS, str(tmp_path / "b.json"))


# ---------------------------------------------------------------- failures write nothing

def test_an_export_refused_on_a_late_row_writes_nothing(tmp_path, monkeypatch, capsysbinary):
    monkeypatch.setattr(csvrows, "BLOCK_SIZE", 256)
    path = tmp_path / "ad.csv"
    path.write_bytes((ad_text(200) + '"bad","x","y","Maybe","",""\r\n').encode("cp932"))
    out = tmp_path / "b.json"
    out.write_bytes(b"the previous bundle")
    with pytest.raises(InputError) as err:
        import_to_file("ad-users", [str(path)], OPTIONS, str(out))
    assert err.value.line is not None and err.value.line > 200 and "True or False" in err.value.problem
    assert out.read_bytes() == b"the previous bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ad.csv", "b.json"]  # no spool or temporary file left
    capsysbinary.readouterr()
    with pytest.raises(InputError):
        import_to_file("ad-users", [str(path)], OPTIONS, None)
    assert capsysbinary.readouterr().out == b""  # standard output gets nothing either


def test_a_file_name_that_is_not_utf8_makes_an_ascii_bundle(tmp_path):
    # The name (with a surrogate for the byte 0xff) is in every record's source: jsonio writes the whole
    # document with \\u escapes, so the spooled records, written in UTF-8, are escaped as they are copied.
    folder = os.fsencode(tmp_path)
    try:
        with open(folder + b"/ad-\xff.csv", "wb") as file:
            file.write(ad_text(30).encode("cp932"))
    except OSError:
        pytest.skip("the file system refuses a name that is not UTF-8")
    path = Path(os.fsdecode(folder + b"/ad-\xff.csv"))
    data = check_written("ad-users", [path], tmp_path / "b.json", ImportOptions(collected_at=OPTIONS.collected_at))
    assert data.isascii() and b"\\u8077" in data  # 職


def test_an_output_folder_that_does_not_exist(tmp_path):
    path = tmp_path / "ad.csv"
    path.write_bytes(ad_text(3).encode("cp932"))
    with pytest.raises(InputError, match="cannot write"):
        import_to_file("ad-users", [str(path)], OPTIONS, str(tmp_path / "no" / "b.json"))


def test_an_xlsx_roster_with_typed_cells(tmp_path, monkeypatch):
    monkeypatch.setattr(csvrows, "XLSX_BATCH", 2)
    rows = roster_rows(5)
    rows[2][0] = 124  # a number id
    rows[3][4] = datetime(2026, 9, 30)  # a date cell
    rows[4][4] = 46113  # a serial date
    path = tmp_path / "r.xlsx"
    path.write_bytes(xlsx(rows))
    check_written("hr-roster", [path], tmp_path / "b.json")
