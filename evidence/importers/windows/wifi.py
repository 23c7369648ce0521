"""``wlan-profiles.txt`` and the per-profile ``netsh wlan show profile`` outputs: ``wifi_profiles`` (GL-A14).

netsh prints localised labels and values in the console's code page: on Japanese Windows
``認証 : WPA2 - エンタープライズ`` where English Windows prints ``Authentication :
WPA2-Enterprise``. Lines are read by their shape (``label : value``) and the labels and values
of both languages are listed here; values are reduced to the English names (Open, Shared,
WPA2-Personal, WPA2-Enterprise, WPA3-Personal, WPA3-Enterprise, ...). A value not listed is
kept as written with ``authentication`` null, so an allowlist check fails on it instead of
guessing. A profile may print several authentication lines (one per cipher, or a WPA2/WPA3
transition profile): each distinct value is one record.

A computer whose WLAN AutoConfig service is not running (a desktop without a wireless adapter)
makes netsh answer "The Wireless AutoConfig Service (wlansvc) is not running." in its own
language: that is a computer without Wi-Fi (``wlan_service`` false, no profiles), not an error.
"""

from __future__ import annotations

import re
from typing import Any

AREA = "wifi_profiles"
_PAIR = re.compile(r"^\s+(\S.*?)\s+:(?:\s(.*))?$")
_AUTH_LABELS = {"authentication", "認証"}
_CIPHER_LABELS = {"cipher", "暗号"}
_EAP_LABELS = {"eap type", "eap の種類"}
_WORDS = {"エンタープライズ": "Enterprise", "パーソナル": "Personal", "オープン": "Open", "共有": "Shared",
          "ビット": "Bits"}
AUTHENTICATIONS = {
    "open": "Open", "shared": "Shared", "owe": "OWE",
    "wpa-personal": "WPA-Personal", "wpa-enterprise": "WPA-Enterprise",
    "wpa2-personal": "WPA2-Personal", "wpa2-enterprise": "WPA2-Enterprise",
    "wpa3-personal": "WPA3-Personal", "wpa3-enterprise": "WPA3-Enterprise",
    "wpa3-enterprise 192 bits": "WPA3-Enterprise", "wpa3-enterprise 192bits": "WPA3-Enterprise",
}
_NOT_RUNNING = re.compile(r"\(wlansvc\)")
_NO_INTERFACE = re.compile(r"no wireless interface|ワイヤレス\s*インターフェイスがありません", re.I)


def service_stopped(text: str) -> bool:
    """Whether netsh answered that the WLAN AutoConfig service is not running (any language)."""
    return bool(_NOT_RUNNING.search(text))


def no_interface(text: str) -> bool:
    """Whether netsh answered that the computer has no wireless interface."""
    return bool(_NO_INTERFACE.search(text))


def normalise(value: str) -> str | None:
    """The English name of an authentication value as netsh prints it, None when not known."""
    text = value.strip()
    for word, english in _WORDS.items():
        text = text.replace(word, english)
    text = re.sub(r"\s*-\s*", "-", text)
    return AUTHENTICATIONS.get(re.sub(r"\s+", " ", text).casefold())


def profile_names(text: str) -> list[str]:
    """The profile names ``netsh wlan show profiles`` lists: the ``label : name`` lines under a
    dashed rule (``All User Profile`` / ``すべてのユーザー プロファイル``, group policy profiles)."""
    names: list[str] = []
    ruled = False
    for line in text.splitlines():
        if re.fullmatch(r"\s*-{3,}\s*", line):
            ruled = True
            continue
        found = _PAIR.match(line) if ruled else None
        if found and found.group(2) and found.group(2).strip():
            name = found.group(2).rstrip()
            if name not in names:
                names.append(name)
    return names


def parse_profile(text: str) -> dict[str, Any]:
    """The SSID, authentication values (in order, distinct), ciphers and EAP types of one output."""
    ssid: str | None = None
    auths: list[str] = []
    ciphers: list[str] = []
    eap: list[str] = []
    for line in text.splitlines():
        found = _PAIR.match(line)
        if not found or found.group(2) is None:
            continue
        label, value = found.group(1).casefold(), found.group(2).strip()
        if label in _AUTH_LABELS and value not in auths:
            auths.append(value)
        elif label in _CIPHER_LABELS and value not in ciphers:
            ciphers.append(value)
        elif label in _EAP_LABELS and value not in eap:
            eap.append(value)
        elif ssid is None and "ssid" in label and len(value) >= 2 and value[0] == value[-1] == '"':
            ssid = value[1:-1]
    return {"ssid": ssid, "authentications": auths, "ciphers": ciphers, "eap": eap}


def records(name: str, parsed: dict[str, Any] | None, source: str, why: str | None = None) -> list[dict[str, Any]]:
    """One record per distinct authentication of a profile; one with null authentication when
    the profile could not be read (``why``) or printed none."""
    base = {"name": name, "ssid": None, "eap": [], "ciphers": [], "source": source}
    if parsed is None or not parsed["authentications"]:
        label = f"(not read: {why})" if why else "(no authentication line)"
        if parsed is not None:
            base.update(ssid=parsed["ssid"], ciphers=parsed["ciphers"])
        return [{**base, "authentication": None, "authentication_label": label}]
    base.update(ssid=parsed["ssid"], ciphers=parsed["ciphers"])
    out = []
    for value in parsed["authentications"]:
        auth = normalise(value)
        out.append({**base, "authentication": auth, "authentication_label": value,
                    "eap": parsed["eap"] if auth and auth.endswith("Enterprise") else []})
    return out
