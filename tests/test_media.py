"""storeMediaFile, retrieveMediaFile, and media objects inside notes."""

from __future__ import annotations

import ast
import base64
from pathlib import Path

import pytest
from note_helpers import NO_MEDIA_SOURCE, all_note_ids, b64, md5, media_dir, media_files, note, note_fields, sha1
from support import ApiClient, RunningServer


def media_bytes(server: RunningServer, name: str) -> bytes:
    return (media_dir(server) / name).read_bytes()


def put_media(server: RunningServer, name: str, data: bytes) -> None:
    """Place a file in the media folder directly (not through the API)."""
    assert server.on_collection(lambda col: col.media.write_data(name, data)) == name


# storeMediaFile


def test_store_media_file_from_data(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("storeMediaFile", filename="_hello.txt", data=b64(b"hello")) == "_hello.txt"
    assert media_bytes(server, "_hello.txt") == b"hello"
    assert client.invoke("retrieveMediaFile", filename="_hello.txt") == b64(b"hello")


def test_store_media_file_from_path(client: ApiClient, server: RunningServer, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)))
    assert client.invoke("storeMediaFile", filename="copy.bin", path=str(source)) == "copy.bin"
    assert media_bytes(server, "copy.bin") == bytes(range(256))
    missing = client.error("storeMediaFile", filename="x.bin", path=str(tmp_path / "missing.bin"))
    assert "No such file" in missing
    assert media_files(server) == {"copy.bin"}


def test_data_wins_over_path(client: ApiClient, server: RunningServer, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"from path")
    assert client.invoke("storeMediaFile", filename="a.txt", data=b64(b"from data"), path=str(source)) == "a.txt"
    assert media_bytes(server, "a.txt") == b"from data"


@pytest.mark.parametrize("source", [{}, {"data": ""}, {"data": None, "path": None, "url": None}, {"path": ""}])
def test_store_media_file_needs_a_source(client: ApiClient, server: RunningServer, source: dict[str, str]) -> None:
    assert client.error("storeMediaFile", filename="x.txt", **source) == NO_MEDIA_SOURCE
    assert media_files(server) == set()


def test_store_media_file_with_invalid_base64(client: ApiClient, server: RunningServer) -> None:
    assert client.error("storeMediaFile", filename="x.txt", data="abc")
    assert media_files(server) == set()


def test_skip_hash(client: ApiClient, server: RunningServer) -> None:
    data = b"same bytes"
    assert client.invoke("storeMediaFile", filename="skip.txt", data=b64(data), skipHash=md5(data)) is None
    assert media_files(server) == set()
    assert client.invoke("storeMediaFile", filename="skip.txt", data=b64(data), skipHash=md5(b"other")) == "skip.txt"
    assert media_bytes(server, "skip.txt") == data


def test_delete_existing_is_the_default(client: ApiClient, server: RunningServer) -> None:
    put_media(server, "word.mp3", b"old")
    assert client.invoke("storeMediaFile", filename="word.mp3", data=b64(b"new")) == "word.mp3"
    assert media_bytes(server, "word.mp3") == b"new"
    assert client.invoke("storeMediaFile", filename="word.mp3", data=b64(b"newer"), deleteExisting=True) == "word.mp3"
    assert media_bytes(server, "word.mp3") == b"newer"
    assert media_files(server) == {"word.mp3"}


def test_without_delete_existing_anki_renames_on_a_clash(client: ApiClient, server: RunningServer) -> None:
    put_media(server, "word.mp3", b"old")
    renamed = client.invoke("storeMediaFile", filename="word.mp3", data=b64(b"new"), deleteExisting=False)
    assert renamed == f"word-{sha1(b'new')}.mp3"
    assert media_bytes(server, "word.mp3") == b"old" and media_bytes(server, renamed) == b"new"
    # The same content under the same name is no clash: the existing file is reused.
    assert client.invoke("storeMediaFile", filename="word.mp3", data=b64(b"old"), deleteExisting=False) == "word.mp3"
    assert media_files(server) == {"word.mp3", renamed}


