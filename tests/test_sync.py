"""The sync action against Anki's own sync server (``python -m anki.syncserver``) on loopback.

One sync server runs for the whole module; every test gets an account of its own on it, so tests start
from an empty server collection without restarting anything. Collections are real files served by real
headless servers, driven over HTTP.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ApiClient, HttpApiClient, RunningServer, basic_note
from sync_server import PASSWORD, SyncServer, free_port, running_sync_server

from ankiconnect_live.actions import sync as sync_action, sync_session
from ankiconnect_live.app import App
from ankiconnect_live.headless import HeadlessRuntime
from ankiconnect_live.settings import SYNC_PASSWORD_ENV, load_settings

UPLOAD_ONLY = (
    "full sync required: the server's collection has no cards; "
    'call sync with {"fullSync": "upload"} to replace the server\'s copy with this one'
)
DOWNLOAD_ONLY = (
    "full sync required: this collection has no cards; "
    'call sync with {"fullSync": "download"} to replace this one with the server\'s'
)
BOTH_WAYS = (
    "full sync required: the collection and the server differ too much to merge; "
    'call sync with {"fullSync": "upload"} to replace the server\'s copy with this one, '
    'or {"fullSync": "download"} to replace this one with the server\'s'
)


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncServer]:
    with running_sync_server(tmp_path_factory.mktemp("syncserver")) as server:
        yield server


# headless servers


Peer = Callable[..., tuple[RunningServer, ApiClient]]


@pytest.fixture
def start_peer(untouched_collection: Path, tmp_path: Path) -> Iterator[Peer]:
    """More headless servers in one test, each on its own copy of a fresh collection: never changed, as a
    first sync expects."""
    started: list[tuple[RunningServer, ApiClient]] = []

    def start(name: str, **config: Any) -> tuple[RunningServer, ApiClient]:
        folder = tmp_path / name
        folder.mkdir()
        path = folder / "collection.anki2"
        shutil.copy(untouched_collection, path)
        runtime = HeadlessRuntime(load_settings({"webBindPort": 0, **config}), path)
        runtime.open()
        app = App(runtime, runtime.post)
        app.start()
        server = RunningServer(app, runtime, path)
        client = HttpApiClient(server.port)
        started.append((server, client))
        return server, client

    yield start
    for server, client in started:
        client.close()
        server.stop()


@pytest.fixture(autouse=True)
def password_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SYNC_PASSWORD_ENV, PASSWORD)


@pytest.fixture(autouse=True)
def no_password_leaks(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Nothing this process logs or prints contains the password (checked after every test)."""
    caplog.set_level(logging.DEBUG)
    yield
    out, err = capfd.readouterr()
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in records)
    for text in (logged, out, err):
        assert PASSWORD not in text
        assert "wrong-" + PASSWORD not in text


def sync_error(client: ApiClient, **params: Any) -> str:
    error = client.error("sync", **params)
    assert PASSWORD not in error
    assert "\u2068" not in error and "\n" not in error
    assert "Traceback" not in error and "github.com" not in error
    return error


def fronts(client: ApiClient) -> list[str]:
    """The Front of every note, as the API reports them."""
    ids = client.invoke("findNotes", query="")
    return sorted(info["fields"]["Front"]["value"] for info in client.invoke("notesInfo", notes=ids))


def add(client: ApiClient, front: str) -> int:
    note_id: int = client.invoke("addNote", note=basic_note(front))
    return note_id


@pytest.fixture
def linked(sync_server: SyncServer, start_peer: Peer) -> tuple[ApiClient, ApiClient, RunningServer]:
    """A and B on one fresh account, both past their first (full) sync, each holding the note "first"."""
    user = sync_server.account()
    _, a = start_peer("A", syncEndpoint=sync_server.endpoint, syncUser=user)
    b_server, b = start_peer("B", syncEndpoint=sync_server.endpoint, syncUser=user)
    add(a, "first")
    assert sync_error(a) == UPLOAD_ONLY
    assert a.invoke("sync", fullSync="upload") is None
    assert sync_error(b) == DOWNLOAD_ONLY
    assert b.invoke("sync", fullSync="download") is None
    assert fronts(b) == ["first"]
    return a, b, b_server


