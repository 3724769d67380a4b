"""Timing operations through the server against the same work done directly, round by round.

Each round of an operation times the direct work, then the server's reply to the same request (from sending
the encoded request to receiving the whole reply: everything a client pays for), and checks the reply
against the direct result. Quick operations (reads under ``QUICK_MS``) get at least ``QUICK_ROUNDS`` rounds,
taken in turn with the other quick operations' rounds: a few seconds in which the machine is busy with
something else then cost every operation a round or two, not one operation all of its rounds. They also
time the bare server's round trip with the same reply (``bare_server.py``), which bounds what any server
could reach.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bare_server import BareServer

__all__ = ["QUICK_MS", "QUICK_ROUNDS", "Comparison", "DataFigure", "Operation", "compare_all"]

QUICK_MS, QUICK_ROUNDS = 100.0, 21


@dataclass
class Operation:
    label: str
    request: Callable[[int], dict[str, Any]]
    """The request for a round (rounds differ where the operation writes)."""
    direct: Callable[[Any, int], Any]
    """The same work done directly on an open Collection."""
    check: Callable[[Any, Any], bool]
    """Whether the server's result (first) is right, given the direct one (second)."""
    rounds: int | None = None
    """Rounds for this operation when fewer than asked make sense (a slow one)."""
    writes: bool = False
    """Changes the collection: never quick, so never run twice in a round."""
    prepare: Callable[[http.client.HTTPConnection, int], None] | None = None
    """A request sent to the server before each round, untimed (a change between two polls)."""


@dataclass
class DataFigure:
    label: str
    direct_ms: float
    server_ms: float
    bare_ms: float | None = None
    """The bare server's round trip with the same reply (quick operations only): see ``bound``."""

    @property
    def ratio(self) -> float:
        return self.server_ms / self.direct_ms

    @property
    def bound(self) -> float | None:
        """The best ratio any server answering over HTTP from another process could reach here."""
        return None if self.bare_ms is None else (self.direct_ms + self.bare_ms) / self.direct_ms


@dataclass
class Comparison:
    """The rounds of one operation, on a direct collection and a server connection shared by all."""

    operation: Operation
    rounds: int
    quick: bool = False
    direct: list[float] = field(default_factory=list)
    served: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)

    def warm_up(self, col: Any, connection: http.client.HTTPConnection, bare: BareServer) -> None:
        """Round -1, not counted: warms both sides up and tells whether the operation is quick."""
        body, raw, direct_ms, server_ms = self._round(col, connection, -1)
        self.quick = not self.operation.writes and max(direct_ms, server_ms) < QUICK_MS
        if self.operation.prepare is not None and max(direct_ms, server_ms) < QUICK_MS:
            self.rounds = max(self.rounds, QUICK_ROUNDS)  # short, and it writes only what it prepares
        if self.quick:
            self.rounds = max(self.rounds, QUICK_ROUNDS)
            bare.prime(body, raw)

    def round(self, col: Any, connection: http.client.HTTPConnection, bare: BareServer, r: int) -> None:
        body, _, direct_ms, server_ms = self._round(col, connection, r)
        self.direct.append(direct_ms)
        self.served.append(server_ms)
        if self.quick:  # quick operations only read: running one again changes nothing
            # The bare server answers the same bytes under the same conditions: right after the direct work,
            # which leaves the other process's caches and CPU as cold as the real server finds them.
            start = time.perf_counter()
            self.operation.direct(col, r)
            self.direct.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            bare.post(body)
            self.bare.append((time.perf_counter() - start) * 1000)

    def figure(self) -> DataFigure:
        bare = statistics.median(self.bare) if self.bare else None
        return DataFigure(self.operation.label, statistics.median(self.direct), statistics.median(self.served), bare)

    def _round(self, col: Any, connection: http.client.HTTPConnection, r: int) -> tuple[bytes, bytes, float, float]:
        operation = self.operation
        start = time.perf_counter()
        expected = operation.direct(col, r)
        direct_ms = (time.perf_counter() - start) * 1000
        body = json.dumps(operation.request(r)).encode()  # the client's encoding is not the server's cost
        if operation.prepare is not None:
            operation.prepare(connection, r)
        start = time.perf_counter()
        connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        raw = connection.getresponse().read()
        server_ms = (time.perf_counter() - start) * 1000
        reply = json.loads(raw)
        if reply["error"] is not None or not operation.check(reply["result"], expected):
            raise RuntimeError(f"{operation.label}: wrong reply {_difference(reply, expected)}")
        return body, raw, direct_ms, server_ms


def compare_all(
    operations: list[Operation], rounds: int, col: Any, connection: http.client.HTTPConnection, bare: BareServer
) -> list[DataFigure]:
    """Every operation compared: slow ones (and writes) one after the other, quick ones in turn."""
    comparisons = [Comparison(op, min(rounds, op.rounds or rounds)) for op in operations]
    quick: list[Comparison] = []
    for comparison in comparisons:
        if comparison.operation.writes:
            continue  # last, after every read: they change the collection
        comparison.warm_up(col, connection, bare)
        if comparison.quick:
            quick.append(comparison)
        else:
            _run_rounds(comparison, col, connection, bare)
    for r in range(max((c.rounds for c in quick), default=0)):
        for comparison in quick:
            if r < comparison.rounds:
                comparison.round(col, connection, bare, r)
    for comparison in comparisons:
        if comparison.operation.writes:
            comparison.warm_up(col, connection, bare)
            _run_rounds(comparison, col, connection, bare)
    return [comparison.figure() for comparison in comparisons]


def _run_rounds(comparison: Comparison, col: Any, connection: http.client.HTTPConnection, bare: BareServer) -> None:
    for r in range(comparison.rounds):
        comparison.round(col, connection, bare, r)


def _difference(reply: Any, expected: Any) -> str:
    """The first place where the server's reply differs from the direct result."""
    if reply["error"] is not None or not isinstance(reply["result"], list) or not isinstance(expected, list):
        return str(reply)[:300]
    for index, (got, want) in enumerate(zip(reply["result"], expected, strict=False)):
        if got != want:
            keys = [k for k in got if isinstance(got, dict) and isinstance(want, dict) and got[k] != want.get(k)]
            return f"item {index}: {[(k, got[k], want.get(k)) for k in keys][:3] or (got, want)}"[:600]
    return f"{len(reply['result'])} items, direct {len(expected)}"
