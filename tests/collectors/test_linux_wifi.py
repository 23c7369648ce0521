"""``wifi_profiles`` (GL-A14) from NetworkManager keyfiles and wpa_supplicant.conf under a fake root."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from auditor.evidence.collectors.linux.wifi import collect
from linux_support import area_problems, collect_area, file_context, messages

AREA = "wifi_profiles"
NM = "etc/NetworkManager/system-connections"
ENTERPRISE = """[connection]
id=KAKUU-LG
uuid=0b6c2f0e-8a43-4c3e-9d3b-1f2f0c6a7e11
type=wifi
interface-name=wlp2s0

[wifi]
mode=infrastructure
ssid=KAKUU-LG

[wifi-security]
key-mgmt=wpa-eap

[802-1x]
eap=peap;
identity=suzuki
password=Secr3t-EAP-pass
phase2-auth=mschapv2

[ipv4]
method=auto
"""
PSK = """[connection]
id=自宅
type=wifi

[wifi]
ssid=aterm-home-5g

[wifi-security]
key-mgmt=wpa-psk
proto=wpa;
psk=very-secret-psk
"""
OPEN = """[connection]
id=FREE_Wi-Fi
type=802-11-wireless

[wifi]
ssid=FREE_Wi-Fi
"""
WIRED = """[connection]
id=Wired connection 1
type=ethernet
"""
SUPPLICANT = """ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev
update_config=1
country=JP

# the office network
network={
    ssid="KAKUU #LG"
    key_mgmt=WPA-EAP
    eap=PEAP TTLS
    identity="tanaka"
    password="another-secret"
}

network={
    ssid="legacy-printer"
    key_mgmt=NONE
    wep_key0="abcde"
}

network={
    ssid="mixed"
    psk="mixed-secret"
}
"""


def _write(root: Path, relative: str, text: str, mode: int = 0o600) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def test_keyfiles_and_supplicant_blocks(tmp_path: Path) -> None:
    for name, text in (("KAKUU-LG", ENTERPRISE), ("home", PSK), ("free", OPEN), ("wired", WIRED)):
        _write(tmp_path, f"{NM}/{name}.nmconnection", text)
    _write(tmp_path, f"{NM}/ignored.bak", PSK)
    _write(tmp_path, "etc/wpa_supplicant/wpa_supplicant.conf", SUPPLICANT)
    builder = collect_area(collect, file_context(tmp_path))
    fact = builder.facts[AREA]
    assert area_problems(AREA, fact) == {} and messages(builder, AREA) == []
    rows = [(p["name"], p["ssid"], p["authentication"], p["eap"]) for p in fact["profiles"]]
    assert rows == [
        ("KAKUU-LG", "KAKUU-LG", "WPA2-Enterprise", ["peap"]),
        ("FREE_Wi-Fi", "FREE_Wi-Fi", "Open", []),
        ("自宅", "aterm-home-5g", "WPA-Personal", []),          # proto=wpa only
        ("KAKUU #LG", "KAKUU #LG", "WPA2-Enterprise", ["PEAP", "TTLS"]),
        ("legacy-printer", "legacy-printer", "WEP", []),
        ("mixed", "mixed", "WPA2-Personal", []),               # no key_mgmt: WPA-PSK WPA-EAP
        ("mixed", "mixed", "WPA2-Enterprise", []),
    ]


def test_no_secret_reaches_the_bundle(tmp_path: Path) -> None:
    _write(tmp_path, f"{NM}/KAKUU-LG.nmconnection", ENTERPRISE)
    _write(tmp_path, f"{NM}/home.nmconnection", PSK)
    _write(tmp_path, "etc/wpa_supplicant/wpa_supplicant.conf", SUPPLICANT)
    builder = collect_area(collect, file_context(tmp_path))
    text = json.dumps({"facts": builder.facts, "sources": builder.sources}, ensure_ascii=False)
    for secret in ("Secr3t-EAP-pass", "very-secret-psk", "another-secret", "mixed-secret", "abcde"):
        assert secret not in text
    import hashlib
    digests = {hashlib.sha256((tmp_path / f"{NM}/home.nmconnection").read_bytes()).hexdigest()}
    assert not digests & {s["sha256"] for s in builder.sources}  # the file's own hash is not recorded either


def test_no_wifi_configured_is_an_empty_list(tmp_path: Path) -> None:
    _write(tmp_path, f"{NM}/wired.nmconnection", WIRED)
    builder = collect_area(collect, file_context(tmp_path))
    assert builder.facts[AREA] == {"profiles": []} and builder.errors == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-000 file")
def test_an_unreadable_keyfile_leaves_the_area_out(tmp_path: Path) -> None:
    _write(tmp_path, f"{NM}/KAKUU-LG.nmconnection", ENTERPRISE)
    _write(tmp_path, f"{NM}/home.nmconnection", PSK, mode=0o000)
    builder = collect_area(collect, file_context(tmp_path))
    assert AREA not in builder.facts
    assert any("home.nmconnection" in m for m in messages(builder, AREA))


def test_an_oversized_file_is_not_read(tmp_path: Path) -> None:
    _write(tmp_path, "etc/wpa_supplicant/wpa_supplicant.conf", "#" * (2 << 20))
    builder = collect_area(collect, file_context(tmp_path))
    assert AREA not in builder.facts and any("larger than" in m for m in messages(builder, AREA))
