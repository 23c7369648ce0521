"""Linux host collector; importing the package registers it as ``linux``.

The factory imports the collector's modules when the collector is made, not here, so that
:mod:`.early` (imported through this package) can start the slowest tool before they load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.evidence.collectors import register

if TYPE_CHECKING:
    from .collector import LinuxCollector


@register("linux")
def linux_collector() -> LinuxCollector:
    """Registry factory for ``linux``."""
    from .collector import LinuxCollector

    return LinuxCollector()
