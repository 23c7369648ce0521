"""auditor import windows-raw: a collect-windows.ps1 folder or zip into one endpoint bundle."""

import json
import re
import shutil
import zipfile
from pathlib import Path

import cerberus
import pytest
from auditor.evidence.collectors.windows import script_text
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.windows import inventory, network, psjson, registry, system
from auditor.evidence.importers.windows_raw import STEP_AREAS
from support import core

from auditor import bundles
from auditor.cli import main
from auditor.errors import InputError
from auditor.schemas.facts import FACT_SCHEMAS

WINDOWS = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
GOOD = WINDOWS / "raw-compliant" / "auditor-raw-LGPC-0101-20261102084107"
WEAK = WINDOWS / "raw-weak" / "auditor-raw-LGPC-0217-20261102091530"
STEP = re.compile(r"Invoke-(?:Json|Csv|Native)Step -Name '([a-z0-9-]+)' -File '([a-z0-9.-]+)'")


def imported(path, **options):
    return import_files("windows-raw", [str(path)], ImportOptions(**options))


def copy_of(folder, tmp_path):
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def edit_manifest(folder, step, **changes):
    path = folder / "manifest.json"
    doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    for entry in doc["steps"]:
        if entry["name"] == step:
            entry.update(changes)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc, ensure_ascii=False, indent=4).encode("utf-8"))


def fail_step(folder, step, error, error_type="System.UnauthorizedAccessException"):
    edit_manifest(folder, step, status="failed", error=error, error_type=error_type)
    file = {e["name"]: e["file"] for e in json.loads((folder / "manifest.json").read_bytes().decode("utf-8-sig"))
            ["steps"]}[step]
    (folder / file).unlink()


def errors(bundle, area):
    return [e["message"] for e in bundle["errors"] if e["area"] == area]


# ---------------------------------------------------------------- the fixtures are as Windows writes them


def test_fixtures_are_written_as_windows_writes_them():
    for folder in (GOOD, WEAK):
        assert (folder / "secedit.inf").read_bytes()[:2] == b"\xff\xfe"  # secedit: UTF-16 LE with BOM
        for name in ("manifest.json", "os.json", "software.json", "hotfix.csv"):
            assert (folder / name).read_bytes()[:3] == b"\xef\xbb\xbf"  # 5.1's -Encoding UTF8: with BOM
        for name in ("net-accounts.txt", "auditpol.csv", "w32tm.txt"):  # native tools through cmd.exe: CP932
            raw = (folder / name).read_bytes()
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            assert raw.count(b"\n") == raw.count(b"\r\n") > 0
        assert (folder / "hotfix.csv").read_bytes()[3:].startswith(b"#TYPE System.Management.ManagementObject")
        assert b'":  ' in (folder / "os.json").read_bytes()  # ConvertTo-Json 5.1's separator
        names = zipfile.ZipFile(folder.with_suffix(".zip")).namelist()
        assert all(n.startswith(folder.name + "\\") for n in names)  # Compress-Archive 5.1's backslashes
    assert "2026/10/15 0:00:00" in (GOOD / "hotfix.csv").read_text(encoding="utf-8-sig")
    assert (WEAK / "local-admins.txt").read_bytes().decode("cp932").startswith("エイリアス名")
    assert not (WEAK / "local-admins.json").exists()


def test_the_fixtures_list_the_scripts_steps_and_files():
    in_script = set(STEP.findall(script_text()))
    listed = set()
    for folder in (GOOD, WEAK):
        doc = json.loads((folder / "manifest.json").read_bytes().decode("utf-8-sig"))
        listed |= {(s["name"], s["file"]) for s in doc["steps"]}
    assert listed == in_script
    assert {name for name, _file in in_script} == set(STEP_AREAS)


# ---------------------------------------------------------------- the compliant-ish terminal


