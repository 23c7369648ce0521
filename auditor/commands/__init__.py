"""Sub-commands beyond the core ones of :mod:`auditor.cli` (audit, collect, import, report,
export, verify, policy): each module here adds one or a few, so that a new command is one new
file and its tests.

A module defines ``register(sub)``, which adds its parsers to the ``auditor`` sub-parsers and
sets ``handler`` (a function of the parsed arguments returning the exit code) with
``set_defaults``. Modules are imported each time the parser is built, so they import their
heavy dependencies inside the handler, not at the top: every command pays for what is here.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any


def register_all(sub: Any) -> None:
    """Add every command module's parsers to ``sub`` (an argparse sub-parsers action), by module name."""
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{mod.name}").register(sub)


def handler_of(args: argparse.Namespace) -> Any:
    """The handler a command module set for the parsed command, or None for a core command."""
    return getattr(args, "handler", None)
