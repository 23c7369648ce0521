"""collect-windows.ps1: shipped in the package, written out by auditor collect --windows-script.

No PowerShell runs here, so the script is checked as text: its steps and the files they write
match what the importer and the fixtures expect, it reads no secrets and uses no network, and
its brackets balance (a missing brace is the usual way to break a PowerShell script by hand).
"""

import re

import pytest
from auditor.evidence import collectors
from auditor.evidence.collectors.windows import SCRIPT_NAME, script_bytes, script_text

from auditor.cli import main

STEP = re.compile(r"Invoke-(?:Json|Csv|Native)Step -Name '([a-z0-9-]+)' -File '([a-z0-9.-]+)'")


def code_lines(text):
    """The script without comments (``#`` to the end of the line, ``<# ... #>`` blocks)."""
    text = re.sub(r"<#.*?#>", "", text, flags=re.S)
    return [line.split(" #", 1)[0] for line in text.split("\n") if not line.lstrip().startswith("#")]


def test_the_script_ships_as_ascii_powershell_51():
    text = script_text()
    assert text.startswith("#Requires -Version 5.1\n")
    assert text.isascii() and "\r" not in text
    assert "\t" not in text


def test_collect_writes_the_script_with_bom_and_crlf_without_collecting(tmp_path, monkeypatch, capsys):
    def refuse():
        raise AssertionError("--windows-script must not collect from this host")

    monkeypatch.setattr(collectors, "for_this_host", refuse)
    out = tmp_path / SCRIPT_NAME
    assert main(["collect", "--windows-script", str(out)]) == 0
    raw = out.read_bytes()
    assert raw == script_bytes()
    assert raw.startswith(b"\xef\xbb\xbf#Requires")
    assert raw.count(b"\n") == raw.count(b"\r\n") > 300
    assert raw[3:].decode("utf-8").replace("\r\n", "\n") == script_text()
    assert capsys.readouterr().out == ""


def test_an_unwritable_destination_exits_2_naming_it(tmp_path, capsys):
    target = tmp_path / "missing" / "collect.ps1"
    assert main(["collect", "--windows-script", str(target)]) == 2
    assert f"{target}: cannot write" in capsys.readouterr().err


def test_every_step_writes_its_own_file_and_the_manifest_lists_it():
    steps = STEP.findall(script_text())
    names = [name for name, _file in steps]
    files = [file for _name, file in steps]
    assert len(names) == len(set(names)) >= 20 and len(files) == len(set(files))
    assert "manifest.json" not in files
    assert "Write-TextFile -File 'manifest.json'" in script_text()
    assert "Compress-Archive -LiteralPath $OutDir" in script_text()


@pytest.mark.parametrize("step", ["secedit", "auditpol", "bitlocker"])
def test_the_steps_that_need_elevation_say_so(step):
    text = script_text()
    start = text.index(f"-Name '{step}'")
    call = text[text.rindex("[void](", 0, start):text.index("\n\n", start)]
    assert "-RequiresAdmin" in call


@pytest.mark.parametrize("step", ["net-accounts", "hotfix", "defender", "firewall", "net-adapters", "ip-addresses",
                                  "tcp-listen", "udp-endpoints", "software", "local-admins", "remote-desktop",
                                  "w32tm", "removable-storage", "screen-lock", "os"])
def test_the_other_steps_run_without_elevation(step):
    text = script_text()
    start = text.index(f"-Name '{step}'")
    call = text[text.rindex("\n", 0, start):text.index("\n\n", start)]
    assert "-RequiresAdmin" not in call


@pytest.mark.parametrize("forbidden", [
    "key=clear", "reg save", "reg.exe save", "vssadmin", "KeyProtector", "RecoveryPassword", "Get-Credential",
    "ConvertFrom-SecureString", "Invoke-WebRequest", "Invoke-RestMethod", "Net.WebClient", "Install-Module",
    "Set-ItemProperty", "New-ItemProperty", "Remove-ItemProperty", "Set-MpPreference", "Start-BitsTransfer",
])
def test_no_secret_is_read_nothing_is_changed_and_no_network_is_used(forbidden):
    assert not [line for line in code_lines(script_text()) if forbidden.casefold() in line.casefold()]


def test_netsh_is_asked_only_to_show_wlan_profiles_never_their_keys():
    """netsh reveals Wi-Fi keys with key=clear and changes settings with set/add/delete: the script only
    lists profiles and shows one profile's settings (GL-A14), with arguments written in the script."""
    code = code_lines(script_text())
    arguments = [m.group(1) for line in code for m in re.finditer(r"Arguments\s*=?\s*'([^']*)'", line)
                 if "netsh" in line.casefold() or "wlan" in line.casefold()]
    assert sorted(set(arguments)) == ["wlan show profile name=\"{0}\"", "wlan show profiles"]
    netsh = [line for line in code if "netsh" in line.casefold()]
    assert netsh and not [line for line in netsh if re.search(r"\b(set|add|delete|export|dump)\b", line, re.I)]


def test_registry_is_opened_read_only():
    code = "\n".join(code_lines(script_text()))
    assert ".OpenSubKey(" in code
    assert not re.search(r"OpenSubKey\([^)]*,\s*\$true", code)  # writable
    assert "CreateSubKey" not in code and "SetValue" not in code and "DeleteValue" not in code


def _balance(text):
    """Bracket depth after scanning PowerShell text, skipping comments and quoted strings."""
    stack = []
    pairs = {")": "(", "}": "{", "]": "["}
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if text.startswith("<#", i):
            i = text.index("#>", i) + 2
            continue
        if char == "#":
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if char == "'":
            i += 1
            while not (text[i] == "'" and text[i + 1:i + 2] != "'"):
                i += 2 if text[i:i + 2] == "''" else 1
            i += 1
            continue
        if char == '"':
            i += 1
            while text[i] != '"' or text[i - 1] == "`":
                i += 1
            i += 1
            continue
        if char in "({[":
            stack.append((char, text.count("\n", 0, i) + 1))
        elif char in ")}]":
            assert stack and stack[-1][0] == pairs[char], f"unbalanced {char!r} on line {text.count(chr(10), 0, i) + 1}"
            stack.pop()
        i += 1
    return stack


def test_brackets_balance():
    assert _balance(script_text()) == []