def test_compliant_terminal_area_by_area():
    bundle = imported(GOOD)
    facts = bundle["facts"]
    name = GOOD.name
    assert bundle["target"] == {"id": "LGPC-0101", "kind": "endpoint", "segment": None, "department": None,
                                "labels": {}}
    assert bundle["collected_at"] == "2026-11-02T08:41:07+09:00"
    assert bundle["collector"]["name"] == "auditor-import-windows-raw"
    eol_source = facts["os"].pop("eol_source")
    assert eol_source.startswith("Windows 11, version 23H2: https://learn.microsoft.com/lifecycle/")
    assert facts["os"] == {"family": "windows", "id": "windows", "name": "Windows 11 Enterprise",
                           "version": "10.0.22631", "build": "22631.4460", "hostname": "LGPC-0101",
                           "architecture": "x86_64", "boot_time": "2026-11-02T08:02:51+09:00",
                           "eol_date": "2026-11-10"}  # Enterprise: a year more than Pro
    assert facts["password_policy"] == {
        "min_age_days": 1, "max_age_days": 90, "min_length": 12, "history": 24, "complexity": True,
        "min_char_classes": 3, "reversible_encryption": False,
        "sources": [f"{name}/secedit.inf [System Access]", f"{name}/net-accounts.txt (net accounts)"]}
    assert facts["lockout_policy"] == {"enabled": True, "threshold": 5, "duration_minutes": 15, "window_minutes": 15}
    patches = facts["patches"]
    assert (patches["installed_count"], patches["last_installed_at"], patches["last_security_installed_at"]) == (
        4, "2026-10-20T00:00:00+09:00", "2026-10-15T00:00:00+09:00")
    assert [(h["id"], h["installed_on"], h["source"]) for h in patches["hotfixes"]][2] == (
        "KB5043113", None, {"file": f"{name}/hotfix.csv", "line": 5})
    subcategories = facts["audit_policy"]["subcategories"]
    assert len(subcategories) == 13
    assert subcategories[3] == {"guid": "{0CCE9215-69AE-11D9-BED3-505054503030}", "name": "ログオン", "success": True,
                                "failure": True, "source": {"file": f"{name}/auditpol.csv", "line": 6}}
    assert facts["antimalware"] == {
        "installed": True, "realtime_enabled": True, "signature_updated_at": "2026-11-02T06:12:40+09:00",
        "products": [{"name": "Microsoft Defender Antivirus", "running": True, "realtime": True,
                      "signature_updated_at": "2026-11-02T06:12:40+09:00", "signature_version": "1.421.1785.0"}]}
    assert facts["disk_encryption"] == {
        "volumes": [
            {"mount": "C:", "device": "\\\\?\\Volume{3f2a9c1e-0d4b-4e51-9a7c-1b2e3d4f5a60}\\", "system": True,
             "encrypted": True, "method": "XtsAes128", "protection_on": True},
            {"mount": "D:", "device": "\\\\?\\Volume{8c41d2b7-6e3f-4a09-b5d8-2c7e9f0a1b32}\\", "system": False,
             "encrypted": True, "method": "XtsAes128", "protection_on": True}],
        "system_encrypted": True, "all_fixed_encrypted": True}
    assert facts["removable_media"] == {
        "storage_blocked": False, "write_blocked": False, "allowlist_enforced": True,
        "allowed_devices": ["USBSTOR\\DISK&VEN_I-O_DATA&PROD_ED-E4&REV_1.00\\AA00000000000489&0",
                            "USBSTOR\\DISK&VEN_BUFFALO&PROD_RUF3-HSL&REV_0.00\\0701522F3C4B9A71&0"],
        "mechanisms": ["device-install-restrictions"]}
    assert facts["screen_lock"] == {
        "desktop": True, "enabled": True, "idle_timeout_seconds": 600, "password_on_resume": True,
        "source": f"{name}/screen-lock.json: HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System"
                  "\\InactivityTimeoutSecs"}
    assert facts["firewall"] == {
        "enabled": True, "backend": "windows", "input_policy": "drop", "output_policy": "accept",
        "profiles": [{"name": "Domain", "enabled": True, "inbound_default": "Block"},
                     {"name": "Private", "enabled": True, "inbound_default": "Block"},
                     {"name": "Public", "enabled": True, "inbound_default": "Block"}]}
    assert facts["interfaces"] == [
        {"name": "イーサネット", "up": True, "loopback": False, "wireless": False, "mac": "98:fa:9b:12:34:56",
         "addresses": [{"family": "ipv6", "address": "fe80::5d2a:1c3b:8e41:9f20%12", "prefixlen": 64},
                       {"family": "ipv4", "address": "10.20.4.7", "prefixlen": 16}]},
        {"name": "Loopback Pseudo-Interface 1", "up": True, "loopback": True, "wireless": False,
         "addresses": [{"family": "ipv6", "address": "::1", "prefixlen": 128},
                       {"family": "ipv4", "address": "127.0.0.1", "prefixlen": 8}]}]
    listening = facts["listening"]
    assert len(listening) == 15 and {s["protocol"] for s in listening} == {"tcp", "udp"}
    assert listening[0] == {"protocol": "tcp", "address": "::", "port": 135, "family": "ipv6", "loopback": False,
                            "pid": 1124, "process": "svchost"}
    assert listening[8] == {"protocol": "tcp", "address": "127.0.0.1", "port": 49700, "family": "ipv4",
                            "loopback": True, "pid": 5120, "process": "MsMpEng"}
    assert facts["software"] == [
        {"name": "Microsoft 365 Apps for enterprise - ja-jp", "version": "16.0.17928.20156",
         "publisher": "Microsoft Corporation", "installed_on": None, "architecture": "64-bit"},
        {"name": "一太郎2024", "version": "1.0.0.2", "publisher": "JUSTSYSTEMS CORPORATION",
         "installed_on": "2024-02-09", "architecture": "64-bit"},
        {"name": "7-Zip 23.01 (x64)", "version": "23.01", "publisher": "Igor Pavlov", "installed_on": None,
         "architecture": "64-bit"},
        {"name": "Microsoft Edge", "version": "130.0.2849.56", "publisher": "Microsoft Corporation",
         "installed_on": "2026-10-28", "architecture": "32-bit"},
        {"name": "Microsoft Edge WebView2 ランタイム", "version": "130.0.2849.56", "publisher": "Microsoft Corporation",
         "installed_on": "2026-10-29", "architecture": "32-bit"}]  # no DisplayName / SystemComponent = 1: skipped
    assert facts["local_admins"] == [
        {"name": "LGPC-0101\\Administrator", "kind": "user", "via": "Administrators"},
        {"name": "KAKUU\\Domain Admins", "kind": "group", "via": "Administrators"},
        {"name": "KAKUU\\LG-PC-Admins", "kind": "group", "via": "Administrators"}]
    assert facts["remote_desktop"] == {
        "enabled": False, "clipboard_redirection": False, "drive_redirection": False, "printer_redirection": False,
        "com_port_redirection": False, "lpt_port_redirection": False, "pnp_redirection": False,
        "smart_card_redirection": False}
    assert facts["time_sync"] == {"synchronized": True, "ntp_enabled": True, "service": "w32time",
                                  "servers": ["DC01.kakuu.local"], "timezone": "Tokyo Standard Time"}
    assert "segments" not in facts  # only with --zones
    assert [e["area"] for e in bundle["errors"]] == ["patches"]  # KB5043113 has no InstalledOn
    assert "1 of 4 updates have no InstalledOn date (KB5043113)" in bundle["errors"][0]["message"]


