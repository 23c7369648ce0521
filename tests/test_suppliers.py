"""The suppliers table says truly which collector or importer writes each fact area."""

from pathlib import Path

from auditor.evidence.collectors.linux.collector import AREAS as LINUX_AREAS
from auditor.evidence.importers import ImportOptions, import_files
from support import FIXTURES

from auditor.schemas.facts import FACT_SCHEMAS
from auditor.suppliers import LINUX, SUPPLIERS, WINDOWS

EXPORTS = FIXTURES / "exports"
FIREWALL = FIXTURES / "firewall"
WINDOWS_FIXTURES = FIXTURES / "windows"
IMPORTS = {
    "ad-users": [EXPORTS / "ad-users-ps51.csv"],
    "ad-password-policy": [EXPORTS / "ad-default-password-policy-ps51.txt", EXPORTS / "ad-fgpp-ps51.txt"],
    "hr-roster": [EXPORTS / "roster-excel-cp932.csv"],
    "training": [EXPORTS / "training-utf8bom.csv"],
    "secedit": [WINDOWS_FIXTURES / "secedit-weak.inf"],
    "net-accounts": [WINDOWS_FIXTURES / "net-accounts-ja.txt"],
    "hotfix": [WINDOWS_FIXTURES / "hotfix-ps51.csv"],
    "auditpol": [WINDOWS_FIXTURES / "auditpol-ja.csv"],
    "fortigate": [FIREWALL / "fortigate-reach.conf"],
    "iptables": [FIREWALL / "iptables-kakuu.rules"],
    "nftables": [FIREWALL / "nft-kakuu.nft"],
}


def written_by(supplier: str) -> set[str]:
    return {area for area, names in SUPPLIERS.items() if supplier in names}


def test_every_area_has_a_supplier_and_every_entry_is_an_area():
    assert set(SUPPLIERS) == set(FACT_SCHEMAS)
    assert all(SUPPLIERS[area] for area in SUPPLIERS)


def test_the_linux_collector():
    assert written_by(LINUX) == set(LINUX_AREAS) | {"segments"}  # segments: with --zones


def test_each_importer_writes_what_the_table_says(tmp_path):
    for kind, files in IMPORTS.items():
        options = ImportOptions(zones=str(FIREWALL / "zones-reach.yaml")) if kind in (
            "fortigate", "iptables", "nftables") else ImportOptions()
        bundle = import_files(kind, [str(f) for f in files], options)
        supplier = f"auditor import {kind}"
        written = set(bundle["facts"]) - {"zones"}
        assert written <= written_by(supplier), (kind, written - written_by(supplier))


def test_windows_raw():
    collection = next(Path(WINDOWS_FIXTURES / "raw-compliant").glob("*.zip"))
    bundle = import_files("windows-raw", [str(collection)], ImportOptions())
    assert set(bundle["facts"]) <= written_by(WINDOWS)
    assert {"password_policy", "software", "patches"} <= set(bundle["facts"])
