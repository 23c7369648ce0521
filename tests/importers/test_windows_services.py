"""``services`` (GL-A17/A18) from collect-windows.ps1's services.json (Win32_Service, ConvertTo-Json 5.1)."""

import json

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.windows import psjson
from auditor.evidence.importers.windows.services import services
from test_windows_raw import GOOD, WEAK, copy_of, errors, fail_step

from auditor.errors import InputError


def load(items):
    text = "\ufeff" + json.dumps(items, indent=4, ensure_ascii=False).replace("\n", "\r\n")
    return psjson.load(text.encode("utf-8"), "services.json")[0]


def test_the_compliant_and_weak_terminals():
    good = import_files("windows-raw", [str(GOOD.with_suffix(".zip"))], ImportOptions())["facts"]["services"]
    sense = next(s for s in good if s["name"] == "Sense")
    assert (sense["state"], sense["start_mode"], sense["processes"]) == ("running", "auto", [])
    weak = import_files("windows-raw", [str(WEAK.with_suffix(".zip"))], ImportOptions())["facts"]["services"]
    assert {s["name"]: s["state"] for s in weak}["Sense"] == "stopped"
    assert [s["name"] for s in weak] == sorted((s["name"] for s in weak), key=str.casefold)


def test_states_and_start_modes_as_wmi_words():
    found = services(load([
        {"Name": "WlanSvc", "DisplayName": "WLAN AutoConfig", "State": "Start Pending", "StartMode": "Auto"},
        {"Name": "CSFalconService", "DisplayName": "CrowdStrike Falcon Sensor Service", "State": "Running",
         "StartMode": "Auto"},
        {"Name": "Null", "DisplayName": None, "State": "Running", "StartMode": "System"},
        {"Name": "odd", "DisplayName": "サービス", "State": None, "StartMode": "Unknown"},
    ]), "services.json")
    assert [(s["name"], s["state"], s["state_label"], s["start_mode"]) for s in found] == [
        ("CSFalconService", "running", "Running", "auto"), ("Null", "running", "Running", "system"),
        ("odd", "other", None, None), ("WlanSvc", "other", "Start Pending", "auto")]


@pytest.mark.parametrize("doc", [{"Name": "x"}, [{"DisplayName": "no name"}], [{"Name": ""}], ["Sense"]])
def test_a_document_of_another_shape_is_refused(doc):
    with pytest.raises(InputError, match="services.json"):
        services(load(doc), "services.json")


def test_a_failed_step_is_an_error_not_a_pass(tmp_path):
    folder = copy_of(GOOD, tmp_path)
    fail_step(folder, "services", "アクセスが拒否されました。", "Microsoft.Management.Infrastructure.CimException")
    bundle = import_files("windows-raw", [str(folder)], ImportOptions())
    assert "services" not in bundle["facts"]
    assert any("step services" in m for m in errors(bundle, "services"))
