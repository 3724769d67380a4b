"""Where media may come from and go to: ``path`` allow-list, files that are not files, download size limits,
and media names that can never leave the media folder (retrieve, store, delete, glob patterns)."""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fuzz_profiles
import pytest
from hypothesis import given, settings, strategies as st
from support import HttpApiClient, RunningServer, basic_note

from ankiconnect_live.actions.media import _is_name_pattern, safe_media_name, stored_media_name

SEPARATORS = ("/", "\\")


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    folder = tmp_path / "allowed"
    folder.mkdir()
    (folder / "ok.txt").write_bytes(b"fine")
    (tmp_path / "secret.txt").write_bytes(b"private")
    return folder


@pytest.fixture
def api(start_server: Callable[..., RunningServer], allowed: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    config = getattr(request, "param", {"mediaPathAllowList": [str(allowed)]})
    server = start_server(**config)
    client = HttpApiClient(server.port)
    client.server = server  # type: ignore[attr-defined]
    yield client
    client.close()


def store(api: HttpApiClient, **params: Any) -> tuple[Any, Any]:
    return api.call({"action": "storeMediaFile", "version": 6, "params": {"filename": "x.txt", **params}})


# mediaPathAllowList


def test_a_path_inside_an_allowed_folder_is_read(api: HttpApiClient, allowed: Path) -> None:
    assert store(api, path=str(allowed / "ok.txt")) == ("x.txt", None)
    assert base64.b64decode(api.invoke("retrieveMediaFile", filename="x.txt")) == b"fine"


@pytest.mark.parametrize(
    "where",
    [
        "{tmp}/secret.txt",
        "{allowed}/../secret.txt",  # ".." resolved before the check
        "{allowed}/link",  # a symlink inside pointing outside
        "/etc/passwd",
        "secret.txt",  # relative: against the server's working folder, never inside
        "{allowed}x/secret.txt",  # a sibling folder whose name starts like the allowed one
    ],
)
def test_a_path_outside_the_allowed_folders_is_refused(api: HttpApiClient, allowed: Path, where: str) -> None:
    (allowed / "link").symlink_to(allowed.parent / "secret.txt")
    (allowed.parent / "allowedx").mkdir()
    (allowed.parent / "allowedx" / "secret.txt").write_bytes(b"private")
    path = where.format(tmp=allowed.parent, allowed=allowed)
    result, error = store(api, path=path)
    assert result is None
    assert error == f"path is outside the folders media may be read from (mediaPathAllowList): {path}"
    assert api.invoke("getMediaFilesNames") == []


def test_note_media_paths_follow_the_allow_list(api: HttpApiClient, allowed: Path) -> None:
    note = basic_note("with media")
    note["picture"] = {"filename": "p.png", "path": str(allowed.parent / "secret.txt"), "fields": ["Back"]}
    result, error = api.call({"action": "addNote", "version": 6, "params": {"note": note}})
    assert result is None and "mediaPathAllowList" in error
    assert api.invoke("findNotes", query="with") == [] and api.invoke("getMediaFilesNames") == []
    note["picture"]["path"] = str(allowed / "ok.txt")
    assert isinstance(api.invoke("addNote", note=note), int)


@pytest.mark.parametrize("api", [{"mediaPathAllowList": []}], indirect=True)
def test_an_empty_allow_list_refuses_every_path(api: HttpApiClient, allowed: Path) -> None:
    assert "mediaPathAllowList" in store(api, path=str(allowed / "ok.txt"))[1]
    assert store(api, data="QUJD") == ("x.txt", None)  # data still works


@pytest.mark.parametrize("api", [{}], indirect=True)
def test_by_default_any_file_may_be_read_as_upstream(api: HttpApiClient, allowed: Path) -> None:
    assert store(api, path=str(allowed.parent / "secret.txt")) == ("x.txt", None)


@pytest.mark.parametrize("api", [{}], indirect=True)
@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_only_regular_files_are_read(api: HttpApiClient, tmp_path: Path, kind: str) -> None:
    # /dev/zero would never end, and opening a pipe would wait for a writer: the collection thread with it.
    path = {"device": Path("/dev/zero"), "fifo": tmp_path / "pipe", "folder": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    result, error = store(api, path=str(path))
    assert result is None
    assert error == f"path is not a regular file: {path}"
    assert api.invoke("version") == 6


@pytest.mark.parametrize("api", [{"webMaxDownloadBytes": 10}], indirect=True)
def test_a_file_larger_than_the_limit_is_refused(api: HttpApiClient, tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 11)
    (tmp_path / "small").write_bytes(b"x" * 10)
    assert (
        store(api, path=str(tmp_path / "big"))[1] == f"{tmp_path / 'big'} is larger than 10 bytes (webMaxDownloadBytes)"
    )
    assert store(api, path=str(tmp_path / "small")) == ("x.txt", None)


# url size limit


class Site:
    """A local web server: /declared says its length, /undeclared streams without Content-Length."""

    def __init__(self, size: int) -> None:
        body = b"y" * size

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                self.send_response(200)
                if self.path == "/declared":
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # refused after the head: the client hung up
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def site() -> Iterator[Site]:
    local = Site(300_000)
    yield local
    local.httpd.shutdown()
    local.httpd.server_close()


@pytest.mark.parametrize("api", [{"webMaxDownloadBytes": 200_000}], indirect=True)
@pytest.mark.parametrize("path", ["/declared", "/undeclared"])
def test_a_download_larger_than_the_limit_is_refused(api: HttpApiClient, site: Site, path: str) -> None:
    url = site.url(path)
    assert store(api, url=url) == (None, f"{url} download failed: larger than 200000 bytes (webMaxDownloadBytes)")
    assert api.invoke("getMediaFilesNames") == []


@pytest.mark.parametrize("api", [{"webMaxDownloadBytes": 300_000}], indirect=True)
def test_a_download_within_the_limit_is_stored(api: HttpApiClient, site: Site) -> None:
    assert store(api, url=site.url("/undeclared")) == ("x.txt", None)


# media names never leave the media folder

NAMES = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.sampled_from(["..", ".", "/", "\\", "a", "*", "?", "[", "]", "~", "\0", "%2e", "C:", "é"]), max_size=8
    ).map("".join),
    st.sampled_from(["../secret.txt", "..\\secret.txt", "/etc/passwd", "../../x", "..", ".", "", "*/*", "../*"]),
)


