"""Area ``wifi_profiles``: the wireless networks this host is configured to join (GL-A14).

Two sources, both read under the collection root: NetworkManager's keyfiles
(``/etc/NetworkManager/system-connections/*.nmconnection``, INI files with ``[connection]``,
``[wifi]`` and ``[wifi-security]`` groups) and wpa_supplicant's ``network={...}`` blocks.
Their key-management words are reduced to the names Windows prints (WPA2-Enterprise,
WPA2-Personal, Open, ...), so one check reads either operating system.

Both files hold the network's pre-shared key or EAP password in clear text. Only the SSID,
the key management, the protocol list and the EAP methods are taken from them; the source
recorded for each file is those extracted values, never the file's bytes or their hash.
"""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.evidence.bundle import BundleBuilder

from .common import Context, exists, list_dir, parse_ini

AREA = "wifi_profiles"
NM_DIR = "/etc/NetworkManager/system-connections"
WPA_SUPPLICANT_FILES = ("/etc/wpa_supplicant/wpa_supplicant.conf", "/etc/wpa_supplicant.conf")
WPA_SUPPLICANT_DIR = "/etc/wpa_supplicant"
MAX_BYTES = 1 << 20  # a keyfile or wpa_supplicant.conf is a few hundred bytes
WIFI_TYPES = {"wifi", "802-11-wireless"}
# NetworkManager [wifi-security] key-mgmt (nm-settings-keyfile(5)); "wpa-psk"/"wpa-eap" cover WPA and
# WPA2 unless proto is limited to "wpa".
NM_KEY_MGMT = {
    "wpa-eap": "WPA2-Enterprise", "wpa-eap-suite-b-192": "WPA3-Enterprise", "wpa-psk": "WPA2-Personal",
    "sae": "WPA3-Personal", "owe": "OWE", "ieee8021x": "WEP", "none": "Open",
}
# wpa_supplicant.conf key_mgmt words (wpa_supplicant.conf(5)); absent means "WPA-PSK WPA-EAP".
WPA_KEY_MGMT = {
    "WPA-EAP": "WPA2-Enterprise", "WPA-EAP-SHA256": "WPA2-Enterprise", "FT-EAP": "WPA2-Enterprise",
    "FT-EAP-SHA384": "WPA2-Enterprise", "WPA-EAP-SUITE-B": "WPA3-Enterprise",
    "WPA-EAP-SUITE-B-192": "WPA3-Enterprise",
    "WPA-PSK": "WPA2-Personal", "WPA-PSK-SHA256": "WPA2-Personal", "FT-PSK": "WPA2-Personal",
    "SAE": "WPA3-Personal", "FT-SAE": "WPA3-Personal", "OWE": "OWE", "IEEE8021X": "WEP", "NONE": "Open",
}
_WPA_ONLY = {"WPA2-Enterprise": "WPA-Enterprise", "WPA2-Personal": "WPA-Personal"}
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$")


def keyfile_profile(groups: dict[str, dict[str, str]], name: str) -> list[dict[str, Any]] | None:
    """The profile records of one NetworkManager keyfile; None when it is not a Wi-Fi connection."""
    connection = groups.get("connection", {})
    wifi = groups.get("wifi", groups.get("802-11-wireless"))
    if connection.get("type") not in WIFI_TYPES and wifi is None:
        return None
    security = groups.get("wifi-security", groups.get("802-11-wireless-security"))
    eap = [m for m in groups.get("802-1x", {}).get("eap", "").split(";") if m]
    if security is None:  # no security group at all: an open network
        mgmt, label = "none", "(no wifi-security group)"
    else:
        mgmt = security.get("key-mgmt", "").strip().lower()
        label = f"key-mgmt={mgmt}"
    auth = NM_KEY_MGMT.get(mgmt)
    if mgmt == "none" and security is not None and any(k.startswith("wep-key") or k == "wep-tx-keyidx"
                                                        for k in security):
        auth = "WEP"
    protos = {p for p in (security or {}).get("proto", "").lower().split(";") if p}
    if auth in _WPA_ONLY and protos == {"wpa"}:
        auth = _WPA_ONLY[auth]
    return [{"name": connection.get("id") or name, "ssid": (wifi or {}).get("ssid"), "authentication": auth,
             "authentication_label": label, "eap": eap, "source": name}]


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def wpa_supplicant_profiles(text: str, name: str) -> list[dict[str, Any]]:
    """One record per network block and distinct authentication (a block may allow several)."""
    records: list[dict[str, Any]] = []
    block: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):  # comments are whole lines; a quoted SSID may hold '#'
            continue
        if re.match(r"^network\s*=\s*\{$", line):
            block = {}
            continue
        if block is None:
            continue
        if line == "}":
            records.extend(_network_records(block, name, len(records)))
            block = None
            continue
        found = _ASSIGNMENT.match(line)
        if found:
            block[found.group(1)] = found.group(2)
    return records


