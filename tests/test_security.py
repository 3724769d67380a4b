"""The defences of docs/security.md on a real server: one Origin and Host policy for every endpoint, the
requestPermission flow, and API keys (constant-time, never logged, wrong ones slowed down)."""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import RunningServer, http_post, raw_socket, read_until_closed
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ankiconnect_live.cli import main as cli_main

EVIL = "http://evil.example"
KEY = "k3y-5ecret-7Xq"

# Every way in: JSON actions, the banner, the event stream, the OpenAPI document, the pages and WebSocket.
HTTP_ENDPOINTS = [
    ("POST", "/", b'{"action": "deckNames", "version": 6}'),
    ("GET", "/", b""),
    ("GET", "/events", b""),
    ("GET", "/openapi.json", b""),
    ("GET", "/overlay", b""),
    ("GET", "/dashboard", b""),
]
ENDPOINTS = [f"{method} {path}" for method, path, _ in HTTP_ENDPOINTS] + ["WS /"]


def status_of(port: int, endpoint: str, headers: dict[str, str], query: str = "") -> int:
    """The status one endpoint answers with (a stream's head only: the connection is then dropped)."""
    if endpoint == "WS /":
        method, path, body = "GET", "/", b""
        headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", **headers}
        headers["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
    else:
        method, path, body = next(e for e in HTTP_ENDPOINTS if f"{e[0]} {e[1]}" == endpoint)
    lines = [f"{method} {path}{query} HTTP/1.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in {"Host": f"127.0.0.1:{port}", **headers}.items()]
    with raw_socket(port) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, head
            head += chunk
    return int(head.split(b" ", 2)[1])


def ws_status(port: int, headers: dict[str, str], query: str = "") -> int:
    return status_of(port, "WS /", headers, query)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [(None, True), ("http://localhost", True), ("chrome-extension://abc", True), (EVIL, False), ("null", False)],
)
def test_one_origin_policy_for_every_endpoint(
    server: RunningServer, endpoint: str, origin: str | None, allowed: bool
) -> None:
    status = status_of(server.port, endpoint, {"Origin": origin} if origin else {})
    assert (status != 403) is allowed, status


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("host", "allowed"),
    [("localhost:1", True), ("127.0.0.1", True), ("[::1]:8765", True), ("evil.example", False), ("a.b:x", False)],
)
def test_one_host_policy_for_every_endpoint(server: RunningServer, endpoint: str, host: str, allowed: bool) -> None:
    # DNS rebinding: the page's own name arrives as Host, and must not be served.
    status = status_of(server.port, endpoint, {"Host": host})
    assert (status != 403) is allowed, status


def test_a_refused_page_changes_nothing_on_any_endpoint(server: RunningServer) -> None:
    create = b'{"action": "createDeck", "version": 6, "params": {"deck": "Pwned"}}'
    for headers in ({"Origin": EVIL}, {"Host": "evil.example"}):
        for content_type in ("text/plain", "application/json"):
            reply = http_post(server.port, create, headers={**headers, "Content-Type": content_type})
            assert reply.status == 403
    names = http_post(server.port, {"action": "deckNames", "version": 6}).json()["result"]
    assert names == ["Default"]


# requestPermission


def test_request_permission_flow_for_a_page_not_allowed_yet(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey=KEY)
    ask = {"action": "requestPermission", "version": 6}
    # A simple request and a preflighted one: both readable by the page (ACAO names it), neither needs the key.
    preflight = http_post(
        server.port,
        method="OPTIONS",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x"},
    )
    assert preflight.status == 200 and preflight.headers["access-control-allow-origin"] == EVIL
    for content_type in ("text/plain", "application/json"):
        reply = http_post(server.port, ask, headers={"Origin": EVIL, "Content-Type": content_type})
        assert reply.status == 200 and reply.headers["access-control-allow-origin"] == EVIL
        assert reply.json() == {"result": {"permission": "denied"}, "error": None}
    # Denied headless (nobody to ask): nothing was granted, the page still gets 403 for everything else.
    assert http_post(server.port, {**ask, "action": "deckNames", "key": KEY}, headers={"Origin": EVIL}).status == 403
    assert ws_status(server.port, {"Origin": EVIL}) == 403
    # An allowed page learns that a key is required, and the version.
    granted = http_post(server.port, ask, headers={"Origin": "http://localhost"}).json()["result"]
    assert granted == {"permission": "granted", "requireApikey": True, "version": 6}


def test_request_permission_params_sent_by_a_page_are_ignored(server: RunningServer) -> None:
    forged = {"action": "requestPermission", "version": 6, "params": {"origin": "http://localhost", "allowed": True}}
    reply = http_post(server.port, forged, headers={"Origin": EVIL})
    assert reply.json()["result"] == {"permission": "denied"}


# API keys


def test_every_key_check_is_constant_time(start_server: Callable[..., RunningServer], monkeypatch: Any) -> None:
    compared: list[bytes] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append(a)
        return bool(real(a, b))

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module wire.key_matches calls into
    server = start_server(apiKey=KEY)
    http_post(server.port, {"action": "version", "version": 6, "key": "body"})
    http_post(server.port, {"action": "version", "version": 6}, path="/?key=query")
    ws_status(server.port, {}, "?key=handshake")
    assert status_of(server.port, "GET /events", {"Host": f"127.0.0.1:{server.port}"}) == 403
    http_post(server.port, b"", method="GET", path="/events?key=sse", timeout=2)
    assert {b"body", b"query", b"handshake", b"sse"} <= set(compared)


