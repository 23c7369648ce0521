"""Fixtures shared by the engine-level tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def write_bundle(tmp_path: Path):
    def write(name: str, bundle: dict[str, Any] | str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(bundle if isinstance(bundle, str) else json.dumps(bundle, ensure_ascii=False),
                        encoding="utf-8")
        return path

    return write
