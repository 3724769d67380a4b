"""The event bus: numbered events, a bounded history for resuming, and fan-out to listeners.

``publish`` may be called from any thread (Anki's main thread, the collection thread); everything else runs
on the server's event loop. Each event is numbered (``seq``, monotonic per server), kept in a ring buffer
for clients that reconnect with ``since``, and encoded once for all listeners.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_HISTORY", "Event", "EventBus", "Listener"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".events")

DEFAULT_HISTORY = 10_000


@dataclass(slots=True)
class Event:
    seq: int
    time: int
    """Milliseconds since the epoch."""
    name: str
    data: dict[str, Any]
    _body: str | None = field(default=None, repr=False, compare=False)

    @property
    def body(self) -> str:
        """``"seq": .., "time": .., "event": .., "data": {..}`` as JSON members, encoded once for every listener.

        Encoded when first sent (on the event loop), not when published: an addNotes of 10k notes publishes
        10k events that often nobody subscribes to.
        """
        if self._body is None:
            self._body = json.dumps(self.record())[1:-1]
        return self._body

    def message(self, subscription: int) -> str:
        """The WebSocket message for one subscription."""
        return f'{{"type": "event", "subscription": {subscription}, {self.body}}}'

    def record(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "event": self.name, "data": self.data}


Listener = Callable[[Event], None]
"""Called on the event loop for each new event it subscribed to; must not block."""


class EventBus:
    def __init__(self, history: int = DEFAULT_HISTORY) -> None:
        self._capacity = max(1, history)
        self._history: deque[Event] = deque(maxlen=self._capacity)
        self._seq = 0
        self._listeners: dict[int, tuple[frozenset[str], Listener]] = {}
        self._next_listener = 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        self._interest: Counter[str] = Counter()  # event name -> listeners and long-polls waiting for it
        self._lock = threading.Lock()
        self._early: list[tuple[str, dict[str, Any], int]] = []  # published before the loop was attached
        # Published from other threads, waiting for the loop: one wake-up for a burst (a scan publishing a
        # thousand notes), not a self-pipe write for every event.
        self._incoming: list[tuple[str, dict[str, Any], int]] = []
        self._waking = False
        self._ending = False  # the server is stopping: long polls answer at once

    # set-up

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on this loop from now on (the server's, once it runs)."""
        with self._lock:
            self._loop = loop
            early, self._early = self._early, []
        self._ending = False
        loop.call_soon_threadsafe(self._mark_loop_thread)
        for name, data, stamp in early:
            loop.call_soon_threadsafe(self._append, name, data, stamp)

    def detach(self) -> None:
        with self._lock:
            self._loop = None
            self._loop_thread = None
            self._incoming, self._waking = [], False  # the loop is gone: nobody will take them

    def _mark_loop_thread(self) -> None:
        self._loop_thread = threading.get_ident()

    # publishing (any thread)

    def publish(self, name: str, data: dict[str, Any] | None = None) -> None:
        """Publish an event; never blocks and never raises (hook callbacks call this)."""
        self.publish_all([(name, dict(data or {}))])

    def publish_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish events in this order with one clock reading, one lock and one wake-up of the loop: a change
        scan publishes thousands at once. Their data is the bus's from now on. Never blocks or raises."""
        stamp = int(time.time() * 1000)
        batch = [(name, data, stamp) for name, data in events]
        try:
            with self._lock:
                loop = self._loop
                if loop is None:
                    self._early += batch
                    del self._early[: -self._capacity]  # keep no more than the history would
                    return
                on_loop = threading.get_ident() == self._loop_thread
                if not on_loop:
                    self._incoming += batch
                    if self._waking:
                        return  # the loop is already being woken up for earlier ones
                    self._waking = True
            if on_loop:
                for name, data, _ in batch:
                    self._append(name, data, stamp)
            else:
                loop.call_soon_threadsafe(self._take_incoming)
        except Exception:  # a closed loop during shutdown: the events have nobody to go to
            log.debug("%d events dropped", len(batch), exc_info=True)
            with self._lock:
                self._incoming, self._waking = [], False

    # the loop thread

    def _take_incoming(self) -> None:
        with self._lock:
            incoming, self._incoming, self._waking = self._incoming, [], False
        for name, data, stamp in incoming:
            self._append(name, data, stamp)

    @property
    def seq(self) -> int:
        """The number of the newest event (0 before the first)."""
        return self._seq

    def _append(self, name: str, data: dict[str, Any], stamp: int) -> None:
        self._seq += 1
        event = Event(self._seq, stamp, name, data)
        self._history.append(event)
        for names, listener in list(self._listeners.values()):
            if name in names:
                try:
                    listener(event)
                except Exception:
                    log.exception("event listener failed")
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def listen(self, names: frozenset[str], listener: Listener) -> Callable[[], None]:
        """Add a listener for some event names; returns the function that removes it."""
        key = self._next_listener
        self._next_listener += 1
        self._listeners[key] = (names, listener)
        self._interest.update(names)

        def remove() -> None:
            if self._listeners.pop(key, None) is not None:
                self._interest.subtract(names)

        return remove

    def interested(self, name: str) -> bool:
        """Whether anyone listens (or long-polls) for this event now. Safe from any thread."""
        return self._interest.get(name, 0) > 0

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def since(self, seq: int, names: Iterable[str] | None = None) -> list[Event] | None:
        """The events after ``seq`` (only those named), or None when some of them are no longer kept.

        A ``seq`` beyond the newest event comes from an earlier run of the server (its numbers restarted):
        that is a gap too.
        """
        if seq > self._seq:
            return None
        oldest = self._history[0].seq if self._history else self._seq + 1
        if seq < oldest - 1:
            return None
        wanted = None if names is None else frozenset(names)
        return [e for e in self._history if e.seq > seq and (wanted is None or e.name in wanted)]

    def end_waits(self) -> None:
        """Answer every long poll now, and later ones at once (the server is stopping: a client waiting 25 s
        must not hold up Anki's quitting). On the loop."""
        self._ending = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, seq: int, names: frozenset[str], timeout: float) -> list[Event] | None:
        """Long-poll: the events after ``seq`` as soon as there is one (or none after ``timeout`` seconds)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.since(seq, names)
            if found is None or found or self._ending:
                return found
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.add(waiter)
            self._interest.update(names)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return []
            finally:
                self._waiters.discard(waiter)
                self._interest.subtract(names)
