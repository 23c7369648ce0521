"""Report formats: each module renders an `auditor-results/1` document one way.

A format registers itself with :func:`register`; ``--format`` offers exactly the
registered names. Adding a format is one new module plus its tests. A renderer reads the
results document alone (never the evidence, never the policy: ``auditor report`` renders a
stored run on a machine that has neither) and the :class:`ReportOptions` of the command.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

VIEWS = ("admin", "trainer", "inspector")


@dataclass(frozen=True)
class ReportOptions:
    """How to render: the language of the frame, the audience, and how dates are written.

    ``view``: ``admin`` (everything, by target, worst first), ``trainer`` (the most failed
    controls by department, why each matters and how to fix it, with no personal names),
    ``inspector`` (by control in guideline order with the evidence trail). A format that has
    one layout for every audience says so in its module.
    """

    lang: str = "ja"
    view: str = "admin"
    date_style: str = "iso"


# A renderer returns text, or bytes where the format is encoded already (JSON of many megabytes,
# binary formats): the command line writes either as it is.
Renderer = Callable[[dict[str, Any], ReportOptions], str | bytes]

_REGISTRY: dict[str, Renderer] = {}
_LOADED = False


def register(name: str) -> Callable[[Renderer], Renderer]:
    def deco(fn: Renderer) -> Renderer:
        _REGISTRY[name] = fn
        return fn

    return deco


def formats() -> dict[str, Renderer]:
    """Every registered format, by name (modules are imported on first use)."""
    global _LOADED
    if not _LOADED:  # not "registry empty": one format imported directly would hide the others
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED = True
    return dict(sorted(_REGISTRY.items()))
