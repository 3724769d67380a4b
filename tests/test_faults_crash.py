"""The real ``ankiconnect-live serve`` process killed with SIGKILL in the middle of a 10k-note addNotes: the
collection opens afterwards, Anki's database check finds nothing wrong, and it holds all the notes or none."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(sys.executable).with_name("ankiconnect-live")
NOTES = 10_000


@contextmanager
def serving(path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The serve command on ``path``; killed at the end if the test left it running."""
    command = [str(SCRIPT), "serve", "--port", "0", "--collection", str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("listening on http://127.0.0.1:"), line
            yield process, int(line.rsplit(":", 1)[1])
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(30)


def add_notes_body(tag: str) -> bytes:
    notes = [
        {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"{tag} {i}", "Back": "b"}, "tags": [tag]}
        for i in range(NOTES)
    ]
    return json.dumps({"action": "addNotes", "version": 6, "params": {"notes": notes}}).encode()


def post_in_background(port: int, body: bytes) -> tuple[threading.Thread, list[Any]]:
    """Send the request from a thread; what it got back (a reply, or the error the kill caused) lands in the list."""
    outcome: list[Any] = []

    def send() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            connection.request("POST", "/", body)
            outcome.append(json.loads(connection.getresponse().read()))
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=send)
    thread.start()
    return thread, outcome


def wal_size(path: Path) -> int:
    try:
        return path.with_name(path.name + "-wal").stat().st_size
    except FileNotFoundError:
        return 0


def kill_when_writing(process: subprocess.Popen[str], path: Path, limit: float = 120) -> bool:
    """SIGKILL as soon as the write-ahead log grows: SQLite is writing the transaction's pages."""
    before = wal_size(path)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if wal_size(path) != before:
            process.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.0005)
    return False


def check_collection(path: Path) -> tuple[int, str, bool]:
    """The tagged notes, SQLite's own integrity check and Anki's Check Database, on the file as it was left."""
    from anki.collection import Collection

    col = Collection(str(path))
    try:
        count = len(col.find_notes("tag:crash"))
        assert col.db is not None
        sqlite_check = str(col.db.scalar("pragma integrity_check"))
        problems, ok = col.fix_integrity()
        assert ok, problems
        return count, sqlite_check, ok
    finally:
        col.close()


@pytest.mark.parametrize("when", ["while writing", "while preparing"])
def test_sigkill_during_a_big_add_notes_leaves_all_or_none(tmp_path: Path, empty_collection: Path, when: str) -> None:
    path = tmp_path / "crash" / "collection.anki2"
    path.parent.mkdir()
    path.write_bytes(empty_collection.read_bytes())
    body = add_notes_body("crash")
    written = True
    with serving(path) as (process, port):
        thread, outcome = post_in_background(port, body)
        if when == "while writing":
            assert kill_when_writing(process, path), "the server never wrote the notes"
        else:
            before = wal_size(path)
            time.sleep(0.3)  # the notes are still being checked and built: nothing is written yet
            process.send_signal(signal.SIGKILL)
            written = wal_size(path) != before
        assert process.wait(30) == -signal.SIGKILL
        thread.join(30)
    # Killed before it could answer: the request really was cut short.
    assert len(outcome) == 1 and isinstance(outcome[0], OSError | http.client.HTTPException), outcome
    count, sqlite_check, ok = check_collection(path)
    assert sqlite_check == "ok" and ok
    assert count in (0, NOTES), count
    if when == "while preparing" and not written:
        assert count == 0
    print(f"{when}: {count} notes kept")

    # The collection is usable afterwards: served again, the same batch is added whole.
    with serving(path) as (process, port):
        thread, outcome = post_in_background(port, add_notes_body("again"))
        thread.join(120)
        assert isinstance(outcome[0], dict) and outcome[0]["error"] is None
        assert len(outcome[0]["result"]) == NOTES
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
