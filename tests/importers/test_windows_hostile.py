"""The Windows importers against careless and hostile input (issue #15, hardening).

Every case here was accepted wrongly, or ended in a traceback, before the importers were
hardened: duplicate keys silently keeping the last value, ``int()`` of thousands of digits,
zips reaching outside their folder, links followed out of a collection, dates outside the
years 1 to 9999. Inputs are written as Windows writes them (secedit: UTF-16 LE with BOM and
CRLF; net accounts: CP932 and CRLF; ConvertTo-Json: UTF-8 with BOM and CRLF).
"""

import io
import json
import os
import shutil
import stat
import zipfile
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from auditor.evidence.bundle import BundleBuilder
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.net_accounts import parse
from auditor.evidence.importers.secedit import facts_from, parse_inf
from auditor.evidence.importers.windows import collection, psjson, registry, system
from auditor.evidence.importers.windows_raw import WindowsRawImporter

from auditor import limits
from auditor.cli import main
from auditor.errors import InputError

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
SECEDIT = WINDOWS / "secedit-weak.inf"
NET_JA = WINDOWS / "net-accounts-ja.txt"
GOOD = WINDOWS / "raw-compliant" / "auditor-raw-LGPC-0101-20261102084107"
JST = timezone(timedelta(hours=9))


def utf16(text: str) -> bytes:
    """As secedit /export writes it: UTF-16 LE with a byte-order mark, CRLF."""
    return b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")


def ps51(doc) -> bytes:
    """ConvertTo-Json's bytes as the script saves them (UTF-8 with BOM, CRLF)."""
    return b"\xef\xbb\xbf" + json.dumps(doc, ensure_ascii=False, indent=4).replace("\n", "\r\n").encode("utf-8")


def secedit_text() -> str:
    return SECEDIT.read_bytes().decode("utf-16").replace("\r\n", "\n")


