"""The organisation's registers (#14): asset register, backup log, cloud register, vendor contracts and
self-inspection records, read as Excel writes them (CP932 and UTF-8 BOM CSV with CRLF, XLSX with date
cells and serial numbers), each record citing its row; hostile and malformed files refused by name."""

import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from auditor.evidence.importers import ImportOptions, import_files

from auditor import bundles, limits
from auditor.cli import main
from auditor.errors import InputError

OPTIONS = ImportOptions(target_id="kakuu-city", collected_at="2026-11-01T17:00:00+09:00")
KINDS = ("asset-register", "backup-log", "cloud-register", "vendor-contracts", "self-inspection")
AREAS = dict(zip(KINDS, ("asset_register", "backup_jobs", "cloud_services", "vendor_accounts", "self_inspections"),
                 strict=True))
HEADERS = {
    "asset-register": "資産番号,ホスト名,機密性,完全性,可用性,状態",
    "backup-log": "ジョブ名,対象システム,最終成功日,最終リストアテスト日",
    "cloud-register": "サービス名,事業者,機密性,承認者,承認日,ISMAP登録番号",
    "vendor-contracts": "委託先,アカウント,契約開始日,契約終了日",
    "self-inspection": "所属,実施日,報告,指摘事項,対応状況,期限",
}
ROWS = {
    "asset-register": "A-1,PC-01,機密性2,完全性2,可用性2,稼働",
    "backup-log": "fs01,ファイルサーバ,2026/11/01,2026/04/01",
    "cloud-register": "電子申請,株式会社サンプル,機密性2,課長,2026/4/1,C22-0001-1",
    "vendor-contracts": "株式会社サンプル,v-sato01,2026/4/1,2027/3/31",
    "self-inspection": "総務課,2026/6/1,済,,,",
}


def excel_csv(text: str, encoding: str = "cp932") -> bytes:
    """Text as Excel saves it: CRLF line ends; "CSV UTF-8" with a BOM, "CSV (コンマ区切り)" in CP932."""
    data = text.replace("\n", "\r\n")
    return b"\xef\xbb\xbf" + data.encode() if encoding == "utf-8-sig" else data.encode(encoding)


def imported(tmp_path: Path, kind: str, content: bytes, name: str = "register.csv") -> dict:
    path = tmp_path / name
    path.write_bytes(content)
    return import_files(kind, [str(path)], OPTIONS)


def refused(tmp_path: Path, kind: str, content: bytes, name: str = "register.csv") -> InputError:
    with pytest.raises(InputError) as err:
        imported(tmp_path, kind, content, name)
    return err.value


def workbook(rows: list[list], title: str = "台帳") -> bytes:
    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_asset_register_from_excel_cp932_with_classes_statuses_and_rows(tmp_path):
    text = ("資産番号,ホスト名,種別,所属,管理者,機密性,完全性,可用性,設置場所,状態\n"
            "A-0001,PC-LG-01,PC,総務課,石岡 太郎,機密性2,完全性2,可用性2,本庁舎2F,稼働\n"
            "A-0002,,サーバ,情報政策課,,３,２B,高,\"サーバ室,ラック3\",廃棄\n"
            "A-0003,PC-LG-03,PC,市民課,,1,1,1,,返却済\n"
            ",,,,,,,,,\n,,,,,,,,,\n")
    bundle = imported(tmp_path, "asset-register", excel_csv(text))
    assert bundle["target"]["kind"] == "organization" and bundle["sources"][0]["parser"] == "asset-register (cp932)"
    found = bundle["facts"]["asset_register"]
    assert [(r["asset_id"], r["host_name"], r["confidentiality"], r["integrity"], r["availability"], r["status"],
             r["source"]["line"]) for r in found] == [
        ("A-0001", "PC-LG-01", 2, 2, 2, "active", 2),
        ("A-0002", None, 3, 2, None, "disposed", 3),   # 高 is no level: kept as a label, level null
        ("A-0003", "PC-LG-03", 1, 1, 1, "other", 4)]   # 返却済 is not a known status: other, label kept
    assert found[1]["availability_label"] == "高" and found[1]["location"] == "サーバ室,ラック3"
    assert found[2]["status_label"] == "返却済" and found[0]["source"]["file"].endswith("register.csv")


