"""The media actions, URL downloads (against a local web server), and media objects inside notes."""

from __future__ import annotations

import ast
import base64
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from note_helpers import NO_MEDIA_SOURCE, all_note_ids, b64, md5, media_dir, media_files, note, note_fields, sha1
from support import ApiClient, HttpApiClient, RunningServer, WsApiClient


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


# URL downloads (storeMediaFile and note media objects), against a local web server


@dataclass
class Page:
    """What the local site answers for one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False
    """Hold the reply until the test ends (a server slower than webTimeout)."""
    trickle: float = 0.0
    """Seconds between body bytes (each read is quick, the whole download is not)."""


class LocalSite:
    """An HTTP server on 127.0.0.1 (ephemeral port) standing in for the internet."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[str] = []
        self.released = threading.Event()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                page = site.pages.get(self.path, Page(404, b"not found"))
                if page.stall:
                    site.released.wait(10)
                try:
                    self.send_response(page.status)
                    for name, value in {"Content-Length": str(len(page.body)), **page.headers}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    for i in range(0, len(page.body), 1 if page.trickle else len(page.body) or 1):
                        self.wfile.write(page.body[i : i + 1] if page.trickle else page.body)
                        self.wfile.flush()
                        if page.trickle and site.released.wait(page.trickle):
                            return
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, in every test that uses the site.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site() -> Iterator[LocalSite]:
    local = LocalSite()
    yield local
    local.close()


@pytest.fixture(params=["http", "ws"])
def impatient(request: pytest.FixtureRequest, start_server: Callable[..., RunningServer]) -> Iterator[ApiClient]:
    """A client of a server whose webTimeout is 300 ms."""
    server = start_server(webTimeout=300)
    api: ApiClient = HttpApiClient(server.port) if request.param == "http" else WsApiClient(server.ws_url)
    yield api
    api.close()


def test_store_media_file_from_url(client: ApiClient, server: RunningServer, site: LocalSite) -> None:
    site.pages["/audio/word.mp3"] = Page(body=b"mp3 from the web")
    url = site.url("/audio/word.mp3")
    assert client.invoke("storeMediaFile", filename="word.mp3", url=url) == "word.mp3"
    assert media_bytes(server, "word.mp3") == b"mp3 from the web"
    assert site.requests == ["/audio/word.mp3"]


def test_store_media_file_follows_http_redirects(client: ApiClient, server: RunningServer, site: LocalSite) -> None:
    site.pages["/old"] = Page(302, headers={"Location": site.url("/new")})
    site.pages["/new"] = Page(body=b"moved")
    assert client.invoke("storeMediaFile", filename="moved.txt", url=site.url("/old")) == "moved.txt"
    assert media_bytes(server, "moved.txt") == b"moved"


@pytest.mark.parametrize("status", [404, 500, 204])
def test_store_media_file_from_a_url_that_fails(
    client: ApiClient, server: RunningServer, site: LocalSite, status: int
) -> None:
    site.pages["/file.png"] = Page(status, b"" if status == 204 else b"error page")
    url = site.url("/file.png")
    assert client.error("storeMediaFile", filename="file.png", url=url) == (
        f"{url} download failed with return code {status}"
    )
    assert media_files(server) == set()


def test_store_media_file_from_a_url_nobody_answers(client: ApiClient, server: RunningServer) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.png"
    error = client.error("storeMediaFile", filename="x.png", url=url)
    assert error.startswith(f"{url} download failed: ") and "refused" in error.lower(), error
    assert media_files(server) == set()


@pytest.mark.parametrize("url", ["file:///etc/hostname", "ftp://127.0.0.1/x", "data:text/plain,hello", "/etc/hosts"])
def test_store_media_file_downloads_only_http_urls(client: ApiClient, server: RunningServer, url: str) -> None:
    error = client.error("storeMediaFile", filename="x.txt", url=url)
    assert error == f"{url} download failed: only http and https URLs can be downloaded"
    assert media_files(server) == set()


def test_store_media_file_refuses_a_redirect_away_from_http(
    client: ApiClient, server: RunningServer, site: LocalSite
) -> None:
    site.pages["/sneaky"] = Page(302, headers={"Location": "ftp://127.0.0.1/secret"})
    url = site.url("/sneaky")
    error = client.error("storeMediaFile", filename="x.txt", url=url)
    assert error == f"{url} download failed: redirected to a non-HTTP URL ftp://127.0.0.1/secret"
    assert media_files(server) == set()


