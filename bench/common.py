"""What every benchmark needs: the cached seeded collection, a server process, a JSON POST."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["copy_of", "post", "seeded_collection", "served"]

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


def post(connection: http.client.HTTPConnection, request: dict[str, Any] | bytes) -> Any:
    body = request if isinstance(request, bytes) else json.dumps(request).encode()
    connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    return json.loads(connection.getresponse().read())