def _network_records(block: dict[str, str], name: str, index: int) -> list[dict[str, Any]]:
    words = block.get("key_mgmt", "WPA-PSK WPA-EAP").split()
    ssid = _unquote(block["ssid"]) if "ssid" in block else None
    eap = block.get("eap", "").split()
    protos = set(block.get("proto", "").upper().split())
    wep = any(k.startswith("wep_key") for k in block)
    found: dict[str | None, list[str]] = {}
    for word in words:
        auth = WPA_KEY_MGMT.get(word.upper())
        if word.upper() == "NONE" and wep:
            auth = "WEP"
        if auth in _WPA_ONLY and protos == {"WPA"}:
            auth = _WPA_ONLY[auth]
        found.setdefault(auth, []).append(word)
    return [{"name": block.get("id_str") and _unquote(block["id_str"]) or ssid or f"network {index + 1}",
             "ssid": ssid, "authentication": auth, "authentication_label": "key_mgmt=" + " ".join(used),
             "eap": eap if auth and auth.endswith("Enterprise") else [], "source": name}
            for auth, used in found.items()]


def _read_secret_file(builder: BundleBuilder, ctx: Context, absolute: str) -> str | None:
    """A file holding keys, read without recording its bytes; an error names it when unreadable."""
    path = ctx.path(absolute)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        builder.add_error(AREA, f"{path}: {exc.strerror or exc}", str(path))
        return None
    if len(data) > MAX_BYTES:
        builder.add_error(AREA, f"{path}: larger than {MAX_BYTES} bytes, not read", str(path))
        return None
    return data.decode("utf-8", "replace")


def _record(builder: BundleBuilder, ctx: Context, absolute: str, parser: str,
            profiles: list[dict[str, Any]]) -> None:
    kept = [{k: p[k] for k in ("ssid", "authentication_label", "eap")} for p in profiles]
    builder.add_source(f"{ctx.path(absolute)} (SSID, key management and EAP methods only)", parser,
                       json.dumps(kept, ensure_ascii=False, sort_keys=True).encode(), AREA)


def collect(builder: BundleBuilder, ctx: Context) -> None:
    """Every Wi-Fi connection of NetworkManager and wpa_supplicant; none configured is an empty list."""
    profiles: list[dict[str, Any]] = []
    failed = False
    for absolute in list_dir(builder, ctx, NM_DIR, AREA, "*.nmconnection"):
        text = _read_secret_file(builder, ctx, absolute)
        if text is None:
            failed = True
            continue
        found = keyfile_profile(parse_ini(text), absolute)
        if found is not None:
            _record(builder, ctx, absolute, "linux.nm_keyfile", found)
            profiles.extend(found)
    confs = [*WPA_SUPPLICANT_FILES, *(p for p in list_dir(builder, ctx, WPA_SUPPLICANT_DIR, AREA,
                                                          "wpa_supplicant-*.conf"))]
    for absolute in dict.fromkeys(confs):
        if not exists(ctx, absolute):
            continue
        text = _read_secret_file(builder, ctx, absolute)
        if text is None:
            failed = True
            continue
        found = wpa_supplicant_profiles(text, absolute)
        _record(builder, ctx, absolute, "linux.wpa_supplicant_conf", found)
        profiles.extend(found)
    if failed:  # a profile that could not be read may be the open one: the area is not written
        return
    builder.set_fact(AREA, {"profiles": profiles})