def refused(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    return capsys.readouterr().err


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def zip_of(members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def fixture_members(prefix: str = GOOD.name + "\\") -> list[tuple[str, bytes]]:
    return [(prefix + p.name, p.read_bytes()) for p in sorted(GOOD.iterdir())]


def read_zip(data: bytes, name: str = "c.zip") -> dict:
    importer = WindowsRawImporter()
    importer.configure(ImportOptions())
    builder = BundleBuilder(target_id="t", kind="endpoint", collector_name="test",
                            collected_at="2026-11-02T09:00:00+09:00")
    importer.read(Path(name), data, builder)
    return builder.build()


# ---------------------------------------------------------------- secedit


def test_a_key_given_twice_in_a_secedit_export_is_refused_naming_both_lines(tmp_path, capsys):
    text = secedit_text().replace("MinimumPasswordLength = 6\n", "MinimumPasswordLength = 6\n"
                                  "MinimumPasswordLength = 14\n")
    path = tmp_path / "pc.inf"
    path.write_bytes(utf16(text))
    err = refused(capsys, "import", "secedit", str(path))
    assert f"{path}:7: [System Access]: duplicate key 'MinimumPasswordLength' (first on line 6)" in err


def test_keys_and_sections_are_compared_ignoring_case_as_windows_reads_them():
    with pytest.raises(InputError) as err:
        parse_inf("[System Access]\nMinimumPasswordLength = 14\nminimumpasswordlength = 6\n", "s.inf")
    assert (err.value.line, err.value.where) == (3, "[System Access]")
    with pytest.raises(InputError) as err:
        parse_inf("[System Access]\nMinimumPasswordLength = 14\n[Event Audit]\nAuditLogonEvents = 3\n"
                  "[system access]\nMinimumPasswordLength = 6\n", "s.inf")
    assert err.value.line == 5 and "duplicate section '[system access]' (first on line 1)" in err.value.problem
    facts = facts_from(parse_inf("[SYSTEM ACCESS]\nminimumPASSWORDlength = 12\n", "s.inf"), "s.inf")
    assert facts["password_policy"]["min_length"] == 12


def test_the_same_key_in_two_sections_is_not_a_duplicate():
    sections = parse_inf("[System Access]\nRevision = 1\n[Version]\nRevision = 1\n", "s.inf")
    assert sections["system access"]["revision"] == ("1", 2) and sections["version"]["revision"] == ("1", 4)


@pytest.mark.parametrize("value", ["9" * 5000, "1_4", "１４", "+14", "14.0", "0x0E"])
def test_a_secedit_number_is_ascii_digits_of_sane_length(tmp_path, capsys, value):
    path = tmp_path / "pc.inf"
    path.write_bytes(utf16(secedit_text().replace("MinimumPasswordLength = 6", f"MinimumPasswordLength = {value}")))
    err = refused(capsys, "import", "secedit", str(path))
    assert f"{path}:6:" in err and "MinimumPasswordLength" in err and len(err) < 400


@pytest.mark.parametrize(("line", "problem"), [
    ("MinimumPasswordLength = -1", "MinimumPasswordLength: expected 0 or more, found -1"),
    ("PasswordHistorySize = -3", "PasswordHistorySize: expected 0 or more, found -3"),
    ("MaximumPasswordAge = -2", "MaximumPasswordAge: expected -1 or more, found -2"),
    ("ClearTextPassword = 2", "ClearTextPassword: expected 0 or 1, found 2"),
    ("PasswordComplexity = 7", "PasswordComplexity: expected 0 or 1, found 7"),
])
def test_secedit_values_without_a_meaning_are_refused_not_written_into_an_invalid_bundle(line, problem):
    with pytest.raises(InputError) as err:
        facts_from(parse_inf(f"[System Access]\nLockoutBadCount = 5\n{line}\n", "s.inf"), "s.inf")
    assert (err.value.line, err.value.problem) == (3, problem)


def test_an_empty_key_is_not_a_setting():
    with pytest.raises(InputError, match="KEY = VALUE"):
        parse_inf("[System Access]\n = 14\n", "s.inf")


@pytest.mark.parametrize("kind", ["secedit", "net-accounts"])
def test_a_text_export_beyond_the_size_limit_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch, kind):
    path = tmp_path / "big.txt"
    path.write_bytes(SECEDIT.read_bytes() if kind == "secedit" else NET_JA.read_bytes())
    monkeypatch.setitem(limits.MAX_FILE_BYTES, "text", 100)
    err = refused(capsys, "import", kind, str(path))
    assert "is larger than the 100 bytes allowed for a text input" in err


# ---------------------------------------------------------------- net accounts


def test_a_net_accounts_number_of_thousands_of_digits_is_refused_naming_the_line(tmp_path, capsys):
    text = NET_JA.read_bytes().decode("cp932")
    line = next(line for line in text.split("\r\n") if line.startswith("最小パスワード長"))
    path = tmp_path / "net.txt"
    path.write_bytes(text.replace(line, line.rstrip("0123456789") + "9" * 5000).encode("cp932"))
    err = refused(capsys, "import", "net-accounts", str(path))
    assert f"{path}:4: 最小パスワード長: an integer of 5,000 digits" in err


def test_a_net_accounts_setting_twice_in_two_languages_names_both_lines():
    with pytest.raises(InputError) as err:
        parse("ロックアウトしきい値:   10\r\nLockout threshold:   0\r\n".replace("\r\n", "\n"), "n.txt")
    assert err.value.line == 2 and "duplicate setting 'Lockout threshold' (first on line 1)" in err.value.problem


# ---------------------------------------------------------------- ConvertTo-Json (psjson) and the manifest


def test_a_duplicate_json_key_is_refused_with_both_lines():
    data = b'\xef\xbb\xbf{\r\n    "Enabled":  true,\r\n    "Enabled":  false\r\n}'
    with pytest.raises(InputError) as err:
        psjson.load(data, "f.json")
    assert err.value.line == 3 and "duplicate key 'Enabled' (first on line 2)" in err.value.problem


def test_keys_differing_only_in_case_are_one_powershell_property():
    data = ps51([{"Name": "Public", "name": "Domain"}])
    with pytest.raises(InputError) as err:
        psjson.load(data, "f.json")
    assert err.value.line == 4 and "'Name' (line 3) is the same property to PowerShell" in err.value.problem
    assert psjson.load(ps51([{"Name": "a"}, {"name": "b"}]), "f.json")[0] == [{"Name": "a"}, {"name": "b"}]


@pytest.mark.parametrize("depth", [101, 5000])
def test_json_nested_beyond_convertto_jsons_maximum_is_refused(depth):
    with pytest.raises(InputError) as err:
        psjson.load(b"[" * depth + b"]" * depth, "deep.json")
    assert f"nested more than {limits.MAX_JSON_DEPTH} levels deep" in err.value.problem and err.value.line == 1
    assert psjson.load(b"[" * 100 + b"]" * 100, "ok.json")[1] == "utf-8"


def test_a_json_integer_of_thousands_of_digits_is_refused_naming_the_line():
    with pytest.raises(InputError) as err:
        psjson.load(b'{\r\n  "UBR":  ' + b"9" * 5000 + b"\r\n}", "os.json")
    assert err.value.line == 2 and "an integer of 5,000 digits" in err.value.problem


def test_a_duplicate_key_in_the_manifest_is_refused(tmp_path, capsys):
    folder = copy_of(GOOD, tmp_path)
    raw = (folder / "manifest.json").read_bytes()
    (folder / "manifest.json").write_bytes(raw.replace(b'"elevated":  true,', b'"elevated":  true,\r\n'
                                                       b'    "Elevated":  false,', 1))
    assert b'"Elevated"' in (folder / "manifest.json").read_bytes()
    err = refused(capsys, "import", "windows-raw", str(folder))
    assert f"{folder.name}/manifest.json:" in err and "same property to PowerShell" in err


def test_two_steps_naming_one_file_are_refused(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    doc = json.loads((folder / "manifest.json").read_bytes().decode("utf-8-sig"))
    for entry in doc["steps"]:
        if entry["name"] == "net-accounts":
            entry["file"] = "SECEDIT.inf"
    (folder / "manifest.json").write_bytes(ps51(doc))
    with pytest.raises(InputError, match="names the file 'SECEDIT.inf' of step 'secedit'"):
        import_files("windows-raw", [str(folder)], ImportOptions())


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("/Date(99999999999999999)/", "outside .NET's DateTime range"),
        ("/Date(-99999999999999999)/", "outside .NET's DateTime range"),
        ("/Date(" + "9" * 5000 + ")/", "an integer of 5,000 digits"),
        ("/Date(253402300799000)/", "after the year 9999 in the import's time zone"),  # 9999-12-31T23:59:59Z
        ("/Date(1793567560000+9900)/", "has the offset +9900"),
        ("9999-12-31T23:59:59-09:00", "outside the years 1 to 9999"),
        ("2026-02-30T06:12:40+09:00", "expected a date"),
        ("/Date(１７９３５６７５６００００)/", "expected a date"),  # full-width digits: not what 5.1 writes
    ],
)
def test_convertto_json_dates_outside_datetimes_range_are_input_errors(value, problem):
    with pytest.raises(InputError) as err:
        psjson.instant(value, JST, "d.json", "When")
    assert problem in err.value.problem and str(err.value).startswith("d.json: When: ")


