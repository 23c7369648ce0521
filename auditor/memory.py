"""Pausing the cycle collector while large evidence is built, read or judged.

Evidence is hundreds of thousands of small acyclic containers (one record per account, one
tuple per rule and address group). Each pass of the cycle collector scans every container
alive, so making that many triggers passes that cost more than the work itself (measured:
15% of reading a bundle, over 1 s of analysing a 10,000-policy rule set). The importers,
the bundle reader, the schema checks and the firewall analysis pause it around such work;
it resumes as it was, collections and all, when the work is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector off for the block, then as it was (on, unless a caller had paused it)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