def test_url_download_times_out_after_web_timeout(impatient: ApiClient, site: LocalSite) -> None:
    site.pages["/slow.mp3"] = Page(body=b"too late", stall=True)
    url = site.url("/slow.mp3")
    expected = f"{url} download failed: timed out after 300 ms (webTimeout)"
    started = time.monotonic()
    assert impatient.error("storeMediaFile", filename="slow.mp3", url=url) == expected
    assert time.monotonic() - started < 3
    # The same limit for media inside a note; the note is not added.
    audio = {"filename": "slow.mp3", "url": url, "fields": ["Back"]}
    assert impatient.error("addNote", note=note("slow", audio=audio)) == expected
    assert impatient.invoke("findNotes", query="") == []
    assert impatient.invoke("getMediaFilesNames") == []


def test_url_download_of_a_trickling_server_times_out(impatient: ApiClient, site: LocalSite) -> None:
    # Every byte comes quickly enough for the socket timeout, the whole file does not.
    site.pages["/drip.bin"] = Page(body=b"0123456789" * 3, trickle=0.1)
    url = site.url("/drip.bin")
    started = time.monotonic()
    error = impatient.error("storeMediaFile", filename="drip.bin", url=url)
    assert error == f"{url} download failed: timed out after 300 ms (webTimeout)"
    assert time.monotonic() - started < 2  # the whole file takes 3 s
    assert impatient.invoke("getMediaFilesNames") == []


def test_url_skip_hash(client: ApiClient, server: RunningServer, site: LocalSite) -> None:
    data = b"already have it"
    site.pages["/same.png"] = Page(body=data)
    url = site.url("/same.png")
    assert client.invoke("storeMediaFile", filename="same.png", url=url, skipHash=md5(data)) is None
    assert media_files(server) == set()
    assert client.invoke("storeMediaFile", filename="same.png", url=url, skipHash=md5(b"other")) == "same.png"
    assert media_bytes(server, "same.png") == data


def test_add_note_with_a_url_media_object(client: ApiClient, server: RunningServer, site: LocalSite) -> None:
    site.pages["/neko.jpg"] = Page(body=b"jpeg bytes")
    picture = {"filename": "neko.jpg", "url": site.url("/neko.jpg"), "fields": ["Back"]}
    note_id = client.invoke("addNote", note=note("猫", picture=picture))
    assert note_fields(server, note_id)["Back"] == 'back<img src="neko.jpg">'
    assert media_bytes(server, "neko.jpg") == b"jpeg bytes"


def test_add_note_with_a_url_that_fails(client: ApiClient, server: RunningServer, site: LocalSite) -> None:
    url = site.url("/missing.jpg")
    picture = {"filename": "missing.jpg", "url": url, "fields": ["Back"]}
    assert client.error("addNote", note=note("a", picture=picture)) == f"{url} download failed with return code 404"
    assert all_note_ids(server) == [] and media_files(server) == set()


# getMediaFilesNames


def test_get_media_files_names(client: ApiClient, server: RunningServer) -> None:
    for name in ("_hello.txt", "_help.txt", "a.mp3", "b.mp3", "猫.png", ".hidden"):
        put_media(server, name, name.encode())
    everything = ["_hello.txt", "_help.txt", "a.mp3", "b.mp3", "猫.png"]
    assert client.invoke("getMediaFilesNames") == everything  # like a shell glob, * skips dot files
    assert client.invoke("getMediaFilesNames", pattern="*") == everything
    assert client.invoke("getMediaFilesNames", pattern=None) == everything
    assert client.invoke("getMediaFilesNames", pattern="_hell*.txt") == ["_hello.txt"]
    assert client.invoke("getMediaFilesNames", pattern="*.mp3") == ["a.mp3", "b.mp3"]
    assert client.invoke("getMediaFilesNames", pattern="[ab].mp3") == ["a.mp3", "b.mp3"]
    assert client.invoke("getMediaFilesNames", pattern="?.mp3") == ["a.mp3", "b.mp3"]
    assert client.invoke("getMediaFilesNames", pattern="猫*") == ["猫.png"]
    assert client.invoke("getMediaFilesNames", pattern=".*") == [".hidden"]
    assert client.invoke("getMediaFilesNames", pattern="a.mp3") == ["a.mp3"]
    assert client.invoke("getMediaFilesNames", pattern="*.wav") == []


def test_get_media_files_names_of_an_empty_folder(client: ApiClient) -> None:
    assert client.invoke("getMediaFilesNames") == []


