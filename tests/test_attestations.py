"""Attestations decide manual checks: valid passes as attested, lapsed fails with its date, none stays manual."""

import json

import pytest
from support import MINI_POLICY, make_bundle

from auditor.attestations import load_attestations
from auditor.cli import main
from auditor.errors import InputError
from auditor.policy import load_policy

ORG = make_bundle(target__id="organization", target__kind="organization", target__segment=None,
                  target__department=None, facts={})
TAILORING = "format: auditor-tailoring/1\nid: t\nprofile: base\nselect: [{id: GL-E05, reason: 研修も点検する}]\n"
YAML = """\
format: auditor-attestations/1
attestations:
  - control: GL-E05
    attested_by: 情報政策課 筑波花子
    attested_on: 2026-06-30
    valid_until: {until}
    document: {{name: 令和8年度情報セキュリティ研修実施報告.pdf, sha256: {sha}}}
"""
SHA = "ab" * 32


def audit(capsys, tmp_path, attestations, *extra):
    (tmp_path / "org.json").write_text(json.dumps(ORG, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "t.yaml").write_text(TAILORING, encoding="utf-8")
    argv = ["audit", str(tmp_path / "org.json"), "--policy", str(MINI_POLICY), "--tailoring", str(tmp_path / "t.yaml"),
            "--format", "json", *map(str, extra)]
    if attestations is not None:
        argv += ["--attestations", str(attestations)]
    main(argv)
    doc = json.loads(capsys.readouterr().out)
    return next(r for r in doc["results"] if r["check"] == "training"), doc


def yaml_file(tmp_path, until="2027-03-31"):
    path = tmp_path / "attest.yaml"
    path.write_text(YAML.format(until=until, sha=SHA), encoding="utf-8")
    return path


def test_none_leaves_it_manual(capsys, tmp_path):
    entry, _ = audit(capsys, tmp_path, None)
    assert entry["status"] == "manual"


def test_a_valid_attestation_passes_as_attested(capsys, tmp_path):
    entry, doc = audit(capsys, tmp_path, yaml_file(tmp_path), "--lang", "en")
    assert entry["status"] == "pass"
    assert entry["attestation"]["document"] == "令和8年度情報セキュリティ研修実施報告.pdf"
    assert entry["attestation"]["sha256"] == SHA and entry["attestation"]["line"] == 3
    assert entry["message"].startswith("Attested by 情報政策課 筑波花子 on 2026-06-30")
    assert doc["attestations"][0]["used"] == 1 and doc["attestations"][0]["state"] == "valid"


def test_a_lapsed_attestation_fails_with_its_date(capsys, tmp_path):
    entry, _ = audit(capsys, tmp_path, yaml_file(tmp_path, until="2026-10-31"))
    assert entry["status"] == "fail" and "2026-10-31" in entry["message"]
    assert entry["findings"][0]["actual"] == "valid until 2026-10-31"


def test_expiry_follows_as_of(capsys, tmp_path):
    path = yaml_file(tmp_path, until="2026-10-31")
    assert audit(capsys, tmp_path, path, "--as-of", "2026-10-31")[0]["status"] == "pass"
    assert audit(capsys, tmp_path, path, "--as-of", "2026-11-01")[0]["status"] == "fail"
    assert audit(capsys, tmp_path, path, "--as-of", "2026-06-29")[0]["status"] == "manual"  # not yet attested


def test_csv_as_excel_writes_it(capsys, tmp_path):
    path = tmp_path / "attest.csv"
    rows = ("control,attested_by,attested_on,valid_until,document,sha256\r\n"
            "GL-E05,情報政策課 筑波花子,2026/06/30,2027-03-31,研修実施報告.pdf,\r\n")
    path.write_bytes(rows.encode("cp932"))
    with pytest.raises(InputError) as err:  # Excel's 2026/06/30 is not an ISO date: refused with its row
        load_attestations(path, load_policy(MINI_POLICY))
    assert err.value.line == 2 and "2026/06/30" in err.value.problem
    path.write_bytes(rows.replace("2026/06/30", "2026-06-30").encode("utf-8-sig"))
    entry, _ = audit(capsys, tmp_path, path)
    assert entry["status"] == "pass" and entry["attestation"]["line"] == 2


@pytest.mark.parametrize(("text", "message"), [
    (YAML.replace("control: GL-E05", "control: GL-E99"), "unknown control 'GL-E99'"),
    (YAML.replace("    attested_by: 情報政策課 筑波花子\n", ""), "attested_by: required field"),
    (YAML.replace("{{name", "{{nam"), "document"),
    (YAML.replace("sha256: {sha}", "sha256: abc"), "sha256"),
    (YAML.replace("control: GL-E05", "check: training\n    control: GL-E05"), "one control or one check"),
])
def test_a_broken_attestation_is_refused(tmp_path, text, message):
    path = tmp_path / "a.yaml"
    path.write_text(text.format(until="2027-03-31", sha=SHA), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_attestations(path, load_policy(MINI_POLICY))
    assert err.value.file == str(path) and message in str(err.value)


def test_policy_validate_checks_an_attestations_file(tmp_path, capsys):
    path = tmp_path / "a.yaml"
    path.write_text(YAML.format(until="2027-03-31", sha=SHA).replace("GL-E05", "GL-E99"), encoding="utf-8")
    assert main(["policy", "--policy", str(MINI_POLICY), "validate", str(path)]) == 2
    assert "unknown control 'GL-E99'" in capsys.readouterr().err
