"""What every benchmark needs: the cached seeded collection, a server process, a JSON POST, percentiles."""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "SERVER_PEAKS",
    "ServerProcess",
    "checked",
    "copy_of",
    "percentiles",
    "post",
    "rss_mib",
    "seeded_collection",
    "served",
    "server_process",
    "time_calls",
]

CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"
SCRIPT = Path(sys.executable).with_name("ankiconnect-live")
DECKS = 20
"""Seeded notes go round-robin into ``Seed::Deck 0`` .. ``Seed::Deck 19``: note i is ``word{i}`` in deck i % 20."""

SERVER_PEAKS: list[tuple[str, float]] = []
"""(collection file, peak RSS in MiB) of every server process that ``server_process`` ran, in order."""


def seeded_collection(notes: int) -> Path:
    """A collection with ``notes`` Basic notes in 20 decks, built once and cached."""
    path = CACHE / f"seed-{notes}" / "collection.anki2"
    if path.exists():
        return path
    from anki.collection import AddNoteRequest, Collection

    print(f"building the seeded collection of {notes} notes (cached in {path.parent})", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("building.anki2")
    partial.unlink(missing_ok=True)
    col = Collection(str(partial))
    model = col.models.by_name("Basic")
    assert model is not None
    decks = [col.decks.id(f"Seed::Deck {d}") for d in range(DECKS)]
    requests = []
    for i in range(notes):
        note = col.new_note(model)
        note["Front"] = f"word{i}"
        note["Back"] = f"meaning of word {i}"
        note.tags = [f"t{i % 50}"]
        deck = decks[i % DECKS]
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


@dataclass
class ServerProcess:
    """A running ``ankiconnect-live serve``: its port and process id."""

    port: int
    pid: int

    def rss_mib(self) -> tuple[float, float]:
        """(current, peak) resident memory of the process, in MiB."""
        return rss_mib(self.pid)


@contextmanager
def server_process(collection: Path) -> Iterator[ServerProcess]:
    """A real server process on ``collection``; its peak RSS is recorded in ``SERVER_PEAKS`` when it stops."""
    command = [str(SCRIPT), "serve", "--port", "0", "--collection", str(collection)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            process.terminate()
            raise RuntimeError(f"server did not start: {line!r}")
        server = ServerProcess(int(line.rsplit(":", 1)[1]), process.pid)
        try:
            yield server
        finally:
            with contextlib.suppress(OSError):  # it died already: the caller's error says why
                SERVER_PEAKS.append((str(collection), server.rss_mib()[1]))
            process.terminate()
            process.wait(30)


@contextmanager
def served(collection: Path) -> Iterator[int]:
    """A real server process on ``collection``: its port."""
    with server_process(collection) as server:
        yield server.port


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB, from /proc (Linux)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def post(connection: http.client.HTTPConnection, request: dict[str, Any] | bytes) -> Any:
    body = request if isinstance(request, bytes) else json.dumps(request).encode()
    connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    return json.loads(connection.getresponse().read())


def checked(reply: Any, what: str) -> Any:
    """The result of a version-6 reply, or an error naming ``what``."""
    if not isinstance(reply, dict) or reply.get("error") is not None:
        raise RuntimeError(f"{what} failed: {str(reply)[:300]}")
    return reply["result"]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) of the samples."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_calls(call: Callable[[], Any], count: int) -> list[float]:
    """Milliseconds taken by each of ``count`` calls."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples
