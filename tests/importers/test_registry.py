"""The importer registry: kinds are listed from module names, and each module registers its own kind."""

from __future__ import annotations

import subprocess
import sys

from auditor.evidence import importers


def test_every_listed_kind_loads_the_importer_of_that_name():
    kinds = importers.kinds()
    assert {"ad-users", "hr-roster", "training", "secedit", "fortigate", "nftables", "windows-raw"} <= set(kinds)
    for kind in kinds:
        factory = importers.load(kind)
        assert factory is not None, f"module for {kind} registers no importer named {kind!r}"
        assert factory().name == kind
    assert list(importers.available()) == kinds  # nothing registered under a name no module has


def test_an_unknown_kind_loads_nothing():
    assert importers.load("excel") is None and importers.load("csvrows") is None


def test_the_command_line_loads_only_the_importer_it_runs():
    code = ("import sys; from auditor import cli; cli.build_parser().parse_args(['import', 'hr-roster', 'x.csv']);"
            "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('auditor.evidence.importers.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "fortigate" not in loaded and "ad_users" not in loaded and "windows_raw" not in loaded, loaded
