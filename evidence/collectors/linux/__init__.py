"""Linux host collector; importing the package registers it as ``linux``."""

from . import collector

__all__ = ["collector"]
