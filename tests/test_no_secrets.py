"""Acceptance: no secret reaches an evidence bundle (docs/facts.md: "No secrets").

Every Linux collector area runs over the fixture trees of tests/fixtures/linux, and every
registered importer over the fixtures of its kind; each bundle's JSON is scanned for
password hashes, private keys, SSH key bodies, NTLM hashes, JWTs and password or PSK
values. Real-looking secrets are planted in the trees (shadow, sshd host keys, user keys,
Wi-Fi and Samba files) and in a FortiGate configuration, and the scanner is first shown to
find each of them, so that a clean scan means something.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from auditor.evidence import importers
from auditor.evidence.collectors import CollectOptions
from auditor.evidence.collectors.linux.collector import AREAS, collect_timed
from auditor.evidence.importers import ImportOptions, import_files

from auditor.errors import InputError

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
LINUX = FIXTURES / "linux"
EXAMPLES = TESTS.parent / "examples"

# ---------------------------------------------------------------------------------------------
# the scanner

_WORDS = r"(?:password|passwd|pwd|passphrase|psk|wpa_passphrase|psksecret|secret|api[_-]?key|token)"
PATTERNS: dict[str, re.Pattern[str]] = {
    "crypt hash": re.compile(r"\$(?:1|2[abxy]?|5|6|y|gy|7)\$[./0-9A-Za-z]{2,}[$./0-9A-Za-z]*"),
    "argon2 hash": re.compile(r"\$argon2(?:id|i|d)\$"),
    "PEM private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "SSH key body": re.compile(r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp(?:256|384|521)|"
                               r"sk-ssh-ed25519@openssh\.com)\s+AAAA[0-9A-Za-z+/]{16,}"),
    "NTLM hash by a password word": re.compile(
        r"(?i)(?:password|passwd|pwd|ntlm|nthash|lmhash|smbpasswd|hash)[^\n]{0,40}?(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}"
        r"(?![0-9A-Fa-f])"),
    "LM:NT hash pair": re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}:[0-9A-Fa-f]{32}(?![0-9A-Fa-f])"),
    "JWT": re.compile(r"\beyJ[0-9A-Za-z_-]{5,}\.eyJ[0-9A-Za-z_-]{5,}\.[0-9A-Za-z_-]{10,}"),
    "password or PSK value": re.compile(
        rf"(?i){_WORDS}(?:\\?[\"'])?\s*[=:]\s*(?:\\?[\"'])?(?!(?:true|false|null|none|yes|no)\b)"
        rf"[^\s\"'\\,;{{}}\[\]]{{4,}}"),
    "BitLocker recovery password": re.compile(r"(?<![0-9])[0-9]{6}(?:-[0-9]{6}){7}(?![0-9])"),
    "FortiGate secret": re.compile(r"(?i)\bset\s+(?:password|passwd|psksecret|secret|passphrase|private-key)\s+"
                                   r"(?:ENC\s+)?\S{6,}"),
}


def find_secrets(text: str) -> list[tuple[str, str]]:
    """(pattern name, masked excerpt) of every secret-looking string; the excerpt never shows the secret."""
    found = []
    for name, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            excerpt = m.group(0)
            found.append((name, f"{excerpt[:6]}…({len(excerpt)} chars at {m.start()})"))
    return found


# Deliberately bad strings, one or more per pattern.
LEAKS = {
    "crypt hash": ["root:$6$Zq8r1Fh2$8jJxv0rXH2m4ZbVq9w3Yk1:20440:0:99999:7:::",
                   "$y$j9T$F5Jx.3M1pTqZ0N4XqkD7c/$Lk3b9QJw2oZ0rY8s7Yg5aV6wB1nP3tR4uX2cE0dF9H.",
                   "$1$abcdefgh$Y6jS1n9uZ6W7Vx2a3b4c5.", "$5$rounds=5000$saltsalt$AbCdEf",
                   "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"],
    "argon2 hash": ["$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"],
    "PEM private key": ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
                        "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY-----",
                        "-----BEGIN PRIVATE KEY-----"],
    "SSH key body": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx8QmP0iq8t root@pc",
                     "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7 sato@lg",
                     "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlz"],
    "NTLM hash by a password word": ['"nt_password_hash": "8846F7EAEE8FB117AD06BDD830B7586C"',
                                     "smbpasswd sato:1000:...:8846f7eaee8fb117ad06bdd830b7586c"],
    "LM:NT hash pair": ["Administrator:500:AAD3B435B51404EEAAD3B435B51404EE:8846F7EAEE8FB117AD06BDD830B7586C:::"],
    "JWT": ["Authorization: Bearer "
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYXRvIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"],
    "password or PSK value": ["password=Kakuu2026!", '"password": "hunter22"', "psk=MyWifiKey-2026",
                              'psk="office wifi key"', "wpa_passphrase=zaq12wsx", "DefaultPassword: Passw0rd",
                              "api_key = 9f8e7d6c5b4a"],
    "BitLocker recovery password": ['"RecoveryPassword": "123456-234567-345678-456789-567890-678901-789012-890123"'],
    "FortiGate secret": ["set password ENC SH2lJ0sN2xW4eR6tY8uI0oP2aS4dF6gH8jK0lZ2xC4vB6nM8=",
                         "set psksecret ENC Zm9vYmFyYmF6cXV4cXV1eA=="],
}

# Strings that bundles legitimately carry: none may be flagged.
BENIGN = [
    '"password_set": true', '"password_empty": false', '"password_max_days": null', '"password_policy": {',
    '"last_password_change": "2026-09-01"', '"hash_algorithm": "YESCRYPT"', '"password_not_required": false',
    '"sha256": "' + "ab" * 32 + '"', '"guid": "{0CCE9215-69AE-11D9-BED3-505054503030}"',
    "ClearTextPassword = 0", "MinimumPasswordLength = 8", "PasswordComplexity = 1", "Minimum password length: 8",
    "Length of password history maintained: None", "パスワードの最小長: 8",
    '"passwordauthentication": "no"', '"permitemptypasswords": "no"', '"password": null',
    '"hostkey": "/etc/ssh/ssh_host_ed25519_key"', '"authorizedkeysfile": ".ssh/authorized_keys"',
    "/etc/security/pwquality.conf", "min_length: pam_unix obscure built-in minimum 6", "id 0781:5581",
    '"signature_version": "1.421.311.0"', '"mac": "52:54:00:12:34:56"', "$HOME/.profile", "cost $5 each",
]


@pytest.mark.parametrize(("name", "samples"), sorted(LEAKS.items()))
def test_scanner_finds_each_kind_of_secret(name, samples):
    for sample in samples:
        assert name in {n for n, _ in find_secrets(sample)}, sample
        assert find_secrets(json.dumps({"leaked": sample}, ensure_ascii=False)), sample  # also inside JSON


def test_scanner_leaves_ordinary_bundle_text_alone():
    assert [(s, find_secrets(s)) for s in BENIGN if find_secrets(s)] == []


def test_scanner_never_prints_the_secret():
    secret = "Kakuu2026-very-secret"
    assert all(secret not in excerpt for _, excerpt in find_secrets(f"password={secret}"))


# ---------------------------------------------------------------------------------------------
# secrets planted in the Linux trees

PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
               "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
               "QyNTUxOQAAACBsfEJj9IqvLfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeAAAAJgAAAAA\n"
               "-----END OPENSSH PRIVATE KEY-----\n")
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx8QmP0iq8tFAKEfakeFAKEfakeFAKEfakeFAKEfake"
PLANTED = {
    "etc/shadow+": ("planted1:$6$Zq8r1Fh2$8jJxv0rXH2m4ZbVq9w3Yk1T5uP7oL2sA4dF6gH8jK0lZ2xC4vB6nM8qW:20440:0:99999:7:::\n"
                    "planted2:$1$abcdefgh$Y6jS1n9uZ6W7Vx2a3b4c5.:20440:0:99999:7:::\n"
                    "planted3:$5$saltsalt$AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg:20440:0:99999:7:::\n"
                    "planted4:$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW:20440:0:99999:7:::\n"
                    "planted5:$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub:20440:0:99999:7:::\n"),
    "etc/passwd+": "".join(f"planted{i}:x:{1100 + i}:{1100 + i}::/home/planted{i}:/bin/bash\n" for i in range(1, 6)),
    "etc/gshadow": "sudo:$6$Zq8r1Fh2$Gr0upPassw0rdHashFAKEfake::sato\n",
    "etc/ssh/sshd_config": ("PermitRootLogin yes\nPasswordAuthentication yes\nHostKey /etc/ssh/ssh_host_ed25519_key\n"
                            "# old password=Kakuu2026! do not use\n"),
    "etc/ssh/ssh_host_ed25519_key": PRIVATE_KEY,
    "etc/ssh/ssh_host_ed25519_key.pub": PUBLIC_KEY + " root@pc-soumu-001\n",
    "root/.ssh/authorized_keys": PUBLIC_KEY + " vendor@kakuu\n",
    "home/sato/.ssh/id_ed25519": PRIVATE_KEY,
    "home/sato/.ssh/authorized_keys": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7fakeFAKEfakeFAKEfake sato@lg\n",
    "etc/NetworkManager/system-connections/office.nmconnection": (
        "[connection]\nid=office\ntype=wifi\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=MyWifiKey-2026\n"),
    "etc/wpa_supplicant/wpa_supplicant.conf": 'network={\n    ssid="kakuu"\n    psk="office wifi key"\n}\n',
    "etc/samba/smb.conf": "[global]\n# ldap admin password hash 8846F7EAEE8FB117AD06BDD830B7586C\n",
    "etc/samba/smbpasswd": "sato:1000:AAD3B435B51404EEAAD3B435B51404EE:8846F7EAEE8FB117AD06BDD830B7586C:[U ]:LCT-0:\n",
    "etc/environment+": "API_TOKEN=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYXRvIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFW\n",
    "etc/audit/rules.d/audit.rules": "-w /etc/shadow -p wa -k identity\n",
    "etc/modprobe.d/usb-storage.conf": "blacklist usb-storage\ninstall usb-storage /bin/false\n",
    "etc/profile.d/tmout.sh": "TMOUT=600\nreadonly TMOUT\nexport TMOUT\n",
}


def plant(root: Path) -> None:
    for relative, text in PLANTED.items():
        path = root / relative.rstrip("+")
        path.parent.mkdir(parents=True, exist_ok=True)
        if relative.endswith("+") and path.exists():
            text = path.read_text(encoding="utf-8") + text
        path.write_text(text, encoding="utf-8")


def test_every_planted_secret_is_one_the_scanner_finds():
    secret_files = [k for k in PLANTED if not k.startswith(("etc/passwd", "etc/audit", "etc/modprobe", "etc/profile"))]
    for relative in secret_files:
        assert find_secrets(PLANTED[relative]), relative
    planted_kinds = {n for k in secret_files for n, _ in find_secrets(PLANTED[k])}
    # the other two are planted in a FortiGate configuration and a Windows collection
    assert planted_kinds >= set(PATTERNS) - {"FortiGate secret", "BitLocker recovery password"}


def _copy_into(root: Path, source: str, target: str) -> None:
    dest = root / target
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(LINUX / source, dest)


def _trees() -> Iterator[tuple[str, dict[str, str]]]:
    """The fixture root, and the root with the other fixture files of tests/fixtures/linux in their places."""
    yield "root", {}
    password = sorted(p.name for p in (LINUX / "pam/debian12").glob("common-password-*"))
    auth = sorted(p.name for p in (LINUX / "pam/debian12").glob("common-auth-*"))
    for i in range(max(len(password), len(auth))):
        swaps = {"pam/debian12/passwd-service": "etc/pam.d/passwd"}
        if i < len(password):
            swaps[f"pam/debian12/{password[i]}"] = "etc/pam.d/common-password"
        if i < len(auth):
            swaps[f"pam/debian12/{auth[i]}"] = "etc/pam.d/common-auth"
        yield f"debian12-{i}", swaps
    yield "rhel9", {"pam/rhel9/system-auth": "etc/pam.d/system-auth",
                    "pam/rhel9/password-auth": "etc/pam.d/password-auth",
                    "pam/rhel9/pwquality.conf": "etc/security/pwquality.conf",
                    "pam/rhel9/pwhistory.conf": "etc/security/pwhistory.conf",
                    "config/chrony.conf": "etc/chrony.conf",
                    "config/rsyslog-legacy.conf": "etc/rsyslog.conf",
                    "config/syslog-ng.conf": "etc/syslog-ng/syslog-ng.conf",
                    "config/journald-auto.conf": "etc/systemd/journald.conf"}


TREES = dict(_trees())


def test_the_trees_use_every_fixture_file_of_the_linux_folders():
    used = {s for swaps in TREES.values() for s in swaps}
    for folder in ("pam", "config"):
        files = {str(p.relative_to(LINUX)) for p in (LINUX / folder).rglob("*") if p.is_file()}
        assert files <= used, files - used


@pytest.mark.parametrize("tree", sorted(TREES))
def test_linux_collector_leaks_nothing_from_a_fixture_tree(tmp_path, tree):
    root = tmp_path / "root"
    shutil.copytree(LINUX / "root", root, symlinks=True)
    for source, target in TREES[tree].items():
        _copy_into(root, source, target)
    plant(root)
    bundle, timings = collect_timed(CollectOptions(root=root))
    assert set(timings) == set(AREAS)  # every area ran
    assert not [e for e in bundle["errors"] if "internal error" in e["message"]]
    text = json.dumps(bundle, ensure_ascii=False)
    assert find_secrets(text) == []
    assert "planted1" in text  # the planted accounts were read: the hashes were there to leak
    assert find_secrets(json.dumps(bundle)) == []  # the ASCII form (\\u escapes) too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="collects this Linux host")
def test_linux_collector_leaks_nothing_from_this_host():
    bundle, _ = collect_timed(CollectOptions())
    assert find_secrets(json.dumps(bundle, ensure_ascii=False)) == []


# ---------------------------------------------------------------------------------------------
# every importer on the fixtures of its kind

EXPLICIT = {  # kind -> fixture globs (relative to tests/fixtures; "examples/" means the example exports)
    "ad-users": ["exports/ad-users-*.csv", "examples/exports/ad-users.csv"],
    "auditpol": ["windows/auditpol-*.csv"],
    "fortigate": ["firewall/fortigate-*.conf", "examples/exports/kakuu-fw01.conf"],
    "hotfix": ["windows/hotfix-*.csv"],
    "hr-roster": ["exports/roster-*.csv", "examples/exports/hr-roster.csv"],
    "iptables": ["firewall/iptables-*.rules"],
    "nftables": ["firewall/nft-*"],
    "net-accounts": ["windows/net-accounts-*.txt"],
    "secedit": ["windows/secedit-*.inf"],
    "training": ["exports/training-*.csv", "examples/exports/training.csv"],
    "windows-raw": ["windows/raw-*/auditor-raw-*"],  # a collect-windows.ps1 folder, and the same zipped
    # the registers a city keeps, as the example city's exports
    "asset-register": ["examples/exports/asset-register.xlsx"],
    "backup-log": ["examples/exports/backup-log.csv"],
    "cloud-register": ["examples/exports/cloud-register.csv"],
    "exceptions-register": ["examples/exports/exceptions-register.csv"],
    "self-inspection": ["examples/exports/self-inspection.csv"],
    "vendor-contracts": ["examples/exports/vendor-contracts.csv"],
}


def _glob(pattern: str) -> list[Path]:
    if pattern.startswith("examples/"):
        return sorted(EXAMPLES.glob(pattern.removeprefix("examples/")))
    return sorted(FIXTURES.glob(pattern))


def fixtures_for(kind: str) -> list[Path]:
    """The fixtures of an import kind: the list above, else files or folders named after the kind."""
    patterns = EXPLICIT.get(kind, [f"*/{kind}*", f"*/*-{kind}*"])
    found = [p for pattern in patterns for p in _glob(pattern)
             if not p.is_relative_to(LINUX) and not p.is_relative_to(FIXTURES / "policy-mini")]
    return list(dict.fromkeys(found))


KINDS = importers.available()
CASES = [(kind, path) for kind in KINDS for path in fixtures_for(kind)]


def _options(kind: str, path: Path) -> ImportOptions:
    importer = KINDS[kind]()
    mapping = None
    if kind == "hr-roster" and "custom" in path.name:
        mapping = str(FIXTURES / "exports/roster-mapping.yaml")
    zones = str(EXAMPLES / "zones.yaml") if importers.uses_zones(importer) else None
    return ImportOptions(target_id="t", collected_at="2026-11-02T09:00:00+09:00", mapping=mapping, zones=zones)


def _import(kind: str, path: Path) -> dict:
    return import_files(kind, [str(path)], _options(kind, path))


def test_most_import_kinds_have_a_fixture():
    covered = {kind for kind, _ in CASES}
    missing = sorted(set(KINDS) - covered)
    assert len(covered) >= 0.75 * len(KINDS), f"kinds without a fixture: {missing}"
    assert {"ad-users", "auditpol", "fortigate", "hotfix", "hr-roster", "iptables", "net-accounts", "secedit",
            "training"} <= covered


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k}:{p.name}" for k, p in CASES])
def test_importer_leaks_nothing(kind, path):
    try:
        bundle = _import(kind, path)
    except InputError as exc:  # a fixture kept to show a refusal: nothing was written, nothing leaked
        pytest.skip(f"{path.name} is refused by design: {exc}")
    assert bundle["facts"], path
    assert find_secrets(json.dumps(bundle, ensure_ascii=False)) == []


FORTIGATE_SECRETS = """config system admin
    edit "admin"
        set accprofile "super_admin"
        set password ENC SH2lJ0sN2xW4eR6tY8uI0oP2aS4dF6gH8jK0lZ2xC4vB6nM8qWeRtYuIoP=
    next
