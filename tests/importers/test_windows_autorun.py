"""``autorun`` (GL-C07) from collect-windows.ps1's autorun.json, as Windows PowerShell 5.1 writes it."""

import json

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.windows import psjson
from auditor.evidence.importers.windows.autorun import EXPLORER_POLICY, autorun
from auditor.evidence.importers.windows.registry import Snapshot
from test_windows_raw import GOOD, WEAK, copy_of, errors, fail_step

from auditor.errors import InputError


def snapshot(machine, user, name="autorun.json"):
    def key(hive, values):
        return {"Hive": hive, "Path": EXPLORER_POLICY, "View": "Registry64" if hive == "HKLM" else "Default",
                "Exists": values is not None,
                "Values": [{"Name": n, "Kind": "DWord", "Data": d} for n, d in (values or [])]}
    text = "\ufeff" + json.dumps([key("HKLM", machine), key("HKCU", user)], indent=4).replace("\n", "\r\n")
    doc, _encoding = psjson.load(text.encode("utf-8"), name)
    return Snapshot(doc, name)


def test_the_compliant_and_weak_terminals():
    good = import_files("windows-raw", [str(GOOD)], ImportOptions())["facts"]["autorun"]
    assert good == {"no_drive_type_autorun": 255, "no_autorun": 1, "all_drives_disabled": True,
                    "autorun_commands_disabled": True,
                    "source": f"{GOOD.name}/autorun.json: HKLM\\{EXPLORER_POLICY}\\NoDriveTypeAutoRun, "
                              f"HKLM\\{EXPLORER_POLICY}\\NoAutorun"}  # the machine policy wins over the user's 0x91
    weak = import_files("windows-raw", [str(WEAK.with_suffix(".zip"))], ImportOptions())["facts"]["autorun"]
    assert (weak["no_drive_type_autorun"], weak["no_autorun"]) == (0x95, None)  # the user's policy, CD-ROM left on
    assert weak["all_drives_disabled"] is False and weak["autorun_commands_disabled"] is False


@pytest.mark.parametrize(("machine", "user", "all_off", "commands_off"), [
    (None, None, False, False),                               # nothing set: Windows' default 0x91
    ([("NoDriveTypeAutoRun", 0xFF)], None, True, False),
    ([("nodrivetypeautorun", "255")], None, True, False),     # value names are case-insensitive; REG_SZ data
    (None, [("NoDriveTypeAutoRun", 0xFF), ("NoAutorun", 1)], True, True),
    ([("NoDriveTypeAutoRun", 0xB5)], [("NoDriveTypeAutoRun", 0xFF)], False, False),  # HKLM wins
    ([("NoAutorun", 0)], [("NoAutorun", 1)], False, False),
])
def test_precedence_and_defaults(machine, user, all_off, commands_off):
    fact = autorun(snapshot(machine, user))
    assert (fact["all_drives_disabled"], fact["autorun_commands_disabled"]) == (all_off, commands_off)
    if machine is None and user is None:
        assert fact["no_drive_type_autorun"] is None and "no NoDriveTypeAutoRun" in fact["source"]


def test_a_value_that_is_not_a_number_is_refused():
    with pytest.raises(InputError, match="NoDriveTypeAutoRun"):
        autorun(snapshot([("NoDriveTypeAutoRun", "all")], None))


def test_a_snapshot_without_the_keys_is_refused():
    doc, _ = psjson.load(b"[]", "autorun.json")
    with pytest.raises(InputError, match="not in the snapshot"):
        autorun(Snapshot(doc, "autorun.json"))


def test_a_failed_step_is_an_error_not_a_pass(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    fail_step(folder, "autorun", "要求されたレジストリ アクセスは許可されていません。",
              "System.Security.SecurityException")
    bundle = import_files("windows-raw", [str(folder)], ImportOptions())
    assert "autorun" not in bundle["facts"]
    assert any("step autorun" in m for m in errors(bundle, "autorun"))