@given(NAMES)
def test_media_names_are_bare_names(name: str) -> None:
    for mapped in (stored_media_name(name), safe_media_name(name)):
        assert not any(sep in mapped for sep in SEPARATORS) and "\0" not in mapped
        assert mapped not in (".", "..")
    if _is_name_pattern(name):
        assert not any(sep in name for sep in SEPARATORS) and name not in (".", "..") and not os.path.isabs(name)


@pytest.mark.parametrize("api", [{}], indirect=True)
def test_no_media_action_reaches_outside_the_media_folder(api: HttpApiClient, tmp_path: Path) -> None:
    server: RunningServer = api.server  # type: ignore[attr-defined]
    profile = server.path.parent
    media = Path(server.on_collection(lambda col: col.media.dir()))
    (profile / "secret.txt").write_bytes(b"private")
    (tmp_path / "secret.txt").write_bytes(b"private")
    before = _outside(tmp_path, media)
    secret = base64.b64encode(b"private").decode()

    @settings(max_examples=fuzz_profiles.examples(40))
    @given(NAMES)
    def check(name: str) -> None:
        stored, _ = store(api, data=base64.b64encode(b"mine").decode(), filename=name) if name else (None, None)
        retrieved, _ = api.call({"action": "retrieveMediaFile", "version": 6, "params": {"filename": name}})
        assert retrieved in (False, None) or retrieved != secret
        listed, _ = api.call({"action": "getMediaFilesNames", "version": 6, "params": {"pattern": name}})
        assert all((media / n).is_file() for n in listed or [])
        api.call({"action": "deleteMediaFile", "version": 6, "params": {"filename": name}})
        if stored:
            assert "/" not in stored and (media / stored).parent == media
        assert _outside(tmp_path, media) == before

    check()


def _outside(root: Path, media: Path) -> dict[str, bytes]:
    """Every file under ``root`` outside the media folder (and its trash), with its content."""
    files: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if media in path.parents or path == media or not path.is_file():
            continue
        if (
            path.name.startswith("collection.anki2")
            or "media.trash" in path.parts
            or "collection.media.db" in path.name
        ):
            continue
        files[str(path)] = path.read_bytes()
    return files