def test_sources_name_each_raw_file_with_its_encoding():
    bundle = imported(GOOD)
    parsers = {(s["name"].split("/")[-1], s["parser"]) for s in bundle["sources"]}
    assert {("secedit.inf", "secedit (utf-16-le)"), ("net-accounts.txt", "net-accounts (cp932)"),
            ("hotfix.csv", "hotfix (utf-8-sig)"), ("auditpol.csv", "auditpol (cp932)"),
            ("w32tm.txt", "windows-raw/w32tm (cp932)"), ("bitlocker.json", "windows-raw/bitlocker (utf-8-sig)"),
            ("manifest.json", "windows-raw/manifest (utf-8-sig)")} <= parsers
    assert all(s["name"].startswith(GOOD.name + "/") for s in bundle["sources"])
    files = {p.name for p in GOOD.iterdir()}
    assert {s["name"].split("/")[-1] for s in bundle["sources"]} == files
    by_area = {}
    for source in bundle["sources"]:
        by_area.setdefault(source.get("area"), set()).add(source["name"].split("/")[-1])
    assert by_area["screen_lock"] == {"screen-lock.json", "os.json"}  # os.json says whether there is a desktop
    assert by_area["password_policy"] == {"secedit.inf", "net-accounts.txt"}
    assert by_area["listening"] == {"tcp-listen.json", "udp-endpoints.json"}
    size = (GOOD / "secedit.inf").stat().st_size
    assert {s["size"] for s in bundle["sources"] if s["name"].endswith("secedit.inf")} == {size}


# ---------------------------------------------------------------- the terminal with problems


