"""The overlay and dashboard over HTTP: what is served, with which headers, to whom; and that they ship."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from event_helpers import sse_frames, sse_open
from support import RunningServer, WsApiClient, http_post

from ankiconnect_live.transport.pages import PAGE_FILES

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["/overlay", "/dashboard"]
PAGE_FILE_NAMES = sorted(path.name for path in PAGE_FILES.iterdir() if path.suffix in (".html", ".js", ".css"))
ASSETS = [f"/pages/{name}" for name in PAGE_FILE_NAMES if not name.endswith(".html")]


def get(server: RunningServer, path: str, headers: dict[str, str] | None = None) -> Any:
    return http_post(server.port, method="GET", path=path, headers=headers)


def status_data(frame: dict[str, str]) -> dict[str, Any]:
    assert frame["event"] == "status", frame
    data: dict[str, Any] = json.loads(frame["data"])
    return data


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_with_a_strict_policy(server: RunningServer, path: str) -> None:
    reply = get(server, path)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    policy = reply.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["connect-src"] == f"'self' ws://127.0.0.1:{server.port} wss://127.0.0.1:{server.port}"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in reply.headers  # no other origin may read a page
    assert b"<!doctype html>" in reply.body


@pytest.mark.parametrize("path", ASSETS)
def test_the_pages_code_is_served_same_origin_only(server: RunningServer, path: str) -> None:
    reply = get(server, path)
    assert reply.status == 200
    expected = "text/javascript" if path.endswith(".js") else "text/css"
    assert reply.headers["content-type"] == f"{expected}; charset=utf-8"
    assert reply.headers["cross-origin-resource-policy"] == "same-origin"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in reply.headers
    assert reply.body == (PAGE_FILES / path.rsplit("/", 1)[1]).read_bytes()


@pytest.mark.parametrize(
    "path", ["/pages/nope.js", "/pages/overlay.html", "/pages/../config.json", "/pages/%2e%2e/config.json", "/pages/"]
)
def test_nothing_else_is_served_from_the_pages_folder(server: RunningServer, path: str) -> None:
    reply = get(server, path)
    assert reply.status == 404
    assert b"result" not in reply.body


def test_head_and_post(server: RunningServer) -> None:
    head = http_post(server.port, method="HEAD", path="/overlay")
    assert head.status == 200 and head.body == b"" and head.headers["content-type"].startswith("text/html")
    # A POST is an API request wherever it is sent, as in AnkiConnect: the pages take GET only.
    post = http_post(server.port, {"action": "version", "version": 6}, path="/overlay")
    assert post.json() == {"result": 6, "error": None}


@pytest.mark.parametrize("path", [*PAGES, "/pages/live.js", "/pages/status"])
def test_other_origins_are_refused(server: RunningServer, path: str) -> None:
    reply = get(server, path, {"Origin": "http://evil.example"})
    assert reply.status == 403
    assert "access-control-allow-origin" not in reply.headers
    assert reply.body == b"origin not allowed\n"


@pytest.mark.parametrize("path", [*PAGES, "/pages/live.js", "/pages/status"])
def test_other_hosts_are_refused(server: RunningServer, path: str) -> None:
    """A DNS-rebinding page names its own host: refused before anything is looked at."""
    reply = get(server, path, {"Host": f"attacker.example:{server.port}"})
    assert reply.status == 403
    assert reply.json()["error"] == f"host not allowed: attacker.example:{server.port}"


def test_an_allowed_origin_still_gets_no_cors_header(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webCorsOriginList=["https://allowed.example"])
    reply = get(server, "/overlay", {"Origin": "https://allowed.example", "Host": f"127.0.0.1:{server.port}"})
    # Its own address (127.0.0.1) is not allowed to open the socket either: the page says so instead.
    assert reply.status == 403 and b"webCorsOriginList" in reply.body
    assert "access-control-allow-origin" not in reply.headers


def test_a_configured_key_is_needed_for_pages_and_status(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="s3cret")
    for path in [*PAGES, "/pages/status"]:
        for query in ("", "?key=wrong"):
            reply = get(server, path + query)
            assert reply.status == 403, path + query
            assert reply.body.startswith(b"valid api key must be provided")
        if path != "/pages/status":
            assert get(server, path + "?key=s3cret&theme=light").status == 200
    assert b"?key=" in get(server, "/overlay").body  # the refusal says how to pass it
    # The pages' code holds no data: the page loads it without the key.
    assert get(server, "/pages/overlay.js").status == 200
    with sse_open(server.port, "/pages/status?key=s3cret") as response:
        assert response.status == 200
        assert status_data(sse_frames(response, 2)[1])["apiKeyRequired"] is True


def test_the_key_is_never_logged(start_server: Callable[..., RunningServer], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server(apiKey="s3cret-in-the-url")
    get(server, "/dashboard?key=s3cret-in-the-url")
    get(server, "/dashboard?key=wrong-key-in-the-url")
    with sse_open(server.port, "/pages/status?key=s3cret-in-the-url") as response:
        sse_frames(response, 2)
    assert "in-the-url" not in caplog.text


def test_localhost_pages_move_to_the_loopback_address(server: RunningServer) -> None:
    """The default allow-list admits http://127.0.0.1:<port> but not http://localhost:<port> (AnkiConnect's
    rule), so a page opened at localhost could not open its socket: it is sent to 127.0.0.1 instead."""
    reply = get(server, "/overlay?theme=light&key=k", {"Host": f"localhost:{server.port}"})
    assert reply.status == 307
    assert reply.headers["location"] == f"http://127.0.0.1:{server.port}/overlay?theme=light&key=k"


def test_localhost_pages_stay_when_localhost_is_allowed(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webCorsOriginList=["*"])
    assert get(server, "/dashboard", {"Host": f"localhost:{server.port}"}).status == 200


def test_status_streams_clients_and_server_state(server: RunningServer) -> None:
    with sse_open(server.port, "/pages/status") as response:
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
        assert response.getheader("Access-Control-Allow-Origin") is None
        retry, first = sse_frames(response, 2)
        assert retry == {"retry": "1000"}
        status = status_data(first)
        assert set(status) == {
            "version",
            "apiVersion",
            "uptime",
            "websocketClients",
            "httpConnections",
            "eventSeq",
            "apiKeyRequired",
        }
        assert status["websocketClients"] == 0 and status["httpConnections"] == 1  # this stream
        assert status["apiVersion"] == 6 and status["apiKeyRequired"] is False and status["eventSeq"] >= 1
        client = WsApiClient(server.ws_url)
        try:
            started = time.monotonic()
            changed = status_data(sse_frames(response, 1)[0])
            assert changed["websocketClients"] == 1
            assert time.monotonic() - started < 1
        finally:
            client.close()
        assert status_data(sse_frames(response, 1)[0])["websocketClients"] == 0


def test_the_status_stream_ends_when_the_server_stops(server: RunningServer) -> None:
    """It does not hold the server's shutdown up: the stream is cut at once, with a complete body."""
    stopping = threading.Thread(target=server.app.stop)  # the fixture closes the collection later
    with sse_open(server.port, "/pages/status") as response:
        sse_frames(response, 2)
        started = time.monotonic()
        stopping.start()
        try:
            assert response.read() == b""  # http.client raises IncompleteRead on a chunked body cut short
            assert time.monotonic() - started < 3
        finally:
            stopping.join(10)


def test_the_pages_fetch_nothing_from_elsewhere() -> None:
    """No CDN, no external fetch: every URL in the pages is their own (the SVG namespace is a name, not a fetch)."""
    for name in PAGE_FILE_NAMES:
        text = (PAGE_FILES / name).read_text(encoding="utf-8")
        urls = set(re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"'`)]*", text, re.IGNORECASE))
        assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)
        assert "@import" not in text and "url(" not in text.replace("data:,", ""), name
        for reference in re.findall(r'(?:src|href)="([^"]*)"', text):
            assert reference.startswith("/pages/") or reference == "data:,", (name, reference)
        for module in re.findall(r'from "([^"]*)"', text):
            assert module.startswith("./"), (name, module)


def test_the_pages_ship_with_the_package_and_the_addon() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    globs = package_data["ankiconnect_live"]
    for name in PAGE_FILE_NAMES:
        assert any(Path("pages", name).match(pattern) for pattern in globs), name
    spec = importlib.util.spec_from_file_location("build_ankiaddon", ROOT / "scripts" / "build_ankiaddon.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    shipped = {path.relative_to(ROOT).as_posix() for path in build.package_files()}
    assert {f"pages/{name}" for name in PAGE_FILE_NAMES} <= shipped
