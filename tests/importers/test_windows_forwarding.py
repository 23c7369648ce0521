"""``logging`` on Windows (GL-A19): a forwarder service, or a Windows Event Forwarding subscription with WinRM."""

import json

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.windows import psjson
from auditor.evidence.importers.windows.forwarding import SUBSCRIPTION_MANAGER, log_forwarding
from auditor.evidence.importers.windows.registry import Snapshot
from test_windows_raw import GOOD, WEAK, copy_of, errors, fail_step

from auditor.errors import InputError


def policy(values):
    doc = [{"Hive": "HKLM", "Path": SUBSCRIPTION_MANAGER, "View": "Registry64", "Exists": values is not None,
            "Values": [{"Name": n, "Kind": "String", "Data": d} for n, d in (values or [])]}]
    text = "\ufeff" + json.dumps(doc, indent=4).replace("\n", "\r\n")
    return Snapshot(psjson.load(text.encode("utf-8"), "event-forwarding.json")[0], "event-forwarding.json")


def svc(name, state="running"):
    return {"name": name, "display_name": None, "state": state, "state_label": None, "start_mode": "auto",
            "processes": []}


def test_the_compliant_and_weak_terminals():
    good = import_files("windows-raw", [str(GOOD.with_suffix(".zip"))], ImportOptions())
    assert good["facts"]["logging"]["forwarding"] is True
    assert good["facts"]["logging"]["subscription_managers"][0].startswith("Server=http://wec01.kakuu.local:5985")
    assert {s["area"] for s in good["sources"] if s["name"].endswith("services.json")} == {"services", "logging"}
    weak = import_files("windows-raw", [str(WEAK.with_suffix(".zip"))], ImportOptions())
    assert weak["facts"]["logging"] == {"forwarding": False, "forwarders": [], "subscription_managers": [],
                                        "winrm_running": True}


@pytest.mark.parametrize(("running", "values", "expected"), [
    ([svc("winlogbeat")], None, True),
    ([svc("NXLog")], None, True),                               # service names compared case-insensitively
    ([svc("fluent-bit", "stopped")], None, False),              # installed but not running
    ([svc("WinRM")], [("1", "Server=https://wec:5986/wsman/SubscriptionManager/WEC")], True),
    ([], [("1", "Server=https://wec:5986/wsman/SubscriptionManager/WEC")], False),   # WinRM stopped
    ([svc("WinRM")], [("1", "  ")], False),                     # an empty entry names no server
    ([svc("WinRM"), svc("WinDefend")], None, False),
])
def test_forwarding(running, values, expected):
    assert log_forwarding(running, policy(values))["forwarding"] is expected


def test_a_snapshot_without_the_key_is_refused():
    doc, _ = psjson.load(b"[]", "event-forwarding.json")
    with pytest.raises(InputError, match="not in the snapshot"):
        log_forwarding([], Snapshot(doc, "event-forwarding.json"))


@pytest.mark.parametrize("step", ["services", "event-forwarding"])
def test_a_failed_step_is_an_error_not_a_pass(tmp_path, step):
    folder = copy_of(GOOD, tmp_path)
    fail_step(folder, step, "アクセスが拒否されました。")
    bundle = import_files("windows-raw", [str(folder)], ImportOptions())
    assert "logging" not in bundle["facts"]
    assert any(f"step {step}" in m for m in errors(bundle, "logging"))
