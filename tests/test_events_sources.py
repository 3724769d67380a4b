"""Events from profiles and sync on a real headless server: opening, switching, reloading, syncing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from event_helpers import Subscriber, names
from profile_support import add_basic, copy_collection, start_running
from support import HttpApiClient, RunningServer, basic_note
from sync_server import PASSWORD, SyncServer, running_sync_server

from ankiconnect_live.actions.context import publish_event, publishing
from ankiconnect_live.settings import SYNC_PASSWORD_ENV, load_settings


@pytest.fixture
def two_profiles(empty_collection: Path, tmp_path: Path) -> Iterator[RunningServer]:
    """A server on profile "A" that may switch to "B", which already holds the note "old"."""
    from anki.collection import Collection

    a = copy_collection(empty_collection, tmp_path / "A")
    b = copy_collection(empty_collection, tmp_path / "B")
    col = Collection(str(b))
    add_basic(col, "old")
    col.close()
    server = start_running(a, lambda: {"A": a, "B": b})
    yield server
    server.stop()


def test_the_first_event_is_the_profile_the_server_opened(two_profiles: RunningServer) -> None:
    subscriber = Subscriber(two_profiles)
    try:
        subscriber.subscribe(["profile.*"], since=0)
        assert [(e["seq"], e["event"], e["data"]) for e in subscriber.settle()] == [
            (1, "profile.opened", {"profile": "A"})
        ]
    finally:
        subscriber.close()


def test_switching_and_reloading_publish_profile_events(two_profiles: RunningServer) -> None:
    api = HttpApiClient(two_profiles.port)
    subscriber = Subscriber(two_profiles)
    try:
        subscriber.subscribe(["*"])
        assert api.invoke("loadProfile", name="B") is True
        # B's own notes were there before: they are not news.
        assert [(e["event"], e["data"]) for e in subscriber.settle()] == [
            ("profile.closed", {"profile": "A"}),
            ("profile.opened", {"profile": "B"}),
        ]
        assert api.invoke("loadProfile", name="B") is True
        assert subscriber.settle() == []  # already open: nothing happened
        note_id = api.invoke("addNote", note=basic_note("new in B"))
        got = subscriber.settle()
        assert names(got) == ["collection.changed", "note.added", "counts.changed"]
        assert got[1]["data"]["noteId"] == note_id and got[2]["data"]["new"] == 2

        api.invoke("reloadCollection")
        assert [(e["event"], e["data"]) for e in subscriber.settle()] == [
            ("profile.closed", {"profile": "B"}),
            ("profile.opened", {"profile": "B"}),
        ]
        # A switch and a change in one request: the change is found in the collection switched to.
        replies = api.invoke(
            "multi",
            actions=[
                {"action": "loadProfile", "params": {"name": "A"}},
                {"action": "addNote", "params": {"note": basic_note("new in A")}},
            ],
        )
        got = subscriber.settle()
        assert names(got) == ["profile.closed", "profile.opened", "collection.changed", "note.added", "counts.changed"]
        assert got[3]["data"]["noteId"] == replies[1]
        assert got[4]["data"]["new"] == 1
    finally:
        subscriber.close()
        api.close()


def test_the_snapshot_names_the_open_profile(two_profiles: RunningServer) -> None:
    api = HttpApiClient(two_profiles.port)
    api.invoke("loadProfile", name="B")
    api.close()
    subscriber = Subscriber(two_profiles)
    try:
        subscriber.subscribe(snapshot=True)
        got = subscriber.settle()
        assert [(e["event"], e["data"]) for e in got] == [
            ("profile.opened", {"profile": "B"}),
            ("counts.changed", {"deckId": 1, "deck": "Default", "new": 1, "learn": 0, "review": 0}),
        ]
    finally:
        subscriber.close()


# sync


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncServer]:
    with running_sync_server(tmp_path_factory.mktemp("syncserver")) as server:
        yield server


def test_sync_publishes_its_start_its_end_and_what_it_brought(
    sync_server: SyncServer, empty_collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SYNC_PASSWORD_ENV, PASSWORD)
    config = {"syncEndpoint": sync_server.endpoint, "syncUser": sync_server.account(), "webBindPort": 0}
    servers = [_peer(empty_collection, tmp_path / name, config) for name in ("A", "B")]
    a, b = (HttpApiClient(server.port) for server in servers)
    watch_b = Subscriber(servers[1])
    try:
        a.invoke("addNote", note=basic_note("from A"))
        a.error("sync")  # a full sync is needed first
        a.invoke("sync", fullSync="upload")
        watch_b.subscribe(["sync.*", "note.*", "collection.changed"])
        assert b.error("sync").startswith("full sync required")
        assert [(e["event"], e["data"]) for e in watch_b.settle()] == [
            ("sync.started", {}),
            ("sync.finished", {"ok": False}),
        ]
        b.invoke("sync", fullSync="download")
        got = watch_b.settle()
        assert names(got) == ["sync.started", "sync.finished", "collection.changed", "note.added"]
        assert got[1]["data"] == {"ok": True}
        assert got[2]["data"]["source"] == "sync"
        assert got[3]["data"]["sortField"] == "from A"

        # A normal sync brings A's next note to B, once.
        a.invoke("addNote", note=basic_note("second"))
        a.invoke("sync")
        b.invoke("sync")
        got = watch_b.settle()
        assert names(got) == ["sync.started", "sync.finished", "collection.changed", "note.added"]
        assert got[3]["data"]["sortField"] == "second"
        b.invoke("sync")
        assert names(watch_b.settle()) == ["sync.started", "sync.finished"]  # nothing new
    finally:
        watch_b.close()
        for client, server in zip((a, b), servers, strict=True):
            client.close()
            server.stop()


def _peer(empty: Path, folder: Path, config: dict[str, object]) -> RunningServer:
    from ankiconnect_live.app import App
    from ankiconnect_live.headless import HeadlessRuntime

    runtime = HeadlessRuntime(load_settings(config), copy_collection(empty, folder))
    runtime.open()
    app = App(runtime, runtime.post)
    app.start()
    return RunningServer(app, runtime, runtime.path)


def test_handlers_publish_only_inside_the_request_that_runs_them() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    publish_event("media.stored", {"filename": "before"})  # no request: nowhere, and no error
    with publishing(lambda name, data: seen.append((name, data))):
        publish_event("media.stored", {"filename": "during"})
    publish_event("media.stored", {"filename": "after"})
    assert seen == [("media.stored", {"filename": "during"})]


def test_a_burst_from_another_thread_arrives_whole_and_in_order(server: RunningServer) -> None:
    subscriber = Subscriber(server)
    try:
        subscriber.subscribe(["media.stored"])

        def publish_burst() -> None:
            for n in range(500):
                server.app.events.publish("media.stored", {"filename": f"{n}"})

        burst = threading.Thread(target=publish_burst)
        burst.start()
        burst.join()
        got = subscriber.settle()
        assert [e["data"]["filename"] for e in got] == [f"{n}" for n in range(500)]
        assert [e["seq"] for e in got] == list(range(got[0]["seq"], got[0]["seq"] + 500))
    finally:
        subscriber.close()
    server.app.stop()
    server.app.events.publish("media.stored", {"filename": "after the end"})  # nobody to deliver to: no error


# what a request changed


def test_one_request_is_one_undo_step_even_after_a_change_outside_the_undo_queue(server: RunningServer) -> None:
    api = HttpApiClient(server.port)
    subscriber = Subscriber(server)
    two_notes = [{"action": "addNote", "params": {"note": basic_note(front)}} for front in ("x", "y")]
    try:
        subscriber.subscribe(["collection.changed", "note.added"])
        # Saving a deck's options is a legacy change: Anki empties its undo queue. It is still one event.
        assert api.invoke("saveDeckConfig", config=api.invoke("getDeckConfig", deck="Default")) is True
        (changed,) = subscriber.settle()
        assert {"deckConfig", "config"} <= set(changed["data"]["changes"])
        api.invoke("multi", actions=two_notes)
        got = subscriber.settle()
        assert names(got) == ["collection.changed", "note.added", "note.added"]
        assert "deckConfig" not in got[0]["data"]["changes"]  # the request's own changes, merged
        # One Edit > Undo takes the whole request back.
        server.on_collection(lambda col: col.undo())
        assert api.invoke("findNotes", query="") == []
    finally:
        subscriber.close()
        api.close()