# credentials and configuration


def test_the_password_variable_is_the_one_the_cli_documents() -> None:
    assert sync_session.PASSWORD_ENV == SYNC_PASSWORD_ENV == sync_action.PASSWORD_ENV


def test_without_a_user_auth_is_not_configured(start_peer: Peer) -> None:
    _, client = start_peer("A")
    error = sync_error(client)
    assert error.startswith("sync: auth not configured")
    assert "syncUser" in error and SYNC_PASSWORD_ENV in error


def test_without_the_password_variable_auth_is_not_configured(
    start_peer: Peer, sync_server: SyncServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SYNC_PASSWORD_ENV)
    _, client = start_peer("A", syncEndpoint=sync_server.endpoint, syncUser="user1")
    error = sync_error(client)
    assert error == (
        f"sync: auth not configured: the environment variable {SYNC_PASSWORD_ENV} "
        "(the password of syncUser 'user1') is not set"
    )


def test_an_invalid_endpoint_is_a_clear_error(start_peer: Peer) -> None:
    _, client = start_peer("A", syncEndpoint="sync.example:8080", syncUser="user1")
    assert sync_error(client) == "sync: syncEndpoint must be an http:// or https:// URL, not 'sync.example:8080'"


@pytest.mark.parametrize("value", ["sideways", "", "UPLOAD"])
def test_a_bad_full_sync_value_is_refused_before_anything_happens(start_peer: Peer, value: str) -> None:
    _, client = start_peer("A")  # no account configured: the value is checked first
    assert sync_error(client, fullSync=value) == f'fullSync must be "upload" or "download" (or null), not {value!r}'


def test_a_full_sync_value_of_the_wrong_type_is_refused(start_peer: Peer) -> None:
    _, client = start_peer("A")
    assert "fullSync" in sync_error(client, fullSync=1)


