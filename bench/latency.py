"""Round trips of a trivial request (``version``) over each transport, and many clients at once."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from common import percentiles, post, time_calls
from websockets.sync.client import connect

__all__ = ["Throughput", "bench_concurrency", "bench_latency"]


def bench_latency(port: int, count: int) -> dict[str, tuple[float, float]]:
    """Transport -> (p50, p99) in ms of ``count`` sequential ``version`` round trips."""
    version = {"action": "version", "version": 6}
    keep_alive = http.client.HTTPConnection("127.0.0.1", port)
    post(keep_alive, version)
    results = {"HTTP keep-alive": percentiles(time_calls(lambda: post(keep_alive, version), count))}
    keep_alive.close()

    def fresh() -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        try:
            return post(connection, version)
        finally:
            connection.close()

    results["HTTP new connection"] = percentiles(time_calls(fresh, count))
    with connect(f"ws://127.0.0.1:{port}/", proxy=None) as ws:

        def round_trip() -> Any:
            ws.send(json.dumps({"id": 1, **version}))
            return ws.recv()

        round_trip()
        results["WebSocket"] = percentiles(time_calls(round_trip, count))
    return results


@dataclass
class Throughput:
    clients: int
    action: str
    per_second: float
    p50: float
    p99: float


def bench_concurrency(port: int, clients: int, per_client: int, action: str = "deckNames") -> Throughput:
    """``clients`` threads, each on its own keep-alive connection, sending ``per_client`` requests."""
    samples: list[float] = []
    lock = threading.Lock()
    request = json.dumps({"action": action, "version": 6}).encode()
    ready = threading.Barrier(clients + 1)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        post(connection, request)
        ready.wait()
        mine = time_calls(lambda: post(connection, request), per_client)
        connection.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    p50, p99 = percentiles(samples)
    return Throughput(clients, action, clients * per_client / elapsed, p50, p99)
