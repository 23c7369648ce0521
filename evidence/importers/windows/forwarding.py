"""``logging`` on Windows: is the event log sent to a central platform (GL-A19)?

Two ways Windows terminals forward their logs: an agent running as a service (Winlogbeat,
NXLog, Fluent Bit, the Splunk Universal Forwarder, Elastic Agent, the Wazuh agent), read from
the ``services`` step; or Windows Event Forwarding, where Group Policy names a subscription
manager (``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\
SubscriptionManager``, values 1, 2, ... of the form ``Server=http://wec:5985/wsman/
SubscriptionManager/WEC,Refresh=60``) and the WinRM service carries the events. ``forwarding``
is true when a forwarder service runs, or a subscription manager is set and WinRM runs; the
addresses are kept as written (they name a server, not a secret).
"""

from __future__ import annotations

from typing import Any

from auditor.evidence.importers.windows.registry import Snapshot, _listed

SUBSCRIPTION_MANAGER = r"SOFTWARE\Policies\Microsoft\Windows\EventLog\EventForwarding\SubscriptionManager"
FORWARDER_SERVICES = {  # service name (case-folded) -> product
    "winlogbeat": "Winlogbeat", "nxlog": "NXLog", "fluent-bit": "Fluent Bit",
    "splunkforwarder": "Splunk Universal Forwarder", "elastic agent": "Elastic Agent",
    "wazuhsvc": "Wazuh agent", "ossecsvc": "OSSEC/Wazuh agent",
}
WINRM = "winrm"


def log_forwarding(services: list[dict[str, Any]], snapshot: Snapshot) -> dict[str, Any]:
    """The ``logging`` area of a Windows terminal from its services and the WEF policy."""
    running = {s["name"].casefold(): s["name"] for s in services if s["state"] == "running"}
    forwarders = sorted(FORWARDER_SERVICES[n] for n in running if n in FORWARDER_SERVICES)
    managers = _listed(snapshot.key("HKLM", SUBSCRIPTION_MANAGER))
    winrm = WINRM in running
    return {"forwarding": bool(forwarders) or (bool(managers) and winrm), "forwarders": forwarders,
            "subscription_managers": managers, "winrm_running": winrm}
