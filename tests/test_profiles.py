"""Profiles headless: the collections a server knows, switching between them safely, and reloadCollection."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import serve_support
from profile_support import add_basic, copy_collection, running, start_running
from serve_support import serve_env
from support import ApiClient, HttpApiClient, RunningServer, basic_note, http_post

from ankiconnect_live.headless import folder_profiles


@pytest.fixture
def base(empty_collection: Path, tmp_path: Path) -> Path:
    """An Anki base folder: two profiles, plus folders and files that are not profiles."""
    base = tmp_path / "anki-base"
    copy_collection(empty_collection, base / "Alpha")
    copy_collection(empty_collection, base / "Beta")
    (base / "addons21").mkdir()
    (base / "prefs21.db").write_bytes(b"")
    return base


@pytest.fixture
def server(base: Path) -> Iterator[RunningServer]:
    """Overrides conftest's server (so ``client`` talks to this one): Alpha open, Beta known."""
    running = start_running(base / "Alpha" / "collection.anki2", folder_profiles(base))
    yield running
    running.stop()


def _ids(client: ApiClient, query: str) -> list[int]:
    found: list[int] = client.invoke("findNotes", query=query)
    return found


def test_profiles_and_the_active_one(client: ApiClient) -> None:
    assert client.invoke("getProfiles") == ["Alpha", "Beta"]
    assert client.invoke("getActiveProfile") == "Alpha"


def test_switching_changes_the_collection_actions_see(client: ApiClient, server: RunningServer) -> None:
    in_alpha = client.invoke("addNote", note=basic_note("in-alpha"))
    assert client.invoke("loadProfile", name="Beta") is True
    assert client.invoke("getActiveProfile") == "Beta"
    assert _ids(client, "in-alpha") == []
    in_beta = client.invoke("addNote", note=basic_note("in-beta"))
    assert client.invoke("loadProfile", name="Alpha") is True
    assert _ids(client, "in-alpha") == [in_alpha] and _ids(client, "in-beta") == []
    assert client.invoke("notesInfo", notes=[in_alpha])[0]["profile"] == "Alpha"
    # The same profile again is a no-op: the very same collection stays open.
    col = server.runtime.run(server.runtime.collection)
    assert client.invoke("loadProfile", name="Alpha") is True
    assert server.runtime.run(server.runtime.collection) is col
    assert client.invoke("loadProfile", name="Beta") is True
    assert _ids(client, "in-beta") == [in_beta]


def test_an_unknown_profile_is_false_and_changes_nothing(client: ApiClient) -> None:
    assert client.invoke("loadProfile", name="Nobody") is False
    assert client.invoke("loadProfile", name="alpha") is False  # names are exact, as in Anki
    assert client.invoke("getActiveProfile") == "Alpha"
    assert client.error("loadProfile") == "AnkiConnect.loadProfile() missing 1 required positional argument: 'name'"


def test_the_old_collection_is_closed_so_anki_can_change_it(client: ApiClient, base: Path) -> None:
    from anki.collection import Collection

    assert client.invoke("loadProfile", name="Beta") is True
    col = Collection(str(base / "Alpha" / "collection.anki2"))  # would fail with "already open" if still held
    try:
        edited = add_basic(col, "edited-in-anki")
    finally:
        col.close()
    assert client.invoke("loadProfile", name="Alpha") is True
    assert _ids(client, "edited-in-anki") == [edited]


def test_a_locked_collection_fails_clearly_and_the_old_profile_stays(client: ApiClient, base: Path) -> None:
    from anki.collection import Collection

    in_alpha = client.invoke("addNote", note=basic_note("in-alpha"))
    beta = base / "Beta" / "collection.anki2"
    anki = Collection(str(beta))  # as if Anki had the Beta profile open
    try:
        error = client.error("loadProfile", name="Beta")
        assert error == (
            f"cannot open profile 'Beta': collection {beta} is already open in Anki or another server; "
            "close it first (profile 'Alpha' stays open)"
        )
        assert client.invoke("getActiveProfile") == "Alpha"
        assert _ids(client, "in-alpha") == [in_alpha]
        assert client.invoke("addNote", note=basic_note("still-usable"))
    finally:
        anki.close()
    assert client.invoke("loadProfile", name="Beta") is True
    assert client.invoke("getActiveProfile") == "Beta"


