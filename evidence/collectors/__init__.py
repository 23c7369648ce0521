"""Collector registry: each collector gathers facts about the host it runs on.

A collector module registers itself with :func:`register`; ``auditor collect`` and
``auditor audit`` (with no evidence) pick the one that supports this platform.
Adding a collector is one new module plus its tests.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class CollectOptions:
    """What the operator tells the collector about the target it cannot see itself."""

    target_id: str | None = None
    segment: str | None = None
    department: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    root: Path = Path("/")  # tests point this at a fake file-system tree
    zones: list[dict[str, Any]] | None = None  # loaded auditor-zones/1 zones: map addresses to segments
    zones_file: str | None = None


class Collector(Protocol):
    name: str

    def supports(self) -> bool:
        """True when this collector can run on the current platform."""

    def collect(self, options: CollectOptions) -> dict[str, Any]:
        """Gather the facts and return an `auditor-evidence/1` bundle."""


_REGISTRY: dict[str, Callable[[], Collector]] = {}


def register(name: str) -> Callable[[Callable[[], Collector]], Callable[[], Collector]]:
    def deco(factory: Callable[[], Collector]) -> Callable[[], Collector]:
        _REGISTRY[name] = factory
        return factory

    return deco


# Per platform (a sys.platform prefix), the module that starts its collector's slowest tools
# without importing the collector (see linux/early.py).
_EARLY = {"linux": "linux.early"}


def prestart(root: Path = Path("/")) -> None:
    """Start this platform's slowest collection tools now, for a collection of ``root`` that follows
    (``collect`` then waits for them instead of starting them), so that loading the collector,
    the policy and the rest overlaps them. Nothing happens on a platform without such a module."""
    for prefix, module in _EARLY.items():
        if sys.platform.startswith(prefix):
            importlib.import_module(f"{__name__}.{module}").prestart(root)


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


def available() -> dict[str, Callable[[], Collector]]:
    _load_all()
    return dict(_REGISTRY)


def for_this_host() -> Collector | None:
    """The first registered collector that supports this platform, or None."""
    for factory in available().values():
        collector = factory()
        if collector.supports():
            return collector
    return None
