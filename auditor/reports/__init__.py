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
from typing import Any, BinaryIO

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


@dataclass(frozen=True)
class Streamed:
    """A report written piece by piece to a binary stream: a fleet's results document, whose results
    are copied from spool files rather than held (see :mod:`auditor.results`)."""

    write_to: Callable[[BinaryIO], None]


# A renderer returns text, or bytes where the format is encoded already (JSON of many megabytes,
# binary formats), or a Streamed writer: the command line writes any of them as it is.
Renderer = Callable[[dict[str, Any], ReportOptions], str | bytes | Streamed]

_REGISTRY: dict[str, Renderer] = {}
_STREAMING: set[str] = set()
_LOADED = False


def register(name: str, streams: bool = False) -> Callable[[Renderer], Renderer]:
    """Register a format. ``streams``: the renderer reads the document's lists only by iterating
    them, so a fleet's spooled results (read back one at a time) are never all in memory; any other
    format is given the document with its lists read into memory, and holds them."""
    def deco(fn: Renderer) -> Renderer:
        _REGISTRY[name] = fn
        if streams:
            _STREAMING.add(name)
        return fn

    return deco


def streams(name: str) -> bool:
    """Whether format ``name`` renders a document whose lists are iterated, not held (see register)."""
    formats()
    return name in _STREAMING


def formats() -> dict[str, Renderer]:
    """Every registered format, by name (modules are imported on first use)."""
    global _LOADED
    if not _LOADED:  # not "registry empty": one format imported directly would hide the others
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED = True
    return dict(sorted(_REGISTRY.items()))
