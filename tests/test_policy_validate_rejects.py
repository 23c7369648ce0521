"""Issue #14's acceptance: auditor policy validate refuses, naming the file and the field, a profile
naming an unknown control, a parameter of the wrong type, a waiver without approver or expiry, and
an attestation of an unknown control (as Excel writes the CSV: BOM, CRLF)."""

import pytest

from auditor.cli import main

PROFILE = "id: city\ntitle: {ja: 市, en: City}\nextends: national-alpha\n"
WAIVER = ("format: auditor-waivers/1\nwaivers:\n  - id: W1\n    checks: [password-min-length]\n    reason: 更改まで\n"
          "    approver: 課長\n    approval_number: '1'\n    granted: 2026-04-01\n    expires: 2027-03-31\n")
CASES = [
    ("profile.yaml", PROFILE + "controls:\n  select: [GL-Z99]\n", "controls.select[0]", "GL-Z99"),
    ("profile.yaml", PROFILE + "parameters:\n  password_min_length: '8'\n", "parameters.password_min_length",
     "expected a whole number"),
    ("waivers.yaml", WAIVER.replace("    approver: 課長\n", ""), "waivers[0].approver", "required"),
    ("waivers.yaml", WAIVER.replace("    expires: 2027-03-31\n", ""), "waivers[0].expires", "required"),
    ("attest.csv", "\ufeffcontrol,check,targets,attested_by,attested_on,valid_until,document,sha256,statement\r\n"
     "GL-Z99,,kakuu-*,課長,2026-04-01,2027-03-31,議事録.pdf,,\r\n", "control", "unknown control 'GL-Z99'"),
]


@pytest.mark.parametrize(("name", "text", "field", "expected"), CASES,
                         ids=["unknown-control", "wrong-type", "no-approver", "no-expiry", "attested-unknown"])
def test_validate_refuses_naming_file_and_field(tmp_path, capsys, name, text, field, expected):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    assert main(["policy", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and field in err and expected in err, err
    assert "Traceback" not in err
