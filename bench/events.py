"""Event latency to WebSocket subscribers: from ``publish`` to receipt, with 1, 100 and 1000 of them.

Publish-to-client: the server runs in this process (``App`` on a ``HeadlessRuntime``, as ``serve`` builds them)
on an empty collection, and events are published from a plain thread, as the collection thread publishes
them. The subscribers run in other processes, so their reading does not share the server's GIL, and are lean
(raw frames, no compression, the stamp found with a regex), so the figures are the server's and not a client
library's. Each event carries ``time.monotonic_ns()`` from just before ``publish``; each subscriber subtracts it
from its own clock on receipt (CLOCK_MONOTONIC is one clock for every process on Linux and macOS). Events go one
at a time: the next is published once every subscriber has the previous one, so the figures are latency, not
a queue filling up.

Request-to-event: a real ``ankiconnect-live serve`` process on the seeded collection; ``addNote`` is sent and
``note.added`` timed at 100 subscribers, so the figure includes the request and the change scan.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import multiprocessing
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from common import copy_of, post, served

__all__ = ["bench_events", "bench_request_to_event"]

PER_PROCESS = 250
"""Subscribers per client process."""

STAMP = re.compile(rb'"(?:t|sortField)": "?(\d+)')
"""Where an event's stamp is: ``data.t`` (published here) or ``data.sortField`` (the note's Front)."""


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


# the subscriber processes


class LeanSubscriber(asyncio.Protocol):
    """One WebSocket subscription with as little client work as possible: a raw handshake and raw frames."""

    def __init__(self, port: int, names: list[str], on_stamp: Callable[[int], None]) -> None:
        self._port, self._names, self._on_stamp = port, names, on_stamp
        self._buffer = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        head = (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        transport.write(head.encode())

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self._buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(f"no WebSocket: {bytes(self._buffer[:end])!r}")
            del self._buffer[: end + 4]
            self._upgraded = True
            request = {"action": "subscribe", "version": 6, "params": {"events": self._names}}
            self._send(0x1, json.dumps(request).encode())
        while (frame := self._next_frame()) is not None:
            opcode, payload = frame
            if opcode == 0x9:
                self._send(0xA, payload)  # pong, or the server closes us after a while
            elif opcode == 0x1 and (found := STAMP.search(payload)):
                self._on_stamp(now - int(found[1]))
            elif opcode == 0x1 and not self.subscribed.done():
                self.subscribed.set_result(None)

    def _next_frame(self) -> tuple[int, bytes] | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        length, offset = buffer[1] & 0x7F, 2
        if length >= 126:
            offset = 4 if length == 126 else 10
            if len(buffer) < offset:
                return None
            length = int.from_bytes(buffer[2:offset], "big")
        if len(buffer) < offset + length:
            return None
        payload = bytes(buffer[offset : offset + length])
        opcode = buffer[0] & 0x0F
        del buffer[: offset + length]
        return opcode, payload

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None and len(payload) < 1 << 16
        mask = os.urandom(4)
        size = bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0xFE]) + len(payload).to_bytes(2, "big")
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode]) + size + mask + masked)


def _subscriber_process(port: int, count: int, names: list[str], events: int, pipe: Connection) -> None:
    asyncio.run(_subscribe_and_time(port, count, names, events, pipe))


async def _subscribe_and_time(port: int, count: int, names: list[str], events: int, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    latencies: list[int] = []
    done = loop.create_future()

    def on_stamp(nanoseconds: int) -> None:
        latencies.append(nanoseconds)
        if len(latencies) % count == 0:
            pipe.send("got one")  # every subscriber here has this event
        if len(latencies) == count * events:
            done.set_result(None)

    subscribers = []
    for _ in range(count):
        _, subscriber = await loop.create_connection(lambda: LeanSubscriber(port, names, on_stamp), "127.0.0.1", port)
        await subscriber.subscribed
        subscribers.append(subscriber)
    pipe.send("ready")
    await done
    pipe.send(latencies)
    for subscriber in subscribers:
        assert subscriber.transport is not None
        subscriber.transport.close()


class Subscribers:
    """Subscribers in client processes, ``PER_PROCESS`` to a process."""

    def __init__(self, port: int, total: int, names: list[str], events: int) -> None:
        context = multiprocessing.get_context("spawn")  # no fork: this process runs threads
        self.total, self.events = total, events
        self.latencies: list[float] = []
        """Every delivery (ms), process by process, each in the order received; filled by ``finish``."""
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        for start in range(0, total, PER_PROCESS):
            mine, theirs = context.Pipe()
            count = min(PER_PROCESS, total - start)
            args = (port, count, names, events, theirs)
            process = context.Process(target=_subscriber_process, args=args, daemon=True)
            process.start()
            self._pipes.append(mine)
            self._processes.append(process)
        for pipe in self._pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("a subscriber process failed to start")

    def wait(self) -> None:
        """Until every subscriber has the event just published."""
        for pipe in self._pipes:
            pipe.recv()

    def finish(self) -> None:
        for pipe in self._pipes:
            self.latencies.extend(ns / 1e6 for ns in pipe.recv())
        for process in self._processes:
            process.join(30)

    def slowest(self) -> list[float]:
        """The latency of each event's last delivery (events went one at a time, so they arrived in order)."""
        slowest = [0.0] * self.events
        offset = 0
        for start in range(0, self.total, PER_PROCESS):
            count = min(PER_PROCESS, self.total - start)
            for index, value in enumerate(self.latencies[offset : offset + count * self.events]):
                slowest[index // count] = max(slowest[index // count], value)
            offset += count * self.events
        return slowest

    def stop(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()


@contextmanager
def subscribers(port: int, total: int, names: list[str], events: int) -> Iterator[Subscribers]:
    group = Subscribers(port, total, names, events)
    try:
        yield group
        group.finish()
    finally:
        group.stop()


# publish-to-client, in-process server


@contextmanager
def in_process_server() -> Iterator[Any]:
    from anki.collection import Collection

    from ankiconnect_live.app import App
    from ankiconnect_live.headless import HeadlessRuntime
    from ankiconnect_live.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench" / "collection.anki2"
        path.parent.mkdir()
        Collection(str(path)).close()
        runtime = HeadlessRuntime(load_settings({"webBindPort": 0}), path)
        runtime.open()
        app = App(runtime, runtime.post)
        app.start()
        try:
            yield app
        finally:
            app.stop()
            runtime.close()


def bench_events(counts: tuple[int, ...] = (1, 100, 1000), events: int = 200) -> dict[int, tuple[float, ...]]:
    """Subscribers -> (p50, p99 of every delivery, p50, p99 of each event's last delivery, the server's own
    CPU time per event), in ms."""
    results: dict[int, tuple[float, ...]] = {}
    with in_process_server() as app:
        loop_clock = _cpu_clock_of("ankiconnect-live-server")
        for total in counts:
            rounds = max(20, events * 10 // max(total, 10))  # fewer events when each goes to many
            with subscribers(app.server.port, total, ["media.stored"], rounds) as group:
                # The event loop does all of the fan-out (subscribers send nothing while events arrive): its CPU
                # time is the server's share of the latency; the rest is the subscribers' on the same cores.
                started = time.clock_gettime(loop_clock)
                for n in range(rounds):
                    # From this thread, not the server's: as the collection thread publishes.
                    app.events.publish("media.stored", {"t": time.monotonic_ns(), "n": n})
                    group.wait()
                    time.sleep(0.002)
                busy = (time.clock_gettime(loop_clock) - started) * 1000 / rounds
            results[total] = (*_quantiles(group.latencies), *_quantiles(group.slowest()), busy)
    return results


def _cpu_clock_of(thread_name: str) -> int:
    """The CPU-time clock of a thread of this process (Linux and macOS), found by its name."""
    (thread,) = [t for t in threading.enumerate() if t.name == thread_name]
    assert thread.ident is not None
    return time.pthread_getcpuclockid(thread.ident)


# request-to-event, real server process


def bench_request_to_event(seed: Path, work: Path, total: int = 100, requests: int = 100) -> tuple[float, ...]:
    """(p50, p99 of addNote's reply, p50, p99 of addNote sent -> note.added received), in ms."""
    replies: list[float] = []
    with served(copy_of(seed, work, "events")) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        with subscribers(port, total, ["note.added"], requests) as group:
            for _ in range(requests):
                stamp = time.monotonic_ns()
                note = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": str(stamp), "Back": "b"}}
                reply = post(connection, {"action": "addNote", "version": 6, "params": {"note": note}})
                replies.append((time.monotonic_ns() - stamp) / 1e6)
                if reply["error"] is not None:
                    raise RuntimeError(f"addNote failed: {reply['error']}")
                group.wait()
        connection.close()
    return (*_quantiles(replies), *_quantiles(group.latencies))


# a burst: a bulk add while clients subscribe to its events


def bench_burst(seed: Path, work: Path, total: int = 10, notes: int = 10_000) -> dict[str, float]:
    """An ``addNotes`` of ``notes`` notes while ``total`` WebSocket clients subscribe to ``note.added`` and
    another client sends ``version`` every 10 ms: the reply, when the last subscriber had every event (its
    reading included: the subscribers are threads of this process), how many were disconnected, and how long
    ``version`` took meanwhile (ms)."""
    from websockets.sync.client import connect

    with served(copy_of(seed, work, "burst")) as port:
        sockets = [connect(f"ws://127.0.0.1:{port}/", compression=None, max_size=None) for _ in range(total)]
        for ws in sockets:
            ws.send(json.dumps({"id": 1, "action": "subscribe", "version": 6, "params": {"events": ["note.added"]}}))
            json.loads(ws.recv(timeout=10))
        finished: list[float] = []
        dropped: list[Exception] = []

        def read(ws: Any) -> None:
            try:
                for _ in range(notes):
                    ws.recv(timeout=60)
                finished.append(time.perf_counter())
            except Exception as exc:  # closed as too slow (4008), or timed out
                dropped.append(exc)

        probes: list[float] = []
        done = threading.Event()

        def probe() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port)
            while not done.is_set():
                started = time.perf_counter()
                post(connection, {"action": "version", "version": 6})
                probes.append((time.perf_counter() - started) * 1000)
                time.sleep(0.01)
            connection.close()

        threads = [threading.Thread(target=read, args=(ws,)) for ws in sockets] + [threading.Thread(target=probe)]
        for thread in threads:
            thread.start()
        batch = [
            {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"burst {i}", "Back": "b"}}
            for i in range(notes)
        ]
        connection = http.client.HTTPConnection("127.0.0.1", port)
        started = time.perf_counter()
        reply = post(connection, {"action": "addNotes", "version": 6, "params": {"notes": batch}})
        replied = time.perf_counter()
        if reply["error"] is not None:
            raise RuntimeError(f"addNotes failed: {reply['error']}")
        for thread in threads[:-1]:
            thread.join(120)
        done.set()
        threads[-1].join(10)
        for ws in sockets:
            ws.close()
        connection.close()
    return {
        "subscribers": total,
        "notes": notes,
        "reply_ms": (replied - started) * 1000,
        "last_ms": (max(finished) - started) * 1000 if finished else float("nan"),
        "disconnected": len(dropped),
        "probe_p50_ms": _quantiles(probes)[0],
        "probe_max_ms": max(probes),
    }
