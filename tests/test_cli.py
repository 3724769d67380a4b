"""The ``ankiconnect-live serve`` command as a user runs it: a real process, real signals."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serve_support import SCRIPT, serve_env, serving
from support import http_post


def test_serve_creates_the_default_collection_and_answers(tmp_path: Path) -> None:
    env = serve_env(tmp_path)
    with serving([], env) as (_, port):
        reply = http_post(port, {"action": "deckNames", "version": 6})
        assert reply.json() == {"result": ["Default"], "error": None}
    assert (tmp_path / "xdg" / "ankiconnect-live" / "collection.anki2").is_file()


def test_sigterm_finishes_cleanly_and_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "c" / "collection.anki2"
    env = serve_env(tmp_path)
    note = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": "kept", "Back": "b"}}
    with serving(["--collection", str(path)], env) as (process, port):
        added = http_post(port, {"action": "addNote", "version": 6, "params": {"note": note}}).json()
        assert added["error"] is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert process.stdout is not None and process.stdout.read() == ""  # exactly one line was printed
    assert not path.with_name("collection.anki2-wal").exists()  # closed, not abandoned
    from anki.collection import Collection

    col = Collection(str(path))
    try:
        assert list(col.find_notes("kept")) == [added["result"]]
    finally:
        col.close()


def test_sigint_stops_with_exit_code_0(tmp_path: Path) -> None:
    with serving(["--collection", str(tmp_path / "c.anki2")], serve_env(tmp_path)) as (process, _):
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0


def test_a_collection_in_use_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c" / "collection.anki2"
    env = serve_env(tmp_path)
    with serving(["--collection", str(path)], env):
        second = subprocess.run(
            [str(SCRIPT), "serve", "--port", "0", "--collection", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
    assert second.returncode == 2
    assert second.stdout == ""
    assert second.stderr.count("\n") == 1 and "already open" in second.stderr and "Traceback" not in second.stderr


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        result = subprocess.run(
            [str(SCRIPT), "serve", "--port", str(port), "--collection", str(tmp_path / "c.anki2")],
            capture_output=True,
            text=True,
            env=serve_env(tmp_path),
            timeout=30,
        )
    finally:
        blocker.close()
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_profile_opens_that_anki_profile(tmp_path: Path, empty_collection: Path) -> None:
    folder = tmp_path / "anki-base" / "Reader"
    folder.mkdir(parents=True)
    shutil.copy(empty_collection, folder / "collection.anki2")
    with serving(["--profile", "Reader"], serve_env(tmp_path)) as (_, port):
        reply = http_post(port, {"action": "notesInfo", "version": 6, "params": {"notes": [1]}})
        assert reply.json() == {"result": [{}], "error": None}
        assert http_post(port, {"action": "createDeck", "version": 6, "params": {"deck": "X"}}).json()["error"] is None
    from anki.collection import Collection

    col = Collection(str(folder / "collection.anki2"))
    try:
        assert col.decks.id_for_name("X") is not None
    finally:
        col.close()


def test_unknown_profile_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SCRIPT), "serve", "--profile", "Nobody"],
        capture_output=True,
        text=True,
        env=serve_env(tmp_path),
        timeout=30,
    )
    assert result.returncode == 2 and "no Anki profile named 'Nobody'" in result.stderr


def test_config_file_and_api_key_flag(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"apiKey": "from-file", "webCorsOriginList": ["http://app.example"]}))
    args = ["--collection", str(tmp_path / "c.anki2"), "--config", str(config)]
    with serving(args, serve_env(tmp_path)) as (_, port):
        assert http_post(port, {"action": "version", "key": "from-file"}).json() == 6
        allowed = http_post(port, {"action": "version", "key": "from-file"}, headers={"Origin": "http://app.example"})
        assert allowed.status == 200
    with serving([*args, "--api-key", "from-flag"], serve_env(tmp_path)) as (_, port):
        assert http_post(port, {"action": "version", "key": "from-flag"}).json() == 6
        denied = http_post(port, {"action": "version", "key": "from-file"}).json()
        assert denied == {"result": None, "error": "valid api key must be provided"}


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"webBindPort": "eighty"}))
    result = subprocess.run(
        [str(SCRIPT), "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        env=serve_env(tmp_path),
        timeout=30,
    )
    assert result.returncode == 2 and "webBindPort" in result.stderr and "Traceback" not in result.stderr


def test_python_dash_m_runs_the_same_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ankiconnect_live", "serve", "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "--collection" in result.stdout and "--api-key" in result.stdout


def test_in_flight_request_finishes_during_shutdown(tmp_path: Path) -> None:
    """SIGTERM while a large addNotes runs: the client still gets its answer, then the server exits 0."""
    import threading

    notes = [
        {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"n{i}", "Back": ""}} for i in range(3000)
    ]
    with serving(["--collection", str(tmp_path / "c.anki2")], serve_env(tmp_path)) as (process, port):
        replies: list[object] = []
        worker = threading.Thread(
            target=lambda: replies.append(
                http_post(port, {"action": "addNotes", "version": 6, "params": {"notes": notes}}).json()
            )
        )
        worker.start()
        time.sleep(0.15)
        process.send_signal(signal.SIGTERM)
        worker.join(30)
        assert process.wait(30) == 0
    assert len(replies) == 1
    reply = replies[0]
    assert isinstance(reply, dict) and reply["error"] is None and len(reply["result"]) == 3000


@pytest.mark.parametrize("flag", ["--help"])
def test_console_script_is_installed(flag: str) -> None:
    result = subprocess.run([str(SCRIPT), flag], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "serve" in result.stdout
