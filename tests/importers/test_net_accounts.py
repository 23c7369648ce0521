import json
from pathlib import Path

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.net_accounts import facts_from, parse

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
JA = WINDOWS / "net-accounts-ja.txt"  # Japanese Windows: `net accounts > FILE` in cmd, CP932
DOMAIN_EN = WINDOWS / "net-accounts-domain-en.txt"  # English Windows: `net accounts /domain > FILE`, ASCII


def text_of(path: Path, encoding: str) -> str:
    return path.read_bytes().decode(encoding).replace("\r\n", "\n")


def test_fixtures_are_written_as_windows_writes_them():
    raw = JA.read_bytes()
    assert "最小パスワード長:".encode("cp932") in raw and raw.count(b"\n") == raw.count(b"\r\n")
    assert raw.endswith("コマンドは正常に終了しました。\r\n\r\n".encode("cp932"))
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    en = DOMAIN_EN.read_bytes()
    assert en.isascii() and en.startswith(b"The request will be processed at a domain controller for domain ")
    assert en.count(b"\n") == en.count(b"\r\n")


def test_japanese_output_maps_words_and_numbers_to_os_neutral_facts():
    parsed = parse(text_of(JA, "cp932"), "ja.txt")
    assert parsed.values["password_policy.min_length"] == (6, 4) and parsed.domain is False
    assert facts_from(parsed, "ja.txt") == {
        "os": {"family": "windows"},
        "password_policy": {"min_age_days": 0, "max_age_days": None,  # 無制限: never expires
                            "min_length": 6, "history": 0,  # なし: no history
                            "sources": ["ja.txt (net accounts)"]},
        "lockout_policy": {"enabled": True, "threshold": 10, "duration_minutes": 30, "window_minutes": 30},
    }


def test_english_domain_output_never_locks_and_says_it_came_from_the_domain():
    facts = facts_from(parse(text_of(DOMAIN_EN, "ascii"), "dom.txt"), "dom.txt")
    assert facts["password_policy"] == {"min_age_days": 1, "max_age_days": 90, "min_length": 12, "history": 24,
                                        "sources": ["dom.txt (net accounts /domain)"]}
    # Lockout threshold: Never → nothing locks, so net.exe's default 30/30 minutes are not facts
    assert facts["lockout_policy"] == {"enabled": False, "threshold": 0}


@pytest.mark.parametrize(
    ("lines", "password", "lockout"),
    [
        (["Maximum password age (days):   Unlimited", "Length of password history maintained:   None",
          "Lockout threshold:   5", "Lockout duration (minutes):   Never"],
         {"max_age_days": None, "history": 0}, {"enabled": True, "threshold": 5, "duration_minutes": 0}),
        (["パスワード有効期間 (日数):   ４２", "ロックアウトしきい値:   しない", "ロックアウト期間 (分):   30"],
         {"max_age_days": 42}, {"enabled": False, "threshold": 0}),  # full-width digits as typed
        (["パスワードの最小文字数:   8", "ロックアウトのしきい値:   なし"],  # the policy editor's wording
         {"min_length": 8}, {"enabled": False, "threshold": 0}),
        (["minimum PASSWORD length   :   14", "Lockout threshold:3"],  # case and spacing do not matter
         {"min_length": 14}, {"enabled": True, "threshold": 3}),
    ],
)
def test_words_labels_and_spacing(lines, password, lockout):
    facts = facts_from(parse("\n".join(lines) + "\n", "n.txt"), "n.txt")
    assert {k: v for k, v in facts["password_policy"].items() if k != "sources"} == password
    assert facts["lockout_policy"] == lockout


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("最小パスワード長:   八\n", 1, "最小パスワード長: expected a whole number, found '八'"),
        ("Minimum password length:\n", 1, "expected a whole number, found ''"),
        ("Maximum password age (days):   Never\n", 1, "expected a whole number or 'unlimited' or '無制限', "
                                                        "found 'Never'"),
        ("Lockout threshold:   -1\n", 1, "found '-1'"),
        ("Minimum password length:   8\nPassword complexity:   on\n", 2, "not a net accounts line: "
                                                                       "'Password complexity:   on'"),
        ("Minimum password length:   8\nSystem error 5 has occurred.\n", 2, "not a net accounts line"),
        ("最小パスワード長:   8\nMinimum password length:   9\n", 2, "duplicate setting 'Minimum password length' "
                                                               "(first on line 1)"),
    ],
)
def test_bad_lines_are_errors_naming_the_line(text, line, problem):
    with pytest.raises(InputError) as err:
        parse(text, "n.txt")
    assert (err.value.file, err.value.line) == ("n.txt", line)
    assert problem in err.value.problem


@pytest.mark.parametrize("text", ["", "System error 5 has occurred.\n\nAccess is denied.\n",
                                  "コンピューターの役割:   WORKSTATION\nコマンドは正常に終了しました。\n"])
def test_a_file_with_no_policy_line_is_not_net_accounts_output(text):
    with pytest.raises(InputError) as err:
        parse(text, "other.txt")
    assert err.value.file == "other.txt" and err.value.line is None
    assert err.value.problem.startswith("not net accounts output")


def test_no_threshold_line_leaves_lockout_absent_with_an_error(tmp_path):
    path = tmp_path / "partial.txt"
    path.write_bytes("最小パスワード長:   8\r\n".encode("cp932"))
    bundle = import_files("net-accounts", [str(path)], ImportOptions(target_id="pc-1"))
    assert "lockout_policy" not in bundle["facts"] and bundle["facts"]["password_policy"]["min_length"] == 8
    assert bundle["errors"] == [{"area": "lockout_policy", "source": str(path),
                                 "message": f"{path}: no Lockout threshold / ロックアウトしきい値 line"}]
    assert {s["area"] for s in bundle["sources"]} == {"os", "password_policy"}


def test_a_second_output_for_the_same_target_is_refused():
    with pytest.raises(InputError) as err:
        import_files("net-accounts", [str(JA), str(DOMAIN_EN)], ImportOptions(target_id="pc-1"))
    assert err.value.file == str(DOMAIN_EN) and "a second net accounts output" in err.value.problem


def test_import_validates_and_audit_fails_min_length_with_the_files_value(tmp_path, capsys):
    out = tmp_path / "pc-1.json"
    assert main(["import", "net-accounts", str(JA), "--target", "pc-1",
                 "--collected-at", "2026-11-02T08:41:07+09:00", "--out", str(out)]) == 0
    target = bundles.load_target("pc-1", bundles.index([out])["pc-1"])
    assert target.problem is None and target.area_problems == {} and target.kind == "endpoint"
    assert target.os_family == "windows" and target.facts["password_policy"]["min_length"] == 6
    assert {s["parser"] for s in target.sources} == {"net-accounts (cp932)"}
    assert [s["area"] for s in target.sources] == ["os", "password_policy", "lockout_policy"]
    capsys.readouterr()
    main(["audit", str(out), "--format", "json"])
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["password-min-length"]["status"] == "fail"
    assert [f["actual"] for f in results["password-min-length"]["findings"]] == [6]
    assert results["lockout-threshold"]["status"] == "fail"  # 10 failures, above the profile's 5
    assert [f["actual"] for f in results["lockout-threshold"]["findings"]] == [10]
    assert results["lockout-enabled"]["status"] == "pass"


def test_garbage_exits_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "accounts.txt"
    bad.write_bytes("システム エラー 5 が発生しました。\r\n\r\nアクセスが拒否されました。\r\n".encode("cp932"))
    assert main(["import", "net-accounts", str(bad)]) == 2
    assert f"{bad}: not net accounts output" in capsys.readouterr().err
