"""The collection closed underneath a client: profile switches and reloads from one client while another runs
large multi and addNotes batches, and a reload that cannot reopen the file in the middle of a multi. Every
request gets a clear answer, each batch lands whole in one collection, and the server keeps serving."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from profile_support import copy_collection, start_running
from support import ApiClient, HttpApiClient, RunningServer, WsApiClient, basic_note

from ankiconnect_live.headless import folder_profiles

BATCH = 400


@pytest.fixture
def base(empty_collection: Path, tmp_path: Path) -> Path:
    base = tmp_path / "anki-base"
    copy_collection(empty_collection, base / "Alpha")
    copy_collection(empty_collection, base / "Beta")
    return base


_stopped: set[int] = set()


def stop(server: RunningServer) -> None:
    """Stop the server inside a test (to open its files afterwards); the fixture then leaves it alone."""
    _stopped.add(id(server))
    server.stop()


@pytest.fixture
def server(base: Path) -> Iterator[RunningServer]:
    """Overrides conftest's server (so ``client`` talks to this one): Alpha open, Beta known."""
    running = start_running(base / "Alpha" / "collection.anki2", folder_profiles(base))
    yield running
    if id(running) not in _stopped:
        running.stop()
    _stopped.discard(id(running))


def new_client(like: ApiClient, server: RunningServer) -> ApiClient:
    return HttpApiClient(server.port) if like.transport == "http" else WsApiClient(server.ws_url)


def notes_by_profile(api: ApiClient) -> dict[str, set[str]]:
    """The Front of every note, per profile (switching through both; Alpha is left open)."""
    found: dict[str, set[str]] = {}
    for name in ("Beta", "Alpha"):
        assert api.invoke("loadProfile", name=name) is True
        infos = api.invoke("notesInfo", query="deck:*")
        found[name] = {info["fields"]["Front"]["value"] for info in infos}
    return found


def check_integrity(path: Path) -> None:
    from anki.collection import Collection

    col = Collection(str(path))
    try:
        problems, ok = col.fix_integrity()
        assert ok, problems
    finally:
        col.close()


def test_batches_land_whole_while_another_client_switches_and_reloads(
    client: ApiClient, server: RunningServer, base: Path
) -> None:
    problems: list[Any] = []
    batches: list[set[str]] = []
    done = threading.Event()
    switches: list[str] = []

    def switcher() -> None:
        api = new_client(client, server)
        steps = [("loadProfile", {"name": "Beta"}), ("reloadCollection", {}), ("loadProfile", {"name": "Alpha"})]
        try:
            i = 0
            while not done.is_set() or i < len(steps):
                action, params = steps[i % len(steps)]
                result, error = api.call({"action": action, "version": 6, "params": params})
                if error is not None or result not in (True, None):
                    problems.append((action, result, error))
                i += 1
                switches.append(action)
        finally:
            api.close()

    thread = threading.Thread(target=switcher)
    thread.start()
    try:
        for round_ in range(4):
            fronts = [f"multi {round_} {i}" for i in range(BATCH)]
            steps = [{"action": "addNote", "params": {"note": basic_note(front)}} for front in fronts]
            results = client.invoke("multi", actions=steps)
            if not all(isinstance(r, int) for r in results):
                problems.append(("multi", round_, [r for r in results if not isinstance(r, int)][:3]))
            batches.append(set(fronts))
            fronts = [f"batch {round_} {i}" for i in range(BATCH)]
            ids = client.invoke("addNotes", notes=[basic_note(front) for front in fronts])
            if len(ids) != BATCH or not all(isinstance(i, int) for i in ids):
                problems.append(("addNotes", round_, ids[:3]))
            batches.append(set(fronts))
    finally:
        done.set()
        thread.join(120)
    assert problems == []
    during = len(switches)
    found = notes_by_profile(client)
    for batch in batches:
        # A multi and an addNotes each run on the collection thread in one go: a switch waits for them.
        assert batch <= found["Alpha"] or batch <= found["Beta"], sorted(batch)[:3]
    assert found["Alpha"] | found["Beta"] == set().union(*batches)
    assert not found["Alpha"] & found["Beta"]
    assert during >= 3  # the collection really was switched and reloaded between the batches
    stop(server)
    for name in ("Alpha", "Beta"):
        check_integrity(base / name / "collection.anki2")


def test_a_reload_that_cannot_reopen_mid_multi_gives_clear_errors(
    client: ApiClient, server: RunningServer, base: Path
) -> None:
    path = base / "Alpha" / "collection.anki2"
    aside = path.with_name("aside.anki2")
    # The open collection follows its file to the new name; the old name now holds something unreadable.
    os.replace(path, aside)
    path.write_bytes(b"not sqlite " * 500)
    steps = [
        {"action": "addNote", "params": {"note": basic_note("before")}},
        {"action": "reloadCollection"},
        {"action": "addNote", "params": {"note": basic_note("lost")}},
        {"action": "findNotes", "params": {"query": "deck:*"}},
        {"action": "loadProfile", "params": {"name": "Beta"}},
        {"action": "addNote", "params": {"note": basic_note("in beta")}},
    ]
    results = client.invoke("multi", actions=steps)
    assert isinstance(results[0], int) and isinstance(results[5], int)
    assert results[1:5] == [
        {
            "result": None,
            "error": f"cannot reopen profile 'Alpha': {path} is not an Anki collection (file is not a database) "
            "(no collection is open until reloadCollection or loadProfile succeeds)",
        },
        {"result": None, "error": "collection is not available"},
        {"result": None, "error": "collection is not available"},
        True,
    ]
    # Another client is answered all along; the server still serves.
    other = new_client(client, server)
    try:
        assert other.invoke("getActiveProfile") == "Beta"
        os.replace(aside, path)
        assert notes_by_profile(other) == {"Alpha": {"before"}, "Beta": {"in beta"}}
    finally:
        other.close()
    stop(server)
    check_integrity(path)