def test_a_wrong_password_is_a_clear_error_and_a_right_one_then_works(
    sync_server: SyncServer, start_peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = sync_server.account()
    _, client = start_peer("A", syncEndpoint=sync_server.endpoint, syncUser=user)
    monkeypatch.setenv(SYNC_PASSWORD_ENV, "wrong-" + PASSWORD)
    error = sync_error(client)
    assert error == (
        f"sync: login as {user!r} at {sync_server.endpoint} failed: Email or password was incorrect; "
        f"please try again. Check syncUser and the password in {SYNC_PASSWORD_ENV}."
    )
    assert "wrong-" + PASSWORD not in error
    monkeypatch.setenv(SYNC_PASSWORD_ENV, PASSWORD)
    assert client.invoke("sync") is None


def test_an_unreachable_server_is_a_clear_error(start_peer: Peer) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/"
    _, client = start_peer("A", syncEndpoint=endpoint, syncUser="user1")
    add(client, "kept")
    error = sync_error(client)
    assert error.startswith(f"sync with {endpoint} failed: A network error occurred.")
    assert fronts(client) == ["kept"]  # the collection is still usable


def test_the_login_is_kept_in_memory_not_the_password(
    sync_server: SyncServer, start_peer: Peer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = sync_server.account()
    _, client = start_peer("A", syncEndpoint=sync_server.endpoint, syncUser=user)
    assert client.invoke("sync") is None
    assert f"logged in to {sync_server.endpoint} as {user}" in caplog.text  # what the leak check reads
    monkeypatch.delenv(SYNC_PASSWORD_ENV)
    assert client.invoke("sync") is None  # no second login: the host key was kept


def test_serve_syncs_with_the_password_from_the_environment_and_never_logs_it(
    sync_server: SyncServer, tmp_path: Path
) -> None:
    """The real command, logging everything at DEBUG: the password reaches the login and no output."""
    user = sync_server.account()
    command = [str(Path(sys.executable).with_name("ankiconnect-live")), "serve", "--port", "0", "--log-level", "DEBUG"]
    command += ["--collection", str(tmp_path / "c" / "collection.anki2")]
    command += ["--sync-endpoint", sync_server.endpoint, "--sync-user", user]
    env = os.environ | {"XDG_DATA_HOME": str(tmp_path / "xdg"), "ANKI_BASE": str(tmp_path / "base")}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            line = process.stdout.readline()
            assert line.startswith("listening on http://127.0.0.1:"), line
            client = HttpApiClient(int(line.rsplit(":", 1)[1]))
            assert client.send({"action": "sync", "version": 6}) == {"result": None, "error": None}
            client.close()
        finally:
            process.terminate()
            out, err = process.communicate(timeout=20)
    assert f"logged in to {sync_server.endpoint} as {user}" in err
    assert PASSWORD not in line + out + err


def test_a_rejected_remembered_login_is_done_again(sync_server: SyncServer, start_peer: Peer) -> None:
    user = sync_server.account()
    server, client = start_peer("A", syncEndpoint=sync_server.endpoint, syncUser=user)
    assert client.invoke("sync") is None
    sync_session._logins[server.runtime].auth.hkey = "stale"
    assert client.invoke("sync") is None
    assert sync_session._logins[server.runtime].auth.hkey != "stale"


# syncing


def test_the_readme_sample_and_the_bare_version_4_reply(sync_server: SyncServer, start_peer: Peer) -> None:
    """AnkiConnect's README sample (replayed here, where a sync server exists), and upstream's default version."""
    _, client = start_peer("A", syncEndpoint=sync_server.endpoint, syncUser=sync_server.account())
    assert client.send({"action": "sync", "version": 6}) == {"result": None, "error": None}
    assert client.send({"action": "sync"}) is None


def test_first_sync_of_fresh_collections(sync_server: SyncServer, start_peer: Peer) -> None:
    user = sync_server.account()
    config = {"syncEndpoint": sync_server.endpoint, "syncUser": user}
    _, a = start_peer("A", **config)
    _, b = start_peer("B", **config)
    # Both sides empty: nothing to do.
    assert a.invoke("sync") is None
    # A note on A, the server still without cards: only an upload can follow; a download is refused.
    add(a, "from A")
    assert sync_error(a) == UPLOAD_ONLY
    assert sync_error(a, fullSync="download").startswith('fullSync "download" refused: the server\'s collection')
    assert fronts(a) == ["from A"]
    assert a.invoke("sync", fullSync="upload") is None
    assert a.invoke("sync") is None  # in step with the server now
    # B is empty and the server is not: only a download can follow; an upload is refused.
    assert sync_error(b) == DOWNLOAD_ONLY
    assert sync_error(b, fullSync="upload").startswith('fullSync "upload" refused: this collection has no cards')
    assert fronts(b) == []
    assert b.invoke("sync", fullSync="download") is None
    assert fronts(b) == ["from A"]
    assert b.invoke("sync") is None


def test_a_note_added_on_one_collection_arrives_on_the_other(
    linked: tuple[ApiClient, ApiClient, RunningServer],
) -> None:
    a, b, _ = linked
    add(a, "second")
    assert a.invoke("sync") is None
    assert fronts(b) == ["first"]
    assert b.invoke("sync") is None
    assert fronts(b) == ["first", "second"]
    # and back; fullSync is ignored when no full sync is needed
    add(b, "third")
    assert b.invoke("sync", fullSync="download") is None
    assert a.invoke("sync") is None
    assert fronts(a) == ["first", "second", "third"]


def test_media_stored_on_one_collection_arrives_on_the_other(
    linked: tuple[ApiClient, ApiClient, RunningServer],
) -> None:
    a, b, _ = linked
    data = "c3luY2VkIG1lZGlh"  # base64 of "synced media"
    assert a.invoke("storeMediaFile", filename="synced.txt", data=data) == "synced.txt"
    assert a.invoke("sync") is None
    assert b.invoke("sync") is None  # returns once the media sync has finished
    assert b.invoke("retrieveMediaFile", filename="synced.txt") == data


def test_media_is_left_alone_when_sync_media_is_off(sync_server: SyncServer, start_peer: Peer) -> None:
    user = sync_server.account()
    config = {"syncEndpoint": sync_server.endpoint, "syncUser": user, "syncMedia": False}
    _, a = start_peer("A", **config)
    _, b = start_peer("B", **config)
    add(a, "note")
    a.invoke("storeMediaFile", filename="local.txt", data="bG9jYWw=")
    assert a.invoke("sync", fullSync="upload") is None
    assert b.invoke("sync", fullSync="download") is None
    assert fronts(b) == ["note"]
    assert b.invoke("retrieveMediaFile", filename="local.txt") is False


def _conflict(b_server: RunningServer, b: ApiClient) -> None:
    """A local change on B plus a schema change: the server can no longer merge B."""
    add(b, "only on B")
    b_server.on_collection(lambda col: col.mod_schema(check=False))


def test_a_conflict_needs_a_choice_and_changes_nothing(
    linked: tuple[ApiClient, ApiClient, RunningServer],
) -> None:
    a, b, b_server = linked
    add(a, "only on A")
    assert a.invoke("sync") is None
    _conflict(b_server, b)
    assert sync_error(b) == BOTH_WAYS
    assert sync_error(b) == BOTH_WAYS  # asking again changes nothing either
    assert fronts(b) == ["first", "only on B"]
    assert a.invoke("sync") is None
    assert fronts(a) == ["first", "only on A"]


def test_a_conflict_settled_by_downloading(
    linked: tuple[ApiClient, ApiClient, RunningServer],
) -> None:
    a, b, b_server = linked
    add(a, "only on A")
    assert a.invoke("sync") is None
    _conflict(b_server, b)
    backups = b_server.path.parent / "backups"
    shutil.rmtree(backups, ignore_errors=True)  # the first download may have made one already
    assert b.invoke("sync", fullSync="download") is None
    assert fronts(b) == ["first", "only on A"]
    assert b.invoke("sync") is None
    assert [p.suffix for p in backups.iterdir()] == [".colpkg"]  # the replaced collection was kept


def test_a_conflict_settled_by_uploading(
    linked: tuple[ApiClient, ApiClient, RunningServer],
) -> None:
    a, b, b_server = linked
    _conflict(b_server, b)
    assert b.invoke("sync", fullSync="upload") is None
    assert b.invoke("sync") is None
    # A's copy now differs from the server's schema: A must choose too.
    assert sync_error(a) == BOTH_WAYS
    assert a.invoke("sync", fullSync="download") is None
    assert fronts(a) == ["first", "only on B"]


def test_a_failed_full_sync_leaves_the_collection_usable_and_unchanged(
    linked: tuple[ApiClient, ApiClient, RunningServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from anki.collection import Collection

    a, b, b_server = linked
    _conflict(b_server, b)
    dead = f"http://127.0.0.1:{free_port()}/"
    real = Collection.full_upload_or_download

    def unreachable(col: Collection, *, auth: Any, server_usn: int | None, upload: bool) -> None:
        # The real backend call, which takes the collection, fails on the network and opens it again.
        moved = type(auth)()
        moved.CopyFrom(auth)
        moved.endpoint = dead
        real(col, auth=moved, server_usn=server_usn, upload=upload)

    with monkeypatch.context() as patched:
        patched.setattr(Collection, "full_upload_or_download", unreachable)
        error = sync_error(b, fullSync="download")
    assert error.startswith("full sync (download) with ") and "failed: A network error occurred." in error
    assert fronts(b) == ["first", "only on B"]
    add(b, "still writable")
    assert sync_error(b) == BOTH_WAYS
    assert b.invoke("sync", fullSync="upload") is None
    assert a.invoke("sync", fullSync="download") is None
    assert fronts(a) == ["first", "only on B", "still writable"]