@pytest.mark.parametrize("value", ["/Date(-62135596800000)/", "/Date(-62135578800000)/",  # MinValue, and from UTC-5
                                   "0001-01-01T00:00:00+09:00", "0001-01-01T00:00:00"])
def test_datetime_minvalue_in_any_zone_is_never(value):
    assert psjson.instant(value, timezone(timedelta(hours=-5)), "d.json", "When") is None


def test_a_manifest_start_in_the_year_1_shifted_by_its_offset_is_refused(tmp_path, capsys):
    folder = copy_of(GOOD, tmp_path)
    path = folder / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b"2026-11-02T08:41:07+09:00", b"0001-01-01T00:00:00+09:00"))
    err = refused(capsys, "import", "windows-raw", str(folder))
    assert "manifest.json: started_at: expected an instant with its offset in the years 1 to 9999" in err


def test_an_impossible_hotfix_date_inside_a_collection_is_refused_naming_the_row(tmp_path, capsys):
    folder = copy_of(GOOD, tmp_path)
    path = folder / "hotfix.csv"
    path.write_bytes(path.read_bytes().replace(b"2026/10/15 0:00:00", b"2026/02/30 0:00:00"))
    err = refused(capsys, "import", "windows-raw", str(folder))
    assert f"{folder.name}/hotfix.csv:3:" in err and "'2026/02/30 0:00:00'" in err


def test_a_software_install_date_that_is_not_a_date_is_recorded_not_raised():
    from auditor.evidence.importers.windows import inventory

    programs, undated = inventory.software([{"Scope": "user", "DisplayName": "x", "InstallDate": "20260230"}], "s")
    assert programs[0]["installed_on"] is None and undated == ["x ('20260230')"]


