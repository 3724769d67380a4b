"""Paced loops give a waiting thread the GIL while ``pacing()`` is on, and cost nothing when it is off."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ankiconnect_live.pacing import paced, pacing


@contextmanager
def no_forced_switches() -> Iterator[None]:
    """CPython never takes the GIL from a running thread: another runs only when this one lets it go."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _progress_seen_by_a_waiting_thread(loop: Iterator[int] | range, total: int) -> int:
    """How far ``loop`` had got when a thread woken just before it first ran."""
    progress = [0]
    seen: list[int] = []
    woken = threading.Event()

    def waiting() -> None:
        woken.wait()
        seen.append(progress[0])  # needs the GIL, which the loop below holds

    thread = threading.Thread(target=waiting)
    thread.start()
    woken.set()
    for index in loop:
        progress[0] = index
    thread.join()  # blocks, so the other thread runs now at the latest
    assert progress[0] == total - 1
    return seen[0]


def test_a_paced_loop_lets_a_waiting_thread_run_before_it_ends() -> None:
    with no_forced_switches(), pacing():
        seen = _progress_seen_by_a_waiting_thread(iter(paced(range(1000), every=100)), 1000)
    assert 0 < seen < 999


def test_without_pacing_the_loop_keeps_the_gil_and_is_not_wrapped() -> None:
    items = range(1000)
    assert paced(items) is items
    with no_forced_switches():
        seen = _progress_seen_by_a_waiting_thread(iter(paced(items, every=100)), 1000)
    assert seen == 999


def test_every_item_comes_once_in_order() -> None:
    with pacing():
        assert list(paced(range(250), every=7)) == list(range(250))
    with pacing():
        assert list(paced([], every=7)) == []
