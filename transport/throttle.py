"""Slowing down a client that keeps sending wrong API keys, without blocking anyone else.

Per client address: the first ``FREE_FAILURES`` wrong keys are answered at once (typos). After that, every
request from that address that carries a key to check waits for its turn: wrong keys are spaced by a delay
that doubles with each one, up to ``MAX_DELAY``, so guesses from one address, however many run in parallel,
are answered at most one per delay. A request with the right key waits only for the wrong ones queued
before it (so the answer's timing tells nothing), and never adds to the queue: once the wrong keys stop,
the right ones are answered at once again. When the queue is longer than ``MAX_BACKLOG`` seconds, requests
from that address are refused without being checked. An address is forgotten ``FORGET_AFTER`` seconds
after its last wrong key.

Waiting is an ``asyncio.sleep`` on the caller's own request: no thread and no other client is held up.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["KeyThrottle", "TooManyFailures", "client_address"]

FREE_FAILURES = 5
FIRST_DELAY = 0.05
MAX_DELAY = 2.0
MAX_BACKLOG = 8.0
FORGET_AFTER = 300.0
MAX_ADDRESSES = 4096
"""Addresses remembered at once; the one quiet longest is dropped first (memory stays bounded)."""


class TooManyFailures(Exception):
    """Refused at once: this address has more wrong keys queued than the backlog allows."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many wrong api keys from this address; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(slots=True)
class _Address:
    failures: int = 0
    next_turn: float = 0.0
    last_failure: float = 0.0


class KeyThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._addresses: dict[str, _Address] = {}

    def wait_for(self, address: str | None, key_ok: bool) -> float:
        """Seconds this request must wait before it is answered; records a wrong key.

        Raises TooManyFailures when the address's queue is too long. ``address`` None (in-process callers)
        is never slowed down.
        """
        if address is None:
            return 0.0
        now = self._clock()
        state = self._addresses.get(address)
        if state is not None and now - state.last_failure > FORGET_AFTER:
            del self._addresses[address]
            state = None
        if state is None:
            if key_ok:
                return 0.0
            state = self._remember(address, now)
        wait = 0.0
        if state.failures >= FREE_FAILURES:
            turn = max(now, state.next_turn)
            wait = turn - now
            if wait > MAX_BACKLOG:
                raise TooManyFailures(wait)
            if not key_ok:
                state.next_turn = turn + min(MAX_DELAY, FIRST_DELAY * 2 ** (state.failures - FREE_FAILURES))
                wait = state.next_turn - now  # a wrong key is answered at the end of its own delay
        if not key_ok:
            state.failures += 1
            state.last_failure = now
        return wait

    def failures(self, address: str) -> int:
        state = self._addresses.get(address)
        return 0 if state is None else state.failures

    def _remember(self, address: str, now: float) -> _Address:
        if len(self._addresses) >= MAX_ADDRESSES:
            oldest = min(self._addresses, key=lambda a: self._addresses[a].last_failure)
            del self._addresses[oldest]
        state = self._addresses[address] = _Address(last_failure=now)
        return state


def client_address(peer: object) -> str | None:
    """The address a client is throttled by: its IP, or its /64 network for IPv6 (one host owns many)."""
    if not isinstance(peer, tuple | list) or not peer or not isinstance(peer[0], str):
        return None
    host = peer[0]
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