def test_backup_log_utf8_bom_with_instants_and_wareki_dates(tmp_path):
    text = ("Job Name,System,Last Success,Last Restore Test\n"
            "fs01-daily,ファイルサーバ,2026/11/01 23:10:05,令和7年4月1日\n"
            "db01-weekly,基幹DB,2026-10-31T02:00:00+09:00,\n")
    bundle = imported(tmp_path, "backup-log", excel_csv(text, "utf-8-sig"))
    assert bundle["sources"][0]["parser"] == "backup-log (utf-8-sig)"
    assert [(r["job"], r["last_success"], r["last_restore_test"]) for r in bundle["facts"]["backup_jobs"]] == [
        ("fs01-daily", "2026-11-01", "2025-04-01"), ("db01-weekly", "2026-10-31", None)]


def test_cloud_register_xlsx_below_a_title_with_date_cells_and_serials(tmp_path):
    content = workbook([["令和8年度 クラウドサービス利用台帳"], [],
                        ["サービス名", "事業者", "機密性", "承認者", "承認日", "ISMAP登録番号"],
                        ["電子申請", "株式会社サンプル", 2, "情報政策課長", datetime(2026, 4, 1), "C22-0001-1"],
                        ["公開ウェブ", "株式会社れい", "機密性1", None, 46143, None], [None, None, None]])
    bundle = imported(tmp_path, "cloud-register", content, "cloud.xlsx")
    assert bundle["sources"][0]["parser"] == "cloud-register (xlsx)"
    assert [(r["service"], r["confidentiality"], r["approved_on"], r["ismap_id"], r["source"]["line"],
             r["source"]["sheet"]) for r in bundle["facts"]["cloud_services"]] == [
        ("電子申請", 2, "2026-04-01", "C22-0001-1", 4, "台帳"), ("公開ウェブ", 1, "2026-05-01", None, 5, "台帳")]


def test_vendor_contracts_give_one_record_per_staff_id_each_citing_its_row(tmp_path):
    text = ("委託先,契約名,アカウント,契約開始日,契約終了日\n"
            "株式会社サンプル,基幹系保守,\"v-sato01、v-suzuki02\nv-sato01\",2026/4/1,2027/3/31\n"
            "株式会社れい,庁内LAN構築,,R7.4.1,R8.3.31\n")
    found = imported(tmp_path, "vendor-contracts", excel_csv(text))["facts"]["vendor_accounts"]
    assert [(r["account"], r["vendor"], r["contract_start"], r["contract_end"], r["source"]["line"])
            for r in found] == [("v-sato01", "株式会社サンプル", "2026-04-01", "2027-03-31", 2),
                                ("v-suzuki02", "株式会社サンプル", "2026-04-01", "2027-03-31", 2),
                                (None, "株式会社れい", "2025-04-01", "2026-03-31", 4)]  # the quoted cell spans line 3


def test_self_inspection_marks_and_finding_statuses(tmp_path):
    text = ("所属,実施日,報告,指摘事項,対応状況,期限,完了日\n"
            "総務課,2026/6/1,済,パスワードの付箋,対応中,2026/7/1,\n"
            "市民課,令和8年6月2日,未,,,,\n"
            "税務課,2026/6/3,○,画面ロック漏れ,完了,2026/7/31,2026/7/10\n")
    found = imported(tmp_path, "self-inspection", excel_csv(text))["facts"]["self_inspections"]
    assert [(r["department"], r["performed_on"], r["reported"], r["finding_status"], r["due_date"], r["closed_on"])
            for r in found] == [("総務課", "2026-06-01", True, "open", "2026-07-01", None),
                                ("市民課", "2026-06-02", False, None, None, None),
                                ("税務課", "2026-06-03", True, "closed", "2026-07-31", "2026-07-10")]


def test_an_unknown_finding_status_is_refused_with_its_row_not_read_as_closed(tmp_path):
    err = refused(tmp_path, "self-inspection", excel_csv("所属,実施日,対応状況\n総務課,2026/6/1,様子見\n"))
    assert (err.line, err.where) == (2, "column '対応状況'") and "expected a finding status" in err.problem


