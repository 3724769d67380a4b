"""A full disk and read-only folders under the real ``serve`` process: clear errors, nothing half-written, and
the server keeps serving.

Tests run as root, which ignores file permissions, so permissions cannot make a folder read-only here. Each
server runs instead in its own mount namespace (``unshare -m``) over a tiny tmpfs or a read-only bind mount,
which bind root as well; the mounts vanish with the process. The test reaches the server's files through
``/proc/<pid>/root``, which looks paths up in the server's namespace.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from serve_support import SCRIPT, listening

UNSHARE = shutil.which("unshare")
SERVE = f'exec "{SCRIPT}" serve --port 0 --collection "$1/collection.anki2"'
MEDIA = base64.b64encode(os.urandom(300_000)).decode()


def _namespaces_work(folder: Path) -> bool:
    if UNSHARE is None:
        return False
    probe = [UNSHARE, "-m", "--propagation", "private", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)]
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


@pytest.fixture
def namespace_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mnt"
    folder.mkdir()
    if not _namespaces_work(folder):
        pytest.skip("needs unshare(1) and the right to mount (root with CAP_SYS_ADMIN) for a full or read-only disk")
    return folder


def run_in_namespace(setup: str, folder: Path, *args: str) -> subprocess.Popen[str]:
    """``sh -c setup folder args...`` in a private mount namespace; ``setup`` ends by exec-ing serve."""
    assert UNSHARE is not None
    command = [UNSHARE, "-m", "--propagation", "private", "sh", "-ec", setup, "sh", str(folder), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextmanager
def serving_in_namespace(setup: str, folder: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    with run_in_namespace(setup, folder, *args) as process, listening(process, stop_within=30) as port:
        yield process, port


def call(port: int, action: str, **params: Any) -> tuple[Any, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/", json.dumps({"action": action, "version": 6, "params": params}))
        reply = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return reply["result"], reply["error"]


def note(front: str, media: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": front, "Back": "b"}}
    if media:
        spec["picture"] = [{"filename": f"{front}.bin", "data": MEDIA, "fields": ["Back"]}]
    return spec


def fill(folder: Path) -> Path:
    """Write a file until the filesystem is full."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == 28, exc  # ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_read_only_collection_folder_stops_serve_with_a_clear_error(
    namespace_folder: Path, empty_collection: Path
) -> None:
    shutil.copy(empty_collection, namespace_folder / "collection.anki2")
    setup = f'mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; {SERVE}'
    with run_in_namespace(setup, namespace_folder) as process:
        out, err = process.communicate(timeout=60)
    assert process.returncode == 2 and out == ""
    assert err == (
        f"ankiconnect-live: error: cannot open {namespace_folder / 'collection.anki2'}: its folder is read-only "
        "(Anki must write beside it)\n"
    )


def test_a_full_disk_gives_clear_errors_and_writes_nothing_half(
    namespace_folder: Path, empty_collection: Path, tmp_path: Path
) -> None:
    # The request log is on the full disk too: failing to write it must not cost anyone an answer.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"apiLogPath": str(namespace_folder / "requests.jsonl")}))
    setup = f'mount -t tmpfs -o size=8m tmpfs "$1"; cp "$2" "$1/collection.anki2"; {SERVE} --config "$3"'
    with serving_in_namespace(setup, namespace_folder, str(empty_collection), str(config)) as (process, port):
        inside = Path(f"/proc/{process.pid}/root") / namespace_folder.relative_to("/")
        kept, error = call(port, "addNote", note=note("kept"))
        assert error is None
        log = inside / "requests.jsonl"
        deadline = time.monotonic() + 30  # the log is written by a thread of its own
        while '"kind": "reply"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert '"kind": "reply"' in log.read_text()  # the log really is on this disk
        media = inside / "collection.media"
        filler = fill(inside)

        result, error = call(port, "storeMediaFile", filename="big.bin", data=MEDIA)
        assert (result, error) == (None, "cannot write the collection: the disk is full (database or disk is full)")
        result, error = call(port, "addNote", note=note("lost"))
        assert (result, error) == (None, "cannot write the collection: the disk is full (database or disk is full)")
        result, error = call(port, "addNotes", notes=[note(f"lost {i}") for i in range(50)])
        assert result is None and "the disk is full" in error
        # Reads still work, and the server is still up.
        assert call(port, "findNotes", query="deck:*") == ([kept], None)
        assert call(port, "deckNames") == (["Default"], None)

        # Room for the media database but not for the file: Anki fails while writing it.
        os.truncate(filler, filler.stat().st_size - 150_000)
        result, error = call(port, "storeMediaFile", filename="big.bin", data=MEDIA)
        assert result is None and "big.bin" in error and "No space left on device" in error, error
        assert not (media / "big.bin").exists()  # the part Anki wrote before the disk filled up is gone
        result, error = call(port, "addNote", note=note("with-media", media=True))
        assert result is None and "No space left on device" in error
        assert not (media / "with-media.bin").exists()
        assert call(port, "findNotes", query="deck:*") == ([kept], None)

        filler.unlink()
        later, error = call(port, "addNote", note=note("later", media=True))
        assert error is None
        assert call(port, "findNotes", query="deck:*") == ([kept, later], None)
        assert call(port, "retrieveMediaFile", filename="later.bin") == (MEDIA, None)
        assert call(port, "getMediaFilesNames") == (["later.bin"], None)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_a_note_too_large_for_the_disk_leaves_no_media_behind(namespace_folder: Path, empty_collection: Path) -> None:
    """Media are stored before the notes; when the notes then cannot be written, the new files go again."""
    picture = os.urandom(1 << 20)
    setup = f'mount -t tmpfs -o size=8m tmpfs "$1"; cp "$2" "$1/collection.anki2"; {SERVE}'
    with serving_in_namespace(setup, namespace_folder, str(empty_collection)) as (process, port):
        inside = Path(f"/proc/{process.pid}/root") / namespace_folder.relative_to("/")
        assert call(port, "storeMediaFile", filename="warm.bin", data="d2FybQ==") == ("warm.bin", None)
        filler = fill(inside)
        os.truncate(filler, filler.stat().st_size - len(picture) - 512 * 1024)  # room for the picture only
        spec = note("x" * (3 << 20))
        spec["picture"] = [{"filename": "orphan.bin", "data": base64.b64encode(picture).decode(), "fields": ["Back"]}]
        result, error = call(port, "addNote", note=spec)
        assert (result, error) == (None, "cannot write the collection: the disk is full (database or disk is full)")
        assert sorted(os.listdir(inside / "collection.media")) == ["warm.bin"]
        filler.unlink()
        assert call(port, "findNotes", query="deck:*") == ([], None)
        assert call(port, "getMediaFilesNames") == (["warm.bin"], None)