def test_get_media_files_names_stays_in_the_media_folder(client: ApiClient, server: RunningServer) -> None:
    folder = media_dir(server)
    put_media(server, "inside.txt", b"inside")
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.txt").write_text("nested")
    (folder.parent / "secret.txt").write_text("secret")
    assert client.invoke("getMediaFilesNames") == ["inside.txt"]  # no subfolder, nor its contents
    patterns = [
        "../*",
        "..",
        ".",
        "../secret.txt",
        "../*.anki2",
        "..\\*",
        "/etc/*",
        "/*",
        str(folder.parent / "*"),
        str(folder / "*"),
        "*/..",
        "*/*",
        "sub",
        "sub/*",
        "**/*",
        "",
    ]
    for pattern in patterns:
        assert client.invoke("getMediaFilesNames", pattern=pattern) == [], pattern


def test_get_media_files_names_errors(client: ApiClient) -> None:
    wrong = client.error("getMediaFilesNames", pattern=["*"])
    assert wrong == "AnkiConnect.getMediaFilesNames() argument 'pattern' must be a string, not a list"
    unexpected = client.error("getMediaFilesNames", glob="*")
    assert unexpected == "AnkiConnect.getMediaFilesNames() got an unexpected keyword argument 'glob'"


# deleteMediaFile


def test_delete_media_file_moves_it_to_the_media_trash(client: ApiClient, server: RunningServer) -> None:
    put_media(server, "_hello.txt", b"hello")
    put_media(server, "keep.txt", b"keep")
    assert client.invoke("deleteMediaFile", filename="_hello.txt") is None
    assert media_files(server) == {"keep.txt"}
    assert client.invoke("retrieveMediaFile", filename="_hello.txt") is False
    # Moved to Anki's media trash (restorable from Check Media), not destroyed.
    assert (media_dir(server).parent / "media.trash" / "_hello.txt").read_bytes() == b"hello"


def test_delete_a_missing_media_file(client: ApiClient, server: RunningServer) -> None:
    put_media(server, "keep.txt", b"keep")
    for name in ("missing.txt", "", ".", ".."):
        assert client.invoke("deleteMediaFile", filename=name) is None
    assert media_files(server) == {"keep.txt"}


def test_delete_media_file_never_reaches_outside_the_media_folder(client: ApiClient, server: RunningServer) -> None:
    folder = media_dir(server)
    (folder.parent / "secret.txt").write_text("secret")
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.txt").write_text("nested")
    put_media(server, "secret.txt", b"the media file of that name")
    for name in ("../secret.txt", "..\\secret.txt", str(folder.parent / "secret.txt"), "sub/nested.txt", "sub"):
        assert client.invoke("deleteMediaFile", filename=name) is None
    assert (folder.parent / "secret.txt").read_text() == "secret"
    assert (folder / "sub" / "nested.txt").read_text() == "nested"
    assert media_files(server) == {"secret.txt"}  # names are never reduced to their last component either
    assert (folder.parent / "collection.anki2").is_file()


def test_delete_media_file_removes_what_store_media_file_wrote(client: ApiClient, server: RunningServer) -> None:
    # Anki strips path separators from stored names ("../x.txt" is stored as "..x.txt"); the same name deletes it.
    stored = client.invoke("storeMediaFile", filename="../x.txt", data=b64(b"x"))
    assert stored == "..x.txt" and media_files(server) == {"..x.txt"}
    assert client.invoke("deleteMediaFile", filename="../x.txt") is None
    assert media_files(server) == set()


def test_delete_media_file_errors(client: ApiClient) -> None:
    missing = client.error("deleteMediaFile")
    assert missing == "AnkiConnect.deleteMediaFile() missing 1 required positional argument: 'filename'"
    wrong = client.error("deleteMediaFile", filename=7)
    assert wrong == "AnkiConnect.deleteMediaFile() argument 'filename' must be a string, not the number 7"


# getMediaDirPath


def test_get_media_dir_path(client: ApiClient, server: RunningServer) -> None:
    path = client.invoke("getMediaDirPath")
    assert Path(path).is_absolute() and Path(path).is_dir()
    assert Path(path) == media_dir(server).resolve()
    assert Path(path) == server.path.parent / "collection.media"
    unexpected = client.error("getMediaDirPath", pattern="*")
    assert unexpected == "AnkiConnect.getMediaDirPath() got an unexpected keyword argument 'pattern'"