@pytest.mark.parametrize("value", ["²", "--5", "٣", "9" * 5000])
def test_a_registry_number_as_text_is_ascii_digits_of_sane_length(value):
    with pytest.raises(InputError, match="InactivityTimeoutSecs"):
        psjson.integer(value, "r.json", "InactivityTimeoutSecs")


def test_w32tm_numbers_in_other_scripts_are_not_numbers():
    text = "Leap Indicator: 0\nStratum: 𐩀\nSource: time.windows.com\n"
    with pytest.raises(InputError, match="expected a number"):
        system.time_sync(text, "w.txt")
    with pytest.raises(InputError, match="expected a number"):
        system.time_sync(text.replace("𐩀", "9" * 5000), "w.txt")


def test_a_w32tm_line_given_twice_is_refused_naming_both():
    text = "Leap Indicator: 0\nStratum: 4\nSource: Local CMOS Clock\nソース: DC01.kakuu.local\n"
    with pytest.raises(InputError) as err:
        system.time_sync(text, "w32tm.txt")
    assert err.value.line == 4 and "duplicate line 'ソース' (first on line 3)" in err.value.problem


# ---------------------------------------------------------------- registry snapshots


def _key(path, values, hive="HKLM"):
    return {"Hive": hive, "Path": path, "View": "Registry64", "Exists": True,
            "Values": [{"Name": n, "Kind": "DWord", "Data": d} for n, d in values]}


def test_a_registry_value_given_twice_in_one_key_is_refused():
    doc = [_key(registry.MACHINE_SYSTEM_POLICY, [("InactivityTimeoutSecs", 900), ("inactivitytimeoutsecs", 0)])]
    with pytest.raises(InputError) as err:
        registry.Snapshot(doc, "screen-lock.json")
    assert "duplicate registry value 'inactivitytimeoutsecs'" in err.value.problem
    assert err.value.where.endswith("Values[0] and Values[1]")


def test_a_registry_key_given_twice_is_refused():
    doc = [_key(registry.TERMINAL_SERVER, [("fDenyTSConnections", 1)]),
           _key(registry.TERMINAL_SERVER.upper(), [("fDenyTSConnections", 0)])]
    with pytest.raises(InputError) as err:
        registry.Snapshot(doc, "remote-desktop.json")
    assert "duplicate registry key" in err.value.problem and err.value.where == "keys [0] and [1]"


def test_list_policies_with_odd_value_names_keep_their_numeric_order():
    key = registry.Key("HKLM", "x", True, {"10": "c", "2": "b", "02": "a", "²": "z", "9" * 5000: "last-number"})
    assert registry._listed(key) == ["a", "b", "c", "last-number", "z"]


# ---------------------------------------------------------------- the collection zip


def test_the_fixture_zip_reads_as_the_folder():
    assert read_zip(GOOD.with_suffix(".zip").read_bytes())["facts"] == import_files(
        "windows-raw", [str(GOOD)], ImportOptions())["facts"]


@pytest.mark.parametrize("evil", ["../evil.txt", "/etc/evil.txt", "C:\\Windows\\evil.txt", "x\\..\\..\\evil.txt",
                                  GOOD.name + "\\..\\evil.txt"])
def test_a_member_outside_the_folder_is_refused(evil):
    with pytest.raises(InputError) as err:
        read_zip(zip_of([*fixture_members(), (evil, b"x")]))
    assert "a member outside the collection folder" in err.value.problem


def test_a_symbolic_link_member_is_refused():
    link = zipfile.ZipInfo(GOOD.name + "/secedit.inf")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    members = [m for m in fixture_members(GOOD.name + "/") if not m[0].endswith("secedit.inf")]
    with pytest.raises(InputError, match="a symbolic link in the zip"):
        read_zip(zip_of([*members, (link, b"/etc/shadow")]))


def test_two_members_of_one_name_are_refused():
    weak_secedit = utf16(secedit_text())
    with pytest.raises(InputError, match="two members of one name"):
        read_zip(zip_of([*fixture_members(), (GOOD.name + "\\SECEDIT.INF", weak_secedit)]))


