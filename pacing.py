"""Long loops of a request run off Anki's main thread step aside now and then, so the window keeps running.

CPython hands the GIL to a waiting thread every 5 ms, yet while a request built 10k notes on Anki's collection
thread, a 2 ms Qt timer on the main thread went 26-89 ms without running (across runs). Sleeping for no time
releases the GIL at once, and a waiting thread runs: with that every 100 notes, the longest wait was 8-16 ms.
Only inside Anki, and only for requests it runs in the background (``pacing()``): headless, the server's own
thread took the GIL at each pause and gave it back up to 5 ms later, 35-80 ms more for 10k notes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

__all__ = ["EVERY", "paced", "pacing", "pacing_on"]

T = TypeVar("T")

EVERY = 100
"""Items between two pauses: about half a millisecond of building notes."""

_ACTIVE: ContextVar[bool] = ContextVar("ankiconnect_live_pacing", default=False)


@contextmanager
def pacing() -> Iterator[None]:
    """Within this, ``paced`` loops give up the GIL now and then."""
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def pacing_on() -> bool:
    """Whether this runs within ``pacing()``: off Anki's main thread, sharing the collection with it."""
    return _ACTIVE.get()


def paced(items: Iterable[T], every: int = EVERY) -> Iterable[T]:
    """``items``, with the GIL given up after every ``every`` of them while ``pacing()``; else ``items`` as is."""
    return _with_pauses(items, every) if _ACTIVE.get() else items


def _with_pauses(items: Iterable[T], every: int) -> Iterator[T]:
    for index, item in enumerate(items):
        if index and index % every == 0:
            time.sleep(0)
        yield item