def test_weak_terminal_area_by_area():
    bundle = imported(WEAK)
    facts = bundle["facts"]
    name = WEAK.name
    assert bundle["target"]["id"] == "LGPC-0217" and bundle["collected_at"] == "2026-11-02T09:15:30+09:00"
    assert facts["os"].pop("eol_source").startswith("Windows 10, version 22H2: https://")
    assert facts["os"] == {"family": "windows", "id": "windows", "name": "Windows 10 Pro", "version": "10.0.19045",
                           "build": "19045.4894", "hostname": "LGPC-0217", "architecture": "x86_64",
                           "boot_time": "2026-10-19T07:58:02+09:00", "eol_date": "2025-10-14"}
    assert facts["password_policy"] == {
        "min_age_days": 1, "max_age_days": None, "min_length": 6, "history": 0, "complexity": False,
        "min_char_classes": 0, "reversible_encryption": False,
        "sources": [f"{name}/secedit.inf [System Access]", f"{name}/net-accounts.txt (net accounts)"]}
    assert facts["lockout_policy"] == {"enabled": True, "threshold": 10, "duration_minutes": 10,
                                       "window_minutes": 10}
    assert facts["patches"]["last_security_installed_at"] == "2026-06-12T00:00:00+09:00"
    assert facts["antimalware"] == {
        "installed": True, "realtime_enabled": True, "signature_updated_at": "2026-09-01T03:12:45+09:00",
        "products": [{"name": "Microsoft Defender Antivirus", "running": True, "realtime": True,
                      "signature_updated_at": "2026-09-01T03:12:45+09:00", "signature_version": "1.417.392.0"}]}
    assert facts["disk_encryption"] == {  # E: is a USB stick (Removable): not a fixed volume
        "volumes": [{"mount": "C:", "device": "\\\\?\\Volume{b1c2d3e4-5f60-4718-8a9b-0c1d2e3f4a5b}\\",
                     "system": True, "encrypted": False, "method": None, "protection_on": False}],
        "system_encrypted": False, "all_fixed_encrypted": False}
    assert facts["removable_media"] == {"storage_blocked": False, "write_blocked": False,
                                        "allowlist_enforced": False, "allowed_devices": [], "mechanisms": []}
    assert facts["screen_lock"]["enabled"] is False and facts["screen_lock"]["idle_timeout_seconds"] is None
    assert facts["screen_lock"]["password_on_resume"] is False
    assert facts["firewall"]["enabled"] is False and facts["firewall"]["input_policy"] == "accept"
    assert facts["firewall"]["profiles"][2] == {"name": "Public", "enabled": False, "inbound_default": "Block"}
    wifi, bluetooth, ethernet, loopback = facts["interfaces"]
    assert (wifi["name"], wifi["up"], wifi["wireless"], wifi["mac"]) == ("Wi-Fi", True, True, "a4:c3:f0:11:22:33")
    assert wifi["addresses"][1] == {"family": "ipv4", "address": "192.168.43.120", "prefixlen": 24}
    assert (bluetooth["up"], bluetooth["wireless"]) == (False, True)  # NdisPhysicalMedium 10
    assert (ethernet["name"], ethernet["wireless"], loopback["loopback"]) == ("イーサネット", False, True)
    assert {(s["protocol"], s["port"]) for s in facts["listening"] if not s["loopback"]} >= {("tcp", 3389),
                                                                                               ("tcp", 5900)}
    assert facts["software"][2] == {"name": "Adobe Acrobat Reader DC - Japanese", "version": "24.002.20933",
                                    "publisher": "Adobe Systems Incorporated", "installed_on": None,
                                    "architecture": "32-bit"}
    assert facts["software"][3] == {"name": "Zoom Workplace", "version": "6.2.6 (49050)",
                                    "publisher": "Zoom Video Communications, Inc.", "installed_on": "2026-09-15"}
    assert facts["local_admins"] == [  # from net localgroup: the kind is unknown
        {"name": member, "kind": "unknown", "via": "Administrators"}
        for member in ("Administrator", "KAKUU\\Domain Admins", "KAKUU\\tanaka-t",
                       "S-1-5-21-1004336348-1177238915-682003330-1107", "temp-user")]
    assert facts["remote_desktop"] == {
        "enabled": True, "clipboard_redirection": True, "drive_redirection": False, "printer_redirection": True,
        "com_port_redirection": True, "lpt_port_redirection": True, "pnp_redirection": True,
        "smart_card_redirection": True}
    assert facts["time_sync"] == {"synchronized": False, "ntp_enabled": False, "service": "w32time", "servers": [],
                                  "timezone": "Tokyo Standard Time"}
    assert errors(bundle, "local_admins") == ["step local-admins (Get-LocalGroupMember -SID S-1-5-32-544) failed: "
                                              "配列内の 2 つの要素を比較できませんでした。"]
    assert errors(bundle, "software") == [
        f"{name}/software.json: InstallDate is not a date for 1 of 4 programs (Adobe Acrobat Reader DC - Japanese "
        "('9/14/2026')); their installed_on is null"]
    assert {e["area"] for e in bundle["errors"]} == {"local_admins", "software"}


