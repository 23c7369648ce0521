"""``defender.json`` (Get-MpComputerStatus), ``security-center.json`` (root/SecurityCenter2
AntiVirusProduct) and ``bitlocker.json`` (Get-BitLockerVolume): ``antimalware`` and
``disk_encryption``.

Defender is read from its own status. Its real-time protection counts only when the engine
is active: ``RealTimeProtectionEnabled`` stays true in passive mode (``AMRunningMode``
``Passive Mode``, ``SxS Passive Mode``, ``EDR Block Mode``), where another product scans.

Security Center lists every registered anti-virus product. Its ``productState`` is not
documented by Microsoft; the reading used by Windows' own tooling and every inventory tool
is taken: bits 12-15 of the state are the real-time scanner's state (1 = on). Security
Center gives no signature date, so such a product has no ``signature_updated_at`` (unknown,
not "never"). Defender's own entry there (``windowsdefender://``) is skipped when Defender's
status was read, as it describes the same product.

BitLocker enums are written as their names by the script: ``VolumeType``
(``OperatingSystem``, ``Data``), ``VolumeStatus`` (``FullyEncrypted``, ``FullyDecrypted``,
``EncryptionInProgress``, ...), ``ProtectionStatus`` (``On``, ``Off``, ``Unknown``),
``EncryptionMethod`` (``XtsAes256``, ..., ``None``). A volume is ``encrypted`` only when fully
encrypted; removable volumes (``DriveType`` ``Removable``) are not fixed volumes and are left out.
``device`` is the volume's ``\\\\?\\Volume{GUID}\\`` path, which the script looks up by drive letter.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from auditor.evidence.importers.windows import psjson

from auditor.errors import InputError

DEFENDER = "Microsoft Defender Antivirus"
PASSIVE_MODES = ("passive", "edr block")
DEFENDER_PATH = "windowsdefender:"


def defender_product(doc: Any, name: str, zone: timezone) -> dict[str, Any]:
    """Defender as one ``antimalware.products`` record."""
    status = psjson.record(doc, name)
    service = psjson.boolean(status.get("AMServiceEnabled"), name, "AMServiceEnabled")
    antivirus = psjson.boolean(status.get("AntivirusEnabled"), name, "AntivirusEnabled")
    realtime = psjson.boolean(status.get("RealTimeProtectionEnabled"), name, "RealTimeProtectionEnabled")
    mode = (psjson.text(status.get("AMRunningMode")) or "").casefold()
    if realtime is None or antivirus is None:
        raise InputError(name, "no RealTimeProtectionEnabled or AntivirusEnabled: not the output of "
                         "Get-MpComputerStatus")
    product: dict[str, Any] = {"name": DEFENDER}
    if service is not None:
        product["running"] = service
    product["realtime"] = realtime and antivirus and not any(m in mode for m in PASSIVE_MODES)
    product["signature_updated_at"] = psjson.instant(status.get("AntivirusSignatureLastUpdated"), zone, name,
                                                     "AntivirusSignatureLastUpdated")
    if version := psjson.text(status.get("AntivirusSignatureVersion")):
        product["signature_version"] = version
    return product


def security_center_products(doc: Any, name: str, skip_defender: bool) -> list[dict[str, Any]]:
    """The products Windows Security Center lists (Defender's own entry left out when asked)."""
    products = []
    for entry in psjson.records(doc, name):
        product_name = psjson.text(entry.get("displayName"))
        state = psjson.integer(entry.get("productState"), name, "productState")
        if product_name is None or state is None:
            raise InputError(name, "expected displayName and productState: not the output of "
                             "Get-CimInstance root/SecurityCenter2 AntiVirusProduct")
        path = (psjson.text(entry.get("pathToSignedProductExe")) or "").casefold()
        if skip_defender and path.startswith(DEFENDER_PATH):
            continue
        products.append({"name": product_name, "realtime": (state >> 12) & 0xF == 1})
    return products


def antimalware(products: list[dict[str, Any]]) -> dict[str, Any]:
    """The area from the products found; the newest known signature update across them."""
    dates = [p["signature_updated_at"] for p in products if p.get("signature_updated_at")]
    fact: dict[str, Any] = {
        "installed": bool(products),
        "realtime_enabled": any(p.get("realtime") for p in products),
    }
    if dates:
        fact["signature_updated_at"] = max(dates, key=datetime.fromisoformat)
    elif any("signature_updated_at" in p for p in products):
        fact["signature_updated_at"] = None  # a product that says it never updated, and none that did
    fact["products"] = products
    return fact


def disk_encryption(doc: Any, name: str) -> dict[str, Any]:
    """One record per fixed volume, and whether the system volume and every fixed volume are encrypted."""
    volumes: list[dict[str, Any]] = []
    for entry in psjson.records(doc, name):
        mount = psjson.text(entry.get("MountPoint"))
        kind = psjson.text(entry.get("VolumeType"))
        status = psjson.text(entry.get("VolumeStatus"))
        protection = psjson.text(entry.get("ProtectionStatus"))
        if mount is None or status is None or protection is None:
            raise InputError(name, "expected MountPoint, VolumeStatus and ProtectionStatus: not the output of "
                             "Get-BitLockerVolume as collect-windows.ps1 writes it")
        if status.isdigit() or protection.isdigit():
            raise InputError(name, f"{mount}: VolumeStatus/ProtectionStatus are numbers; the script writes their "
                             "names ([string]$_.VolumeStatus)")
        if (psjson.text(entry.get("DriveType")) or "").casefold() == "removable":
            continue
        method = psjson.text(entry.get("EncryptionMethod"))
        volume: dict[str, Any] = {"mount": mount.rstrip("\\") if len(mount) > 2 and mount[1] == ":" else mount}
        if device := psjson.text(entry.get("Device")):
            volume["device"] = device
        volumes.append({
            **volume,
            "system": (kind or "").casefold() == "operatingsystem",
            "encrypted": status.casefold() == "fullyencrypted",
            "method": None if method is None or method.casefold() == "none" else method,
            "protection_on": protection.casefold() == "on",
        })
    fact: dict[str, Any] = {"volumes": volumes}
    system = [v for v in volumes if v["system"]]
    if system:
        fact["system_encrypted"] = all(v["encrypted"] for v in system)
    if volumes:
        fact["all_fixed_encrypted"] = all(v["encrypted"] for v in volumes)
    return fact