def test_a_hostile_cell_is_kept_as_text_and_never_evaluated(tmp_path):
    text = ('資産番号,ホスト名,状態\n'
            '"=HYPERLINK(""http://example.invalid"",""x"")",@SUM(1+1),稼働\n'
            '"A-2\u202e\u0000",PC-02,稼働\n')
    found = imported(tmp_path, "asset-register", excel_csv(text, "utf-8-sig"))["facts"]["asset_register"]
    assert found[0]["asset_id"] == '=HYPERLINK("http://example.invalid","x")' and found[0]["host_name"] == "@SUM(1+1)"
    assert found[1]["asset_id"] == "A-2\u202e\u0000"


def test_a_huge_number_in_a_date_cell_is_refused_quoted_short(tmp_path):
    err = refused(tmp_path, "backup-log", excel_csv("ジョブ名,最終成功日\nfs01," + "9" * 5000 + "\n"))
    assert (err.line, err.where) == (2, "column '最終成功日'") and "(5,000 characters)" in err.problem
    assert len(err.problem) < 300


@pytest.mark.parametrize("kind", KINDS)
def test_a_duplicate_header_is_refused_naming_file_and_column(tmp_path, kind):
    first = HEADERS[kind].split(",")[0]
    err = refused(tmp_path, kind, excel_csv(f"{HEADERS[kind]},{first}\n{ROWS[kind]},x\n"))
    assert err.file == str(tmp_path / "register.csv") and err.line == 1
    assert f"duplicate column '{first}'" in err.problem and err.where.startswith("header columns 1 and ")


@pytest.mark.parametrize("kind", KINDS)
def test_two_spellings_of_one_field_are_refused(tmp_path, kind):
    english = {"asset-register": "asset_id", "backup-log": "job", "cloud-register": "service",
               "vendor-contracts": "vendor", "self-inspection": "department"}[kind]
    err = refused(tmp_path, kind, excel_csv(f"{HEADERS[kind]},{english}\n{ROWS[kind]},x\n"))
    assert err.line == 1 and "which one holds the data cannot be told" in err.problem


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_beyond_ten_megabytes_is_refused_before_it_is_read(tmp_path, monkeypatch, kind):
    monkeypatch.setitem(limits.MAX_FILE_BYTES, "table", 10 * limits.MIB)
    row = (ROWS[kind] + "\n").encode("cp932")
    content = excel_csv(HEADERS[kind] + "\n") + row * (10 * limits.MIB // len(row) + 1)
    err = refused(tmp_path, kind, content)
    assert "larger than the 10 MiB allowed for a table input" in err.problem


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_required_column_names_the_header(tmp_path, kind):
    err = refused(tmp_path, kind, excel_csv("備考,番号\na,1\n"))
    assert err.line == 1 and "--mapping" in err.problem


@pytest.mark.parametrize("kind", KINDS)
def test_auditor_import_writes_a_bundle_the_schemas_accept(tmp_path, kind, capsys):
    source = tmp_path / "register.csv"
    source.write_bytes(excel_csv(f"{HEADERS[kind]}\n{ROWS[kind]}\n"))
    out = tmp_path / "out.json"
    assert main(["import", kind, str(source), "--target", "kakuu-city", "--out", str(out)]) == 0
    target = bundles.load_target("kakuu-city", bundles.index([out])["kakuu-city"])
    assert target.problem is None and target.area_problems == {} and target.kind == "organization"
    assert len(target.facts[AREAS[kind]]) == 1 and target.sources[0]["area"] == AREAS[kind]


def test_a_mapping_names_the_citys_own_columns_and_labels(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("format: auditor-inspection-mapping/1\ncolumns: {department: 課名, finding_status: 是正}\n"
                       "status_values: {closed: [解消]}\nreported_values: {reported: [提出済]}\n", encoding="utf-8")
    source = tmp_path / "s.csv"
    source.write_bytes(excel_csv("課名,実施日,報告,是正\n総務課,2026/6/1,提出済,解消\n"))
    bundle = import_files("self-inspection", [str(source)], ImportOptions(mapping=str(mapping)))
    record = bundle["facts"]["self_inspections"][0]
    assert (record["department"], record["reported"], record["finding_status"]) == ("総務課", True, "closed")


def test_a_bad_mapping_is_refused_naming_its_key(tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("format: auditor-asset-mapping/1\ncolumns: {serial: 製造番号}\n", encoding="utf-8")
    assert main(["import", "asset-register", str(tmp_path / "none.csv"), "--mapping", str(mapping)]) == 2
    assert f"{mapping}:2: columns.serial: unknown key" in capsys.readouterr().err
