"""``wifi_profiles`` (GL-A14) from netsh's outputs as collect-windows.ps1 keeps them: English and
Japanese Windows, in the console's code page (CP932 on Japanese Windows) with CRLF."""

import json

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.windows import wifi
from test_windows_raw import GOOD, WEAK, copy_of, edit_manifest, errors

ENGLISH_LIST = """
Profiles on interface Wi-Fi:

Group policy profiles (read only)
---------------------------------
    CITY-CORP

User profiles
-------------
    All User Profile     : Guest Net
    All User Profile     : Home #2
"""
ENGLISH_PROFILE = """
Profile Guest Net on interface Wi-Fi:
=======================================================================

Applied: All User Profile

Profile information
-------------------
    Version                : 1
    Type                   : Wireless LAN
    Name                   : Guest Net
    Control options        :
        Connection mode    : Connect automatically
        Network broadcast  : Connect only if this network is broadcasting

Connectivity settings
---------------------
    Number of SSIDs        : 1
    SSID name              : "Guest Net"
    Network type           : Infrastructure
    Radio type             : [ Any Radio Type ]

Security settings
-----------------
    Authentication         : WPA2-Personal
    Cipher                 : CCMP
    Authentication         : WPA3-Personal
    Cipher                 : CCMP
    Security key           : Present

Cost settings
-------------
    Cost                   : Unrestricted
"""
ENTERPRISE = ENGLISH_PROFILE.replace("WPA2-Personal", "WPA2-Enterprise").replace(
    "    Authentication         : WPA3-Personal\n    Cipher                 : CCMP\n", "").replace(
    "Security key           : Present", "Security key           : Absent\n    802.1X                 : Enabled\n"
    "    EAP type               : Microsoft: Protected EAP (PEAP)")


def crlf_cp932(text):
    return text.replace("\n", "\r\n").encode("cp932")


def with_wlan(tmp_path, listing, profiles, listing_step=None):
    """A copy of the compliant collection whose netsh outputs are replaced."""
    folder = copy_of(GOOD, tmp_path)
    for old in folder.glob("wlan-profile-*.txt"):
        old.unlink()
    (folder / "wlan-profiles.txt").write_bytes(crlf_cp932(listing))
    details = []
    for index, (name, text, code) in enumerate(profiles, 1):
        file = f"wlan-profile-{index:03d}.txt"
        (folder / file).write_bytes(crlf_cp932(text))
        details.append({"Name": name, "File": file, "ExitCode": code, "Error": None})
    (folder / "wlan-profile-details.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps(details, ensure_ascii=False, indent=4).replace("\n", "\r\n").encode())
    if listing_step:
        edit_manifest(folder, "wlan-profiles", **listing_step)
    return folder


def fact(folder):
    bundle = import_files("windows-raw", [str(folder)], ImportOptions())
    return bundle["facts"].get("wifi_profiles"), errors(bundle, "wifi_profiles")


def test_the_japanese_terminals_in_cp932():
    good = import_files("windows-raw", [str(GOOD.with_suffix(".zip"))], ImportOptions())["facts"]["wifi_profiles"]
    assert [(p["name"], p["authentication"], p["authentication_label"]) for p in good["profiles"]] == [
        ("KAKUU-LG", "WPA2-Enterprise", "WPA2 - エンタープライズ")]
    assert good["profiles"][0]["eap"] == ["Microsoft: 保護された EAP (PEAP)"]
    weak = import_files("windows-raw", [str(WEAK.with_suffix(".zip"))], ImportOptions())["facts"]["wifi_profiles"]
    assert [(p["name"], p["authentication"]) for p in weak["profiles"]] == [
        ("KAKUU-LG", "WPA2-Enterprise"), ("aterm-home-5g", "WPA2-Personal"), ("aterm-home-5g", "WPA3-Personal"),
        ("FREE_Wi-Fi_Station", "Open")]
    assert (WEAK / "wlan-profile-002.txt").read_bytes().count(b"\r\n") > 10  # CRLF, as netsh writes


def test_english_windows_and_a_profile_the_details_missed(tmp_path):
    folder = with_wlan(tmp_path, ENGLISH_LIST, [("Guest Net", ENGLISH_PROFILE, 0), ("CITY-CORP", ENTERPRISE, 0)])
    found, problems = fact(folder)
    assert problems == []
    rows = [(p["name"], p["ssid"], p["authentication"]) for p in found["profiles"]]
    assert rows == [("Guest Net", "Guest Net", "WPA2-Personal"), ("Guest Net", "Guest Net", "WPA3-Personal"),
                    ("CITY-CORP", "Guest Net", "WPA2-Enterprise"),
                    ("Home #2", None, None)]  # listed, never shown: unknown, so an allowlist fails on it
    assert found["profiles"][2]["eap"] == ["Microsoft: Protected EAP (PEAP)"]
    assert "not read" in found["profiles"][3]["authentication_label"]


def test_a_failed_netsh_call_or_an_unknown_value_is_not_guessed(tmp_path):
    strange = ENTERPRISE.replace("WPA2-Enterprise", "WPA4-Quantum")
    folder = with_wlan(tmp_path, ENGLISH_LIST.replace("    All User Profile     : Home #2\n", ""),
                       [("Guest Net", strange, 0), ("CITY-CORP", ENTERPRISE, 1)])
    found, _ = fact(folder)
    assert [(p["authentication"], p["authentication_label"]) for p in found["profiles"]] == [
        (None, "WPA4-Quantum"), (None, "(not read: netsh exit code 1)")]


@pytest.mark.parametrize("message", [
    "The Wireless AutoConfig Service (wlansvc) is not running.",
    "ワイヤレス自動構成サービス (wlansvc) が実行されていません。",
])
def test_a_stopped_wlan_service_is_a_computer_without_wifi(tmp_path, message):
    folder = with_wlan(tmp_path, message + "\n", [],
                       listing_step={"status": "failed", "exit_code": 1, "error": message, "error_type": "ExitCode"})
    found, problems = fact(folder)
    assert found == {"wlan_service": False, "profiles": []} and problems == []


def test_any_other_failure_is_an_error_not_a_pass(tmp_path):
    folder = with_wlan(tmp_path, "", [], listing_step={"status": "failed", "exit_code": 5, "error_type": "ExitCode",
                                                       "error": "アクセスが拒否されました。"})
    found, problems = fact(folder)
    assert found is None and any("step wlan-profiles" in m for m in problems)


@pytest.mark.parametrize(("value", "expected"), [
    ("WPA2-Enterprise", "WPA2-Enterprise"), ("WPA2 - エンタープライズ", "WPA2-Enterprise"),
    ("WPA3 - エンタープライズ", "WPA3-Enterprise"), ("WPA3-Enterprise 192 Bits", "WPA3-Enterprise"),
    ("WPA2 - パーソナル", "WPA2-Personal"), ("WPA2-Personal", "WPA2-Personal"), ("オープン", "Open"),
    ("Open", "Open"), ("共有", "Shared"), ("WPA3-Personal", "WPA3-Personal"), ("エンタープライズ", None),
])
def test_normalise(value, expected):
    assert wifi.normalise(value) == expected


def test_a_details_file_that_is_not_a_list_is_refused(tmp_path):
    from auditor.errors import InputError

    folder = with_wlan(tmp_path, ENGLISH_LIST, [])
    (folder / "wlan-profile-details.json").write_bytes(b'\xef\xbb\xbf{"Name": "x"}')
    with pytest.raises(InputError, match="wlan-profile-details.json"):
        fact(folder)