def test_an_encrypted_member_is_refused():
    data = bytearray(GOOD.with_suffix(".zip").read_bytes())
    at = data.find(b"PK\x01\x02", zipfile.ZipFile(io.BytesIO(bytes(data))).start_dir)
    data[at + 8] |= 0x1  # the first member's general-purpose flags in the central directory: encrypted
    with pytest.raises(InputError, match="an encrypted member"):
        read_zip(bytes(data))


def test_too_many_members_are_refused_before_any_is_read():
    members = fixture_members() + [(f"other/{i}.txt", b"") for i in range(collection.MAX_MEMBERS)]
    with pytest.raises(InputError, match="members; a collection has some 25"):
        read_zip(zip_of(members))


def test_a_zip_bomb_is_refused_by_its_sizes_before_it_is_inflated(monkeypatch):
    bomb = fixture_members() + [(GOOD.name + "\\padding.txt", b"\0" * (3 << 20))]
    data = zip_of(bomb)  # 3 MiB of zeros deflate to 3 KiB: some 1,000 to 1
    with pytest.raises(InputError, match="compressed 1,0[0-9][0-9] to 1, beyond the 500 to 1"):
        read_zip(data)
    monkeypatch.setitem(limits.MAX_FILE_BYTES, "collection", 2 << 20)
    with pytest.raises(InputError, match="larger than the 2 MiB allowed for a collection input"):
        read_zip(data)


def test_a_member_whose_size_lies_is_refused():
    data = bytearray(zip_of(fixture_members()))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = next(i for i in archive.infolist() if i.filename.endswith("os.json"))
    central = data.find(b"PK\x01\x02", archive.start_dir)
    while data[central + 46:central + 46 + len(info.filename)] != info.filename.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 24:central + 28] = (info.file_size - 10).to_bytes(4, "little")  # uncompressed size
    with pytest.raises(InputError, match="os.json"):
        read_zip(bytes(data))


def test_a_collection_zip_beyond_the_limit_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(limits.MAX_FILE_BYTES, "collection", 1000)
    err = refused(capsys, "import", "windows-raw", str(GOOD.with_suffix(".zip")))
    assert "is larger than the 1,000 bytes allowed for a collection input" in err


def test_nothing_is_written_while_a_zip_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    read_zip(GOOD.with_suffix(".zip").read_bytes())
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the collection folder


def test_a_link_out_of_a_collection_folder_is_not_followed(tmp_path, capsys):
    folder = copy_of(GOOD, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("MinimumPasswordLength = 14\n")
    (folder / "secedit.inf").unlink()
    (folder / "secedit.inf").symlink_to(secret)
    err = refused(capsys, "import", "windows-raw", str(folder))
    assert "secedit.inf: a symbolic link in the collection" in err and "is not followed" in err


def test_a_linked_collection_folder_inside_the_given_folder_is_not_followed(tmp_path, capsys):
    (tmp_path / "given").mkdir()
    (tmp_path / "given" / GOOD.name).symlink_to(GOOD, target_is_directory=True)
    err = refused(capsys, "import", "windows-raw", str(tmp_path / "given"))
    assert f"given/{GOOD.name}: a symbolic link in the collection" in err


def test_names_that_differ_only_in_case_are_refused_in_a_folder(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    (folder / "SECEDIT.INF").write_bytes(utf16(secedit_text()))
    if len(os.listdir(folder)) == len(os.listdir(GOOD)):
        pytest.skip("a case-insensitive file system")
    with pytest.raises(InputError, match="differ only in case"):
        import_files("windows-raw", [str(folder)], ImportOptions())


def test_a_folder_beyond_the_collection_limit_is_refused(tmp_path, monkeypatch):
    total = sum(p.stat().st_size for p in GOOD.iterdir())
    monkeypatch.setitem(limits.MAX_FILE_BYTES, "collection", total - 1)
    with pytest.raises(InputError, match="allowed for a collection input"):
        import_files("windows-raw", [str(GOOD)], ImportOptions())
    monkeypatch.setitem(limits.MAX_FILE_BYTES, "collection", total)
    import_files("windows-raw", [str(GOOD)], ImportOptions())


def test_a_pipe_in_a_collection_folder_is_not_read(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    os.mkfifo(folder / "extra.txt")  # reading it would wait for ever
    import_files("windows-raw", [str(folder)], ImportOptions())
