"""collect-windows.ps1 where PowerShell 7 runs without Windows, and its self-test tests/windows/Test-Collector.ps1.

PowerShell cannot be installed on this project's machines: the importer's side is tested on the collection the
script writes there, made here as PowerShell 7 writes it (every step failed with the error PowerShell gives,
Get-TimeZone's answer, an empty WLAN list); the self-test itself runs when ``pwsh`` is on PATH, and its
collections are then imported too.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from auditor.evidence.collectors.windows import script_text
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.windows_raw import STEP_AREAS
from test_windows_script import _balance, code_lines

from auditor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SELF_TEST = ROOT / "tests" / "windows" / "Test-Collector.ps1"
FIXTURE = ROOT / "tests" / "fixtures" / "windows" / "raw-compliant" / "auditor-raw-LGPC-0101-20261102084107"
STEP = re.compile(r"Invoke-(Json|Csv|Native)Step -Name '([a-z0-9-]+)' -File '([a-z0-9.-]+)'")
# Cmdlets that PowerShell 7 has on every system, and the script's own helpers that need no Windows.
EVERYWHERE = {"Add-Member", "Compress-Archive", "ConvertTo-Json", "Export-Csv", "ForEach-Object", "Get-Culture",
              "Get-Date", "Get-Item", "Get-Location", "Join-Path", "New-Item", "New-Object", "Remove-Item",
              "Select-Object", "Set-StrictMode", "Test-Path", "Where-Object", "Write-Host", "Write-Warning"}


def self_test_text():
    return SELF_TEST.read_text(encoding="utf-8")


def mocked_names(text):
    """The commands Test-Collector.ps1 replaces by aliases: the keys of its two mock tables."""
    tables = re.findall(r"\$Windows(?:Cmdlets|Mocks) = (?:\$WindowsCmdlets \+ )?@\{(.*?)\n\}", text, re.S)
    return {name for table in tables for name in re.findall(r"'([A-Za-z]+-[A-Za-z]+)'\s*=", table)}


def test_the_self_test_is_plain_powershell_51():
    text = self_test_text()
    assert text.startswith("#Requires -Version 5.1\n")
    assert text.isascii() and "\t" not in text and "\r" not in text
    assert _balance(text) == []
    code = "\n".join(code_lines(text))
    for pester in ("Describe ", "Should ", "Import-Module", "Invoke-Pester", "Install-Module"):
        assert pester not in code
    assert "Write-Host ('{0} passed, {1} failed' -f $Count.Passed, $Count.Failed)" in code
    assert "if ($Count.Failed -gt 0) { exit 1 }" in code
    # PowerShell 7 only: $IsWindows, the ternary and null-coalescing operators, -AsHashtable.
    assert not re.search(r"\$IsWindows|\?\?|-AsHashtable| \? .* : ", code)


def test_every_windows_command_the_script_calls_is_mocked_by_the_self_test():
    """A step added to the script with a new Windows cmdlet must get its mock, or the self-test would run it."""
    script = "\n".join(code_lines(script_text()))
    defined = set(re.findall(r"^function ([A-Za-z]+-[A-Za-z]+)", script, re.M))
    called = set(re.findall(r"(?<![\w$.-])([A-Z][a-z]+-[A-Z][A-Za-z]+)\b", script)) - defined - EVERYWHERE
    mocked = mocked_names(self_test_text())
    assert called and called <= mocked, sorted(called - mocked)
    own = mocked - called
    assert own <= defined, sorted(own - defined)  # the script's own functions that are mocked
    assert {"Get-RunAs", "Start-NativeTool", "Invoke-NetshProfile", "Get-RegistryValues"} <= own


def test_the_script_falls_back_where_windows_is_missing():
    code = "\n".join(code_lines(script_text()))
    assert "Join-Path $env:SystemRoot" not in code.replace("    $SystemDir = Join-Path $env:SystemRoot", "")
    assert "if ($env:SystemRoot) {" in code
    assert code.count("[System.Security.Principal.WindowsIdentity]::GetCurrent()") == 1
    run_as = code[code.index("function Get-RunAs {"):code.index("$RunAs = Get-RunAs")]
    assert "try {" in run_as and "} catch {" in run_as and "Elevated = $null" in run_as
    assert "$env:COMPUTERNAME" not in code.replace("$ComputerName = $env:COMPUTERNAME", "")


# ---------------------------------------------------------------- the collection PowerShell 7 writes without Windows

NOT_RECOGNIZED = ("The term '{0}' is not recognized as a name of a cmdlet, function, script file, or executable "
                  "program.\nCheck the spelling of the name, or if a path was included, verify that the path is "
                  "correct and try again.")
NO_PRINCIPAL = "Windows Principal functionality is not supported on this platform."


def _ps7_error(kind, name, command):
    """The error a step records under PowerShell 7 on Linux, as the script's catch blocks word it."""
    if kind == "Native":
        exe = command.split()[0]
        return "NotSupported", f"no Windows system folder ($env:SystemRoot is not set): {exe} cannot be run here"
    if name == "bitlocker":
        return "ElevationUnknown", ("needs administrator rights, and whether PowerShell runs as administrator "
                                    'cannot be told: Exception calling "GetCurrent" with "0" argument(s): '
                                    f'"{NO_PRINCIPAL}"')
    if command.startswith("registry:"):
        return "System.Management.Automation.MethodInvocationException", (
            'Exception calling "OpenBaseKey" with "2" argument(s): "Registry is not supported on this platform."')
    cmdlet = re.match(r"[A-Z][a-z]+-[A-Za-z]+", command).group(0)
    return "System.Management.Automation.CommandNotFoundException", NOT_RECOGNIZED.format(cmdlet)