end
config vpn ipsec phase1-interface
    edit "to-pref-cloud"
        set interface "wan1"
        set psksecret ENC Zm9vYmFyYmF6cXV4cXV1eHF1dXhmb29iYXJiYXo=
    next
end
config user local
    edit "vendor"
        set type password
        set passwd ENC a2FrdXUtdmVuZG9yLXBhc3N3b3JkLTIwMjY=
    next
end
"""


def test_fortigate_secrets_in_the_configuration_stay_out_of_the_bundle(tmp_path):
    assert {n for n, _ in find_secrets(FORTIGATE_SECRETS)} == {"FortiGate secret"}
    original = (FIXTURES / "firewall/fortigate-kakuu.conf").read_text(encoding="utf-8")
    path = tmp_path / "fortigate-with-secrets.conf"
    path.write_text(FORTIGATE_SECRETS + original, encoding="utf-8")
    bundle = import_files("fortigate", [str(path)], _options("fortigate", path))
    assert bundle["facts"]["firewall_rules"]["rules"]
    assert find_secrets(json.dumps(bundle, ensure_ascii=False)) == []


RECOVERY_PASSWORD = "123456-234567-345678-456789-567890-678901-789012-890123"


@pytest.mark.skipif("windows-raw" not in KINDS, reason="no windows-raw importer")
def test_bitlocker_recovery_passwords_in_a_windows_collection_stay_out_of_the_bundle(tmp_path):
    """A collection whose bitlocker.json carries the key protectors (Get-BitLockerVolume piped whole)."""
    sources = sorted(p for p in (FIXTURES / "windows").glob("raw-*/auditor-raw-*") if p.is_dir())
    if not sources:
        pytest.skip("no windows-raw fixture folder")
    folder = tmp_path / sources[0].name
    shutil.copytree(sources[0], folder)
    bitlocker = folder / "bitlocker.json"
    volumes = json.loads(bitlocker.read_text(encoding="utf-8-sig"))
    for volume in volumes if isinstance(volumes, list) else [volumes]:
        volume["KeyProtector"] = [{"KeyProtectorId": "{0B3F5A2C-7D41-4E8B-9C16-2A7E5D3F1B90}",
                                   "KeyProtectorType": "RecoveryPassword", "RecoveryPassword": RECOVERY_PASSWORD},
                                  {"KeyProtectorId": "{5C1D9E7F-0A2B-4C3D-8E4F-6A7B8C9D0E1F}",
                                   "KeyProtectorType": "Tpm", "RecoveryPassword": ""}]
    bitlocker.write_text(json.dumps(volumes, ensure_ascii=False, indent=4), encoding="utf-8-sig")
    assert "BitLocker recovery password" in {n for n, _ in find_secrets(bitlocker.read_text(encoding="utf-8-sig"))}
    bundle = _import("windows-raw", folder)
    assert bundle["facts"]["disk_encryption"]["volumes"]
    assert find_secrets(json.dumps(bundle, ensure_ascii=False)) == []
