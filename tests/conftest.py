"""Fixtures shared by the engine-level tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# No audit of the suite records its run in the user's history (auditor/history); subprocesses inherit
# this, and the history's own tests name their stores (--history, or AUDITOR_HISTORY set by the test).
os.environ["AUDITOR_HISTORY"] = "off"

# Property tests of the parsers (marked ``fuzz``) run a few examples in every run of the suite
# and many behind the marker: ``pytest -m fuzz`` (see pytest_configure). A fuzz test takes its
# example count from the profile: it sets no max_examples of its own.
settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def pytest_configure(config: pytest.Config) -> None:
    settings.load_profile("fuzz" if "fuzz" in (config.option.markexpr or "") else "ci")


@pytest.fixture(scope="session", autouse=True)
def policy_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user cache (a compiled policy, see auditor/cache.py) goes to a directory of this session,
    never to the user's own: every test after the first that loads a policy is served from it, so
    the whole suite runs on cached policies as a warm ``auditor audit`` does. (Subprocesses
    inherit it.) tests/test_policy_cache.py tests the cache itself in directories of its own."""
    folder = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUDITOR_CACHE_DIR", str(folder))
        patch.delenv("AUDITOR_NO_CACHE", raising=False)
        yield folder


@pytest.fixture
def write_bundle(tmp_path: Path):
    def write(name: str, bundle: dict[str, Any] | str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(bundle if isinstance(bundle, str) else json.dumps(bundle, ensure_ascii=False),
                        encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def importer_output_meets_the_bundle_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bundle an importer or a collector builds in a test is checked against the bundle schemas.

    ``audit --import`` does not check its imported bundles again (see bundles.from_document):
    that they meet the schemas is shown here, on every export the test suite imports, in
    every encoding and shape the tests write.
    """
    from auditor.evidence.bundle import BundleBuilder

    from auditor import bundles, jsonio

    build = BundleBuilder.build

    def checked(self: BundleBuilder) -> dict[str, Any]:
        document = build(self)
        assert jsonio.decode(jsonio.encode(document)) == document  # JSON data only: what a bundle file holds
        [(target_id, files)] = bundles.from_document("(built in a test)", document, sha256="0" * 64).items()
        target = bundles.load_target(target_id, files)
        assert target.problem is None, target.problem
        assert not target.area_problems, target.area_problems
        return document

    monkeypatch.setattr(BundleBuilder, "build", checked)
