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
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"
SCRIPT = Path(sys.executable).with_name("ankiconnect-live")


def seeded_collection(notes: int) -> Path:
    """A collection with ``notes`` Basic notes in 20 decks, built once and cached."""
    path = CACHE / f"seed-{notes}" / "collection.anki2"
    if path.exists():
        return path
    from anki.collection import AddNoteRequest, Collection

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("building.anki2")
    col = Collection(str(partial))
    model = col.models.by_name("Basic")
    assert model is not None
    decks = [col.decks.id(f"Seed::Deck {d}") for d in range(20)]
    requests = []
    for i in range(notes):
        note = col.new_note(model)
        note["Front"] = f"word{i}"
        note["Back"] = f"meaning of word {i}"
        note.tags = [f"t{i % 50}"]
        deck = decks[i % 20]
        assert deck is not None
        requests.append(AddNoteRequest(note, deck))
    col.add_notes(requests)
    col.optimize()  # SQLite statistics, as Anki's Check Database leaves them
    col.close()
    partial.rename(path)
    return path


def copy_of(source: Path, folder: Path, name: str) -> Path:
    target = folder / name / "collection.anki2"
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    return target


@contextmanager
def served(collection: Path) -> Iterator[int]:
    command = [str(SCRIPT), "serve", "--port", "0", "--collection", str(collection)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"server did not start: {line!r}")
        try:
            yield int(line.rsplit(":", 1)[1])
        finally:
            process.terminate()
            process.wait(30)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def post(connection: http.client.HTTPConnection, request: dict[str, Any] | bytes) -> Any:
    body = request if isinstance(request, bytes) else json.dumps(request).encode()
    connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    return json.loads(connection.getresponse().read())


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


def note_batch(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"{tag} {i}", "Back": "b"}}
        for i in range(count)
    ]


def direct_add_notes(col: Any, specs: list[dict[str, Any]]) -> float:
    """The floor: the same notes built and added with one ``col.add_notes`` call."""
    from anki.collection import AddNoteRequest

    start = time.perf_counter()
    model = col.models.by_name("Basic")
    deck_ids = {name: col.decks.id_for_name(name) for name in {spec["deckName"] for spec in specs}}
    requests = []
    for spec in specs:
        note = col.new_note(model)
        for name, value in spec["fields"].items():
            note[name] = value
        requests.append(AddNoteRequest(note, deck_ids[spec["deckName"]]))
    col.add_notes(requests)
    return (time.perf_counter() - start) * 1000


def bench_add_notes(seed: Path, work: Path, rounds: int, count: int) -> tuple[float, float]:
    """Median of ``rounds`` alternating runs, each side warmed up first on its own copy of the seed."""
    from anki.collection import Collection

    col = Collection(str(copy_of(seed, work, "direct")))
    direct, served_ms = [], []
    try:
        with served(copy_of(seed, work, "served")) as port:
            connection = http.client.HTTPConnection("127.0.0.1", port)
            direct_add_notes(col, note_batch(10, "warm"))
            post(connection, {"action": "addNotes", "version": 6, "params": {"notes": note_batch(10, "warm")}})
            for r in range(rounds):
                direct.append(direct_add_notes(col, note_batch(count, f"round{r}")))
                notes = note_batch(count, f"round{r}")
                request = json.dumps({"action": "addNotes", "version": 6, "params": {"notes": notes}}).encode()
                start = time.perf_counter()  # the client's own encoding is not the server's cost
                reply = post(connection, request)
                served_ms.append((time.perf_counter() - start) * 1000)
                assert reply["error"] is None and len(reply["result"]) == count, reply["error"]
            connection.close()
    finally:
        col.close()
    return statistics.median(direct), statistics.median(served_ms)


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
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the addNotes comparison")
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
        direct, server = bench_add_notes(seed, work, args.rounds, 1000)
        ratio = server / direct
        print(f"addNotes 1000: server {server:7.1f} ms   direct col.add_notes {direct:7.1f} ms   ratio {ratio:4.2f}x")


if __name__ == "__main__":
    main()