def test_weak_terminal_fails_min_length_with_actual_and_expected(tmp_path, capsys):
    out = tmp_path / "pc.json"
    assert main(["import", "windows-raw", str(WEAK.with_suffix(".zip")), "--segment", "lgwan",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    main(["audit", str(out), "--format", "json", "--lang", "en"])
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["password-min-length"]["status"] == "fail"
    assert core(results["password-min-length"]["findings"]) == [
        {"item": "password_policy.min_length", "actual": 6, "expected": ">= 8"}]
    assert results["password-not-reversible"]["status"] == "pass"
    assert results["lockout-threshold"]["status"] == "fail"
    assert results["audit-policy-subcategories"]["status"] == "fail"
    assert results["os-supported"]["status"] == "fail"  # Windows 10 22H2 Pro: support ended 2025-10-14


def test_a_release_the_end_of_life_table_does_not_list_has_no_eol_date(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    path = folder / "os.json"
    path.write_bytes(path.read_bytes().replace(b"10.0.22631", b"10.0.99999"))
    bundle = imported(folder)
    assert "eol_date" not in bundle["facts"]["os"] and "eol_source" not in bundle["facts"]["os"]
    assert errors(bundle, "os")[0].startswith("eol_date: Windows 11 Enterprise 10.0.99999 is not in the end-of-life")


def test_both_bundles_validate_against_the_fact_schemas(tmp_path):
    for folder in (GOOD, WEAK):
        out = tmp_path / f"{folder.name}.json"
        assert main(["import", "windows-raw", str(folder), "--out", str(out)]) == 0
        doc = json.loads(out.read_text(encoding="utf-8"))
        target = bundles.load_target(doc["target"]["id"], bundles.index([out])[doc["target"]["id"]])
        assert target.problem is None and target.area_problems == {}
        assert target.os_family == "windows" and target.kind == "endpoint"
        for area, value in doc["facts"].items():
            validator = cerberus.Validator({area: FACT_SCHEMAS[area]})
            assert validator.validate({area: value}), (area, validator.errors)


# ---------------------------------------------------------------- zip, folder and options


def test_the_zip_and_the_folder_give_the_same_bundle():
    assert imported(GOOD.with_suffix(".zip")) == imported(GOOD)
    assert imported(WEAK.with_suffix(".zip")) == imported(WEAK)


def test_the_folder_it_was_extracted_into_and_a_zip_with_forward_slashes(tmp_path):
    extracted = tmp_path / "extracted"
    shutil.copytree(GOOD, extracted / GOOD.name)
    assert imported(extracted) == imported(GOOD)
    rezipped = tmp_path / "rezipped.zip"
    with zipfile.ZipFile(rezipped, "w") as archive:
        for path in sorted(GOOD.iterdir()):
            archive.writestr(f"{GOOD.name}/{path.name}", path.read_bytes())
    assert imported(rezipped) == imported(GOOD)


def test_target_and_collected_at_given_on_the_command_line_win(tmp_path):
    bundle = imported(GOOD, target_id="kakuu-pc-0101", collected_at="2026-11-03T10:00:00+09:00",
                      segment="lgwan", department="総務課")
    assert bundle["target"]["id"] == "kakuu-pc-0101" and bundle["collected_at"] == "2026-11-03T10:00:00+09:00"
    assert (bundle["target"]["segment"], bundle["target"]["department"]) == ("lgwan", "総務課")


def test_zones_map_the_addresses_to_segments(tmp_path):
    zones = tmp_path / "zones.yaml"
    zones.write_text("format: auditor-zones/1\nzones:\n"
                     "  - {name: lg-office, segment: lgwan, role: office, networks: [10.20.0.0/16]}\n"
                     "  - {name: mn-office, segment: mynumber, role: office, networks: [10.10.0.0/16]}\n",
                     encoding="utf-8")
    bundle = imported(WEAK, zones=str(zones))
    assert bundle["facts"]["segments"] == {
        "zones_file": str(zones), "segments": ["external", "lgwan"],
        "addresses": [  # link-local (fe80::, 169.254.x) and loopback addresses are left out
            {"interface": "Wi-Fi", "address": "192.168.43.120", "wireless": True, "zone": None,
             "segment": "external"},
            {"interface": "イーサネット", "address": "10.20.8.31", "wireless": False, "zone": "lg-office",
             "segment": "lgwan"}]}
    assert {s["name"] for s in bundle["sources"] if s.get("area") == "segments"} == {str(zones)}
    assert "zones" not in bundle["facts"]  # the zones area belongs to network targets


def test_zones_without_interfaces_is_an_error_entry(tmp_path):
    zones = tmp_path / "zones.yaml"
    zones.write_text("format: auditor-zones/1\nzones:\n"
                     "  - {name: lg-office, segment: lgwan, role: office, networks: [10.20.0.0/16]}\n",
                     encoding="utf-8")
    folder = copy_of(WEAK, tmp_path)
    fail_step(folder, "ip-addresses", "アクセスが拒否されました。")
    bundle = imported(folder, zones=str(zones))
    assert "interfaces" not in bundle["facts"] and "segments" not in bundle["facts"]
    assert errors(bundle, "segments") and errors(bundle, "interfaces")


# ---------------------------------------------------------------- failed steps


def test_a_failed_step_is_an_errors_entry_and_no_area_and_the_checks_error(tmp_path, capsys):
    folder = copy_of(GOOD, tmp_path)
    fail_step(folder, "bitlocker", "アクセスが拒否されました。", "Microsoft.Management.Infrastructure.CimException")
    bundle = imported(folder)
    assert "disk_encryption" not in bundle["facts"]
    assert errors(bundle, "disk_encryption") == [
        "step bitlocker (Get-BitLockerVolume) failed: アクセスが拒否されました。"]
    assert [e["source"] for e in bundle["errors"] if e["area"] == "disk_encryption"] == [
        f"{folder.name}/manifest.json"]
    out = tmp_path / "pc.json"
    out.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    main(["audit", str(out), "--format", "json", "--lang", "en"])
    results = {r["check"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["disk-encryption-system"]["status"] == "error"
    assert "アクセスが拒否されました" in json.dumps(results["disk-encryption-system"], ensure_ascii=False)


def test_not_elevated_keeps_the_password_policy_from_net_accounts(tmp_path):
    folder = copy_of(WEAK, tmp_path)
    for step in ("secedit", "auditpol", "bitlocker"):
        fail_step(folder, step, "needs administrator rights: run PowerShell as administrator", "NotElevated")
    bundle = imported(folder)
    assert bundle["facts"]["password_policy"] == {
        "min_age_days": 1, "max_age_days": None, "min_length": 6, "history": 0,
        "sources": [f"{folder.name}/net-accounts.txt (net accounts)"]}  # no complexity: secedit has it
    assert "audit_policy" not in bundle["facts"] and "disk_encryption" not in bundle["facts"]
    assert [m.split(" failed")[0] for m in errors(bundle, "password_policy")] == ["step secedit (secedit.exe "
                                                                                  '/export /mergedpolicy /cfg '
                                                                                  '"{target}" /quiet)']
    assert "needs administrator rights" in errors(bundle, "audit_policy")[0]


def test_without_secedit_and_net_accounts_there_is_no_password_policy(tmp_path):
    folder = copy_of(WEAK, tmp_path)
    fail_step(folder, "secedit", "needs administrator rights: run PowerShell as administrator", "NotElevated")
    edit_manifest(folder, "net-accounts", status="failed", exit_code=2, error="システム エラー 5 が発生しました。",
                  error_type="ExitCode")
    bundle = imported(folder)
    assert PASSWORD_AREAS.isdisjoint(bundle["facts"])
    assert len(errors(bundle, "password_policy")) == 2 and len(errors(bundle, "lockout_policy")) == 2
    assert errors(bundle, "lockout_policy")[1].endswith("failed: システム エラー 5 が発生しました。 (exit code 2)")


PASSWORD_AREAS = {"password_policy", "lockout_policy"}


def test_secedit_wins_over_a_different_net_accounts_value_and_says_so(tmp_path):
    folder = copy_of(WEAK, tmp_path)
    text = (folder / "net-accounts.txt").read_bytes().decode("cp932")
    line = next(line for line in text.split("\r\n") if line.startswith("最小パスワード長"))
    (folder / "net-accounts.txt").write_bytes(text.replace(line, line[:-1] + "8").encode("cp932"))
    bundle = imported(folder)
    assert bundle["facts"]["password_policy"]["min_length"] == 6
    assert errors(bundle, "password_policy") == [
        f"password_policy.min_length: {folder.name}/secedit.inf gives 6 but {folder.name}/net-accounts.txt gives 8; "
        f"the value of {folder.name}/secedit.inf is used"]


def test_a_step_missing_from_the_manifest_is_an_error_entry(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    path = folder / "manifest.json"
    doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    doc["steps"] = [s for s in doc["steps"] if s["name"] != "w32tm"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    bundle = imported(folder)
    assert bundle["facts"]["time_sync"] == {"timezone": "Tokyo Standard Time"}  # nothing else is known
    assert "step w32tm is not in the manifest" in errors(bundle, "time_sync")[0]


def test_the_time_service_stopped(tmp_path, capsys):
    folder = copy_of(GOOD, tmp_path)
    (folder / "w32tm.txt").write_bytes("次のエラーが発生しました: サービスは開始されていません。 (0x80070426)\r\n"
                                       .encode("cp932"))
    edit_manifest(folder, "w32tm", status="failed", exit_code=-2147023834, error_type="ExitCode",
                  error="次のエラーが発生しました: サービスは開始されていません。 (0x80070426)")
    bundle = imported(folder)
    assert bundle["facts"]["time_sync"] == {"timezone": "Tokyo Standard Time"}
    assert "(0x80070426) (exit code -2147023834)" in errors(bundle, "time_sync")[0]


# ---------------------------------------------------------------- other encodings and refusals


def test_native_outputs_redirected_by_powershell_are_utf16_and_read_the_same(tmp_path):
    folder = copy_of(WEAK, tmp_path)
    for name in ("net-accounts.txt", "auditpol.csv", "w32tm.txt", "local-admins.txt"):
        text = (folder / name).read_bytes().decode("cp932")
        (folder / name).write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))  # PowerShell 5.1's '>'
    bundle, original = imported(folder), imported(WEAK)
    assert bundle["facts"] == original["facts"]
    assert "net-accounts (utf-16-le)" in {s["parser"] for s in bundle["sources"]}


def test_a_file_the_manifest_lists_as_written_but_missing_is_refused(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    (folder / "firewall.json").unlink()
    with pytest.raises(InputError) as err:
        imported(folder)
    assert err.value.file == f"{folder.name}/manifest.json"
    assert "step firewall is recorded as ok but its file firewall.json is not in the collection" in err.value.problem


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.write_text("not a collection"), "neither a folder nor a zip file"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("x/os.json", "{}"), "no manifest.json in the zip"),
        (lambda p: (p.mkdir(), (p / "os.json").write_text("{}")), "no manifest.json in the collection"),
    ],
)
def test_what_is_not_a_collection_exits_2(tmp_path, capsys, make, problem):
    path = tmp_path / "input"
    make(path)
    assert main(["import", "windows-raw", str(path)]) == 2
    assert problem in capsys.readouterr().err


def test_a_manifest_of_another_format_and_a_broken_file_are_refused_naming_them(tmp_path, capsys):
    folder = copy_of(GOOD, tmp_path)
    (folder / "manifest.json").write_text('{"format": "something-else/1", "steps": []}', encoding="utf-8")
    assert main(["import", "windows-raw", str(folder)]) == 2
    assert 'expected "format": "auditor-windows-raw/1"' in capsys.readouterr().err
    folder = copy_of(WEAK, tmp_path / "b")
    (folder / "os.json").write_bytes(b"\xef\xbb\xbf{\r\n    \"Caption\":  \r\n")
    assert main(["import", "windows-raw", str(folder)]) == 2
    assert f"{folder.name}/os.json:3: not JSON" in capsys.readouterr().err


def test_two_collections_in_one_bundle_are_refused():
    with pytest.raises(InputError) as err:
        import_files("windows-raw", [str(GOOD), str(WEAK)], ImportOptions())
    assert err.value.file == str(WEAK) and "a second collection" in err.value.problem


def test_other_importers_still_refuse_a_directory(capsys):
    assert main(["import", "secedit", str(GOOD)]) == 2
    assert "no such file" in capsys.readouterr().err


# ---------------------------------------------------------------- the new parsers, one by one


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1793567560000)/", "2026-11-02T06:12:40+09:00"),
        ("/Date(1793567560000+0900)/", "2026-11-02T06:12:40+09:00"),
        ({"value": "/Date(1793567560000)/", "DisplayHint": 2, "DateTime": "2026年11月2日 6:12:40"},
         "2026-11-02T06:12:40+09:00"),
        ("2026-11-02T06:12:40.1234567+09:00", "2026-11-02T06:12:40+09:00"),  # PowerShell 7
        ("2026-11-01T21:12:40Z", "2026-11-01T21:12:40+00:00"),
        ("/Date(-62135596800000)/", None),  # DateTime.MinValue: never
        (None, None),
    ],
)
def test_convertto_json_dates(value, expected):
    from datetime import timedelta, timezone

    assert psjson.instant(value, timezone(timedelta(hours=9)), "d.json", "When") == expected