def test_keys_are_never_logged(
    start_server: Callable[..., RunningServer], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    log_file = tmp_path / "requests.jsonl"
    server = start_server(apiKey=KEY, apiLogPath=str(log_file))
    for key in (KEY, KEY + "-wrong"):
        http_post(server.port, {"action": "version", "version": 6, "key": key})
        http_post(server.port, {"action": "version", "version": 6}, path=f"/?key={key}")
        inner = {"action": "deckNames", "key": key}
        http_post(server.port, {"action": "multi", "version": 6, "key": key, "params": {"actions": [inner]}})
        try:
            with connect(f"{server.ws_url}?key={key}", proxy=None, open_timeout=5) as ws:
                ws.send(json.dumps({"id": 1, "action": "version", "version": 6, "key": key}))
                ws.recv(timeout=5)
        except InvalidStatus:
            pass
        with raw_socket(server.port, timeout=1) as sock:
            sock.sendall(f"GET /events?key={key} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            read_until_closed(sock, limit=0.3)
    server.app.stop()  # the request log is complete once the server has stopped
    server_side = [r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client")]
    assert server_side and not [m for m in server_side if KEY in m]
    text = log_file.read_text()
    assert KEY not in text and "<redacted>" in text


def test_the_request_log_pairs_requests_and_replies_without_payloads(
    start_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    log_file = tmp_path / "log" / "requests.jsonl"
    log_file.parent.mkdir()
    log_file.write_text('{"kept": true}\n')  # appended to, never truncated
    server = start_server(apiLogPath=str(log_file))
    payload = "QUJD" * 200
    stored = {"action": "storeMediaFile", "version": 6, "params": {"filename": "a.txt", "data": payload}}
    http_post(server.port, stored, headers={"Origin": "http://localhost"})
    http_post(server.port, {"action": "retrieveMediaFile", "version": 6, "params": {"filename": "a.txt"}})
    http_post(server.port, {"action": "nope"})
    server.app.stop()
    lines = log_file.read_text().splitlines()
    assert lines[0] == '{"kept": true}'
    records = [json.loads(line) for line in lines[1:]]
    assert [(r["n"], r["kind"]) for r in records] == [(1, "request"), (1, "reply"), (2, "request"), (2, "reply")] + [
        (3, "request"),
        (3, "reply"),
    ]
    first = records[0]
    assert first["transport"] == "http" and first["peer"] == "127.0.0.1" and first["origin"] == "http://localhost"
    assert first["request"]["params"] == {"filename": "a.txt", "data": f"<{len(payload)} characters of data>"}
    assert records[1]["reply"] == {"result": "a.txt", "error": None} and records[1]["ms"] >= 0
    assert records[3]["reply"] == {"result": f"<{len(payload)} characters of data>", "error": None}
    assert records[5]["reply"] == {"result": None, "error": "unsupported action"}
    assert payload not in log_file.read_text()


def test_an_unwritable_request_log_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"apiLogPath": str(tmp_path / "missing" / "log.jsonl")}))
    code = cli_main(["serve", "--collection", str(tmp_path / "c.anki2"), "--port", "0", "--config", str(config)])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot open the request log (apiLogPath)" in err[0] and "missing" in err[0], err


# wrong keys slowed down


def _timed_version(port: int, key: str, host: str = "127.0.0.1") -> tuple[float, Any]:
    started = time.monotonic()
    reply = http_post(port, {"action": "version", "version": 6, "key": key}, host=host)
    return time.monotonic() - started, reply.json()


def test_repeated_wrong_keys_are_slowed_down(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey=KEY)
    quick = [_timed_version(server.port, "guess") for _ in range(5)]
    assert all(t < 0.2 and r["error"] == "valid api key must be provided" for t, r in quick)
    slowed = [_timed_version(server.port, "guess")[0] for _ in range(4)]  # 0.05, 0.1, 0.2, 0.4 s
    assert slowed[-1] >= 0.35 and sum(slowed) >= 0.7, slowed
    # Another address (IPv6 loopback) is not slowed, nor is the right key once the wrong ones stop.
    assert _timed_version(server.port, KEY, host="::1")[0] < 0.2
    elapsed, reply = _timed_version(server.port, KEY)
    assert elapsed < 0.2 and reply == {"result": 6, "error": None}


def test_parallel_guesses_are_answered_one_delay_apart_and_others_are_not_held_up(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(apiKey=KEY)
    for _ in range(5):
        _timed_version(server.port, "guess")
    finished: list[float] = []
    started = time.monotonic()

    def guess() -> None:
        _timed_version(server.port, "guess")
        finished.append(time.monotonic() - started)

    threads = [threading.Thread(target=guess) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    # Meanwhile the event loop serves everyone else at once (the guesses sleep; nothing blocks).
    assert _timed_version(server.port, KEY, host="::1")[0] < 0.2
    for thread in threads:
        thread.join(10)
    # 0.05 + 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s, queued one after another, not run side by side.
    assert max(finished) >= 3.0, finished


def test_wrong_keys_in_the_websocket_url_are_slowed_down(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey=KEY)
    assert all(ws_status(server.port, {}, "?key=guess") == 403 for _ in range(5))
    started = time.monotonic()
    for _ in range(3):
        assert ws_status(server.port, {}, "?key=guess") == 403
    assert time.monotonic() - started >= 0.3
    assert server.app.server.keys.failures("127.0.0.1") == 8