def test_illegal_characters_are_stripped(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("storeMediaFile", filename='a:b*c?"d.txt', data=b64(b"x")) == "abcd.txt"
    assert media_files(server) == {"abcd.txt"}


def test_stored_names_never_escape_the_media_folder(client: ApiClient, server: RunningServer) -> None:
    folder = media_dir(server)
    before = {p.name for p in folder.parent.iterdir()}
    put_media(server, "evil.txt", b"unrelated file")
    for name in ("../evil.txt", "..\\evil.txt", "sub/../../evil.txt", "/tmp/evil.txt"):
        stored = client.invoke("storeMediaFile", filename=name, data=b64(name.encode()))
        assert "/" not in stored and "\\" not in stored and stored not in (".", "..")
        assert (folder / stored).read_bytes() == name.encode()
    # Nothing was written next to the media folder (Anki's own media database and trash folder aside), and
    # deleteExisting did not trash the unrelated "evil.txt".
    assert {p.name for p in folder.parent.iterdir()} - before <= {"collection.media.db2", "media.trash"}
    assert media_bytes(server, "evil.txt") == b"unrelated file"


def test_store_media_file_with_an_empty_name(client: ApiClient, server: RunningServer) -> None:
    for name in ("", "/"):
        assert client.error("storeMediaFile", filename=name, data=b64(b"x"))
    assert media_files(server) == set()


# retrieveMediaFile


def test_retrieve_media_file(client: ApiClient, server: RunningServer) -> None:
    put_media(server, "bytes.bin", bytes(range(256)))
    assert base64.b64decode(client.invoke("retrieveMediaFile", filename="bytes.bin")) == bytes(range(256))


def test_retrieve_a_missing_media_file_is_false(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("retrieveMediaFile", filename="missing.png") is False
    for name in ("", ".", "..", "/"):
        assert client.invoke("retrieveMediaFile", filename=name) is False


def test_retrieve_never_reads_outside_the_media_folder(client: ApiClient, server: RunningServer) -> None:
    folder = media_dir(server)
    (folder.parent / "secret.txt").write_text("secret")
    for name in ("../secret.txt", "..\\secret.txt", str(folder.parent / "secret.txt"), "../collection.anki2"):
        assert client.invoke("retrieveMediaFile", filename=name) is False, name
    # Like upstream, only the last path component counts: "../x" means the media file "x".
    put_media(server, "inside.txt", b"inside")
    assert client.invoke("retrieveMediaFile", filename="../inside.txt") == b64(b"inside")


# media objects inside notes


def test_add_note_with_media_objects(client: ApiClient, server: RunningServer, tmp_path: Path) -> None:
    sound = tmp_path / "local.mp3"
    sound.write_bytes(b"mp3 bytes")
    spec = note(
        "猫",
        "cat",
        picture={"filename": "neko.png", "data": b64(b"png bytes"), "fields": ["Back"]},
        audio=[
            {"filename": "neko.mp3", "path": str(sound), "fields": ["Front", "Back"]},
            {"filename": "unreferenced.mp3", "data": b64(b"quiet")},
        ],
        video={"filename": "neko.webm", "data": b64(b"webm"), "fields": ["Nope"]},
    )
    note_id = client.invoke("addNote", note=spec)
    # Audio, then video, then pictures, as upstream appends them.
    assert note_fields(server, note_id) == {
        "Front": "猫[sound:neko.mp3]",
        "Back": 'cat[sound:neko.mp3]<img src="neko.png">',
    }
    assert media_files(server) == {"neko.png", "neko.mp3", "unreferenced.mp3", "neko.webm"}
    assert media_bytes(server, "neko.mp3") == b"mp3 bytes"
    assert media_bytes(server, "neko.png") == b"png bytes"


def test_note_media_is_renamed_on_a_clash_and_referenced_by_its_new_name(
    client: ApiClient, server: RunningServer
) -> None:
    # Inside notes deleteExisting defaults to false (unlike storeMediaFile).
    put_media(server, "pic.png", b"old")
    note_id = client.invoke(
        "addNote", note=note("a", picture={"filename": "pic.png", "data": b64(b"new"), "fields": ["Back"]})
    )
    renamed = f"pic-{sha1(b'new')}.png"
    assert note_fields(server, note_id)["Back"] == f'back<img src="{renamed}">'
    assert media_bytes(server, "pic.png") == b"old" and media_bytes(server, renamed) == b"new"
    replace = {"filename": "pic.png", "data": b64(b"newest"), "fields": ["Back"], "deleteExisting": True}
    second = client.invoke("addNote", note=note("b", picture=replace))
    assert note_fields(server, second)["Back"] == 'back<img src="pic.png">'
    assert media_bytes(server, "pic.png") == b"newest"


def test_note_media_skip_hash(client: ApiClient, server: RunningServer) -> None:
    data = b"already have it"
    picture = {"filename": "skip.png", "data": b64(data), "skipHash": md5(data), "fields": ["Back"]}
    note_id = client.invoke("addNote", note=note("a", picture=picture))
    assert note_fields(server, note_id)["Back"] == "back"
    assert media_files(server) == set()


def test_note_media_without_a_source_fails_the_note(client: ApiClient, server: RunningServer) -> None:
    good = {"filename": "good.png", "data": b64(b"ok"), "fields": ["Back"]}
    bad = {"filename": "bad.png", "fields": ["Back"]}
    assert client.error("addNote", note=note("a", picture=[good, bad])) == NO_MEDIA_SOURCE
    assert client.error("addNotes", notes=[note("a", picture=[good, bad])]) == str([NO_MEDIA_SOURCE])
    assert all_note_ids(server) == [] and media_files(server) == set()


def test_note_media_with_a_missing_path_fails_the_note(
    client: ApiClient, server: RunningServer, tmp_path: Path
) -> None:
    picture = {"filename": "p.png", "path": str(tmp_path / "missing.png"), "fields": ["Back"]}
    assert "No such file" in client.error("addNote", note=note("a", picture=picture))
    [message] = ast.literal_eval(client.error("addNotes", notes=[note("a", picture=picture)]))
    assert "No such file" in message
    assert all_note_ids(server) == [] and media_files(server) == set()


def test_can_add_notes_stores_no_media(client: ApiClient, server: RunningServer, tmp_path: Path) -> None:
    source = tmp_path / "file.png"
    source.write_bytes(b"png")
    notes = [
        note("a", picture={"filename": "data.png", "data": b64(b"png"), "fields": ["Back"]}),
        note("b", picture={"filename": "path.png", "path": str(source), "fields": ["Back"]}),
    ]
    assert client.invoke("canAddNotes", notes=notes) == [True, True]
    assert client.invoke("canAddNotesWithErrorDetail", notes=notes) == [{"canAdd": True}, {"canAdd": True}]
    assert media_files(server) == set() and all_note_ids(server) == []
