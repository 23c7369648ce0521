"""``services.json`` (Get-CimInstance Win32_Service): the ``services`` area (GL-A17/A18, GL-A19).

WMI gives ``State`` and ``StartMode`` as fixed English words whatever the display language
(Running, Stopped, Start Pending, ...; Boot, System, Auto, Manual, Disabled), so they are read
as they are; a state outside Running and Stopped is ``other`` with the word kept. Windows does
not say which processes a service runs in this step, so ``processes`` is empty; the shape is
the Linux collector's, so that one EDR check reads either.
"""

from __future__ import annotations

from typing import Any

from auditor.errors import InputError

STATES = {"running": "running", "stopped": "stopped"}
START_MODES = {"boot": "boot", "system": "system", "auto": "auto", "manual": "manual", "disabled": "disabled"}


def services(doc: Any, name: str) -> list[dict[str, Any]]:
    """One record per service, sorted by name as Windows compares them (case-insensitively)."""
    if not isinstance(doc, list):
        raise InputError(name, "expected a list of services (ConvertTo-Json of Win32_Service)")
    out: list[dict[str, Any]] = []
    for index, item in enumerate(doc):
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or not item["Name"]:
            raise InputError(name, f"service {index + 1}: expected an object with a Name")
        state = item.get("State") if isinstance(item.get("State"), str) else ""
        mode = item.get("StartMode") if isinstance(item.get("StartMode"), str) else ""
        display = item.get("DisplayName")
        out.append({"name": item["Name"], "display_name": display if isinstance(display, str) else None,
                    "state": STATES.get(state.casefold(), "other"), "state_label": state or None,
                    "start_mode": START_MODES.get(mode.casefold()), "processes": []})
    return sorted(out, key=lambda s: s["name"].casefold())
