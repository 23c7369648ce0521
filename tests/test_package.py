"""The evidence package: everything an inspector needs, each file hashed, and verify catching any change."""

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from support import FIXTURES

from auditor.cli import main

EXAMPLES = FIXTURES.parent.parent / "examples"
WAIVERS = """format: auditor-waivers/1
waivers:
  - id: W-2026-007
    checks: [software-approved]
    reason: 業務システム更改まで
    approver: 情報政策課長
    approval_number: 石情第77号
    granted: 2026-04-01
    expires: 2027-03-31
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """An audit of the example fleet with waivers, and one of the example exports, as an office keeps them."""
    folder = tmp_path_factory.mktemp("office")
    shutil.copytree(EXAMPLES / "fleet", folder / "fleet")
    for name in ("ad-users.csv", "hr-roster.csv"):
        shutil.copy(EXAMPLES / "exports" / name, folder / name)
    (folder / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
    cwd = Path.cwd()
    try:
        import os

        os.chdir(folder)
        main(["audit", "fleet", "--waivers", "waivers.yaml", "--format", "json", "--out", "fleet.json"])
        main(["audit", "--import", "ad-users", "ad-users.csv", "--import", "hr-roster", "hr-roster.csv",
              "--format", "json", "--out", "exports.json"])
    finally:
        os.chdir(cwd)
    return folder


def export(capsys, run, results, *extra):
    out = run / f"{results}-{len(list(run.glob('*.zip')))}.zip"
    code = main(["export", str(run / results), "--out", str(out), *map(str, extra)])
    return code, out, capsys.readouterr()


def verify(capsys, package, *extra):
    code = main(["verify", str(package), *map(str, extra)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def rewritten(package: Path, target: Path, change=None, add=None, drop=None):
    """A copy of a package with one member changed, added or dropped (the manifest left as it was)."""
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            if info.filename == drop:
                continue
            data = source.read(info)
            if change is not None and info.filename == change:
                data = bytes([data[0] ^ 0x01]) + data[1:]
            copy.writestr(info, data)
        if add is not None:
            copy.writestr(add, b"{}")
    return target


def test_the_package_holds_everything_and_verifies(capsys, run):
    code, package, captured = export(capsys, run, "fleet.json")
    assert code == 0 and "manifest SHA-256" in captured.out
    names = zipfile.ZipFile(package).namelist()
    assert {"manifest.json", "results/results.json", "reports/report-admin.html", "reports/report-inspector.html",
            "inputs/waivers/waivers.yaml"} <= set(names)
    assert any(n.startswith("policy/") and n.endswith("gl-b11.yaml") for n in names)
    assert any(n.startswith("policy/") and n.endswith("parameters.yaml") for n in names)
    bundles = [n for n in names if n.startswith("evidence/bundles/")]
    assert len(bundles) == len(list((run / "fleet").glob("*.json")))
    manifest = json.loads(zipfile.ZipFile(package).read("manifest.json"))
    assert {f["path"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    code, text = verify(capsys, package)
    assert code == 0 and "OK" in text


def test_an_imported_run_packs_the_exports_themselves(capsys, run):
    code, package, _ = export(capsys, run, "exports.json")
    names = zipfile.ZipFile(package).namelist()
    assert "evidence/exports/ad-users/ad-users.csv" in names and "evidence/exports/hr-roster/hr-roster.csv" in names
    packed = zipfile.ZipFile(package).read("evidence/exports/ad-users/ad-users.csv")
    assert packed == (run / "ad-users.csv").read_bytes()  # the CP932 export, byte for byte
    assert verify(capsys, package)[0] == 0


@pytest.mark.parametrize("member", ["results/results.json", "reports/report-admin.html", "inputs/waivers/waivers.yaml",
                                    "bundle", "policy", "manifest.json"])
def test_one_changed_byte_in_any_file_fails_naming_it(capsys, run, tmp_path, member):
    _, package, _ = export(capsys, run, "fleet.json")
    names = zipfile.ZipFile(package).namelist()
    if member == "bundle":
        member = next(n for n in names if n.startswith("evidence/bundles/"))
    elif member == "policy":
        member = next(n for n in names if n.startswith("policy/"))
    changed = rewritten(package, tmp_path / "changed.zip", change=member)
    code, text = verify(capsys, changed)
    assert code == 1 and f"{member}: changed" in text


def test_an_added_or_removed_file_fails_naming_it(capsys, run, tmp_path):
    _, package, _ = export(capsys, run, "fleet.json")
    code, text = verify(capsys, rewritten(package, tmp_path / "added.zip", add="evidence/bundles/extra.json"))
    assert code == 1 and "evidence/bundles/extra.json: added" in text
    code, text = verify(capsys, rewritten(package, tmp_path / "dropped.zip", drop="results/results.json"))
    assert code == 1 and "results/results.json: removed" in text


def test_a_package_rewritten_whole_is_caught_by_the_recorded_digest(capsys, run, tmp_path):
    _, package, captured = export(capsys, run, "fleet.json")
    digest = captured.out.split("manifest SHA-256 ")[1].split()[0]
    assert verify(capsys, package, "--manifest-sha256", digest)[0] == 0
    _, other, _ = export(capsys, run, "exports.json")  # a whole, consistent package, but another one
    code, text = verify(capsys, other, "--manifest-sha256", digest)
    assert code == 1 and "differs from the manifest recorded at export" in text


@pytest.mark.parametrize("name", ["../evil.json", "/etc/evil.json", "a/../../evil.json", "C:/evil.json"])
def test_members_outside_the_package_are_refused(capsys, tmp_path, name):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "auditor-package/1", "files": []}))
        archive.writestr(name, b"{}")
    path = tmp_path / "evil.zip"
    path.write_bytes(buffer.getvalue())
    code, text = verify(capsys, path)
    assert code == 2 and "refused" in text


def test_not_a_zip_is_exit_2(capsys, tmp_path):
    path = tmp_path / "p.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    assert verify(capsys, path)[0] == 2


def test_evidence_changed_since_the_audit_is_not_packed(capsys, tmp_path):
    shutil.copytree(EXAMPLES / "fleet", tmp_path / "fleet")
    results = tmp_path / "r.json"
    main(["audit", str(tmp_path / "fleet"), "--format", "json", "--out", str(results)])
    bundle = tmp_path / "fleet" / "lg-fs-01.json"
    bundle.write_bytes(bundle.read_bytes().replace(b'"lg-fs-01"', b'"lg-fs-01" ', 1))
    capsys.readouterr()
    assert main(["export", str(results), "--out", str(tmp_path / "p.zip")]) == 2
    assert "changed since the audit" in capsys.readouterr().err
    assert not (tmp_path / "p.zip").exists()


NAMES = ["t.ishioka", "石岡 太郎", "h.tsukuba", "00123"]  # in the example exports


def test_pseudonymized_packages_name_no_one_and_keep_the_matches(capsys, run, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITOR_PSEUDONYM_KEY", "k" * 32)
    code, package, _ = export(capsys, run, "exports.json", "--pseudonymize")
    assert code == 0
    archive = zipfile.ZipFile(package)
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8", "replace")
        if name.startswith("policy/"):
            continue
        for person in NAMES:
            assert person not in text, (name, person)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["pseudonymized"] is True and len(manifest["key_id"]) == 16
    assert all("original_sha256" in f for f in manifest["files"] if f["role"] in ("export", "results"))
    # the same person has one pseudonym in the AD export and the roster, so the leaver checks still match
    results = json.loads(archive.read("results/results.json"))
    original = json.loads((run / "exports.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in results["results"]] == [r["status"] for r in original["results"]]
    ad = archive.read("evidence/exports/ad-users/ad-users.csv").decode()
    roster = archive.read("evidence/exports/hr-roster/hr-roster.csv").decode()
    staff = sorted({w for w in ad.replace('"', " ").replace(",", " ").split() if w.startswith("staff-")})
    assert staff and all(s in roster for s in staff[:2])
    assert verify(capsys, package)[0] == 0


def test_pseudonyms_are_keyed(capsys, run, monkeypatch):
    import hashlib

    from auditor.pseudonyms import Pseudonymizer

    one, two = Pseudonymizer(b"a" * 32), Pseudonymizer(b"b" * 32)
    assert one.pseudonym("t.ishioka", "user") != two.pseudonym("t.ishioka", "user")
    assert hashlib.sha256(b"t.ishioka").hexdigest()[:10] not in one.pseudonym("t.ishioka", "user")
    assert one.pseudonym("00123", "staff") == one.pseudonym("123", "staff")  # as match compares them
    monkeypatch.delenv("AUDITOR_PSEUDONYM_KEY", raising=False)
    code, _, captured = export(capsys, run, "exports.json", "--pseudonymize")
    assert code == 2 and "pseudonym key" in captured.err


def test_the_package_never_overwrites_what_it_packs(capsys, run):
    before = (run / "fleet.json").read_bytes()
    assert main(["export", str(run / "fleet.json"), "--out", str(run / "fleet.json")]) == 2
    assert (run / "fleet.json").read_bytes() == before
