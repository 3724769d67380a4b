"""Benchmarks of the headless server against a seeded 20k-note collection (run with ``make bench``).

Every server figure is taken from a real ``ankiconnect-live serve`` process over loopback; the baseline
for data work is the same operation done directly with the ``anki`` pylib in the same run, reported as a
ratio (server / direct), so the numbers compare across machines.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import copy_of, post, seeded_collection, served
from data_ops import compare_data_operations
from websockets.sync.client import connect

from events import bench_events, bench_request_to_event


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_calls(call: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def bench_latency(port: int, count: int) -> dict[str, tuple[float, float]]:
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


def bench_concurrency(port: int, clients: int, per_client: int) -> tuple[float, float, float]:
    samples: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        mine = time_calls(lambda: post(connection, {"action": "deckNames", "version": 6}), per_client)
        connection.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    p50, p99 = percentiles(samples)
    return clients * per_client / elapsed, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=20_000, help="size of the seeded collection")
    parser.add_argument("--requests", type=int, default=2000, help="requests per latency figure")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each data-operation comparison")
    args = parser.parse_args()

    print(f"# AnkiConnect Live benchmarks ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    seed = seeded_collection(args.notes)
    print(f"seeded collection: {args.notes} notes")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with served(copy_of(seed, work, "latency")) as port:
            for name, (p50, p99) in bench_latency(port, args.requests).items():
                print(f"version over {name:20} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms")
            rate, p50, p99 = bench_concurrency(port, clients=8, per_client=args.requests // 4)
            print(f"8 concurrent clients, deckNames: {rate:8.0f} req/s   p50 {p50:6.3f} ms   p99 {p99:6.3f} ms")
        for label, direct, server in compare_data_operations(seed, work, args.rounds):
            ratio = server / direct
            print(f"{label:28} server {server:7.1f} ms   direct {direct:7.1f} ms   ratio {ratio:4.2f}x")
        print_event_latency(seed, work, args.notes)


def print_event_latency(seed: Path, work: Path, notes: int) -> None:
    print("event latency, publish -> WebSocket subscriber (in-process server, lean subscribers in other processes):")
    for total, (p50, p99, last50, last99) in bench_events().items():
        print(
            f"{total:5} subscribers: each delivery p50 {p50:7.3f} ms  p99 {p99:7.3f} ms   "
            f"last delivery of an event p50 {last50:7.3f} ms  p99 {last99:7.3f} ms"
        )
    reply50, reply99, event50, event99 = bench_request_to_event(seed, work)
    print(
        f"addNote -> note.added at 100 subscribers (serve, {notes} notes): "
        f"reply p50 {reply50:6.3f} ms  p99 {reply99:6.3f} ms   event p50 {event50:6.3f} ms  p99 {event99:6.3f} ms"
    )


if __name__ == "__main__":
    main()
