"""The sync action inside Anki: the profile's own login, a background sync, no modal windows."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anki_harness import AnkiSession, wait_until
from sync_server import PASSWORD, SyncServer, running_sync_server

from ankiconnect_live.actions import ACTIONS, Dispatcher
from ankiconnect_live.headless import HeadlessRuntime
from ankiconnect_live.settings import SYNC_PASSWORD_ENV, load_settings
from ankiconnect_live.wire import Caller


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncServer]:
    with running_sync_server(tmp_path_factory.mktemp("syncserver")) as server:
        yield server


def _log_in(anki: AnkiSession, server: SyncServer, user: str) -> None:
    """What Anki's login dialog stores: the key (never the password) and the server."""
    pm = anki.mw.pm
    auth = anki.mw.col.sync_login(user, PASSWORD, server.endpoint)
    pm.set_custom_sync_url(server.endpoint)
    pm.set_sync_key(auth.hkey)
    pm.set_sync_username(user)


def test_sync_without_a_login_says_how_to_log_in(anki: AnkiSession) -> None:
    anki.fresh_profile()
    error = anki.error("sync")
    assert error.startswith("sync: auth not configured") and "Tools > Preferences > Syncing" in error


def test_sync_uses_the_profiles_login_and_reaches_the_server(
    anki: AnkiSession, sync_server: SyncServer, empty_collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A headless peer uploads first; Anki, opened on a copy of that collection, syncs normally both ways."""
    from aqt import gui_hooks

    user = sync_server.account()
    monkeypatch.setenv(SYNC_PASSWORD_ENV, PASSWORD)
    peer_file = tmp_path / "peer" / "collection.anki2"
    peer_file.parent.mkdir()
    shutil.copy(empty_collection, peer_file)
    settings = load_settings({"syncEndpoint": sync_server.endpoint, "syncUser": user, "webBindPort": 0})

    def on_peer(*requests: dict[str, Any]) -> Any:
        """Run requests on a headless server on the peer's collection (closed again afterwards)."""
        peer = HeadlessRuntime(settings, peer_file)
        peer.open()
        try:
            dispatcher = Dispatcher(ACTIONS, peer)
            result: Any = None
            for request in requests:
                outcome = peer.run(functools.partial(dispatcher.run, {"version": 6, **request}, Caller()))
                assert outcome.error is None, outcome.error
                result = outcome.result
            return result
        finally:
            peer.close()

    on_peer(
        {"action": "addNote", "params": {"note": _note("from the peer")}},
        {"action": "sync", "params": {"fullSync": "upload"}},
    )
    snapshot = tmp_path / "snapshot.anki2"
    shutil.copy(peer_file, snapshot)
    anki.fresh_profile(collection=snapshot)
    _log_in(anki, sync_server, user)
    events: list[str] = []
    started, finished = (lambda: events.append("start")), (lambda: events.append("finish"))
    gui_hooks.sync_will_start.append(started)
    gui_hooks.sync_did_finish.append(finished)
    try:
        anki.invoke("addNote", note=_note("from Anki"))
        assert anki.invoke("sync") is None  # a normal sync: no window, no question
        assert anki.error("sync", fullSync="sideways").startswith('fullSync must be "upload" or "download"')
    finally:
        gui_hooks.sync_will_start.remove(started)
        gui_hooks.sync_did_finish.remove(finished)
    assert events == ["start", "finish"]
    assert on_peer({"action": "sync"}, {"action": "findNotes", "params": {"query": '"front:from Anki"'}})


def _note(front: str) -> dict[str, Any]:
    return {"deckName": "Default", "modelName": "Basic", "fields": {"Front": front}}


def test_a_rejected_login_is_a_clear_error(anki: AnkiSession, sync_server: SyncServer, tmp_path: Path) -> None:
    anki.fresh_profile()
    pm = anki.mw.pm
    pm.set_custom_sync_url(sync_server.endpoint)
    pm.set_sync_key("not-a-real-key")
    pm.set_sync_username("user1")
    error = anki.error("sync")
    assert error.startswith("sync failed:")
    wait_until(lambda: pm.sync_auth() is None, message="Anki to forget the rejected login")
