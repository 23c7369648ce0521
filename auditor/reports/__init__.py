"""Report formats: each module renders an `auditor-results/1` document one way.

A format registers itself with :func:`register`; ``--format`` offers exactly the
registered names. Adding a format is one new module plus its tests.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

# A renderer returns text, or bytes where the format is encoded already (JSON of many megabytes,
# binary formats): the command line writes either as it is.
Renderer = Callable[[dict[str, Any], str], str | bytes]

_REGISTRY: dict[str, Renderer] = {}


def register(name: str) -> Callable[[Renderer], Renderer]:
    def deco(fn: Renderer) -> Renderer:
        _REGISTRY[name] = fn
        return fn

    return deco


def formats() -> dict[str, Renderer]:
    """Every registered format, by name (modules are imported on first use)."""
    if not _REGISTRY:
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
    return dict(sorted(_REGISTRY.items()))
