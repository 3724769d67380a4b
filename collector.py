"""Holding Python's automatic garbage collection off while work that only builds live objects runs.

CPython collects when more container objects were made than freed since its last pass, and every third or
so pass over a growing heap walks every object of the process. Decoding a 1 MB request or running an
addNotes of 10k notes makes tens of thousands of objects that all stay alive until it ends: each such pass
finds nothing to free (measured: 50-80 ms of a 400 ms addNotes, and 20 ms of a 7 ms decode now and then).
Anki itself runs with automatic collection off for good and collects on a timer; there this does nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_held_off"]


@contextmanager
def collector_held_off() -> Iterator[None]:
    """No automatic collection within this (from any thread: it is one switch for the whole process).

    Only whoever turned the collector off turns it back on: when it is off already (inside Anki, or another
    thread holds it off), this leaves it as it is, so it never stays off past the work that turned it off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