def test_convertto_json_shapes():
    assert psjson.records({"value": [{"a": 1}], "Count": 1}, "x") == [{"a": 1}]
    assert psjson.records({"a": 1}, "x") == [{"a": 1}] and psjson.records(None, "x") == []
    assert psjson.record([{"a": 1}], "x") == {"a": 1}
    with pytest.raises(InputError, match="expected one object"):
        psjson.record(None, "x")
    with pytest.raises(InputError, match="expected a date"):
        psjson.instant("11/2/2026 6:12:40 AM", None, "x", "When")


def test_w32tm_in_english_and_a_hyper_v_guest():
    english = ("Leap Indicator: 0(no warning)\nStratum: 4 (secondary reference - syncd by (S)NTP)\n"
               "Precision: -23 (119.209ns per tick)\nReferenceId: 0x14BDCF8A (source IP:  20.189.79.138)\n"
               "Last Successful Sync Time: 11/2/2026 8:30:12 AM\nSource: time.windows.com,0x9\n"
               "Poll Interval: 10 (1024s)\n")
    assert system.time_sync(english, "w.txt") == {"synchronized": True, "ntp_enabled": True, "service": "w32time",
                                                  "servers": ["time.windows.com"]}
    guest = english.replace("time.windows.com,0x9", "VM IC Time Synchronization Provider")
    assert system.time_sync(guest, "w.txt") == {"synchronized": True, "ntp_enabled": False, "service": "w32time",
                                                "servers": []}
    with pytest.raises(InputError, match="not w32tm /query /status output"):
        system.time_sync("アクセスが拒否されました。\n", "w.txt")