def test_a_corrupt_collection_fails_clearly_and_new_profile_folders_show_up(client: ApiClient, base: Path) -> None:
    broken = base / "Broken" / "collection.anki2"
    broken.parent.mkdir()
    broken.write_bytes(b"not sqlite " * 500)
    assert client.invoke("getProfiles") == ["Alpha", "Beta", "Broken"]  # listed afresh on each request
    error = client.error("loadProfile", name="Broken")
    assert error == (
        f"cannot open profile 'Broken': {broken} is not an Anki collection (file is not a database) "
        "(profile 'Alpha' stays open)"
    )
    assert client.invoke("getActiveProfile") == "Alpha"
    assert client.invoke("deckNames") == ["Default"]


def test_multi_runs_in_order_around_a_switch(client: ApiClient) -> None:
    """Requests queued before a switch run on the old collection, those after it on the new one."""
    in_alpha = client.invoke("addNote", note=basic_note("in-alpha"))
    steps = [
        {"action": "findNotes", "params": {"query": "in-alpha"}},
        {"action": "loadProfile", "params": {"name": "Beta"}},
        {"action": "findNotes", "params": {"query": "in-alpha"}},
        {"action": "getActiveProfile"},
    ]
    assert client.invoke("multi", actions=steps) == [[in_alpha], True, [], "Beta"]


