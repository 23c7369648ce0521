"""The wheel carries the engine, collectors, policies and checks, and nothing else at top level."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"auditor": "auditor", "evidence": "auditor.evidence", "policies": "auditor.policies",
           "checks": "auditor.checks"}


def test_every_python_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for folder, dotted in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((dotted, *rel)))
    assert found == listed


def test_wheel_contains_data_and_only_the_auditor_top_level(tmp_path):
    # Build from a copy so that setuptools' build/ folder neither litters nor goes stale in the work tree.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info",
                                                                  "__pycache__", ".pytest_cache", ".hypothesis"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"auditor"}
    yaml_in_repo = {p.relative_to(ROOT).as_posix() for d in ("policies", "checks", "evidence")
                    for p in (ROOT / d).rglob("*.yaml")}
    yaml_in_wheel = {n.removeprefix("auditor/") for n in names if n.endswith(".yaml")}
    assert yaml_in_repo == yaml_in_wheel
    assert "auditor/evidence/bundle.py" in names