def test_net_localgroup_in_english_and_truncated():
    text = ("Alias name     Administrators\nComment        Administrators have complete and unrestricted access "
            "to the computer/domain\n\nMembers\n\n" + "-" * 79 + "\nAdministrator\nKAKUU\\Domain Admins\n"
            "The command completed successfully.\n\n")
    assert [a["name"] for a in inventory.admins_from_net(text, "a.txt")] == ["Administrator", "KAKUU\\Domain Admins"]
    with pytest.raises(InputError, match="no \"The command completed successfully"):
        inventory.admins_from_net(text.replace("The command completed successfully.", ""), "a.txt")
    with pytest.raises(InputError, match="no line of dashes"):
        inventory.admins_from_net("System error 5 has occurred.\n", "a.txt")


def _snapshot(*keys):
    return registry.Snapshot([{"Hive": hive, "Path": path, "View": "Registry64", "Exists": values is not None,
                               "Values": [{"Name": n, "Kind": "DWord", "Data": d} for n, d in (values or {}).items()]}
                              for hive, path, values in keys], "r.json")


def _removable(start=3, root=None, disk=None, restrictions=None):
    base = registry.RESTRICTIONS
    return _snapshot(("HKLM", registry.USBSTOR, {"Start": start}), ("HKLM", registry.REMOVABLE, root),
                     ("HKLM", registry.REMOVABLE + "\\" + registry.REMOVABLE_DISK_CLASS, disk),
                     ("HKLM", base, restrictions), ("HKLM", base + "\\AllowDeviceIDs", None),
                     ("HKLM", base + "\\AllowInstanceIDs", None))