def test_requests_concurrent_with_switches_all_get_sane_answers(server: RunningServer) -> None:
    setup = HttpApiClient(server.port)
    alpha = {setup.invoke("addNote", note=basic_note(f"alpha {i}")) for i in range(3)}
    assert setup.invoke("loadProfile", name="Beta")
    beta = {setup.invoke("addNote", note=basic_note(f"beta {i}")) for i in range(2)}
    setup.close()
    expected = {"Alpha": alpha, "Beta": beta}
    problems: list[Any] = []

    def switcher() -> None:
        api = HttpApiClient(server.port)
        for i in range(12):
            request = {"action": "loadProfile", "version": 6, "params": {"name": ["Alpha", "Beta"][i % 2]}}
            result, error = api.call(request)
            if (result, error) != (True, None):
                problems.append(("loadProfile", result, error))
        api.close()

    def reader() -> None:
        api = HttpApiClient(server.port)
        for _ in range(25):
            # multi runs on the collection thread in one go, so the name and the notes must agree.
            steps = [{"action": "getActiveProfile"}, {"action": "findNotes", "params": {"query": "deck:*"}}]
            result, error = api.call({"action": "multi", "version": 6, "params": {"actions": steps}})
            if error is not None or set(result[1]) != expected.get(result[0]):
                problems.append(("multi", result, error))
            result, error = api.call({"action": "deckNames", "version": 6})
            if (result, error) != (["Default"], None):
                problems.append(("deckNames", result, error))
        api.close()

    threads = [threading.Thread(target=switcher)] + [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert problems == []


# reloadCollection


def test_reload_keeps_everything_and_opens_the_file_afresh(client: ApiClient, server: RunningServer) -> None:
    kept = client.invoke("addNote", note=basic_note("kept"))
    col = server.runtime.run(server.runtime.collection)
    assert client.invoke("reloadCollection") is None
    assert server.runtime.run(server.runtime.collection) is not col
    assert _ids(client, "kept") == [kept]
    assert client.invoke("getActiveProfile") == "Alpha"


def test_reload_sees_a_collection_file_replaced_on_disk(
    client: ApiClient, server: RunningServer, base: Path, empty_collection: Path, tmp_path: Path
) -> None:
    """A restored backup (or a file written by another tool) replaces the file the server has open."""
    from anki.collection import Collection

    client.invoke("addNote", note=basic_note("before the restore"))
    backup = copy_collection(empty_collection, tmp_path / "backup")
    col = Collection(str(backup))
    try:
        restored = add_basic(col, "from the backup")
    finally:
        col.close()
    os.replace(backup, base / "Alpha" / "collection.anki2")
    assert _ids(client, "from the backup") == []  # the server still reads the file it opened
    assert client.invoke("reloadCollection") is None
    assert _ids(client, "from the backup") == [restored]
    assert _ids(client, "before the restore") == []
    assert server.on_collection(lambda col: col.db.scalar("pragma integrity_check")) == "ok"
    assert client.invoke("addNote", note=basic_note("after the restore"))


def test_closing_after_the_file_was_replaced_leaves_the_new_file_intact(empty_collection: Path, tmp_path: Path) -> None:
    """SQLite leaves a replaced file's log behind on close; replayed into the new file it would corrupt it."""
    from anki.collection import Collection

    path = copy_collection(empty_collection, tmp_path / "Live")
    backup = copy_collection(empty_collection, tmp_path / "backup")
    col = Collection(str(backup))
    try:
        restored = add_basic(col, "from the backup")
    finally:
        col.close()
    with running(path) as server:
        server.on_collection(lambda col: add_basic(col, "before the restore"))
        os.replace(backup, path)
        server.on_collection(lambda col: add_basic(col, "written to the old file"))
    col = Collection(str(path))
    try:
        assert list(col.find_notes("")) == [restored]
        assert col.db is not None and col.db.scalar("pragma integrity_check") == "ok"
    finally:
        col.close()


def test_a_failed_reload_leaves_no_collection_until_one_opens(client: ApiClient, base: Path) -> None:
    path = base / "Alpha" / "collection.anki2"
    good = path.read_bytes()
    junk = path.with_name("junk")
    junk.write_bytes(b"not sqlite " * 500)
    os.replace(junk, path)
    assert client.error("reloadCollection") == (
        f"cannot reopen profile 'Alpha': {path} is not an Anki collection (file is not a database) "
        "(no collection is open until reloadCollection or loadProfile succeeds)"
    )
    assert client.error("deckNames") == "collection is not available"
    assert client.invoke("getActiveProfile") == "Alpha"
    assert client.invoke("getProfiles") == ["Alpha", "Beta"]
    assert "no collection is open" in client.error("loadProfile", name="Alpha")
    path.write_bytes(good)
    assert client.invoke("loadProfile", name="Alpha") is True  # the same profile, not open: opened again
    assert client.invoke("deckNames") == ["Default"]
    assert client.invoke("reloadCollection") is None


# the serve command


@contextmanager
def serving(args: list[str], env: dict[str, str]) -> Iterator[int]:
    """A ``serve`` process's port; it must exit cleanly (0) on SIGTERM at the end."""
    with serve_support.serving(args, env) as (process, port):
        yield port
    assert process.returncode == 0


def _call(port: int, action: str, **params: Any) -> Any:
    reply = http_post(port, {"action": action, "version": 6, "params": params}).json()
    assert reply["error"] is None, reply
    return reply["result"]


def test_cli_repeated_collections_are_the_profiles(tmp_path: Path, empty_collection: Path) -> None:
    from anki.collection import Collection

    first = tmp_path / "decks" / "japanese.anki2"
    second = copy_collection(empty_collection, tmp_path / "Work")
    with serving(["--collection", str(first), "--collection", str(second)], serve_env(tmp_path)) as port:
        assert _call(port, "getProfiles") == ["japanese", "Work"]
        assert _call(port, "getActiveProfile") == "japanese"
        assert _call(port, "loadProfile", name="Work") is True
        _call(port, "addNote", note=basic_note("at work"))
        assert _call(port, "getActiveProfile") == "Work"
    for path in (first, second):  # both closed cleanly: the one left open at the end too
        assert not path.with_name(path.name + "-wal").exists()
        Collection(str(path)).close()


def test_cli_profile_knows_every_profile_of_the_base_folder(tmp_path: Path, empty_collection: Path) -> None:
    base = tmp_path / "anki-base"
    copy_collection(empty_collection, base / "User 1")
    copy_collection(empty_collection, base / "Reader")
    (base / "addons21").mkdir()
    with serving(["--profile", "Reader"], serve_env(tmp_path)) as port:
        assert _call(port, "getProfiles") == ["Reader", "User 1"]
        assert _call(port, "getActiveProfile") == "Reader"
        assert _call(port, "loadProfile", name="User 1") is True
        assert _call(port, "loadProfile", name="addons21") is False


def test_cli_two_collections_with_one_name_are_a_clear_error(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "collection.anki2", tmp_path / "b" / "a" / "collection.anki2"
    result = subprocess.run(
        [str(serve_support.SCRIPT), "serve", "--collection", str(first), "--collection", str(second)],
        capture_output=True,
        text=True,
        env=serve_env(tmp_path),
        timeout=30,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"ankiconnect-live: error: {first} and {second} would both be the profile 'a'; rename one of them\n"
    )
    assert not first.exists()  # nothing was created


def test_cli_a_corrupt_collection_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.anki2"
    path.write_bytes(b"not sqlite " * 500)
    result = subprocess.run(
        [str(serve_support.SCRIPT), "serve", "--collection", str(path)],
        capture_output=True,
        text=True,
        env=serve_env(tmp_path),
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == f"ankiconnect-live: error: {path} is not an Anki collection (file is not a database)\n"
