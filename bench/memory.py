"""The server's memory: does it grow over many requests (a leak), and how high does it go on big work.

Growth: a real server process gets a warm-up, then ``requests`` more requests from four clients at once (three
on HTTP keep-alive connections, one on a WebSocket; every 25th HTTP request on a new connection). The mix is a
Yomitan-like client's: lookups (``version``, ``canAddNotes``, ``multi`` of ``findNotes``), ``notesInfo`` and
``cardsInfo`` of what was found, ``deckNames``, and now and then an ``addNote`` (so change scans and events
run too). Resident memory (VmRSS) is sampled after the warm-up and after each tenth of the requests; a leak
shows as growth that goes on in the second half, not as a step while caches fill.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import checked, copy_of, post, server_process
from websockets.sync.client import connect
from yomitan import lookup_requests

__all__ = ["MemoryFigures", "bench_memory_growth"]

CLIENTS = 4


@dataclass
class MemoryFigures:
    requests: int
    after_warmup: float
    """VmRSS (MiB) after the warm-up."""
    after: float
    """VmRSS (MiB) after every request."""
    peak: float
    """VmHWM (MiB) of the process."""
    samples: list[tuple[int, float]] = field(default_factory=list)
    """(requests done, VmRSS MiB) after the warm-up and after each tenth."""

    @property
    def growth(self) -> float:
        return self.after - self.after_warmup

    @property
    def second_half_growth(self) -> float:
        """MiB gained over the second half of the requests: near zero when nothing leaks."""
        half = self.samples[len(self.samples) // 2]
        return self.samples[-1][1] - half[1]


def _cycle(index: int, notes: int, cards: list[int]) -> list[dict[str, Any]]:
    """One round of a client's requests."""
    requests = lookup_requests(index, notes)
    found = [f"word{(index * 7919 + k) % notes}" for k in range(10)]
    query = " or ".join(f'"Front:{word}"' for word in found)
    requests += [
        {"action": "notesInfo", "version": 6, "params": {"query": f'"Front:{found[0]}"'}},
        {"action": "cardsInfo", "version": 6, "params": {"cards": cards[index % len(cards) :][:5]}},
        {"action": "findCards", "version": 6, "params": {"query": f"({query})"}},
        {"action": "deckNames", "version": 6},
    ]
    if index % 50 == 0:
        note = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"memory {index}", "Back": "b"}}
        requests.append({"action": "addNote", "version": 6, "params": {"note": note}})
    return requests


class _Client:
    """Sends requests over one transport, opening a new HTTP connection every 25th request."""

    def __init__(self, port: int, websocket: bool) -> None:
        self._port = port
        self._ws = connect(f"ws://127.0.0.1:{port}/", proxy=None, max_size=None) if websocket else None
        self._http = http.client.HTTPConnection("127.0.0.1", port)
        self._sent = 0

    def send(self, request: dict[str, Any]) -> Any:
        self._sent += 1
        if self._ws is not None:
            self._ws.send(json.dumps({**request, "id": self._sent}))
            reply = json.loads(self._ws.recv())
        else:
            if self._sent % 25 == 0:
                self._http.close()
                self._http = http.client.HTTPConnection("127.0.0.1", self._port)
            body = json.dumps(request).encode()
            self._http.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
            reply = json.loads(self._http.getresponse().read())
        if reply.get("error") is not None:
            raise RuntimeError(f"{request['action']} failed: {reply['error']}")
        return reply

    def close(self) -> None:
        self._http.close()
        if self._ws is not None:
            self._ws.close()


def _run(port: int, notes: int, cards: list[int], total: int, counter: itertools.count[int]) -> None:
    """``total`` requests from CLIENTS clients at once."""
    errors: list[BaseException] = []

    def work(number: int) -> None:
        client = _Client(port, websocket=number == 0)
        try:
            sent = 0
            while sent < total // CLIENTS:
                for request in _cycle(next(counter), notes, cards):
                    client.send(request)
                    sent += 1
                    if sent >= total // CLIENTS:
                        break
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def bench_memory_growth(seed: Path, work: Path, notes: int, requests: int) -> MemoryFigures:
    counter = itertools.count()
    with server_process(copy_of(seed, work, "memory")) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port)
        cards = checked(post(connection, {"action": "findCards", "version": 6, "params": {"query": "deck:Seed*"}}), "")
        connection.close()
        _run(server.port, notes, cards, max(2000, requests // 20), counter)  # warm-up: caches, the field index
        start = server.rss_mib()[0]
        samples = [(0, start)]
        step = requests // 10
        for done in range(step, requests + 1, step):
            _run(server.port, notes, cards, step, counter)
            samples.append((done, server.rss_mib()[0]))
        after, peak = server.rss_mib()
    return MemoryFigures(requests, start, after, peak, samples)