def ps7_json(doc):
    """ConvertTo-Json of PowerShell 7 as Write-TextFile saves it: two-space indents, UTF-8 with a BOM."""
    return b"\xef\xbb\xbf" + json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def linux_collection(tmp_path):
    """The folder collect-windows.ps1 writes under PowerShell 7 on Linux."""
    folder = tmp_path / "auditor-raw-lg-build-01-20261102084107"
    folder.mkdir()
    text = script_text()
    commands = {name: command for name, _quote, command in
                re.findall(r"-Name '([a-z0-9-]+)' -File '[^']+'.{0,200}?-(?:Command|Exe) (['\"])(.+?)\2", text, re.S)}
    steps = []
    for kind, name, file in STEP.findall(text):
        entry = {"name": name, "file": file, "command": commands[name], "status": "failed", "exit_code": None}
        if name == "timezone":
            (folder / file).write_bytes(ps7_json({"Id": "Asia/Tokyo", "DisplayName": "(UTC+09:00) Japan Standard Time",
                                                  "BaseUtcOffset": "09:00:00"}))
            entry.update(status="ok", error=None, error_type=None)
        elif name == "wlan-profile-details":  # netsh could not list any profile: nothing to show
            (folder / file).write_bytes(b"\xef\xbb\xbf[]")
            entry.update(status="ok", error=None, error_type=None)
        elif name == "local-admins-net":
            entry.update(command="net localgroup", error_type="System.Management.Automation.MethodInvocationException",
                         error=f'Exception calling ".ctor" with "1" argument(s): "{NO_PRINCIPAL}"')
        else:
            if kind == "Native":
                arguments = re.search(rf"-Name '{name}'.{{0,200}}?-Arguments '([^']*)'", text, re.S).group(1)
                entry["command"] += " " + arguments
            error_type, error = _ps7_error(kind, name, entry["command"])
            entry.update(error=error, error_type=error_type)
        steps.append(entry)
    manifest = {"format": "auditor-windows-raw/1", "script_version": "1", "computer": "lg-build-01",
                "user": "auditor", "elevated": None, "powershell": "7.4.6", "culture": "en-US",
                "started_at": "2026-11-02T08:41:07+09:00", "finished_at": "2026-11-02T08:41:09+09:00", "steps": steps}
    (folder / "manifest.json").write_bytes(ps7_json(manifest))
    return folder


def audited(path, tmp_path, capsys, name="pc.json"):
    bundle = import_files("windows-raw", [str(path)], ImportOptions())
    out = tmp_path / name
    out.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    main(["audit", str(out), "--format", "json", "--lang", "en"])
    return bundle, json.loads(capsys.readouterr().out)


def assert_nothing_passes_without_windows(bundle, results):
    assert {area for areas in STEP_AREAS.values() for area in areas} <= {e["area"] for e in bundle["errors"]}
    statuses = {r["status"] for r in results["results"]}
    assert "pass" not in statuses and "error" in statuses
    for result in results["results"]:
        if result["status"] == "error":
            assert result["cause"]["kind"] == "not-supplied", result


def test_powershell_7_without_windows_collects_errors_never_a_pass(tmp_path, capsys):
    folder = linux_collection(tmp_path)
    bundle, results = audited(folder, tmp_path, capsys)
    assert bundle["target"]["id"] == "lg-build-01"
    assert_nothing_passes_without_windows(bundle, results)
    messages = {e["area"]: e["message"] for e in bundle["errors"]}
    assert "$env:SystemRoot is not set" in messages["password_policy"]
    assert "is not recognized" in messages["antimalware"]
    assert "cannot be told" in messages["disk_encryption"]


# ---------------------------------------------------------------- the self-test, where PowerShell is

@pytest.fixture(scope="module")
def pwsh():
    found = shutil.which("pwsh")
    if found is None:
        pytest.skip("pwsh (PowerShell 7) is not on PATH; it cannot be installed on this project's machines, so the "
                    "self-test runs where PowerShell is (see the README's Windows collection section)")
    return found


def test_the_self_test_passes_and_its_collections_import(pwsh, tmp_path, capsys):
    kept = tmp_path / "kept"
    run = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-File", str(SELF_TEST), "-KeepOutput", str(kept)],
                         capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.fullmatch(r"[1-9][0-9]* passed, 0 failed", lines[-1]), lines[-3:]

    bundle, results = audited(kept / "no-windows" / "auditor-raw-no-windows.zip", tmp_path, capsys, "linux.json")
    assert_nothing_passes_without_windows(bundle, results)

    mocked = import_files("windows-raw", [str(kept / "admin" / "auditor-raw-admin")], ImportOptions())
    original = import_files("windows-raw", [str(FIXTURE)], ImportOptions())
    assert mocked["target"]["id"] == original["target"]["id"] == "LGPC-0101"
    for area in ("password_policy", "lockout_policy", "audit_policy", "disk_encryption", "firewall", "local_admins",
                 "removable_media", "screen_lock", "autorun", "remote_desktop", "listening", "wifi_profiles"):
        assert mocked["facts"][area] == original["facts"][area], area