def test_a_read_only_media_folder_refuses_media_and_keeps_notes_whole(
    namespace_folder: Path, empty_collection: Path
) -> None:
    shutil.copy(empty_collection, namespace_folder / "collection.anki2")
    (namespace_folder / "collection.media").mkdir()
    media = "$1/collection.media"
    setup = f'mount --bind "{media}" "{media}"; mount -o remount,bind,ro "{media}"; {SERVE}'
    with serving_in_namespace(setup, namespace_folder) as (process, port):
        result, error = call(port, "storeMediaFile", filename="a.bin", data=MEDIA)
        assert result is None and "Read-only file system" in error and "a.bin" in error, error
        result, error = call(port, "addNotes", notes=[note("plain"), note("pictured", media=True)])
        assert result is None and "Read-only file system" in error, error
        assert call(port, "findNotes", query="deck:*") == ([], None)  # all or nothing: not even the plain one
        plain, error = call(port, "addNote", note=note("plain"))
        assert error is None
        assert call(port, "findNotes", query="deck:*") == ([plain], None)
        assert call(port, "getMediaFilesNames") == ([], None)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_a_multi_whose_run_of_notes_cannot_be_written_at_once_runs_them_one_by_one(
    namespace_folder: Path, empty_collection: Path
) -> None:
    """A run of addNote or updateNoteFields calls is written at once; when storing one call's media fails, the
    run goes one call at a time and only that call fails, as when they were sent one by one."""
    shutil.copy(empty_collection, namespace_folder / "collection.anki2")
    (namespace_folder / "collection.media").mkdir()
    media = "$1/collection.media"
    setup = f'mount --bind "{media}" "{media}"; mount -o remount,bind,ro "{media}"; {SERVE}'
    with serving_in_namespace(setup, namespace_folder) as (process, port):
        adds = [{"action": "addNote", "params": {"note": note(front, media=front == "pictured")}} for front in "ab"]
        adds.insert(1, {"action": "addNote", "params": {"note": note("pictured", media=True)}})
        (first, failed, second), error = call(port, "multi", actions=adds)
        assert error is None and isinstance(first, int) and isinstance(second, int)
        assert failed["result"] is None and "Read-only file system" in failed["error"], failed
        assert call(port, "findNotes", query="deck:*") == ([first, second], None)

        picture = note("x", media=True)["picture"]
        edits = [
            {"action": "updateNoteFields", "params": {"note": {"id": first, "fields": {"Back": "one"}}}},
            {
                "action": "updateNoteFields",
                "params": {"note": {"id": second, "fields": {"Back": "2"}, "picture": picture}},
            },
            {"action": "updateNoteFields", "params": {"note": {"id": second, "fields": {"Front": "two"}}}},
        ]
        (done, failed, also_done), error = call(port, "multi", actions=edits)
        assert error is None and done is None and also_done is None
        assert failed["result"] is None and "Read-only file system" in failed["error"], failed
        infos, _ = call(port, "notesInfo", notes=[first, second])
        assert [(n["fields"]["Front"]["value"], n["fields"]["Back"]["value"]) for n in infos] == [
            ("a", "one"),
            ("two", "b"),
        ]
        assert call(port, "getMediaFilesNames") == ([], None)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


FILL = 'dd if=/dev/zero of="$1/filler" bs=64k 2>/dev/null || true'  # dd stops when the disk is full


def test_serve_starts_on_a_full_disk_answers_reads_and_refuses_writes_clearly(
    namespace_folder: Path, empty_collection: Path
) -> None:
    setup = f'mount -t tmpfs -o size=8m tmpfs "$1"; cp "$2" "$1/collection.anki2"; {FILL}; {SERVE}'
    with serving_in_namespace(setup, namespace_folder, str(empty_collection)) as (process, port):
        assert call(port, "deckNames") == (["Default"], None)
        assert call(port, "findNotes", query="deck:*") == ([], None)
        result, error = call(port, "addNote", note=note("lost"))
        assert (result, error) == (None, "cannot write the collection: the disk is full (database or disk is full)")
        assert call(port, "findNotes", query="deck:*") == ([], None)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_serve_cannot_create_a_collection_on_a_full_disk_and_says_so(namespace_folder: Path) -> None:
    setup = f'mount -t tmpfs -o size=8m tmpfs "$1"; {FILL}; {SERVE}'
    with run_in_namespace(setup, namespace_folder) as process:
        out, err = process.communicate(timeout=60)
    assert process.returncode == 2 and out == ""
    assert err == (
        f"ankiconnect-live: error: cannot open {namespace_folder / 'collection.anki2'}: cannot write the collection: "
        "the disk is full (database or disk is full)\n"
    )