@pytest.mark.parametrize(
    ("snapshot", "blocked", "write_blocked", "mechanisms"),
    [
        (_removable(start=4), True, True, ["usbstor-disabled"]),
        (_removable(root={"Deny_All": 1}), True, True, ["removable-deny-all"]),
        (_removable(disk={"Deny_Read": 1, "Deny_Write": 1}), True, True,
         ["removable-deny-read", "removable-deny-write"]),
        (_removable(disk={"Deny_Write": 1}), False, True, ["removable-deny-write"]),
        (_removable(disk={"Deny_Write": 0}, restrictions={"DenyRemovableDevices": 1}), False, False,
         ["device-install-restrictions"]),
    ],
)
def test_removable_storage_policies(snapshot, blocked, write_blocked, mechanisms):
    fact = registry.removable_media(snapshot)
    assert (fact["storage_blocked"], fact["write_blocked"], fact["mechanisms"]) == (blocked, write_blocked, mechanisms)
    assert fact["allowlist_enforced"] is False


def test_a_snapshot_without_a_key_the_script_reads_is_refused():
    with pytest.raises(InputError, match="not in the snapshot"):
        registry.removable_media(_snapshot(("HKLM", registry.USBSTOR, {"Start": 3})))


def test_remote_desktop_policy_wins_and_unset_redirections_are_allowed():
    snapshot = _snapshot(("HKLM", registry.TERMINAL_SERVER, {"fDenyTSConnections": 0}),
                         ("HKLM", registry.TS_POLICY, {"fDenyTSConnections": 1, "fDisableClip": 1}))
    fact = registry.remote_desktop(snapshot)
    assert fact["enabled"] is False and fact["clipboard_redirection"] is False
    assert fact["drive_redirection"] is True and fact["smart_card_redirection"] is True
    unset = _snapshot(("HKLM", registry.TERMINAL_SERVER, {}), ("HKLM", registry.TS_POLICY, None))
    assert registry.remote_desktop(unset)["enabled"] is False  # Windows' default: fDenyTSConnections = 1


def test_screen_saver_policy_without_the_machine_limit():
    def lock(**user):
        return registry.screen_lock(_snapshot(("HKLM", registry.MACHINE_SYSTEM_POLICY, {}),
                                              ("HKCU", registry.DESKTOP_POLICY, user)), desktop=True)
    fact = lock(ScreenSaveActive="1", ScreenSaverIsSecure="1", ScreenSaveTimeOut="900")
    assert (fact["enabled"], fact["idle_timeout_seconds"], fact["password_on_resume"]) == (True, 900, True)
    fact = lock(ScreenSaveActive="1", ScreenSaverIsSecure="0", ScreenSaveTimeOut="900")
    assert (fact["enabled"], fact["idle_timeout_seconds"], fact["password_on_resume"]) == (False, None, False)
    assert lock(ScreenSaveActive="0", ScreenSaverIsSecure="1", ScreenSaveTimeOut="900")["enabled"] is False


def test_firewall_not_configured_is_windows_default_and_numbers_are_refused():
    doc = [{"Name": n, "Enabled": "NotConfigured", "DefaultInboundAction": "NotConfigured",
            "DefaultOutboundAction": "NotConfigured"} for n in ("Domain", "Private", "Public")]
    fact = network.firewall(doc, "f.json")
    assert (fact["enabled"], fact["input_policy"], fact["output_policy"]) == (True, "drop", "accept")
    assert {p["inbound_default"] for p in fact["profiles"]} == {"Block"}
    with pytest.raises(InputError, match="Enabled is '1'"):
        network.firewall([{"Name": "Domain", "Enabled": 1, "DefaultInboundAction": 4}], "f.json")


def test_the_generator_reproduces_the_committed_fixtures(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("raw_generator", WINDOWS / "raw-generator" / "generate.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    generator.ROOT = tmp_path
    generator.compliant()
    generator.weak()
    for folder in (GOOD, WEAK):
        made = tmp_path / folder.parent.name / folder.name
        assert sorted(p.name for p in made.iterdir()) == sorted(p.name for p in folder.iterdir())
        for path in folder.iterdir():
            assert (made / path.name).read_bytes() == path.read_bytes(), path.name
        with zipfile.ZipFile(folder.with_suffix(".zip")) as committed, zipfile.ZipFile(made.with_suffix(".zip")) as new:
            assert committed.namelist() == new.namelist()
            assert all(committed.read(n) == new.read(n) for n in committed.namelist())
