"""The shipped end-of-life table, its lookup, and the ``os`` area's eol_date / eol_source."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml
from auditor.evidence import eol
from auditor.evidence.collectors.linux import osinfo
from auditor.evidence.eol import eol_for, load_table, validate_table, windows_edition
from linux_support import area_problems, collect_area, file_context, messages


def test_the_shipped_table_is_valid_and_dated() -> None:
    table = load_table()
    assert validate_table(table) == []
    assert isinstance(table["table_date"], date)
    assert all(row["source"].startswith("https://") for row in table["releases"])
    assert {row["os"] for row in table["releases"]} == {"debian", "ubuntu", "rhel", "rocky", "almalinux", "windows"}


def test_linux_lookups() -> None:
    source = f"(EOL table of {load_table()['table_date'].isoformat()})"
    assert eol_for("debian", "12") == ("2026-06-10", f"Debian 12 (bookworm): https://www.debian.org/releases/bookworm/ "
                                                     f"{source}")
    assert eol_for("ubuntu", "20.04")[0] == "2025-05-29"
    date_, text = eol_for("ubuntu", "24.04")
    assert date_ == "2029-04-30" and "the vendor gives the month only" in text
    assert eol_for("rhel", "9.4")[0] == "2032-05-31"  # the major version's row matches every minor release
    assert eol_for("rocky", "8.10")[0] == "2029-05-31"
    assert eol_for("almalinux", "8.9")[0] == "2029-03-01"
    assert eol_for("ubuntu", "22.04.3") is None  # Ubuntu rows are exact
    assert eol_for("debian", "99") is None and eol_for("fedora", "40") is None


def test_windows_lookups_need_build_and_edition() -> None:
    assert eol_for("windows", "10.0.22631", "Windows 11 Pro")[0] == "2025-11-11"
    assert eol_for("windows", "10.0.22631.4602", "Windows 11 Enterprise")[0] == "2026-11-10"
    assert eol_for("windows", "10.0.22631", "Windows 11 Pro Education")[0] == "2025-11-11"
    assert eol_for("windows", "10.0.19045", "Windows 10 Pro")[0] == "2025-10-14"
    assert eol_for("windows", "10.0.19044", "Windows 10 Enterprise LTSC 2021")[0] == "2027-01-12"
    assert eol_for("windows", "10.0.19044", "Windows 10 IoT Enterprise LTSC 2021")[0] == "2032-01-13"
    # the same build is a client and a server release
    assert eol_for("windows", "10.0.17763", "Windows Server 2019 Standard")[0] == "2029-01-09"
    assert eol_for("windows", "10.0.26100", "Windows Server 2025 Datacenter")[0] == "2034-11-14"
    assert eol_for("windows", "10.0.26100", "Windows 11 Home")[0] == "2026-10-13"
    assert eol_for("windows", "10.0.22631") is None  # no product name: the edition is unknown
    assert eol_for("windows", "10.0.99999", "Windows 11 Pro") is None
    assert windows_edition("Windows 10 Pro for Workstations") == "home-pro"
    assert windows_edition("Windows 11 Enterprise multi-session") == "enterprise-education"
    assert windows_edition("Windows 11 Education") == "enterprise-education"
    assert windows_edition("Something else") is None


def test_the_schema_refuses_a_broken_table() -> None:
    table = copy.deepcopy(load_table())
    table["releases"].append(dict(table["releases"][0]))
    assert any("listed twice" in p for p in validate_table(table))
    bad = copy.deepcopy(load_table())
    bad["releases"][0]["source"] = "see the vendor"
    bad["releases"][1]["eol_date"] = "soon"
    problems = validate_table(bad)
    assert problems and "releases" in problems[0]
    assert validate_table({"format": "auditor-eol/1", "table_date": date(2026, 1, 1),
                           "releases": [{"os": "windows", "name": "x", "eol_date": None,
                                         "source": "https://example.org/"}]}) == [
        "releases[0]: a windows row needs product, build and editions"]


def test_a_broken_shipped_table_is_an_os_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "eol.yaml"
    broken.write_text(yaml.safe_dump({"format": "auditor-eol/1", "table_date": "not a date", "releases": []}))
    monkeypatch.setattr(eol, "TABLE", broken)
    eol.load_table.cache_clear()
    try:
        (tmp_path / "root/etc").mkdir(parents=True)
        (tmp_path / "root/etc/os-release").write_text("ID=debian\nVERSION_ID=12\n")
        builder = collect_area(osinfo.collect, file_context(tmp_path / "root"))
    finally:
        eol.load_table.cache_clear()
    assert "eol_date" not in builder.facts["os"]
    assert any(m.startswith("end-of-life table: ") for m in messages(builder, "os"))


def test_os_area_release_not_in_the_table(fake_root: Path) -> None:
    (fake_root / "etc/os-release").write_text('NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="26.10"\n')
    builder = collect_area(osinfo.collect, file_context(fake_root))
    facts = builder.facts["os"]
    assert "eol_date" not in facts and "eol_source" not in facts
    assert f"eol_date: ubuntu 26.10 is not in the end-of-life table of {load_table()['table_date']}" in messages(
        builder, "os")
    assert area_problems("os", facts) == {}


def test_os_area_eol_for_rocky(fake_root: Path) -> None:
    (fake_root / "etc/os-release").write_text('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
                                              'VERSION_ID="9.5"\n')
    facts = collect_area(osinfo.collect, file_context(fake_root)).facts["os"]
    assert facts["eol_date"] == "2032-05-31"
    assert facts["eol_source"].startswith("Rocky Linux 9: https://wiki.rockylinux.org/rocky/version/ (EOL table of ")
    assert area_problems("os", facts) == {}
