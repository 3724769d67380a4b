"""The HTTP transport on a real socket: AnkiConnect's wire rules, CORS and Host policy, and HTTP/1.1 mechanics."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from event_helpers import wait_for
from support import (
    RunningServer,
    basic_note,
    http_post,
    http_request,
    parse_response,
    raw_request,
    raw_socket,
    read_responses,
    read_until_closed,
)

VERSION_6 = {"action": "version", "version": 6}
EVIL = "http://evil.example"


def version_ok(server: RunningServer, **kwargs: Any) -> bool:
    reply = http_post(server.port, VERSION_6, **kwargs)
    return reply.status == 200 and reply.json() == {"result": 6, "error": None}


def deck_names(server: RunningServer) -> list[str]:
    reply = http_post(server.port, {"action": "deckNames", "version": 6})
    assert reply.status == 200
    names: list[str] = reply.json()["result"]
    return names


# AnkiConnect's request and reply rules


def test_empty_body_gets_the_banner(server: RunningServer) -> None:
    reply = http_post(server.port, b"")
    assert reply.status == 200
    assert reply.json() == {"apiVersion": "AnkiConnect v.6"}


def test_get_without_body_gets_the_banner(server: RunningServer) -> None:
    reply = http_post(server.port, b"", method="GET")
    assert reply.status == 200
    assert reply.json() == {"apiVersion": "AnkiConnect v.6"}


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/json", "application/octet-stream", "application/x-www-form-urlencoded", None],
)
def test_any_content_type_is_accepted(server: RunningServer, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    reply = http_post(server.port, VERSION_6, headers=headers)
    assert reply.status == 200
    assert reply.json() == {"result": 6, "error": None}


def test_success_headers_are_exactly_upstreams(server: RunningServer) -> None:
    with raw_socket(server.port) as sock:
        sock.sendall(raw_request(server.port, VERSION_6))
        (raw,) = read_responses(sock, 1)
    response = parse_response(raw)
    body = b'{"result": 6, "error": null}'
    assert (response.status, response.reason) == (200, "OK")
    assert response.headers == [
        ("Content-Type", "application/json"),
        ("Access-Control-Allow-Origin", "http://localhost"),
        ("Access-Control-Allow-Headers", "*"),
        ("Content-Length", str(len(body))),
    ]
    assert response.body == body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"x", "Expecting value: line 1 column 1 (char 0)"),
        (b"{1: 2}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        (b'{"action": "version"', "Expecting ',' delimiter: line 1 column 21 (char 20)"),
    ],
)
def test_malformed_json_is_a_200_with_pythons_message(server: RunningServer, body: bytes, message: str) -> None:
    reply = http_post(server.port, body)
    assert reply.status == 200
    assert reply.json() == {"result": None, "error": message}


def test_invalid_utf8_is_a_200_with_the_codec_message(server: RunningServer) -> None:
    reply = http_post(server.port, b"\xe7\x8c")
    assert reply.status == 200
    assert reply.json() == {
        "result": None,
        "error": "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data",
    }


def test_a_json_non_object_is_a_schema_error(server: RunningServer) -> None:
    reply = http_post(server.port, b"[1, 2]")
    assert reply.status == 200
    assert reply.json() == {"result": None, "error": "[1, 2] is not of type 'object'"}


# CORS


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://127.0.0.1",
        "http://127.0.0.1:8080",
        "https://127.0.0.1:8443",
        "chrome-extension://abcdefghijklmnop",
        "moz-extension://0f1e2d3c-aaaa-bbbb-cccc-000000000000",
    ],
)
def test_the_localhost_list_admits_loopback_and_extension_origins(server: RunningServer, origin: str) -> None:
    reply = http_post(server.port, VERSION_6, headers={"Origin": origin})
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == origin
    assert reply.json() == {"result": 6, "error": None}


def test_a_listed_origin_is_echoed(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webCorsOriginList=["https://app.example"])
    reply = http_post(server.port, VERSION_6, headers={"Origin": "https://app.example"})
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == "https://app.example"
    # Without http://localhost in the list, its family is no longer admitted.
    assert http_post(server.port, VERSION_6, headers={"Origin": "http://127.0.0.1:3000"}).status == 403


def test_no_origin_is_allowed_with_acao_localhost(server: RunningServer) -> None:
    reply = http_post(server.port, VERSION_6)
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == "http://localhost"


def test_star_in_the_list_allows_any_origin_with_acao_star(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webCorsOriginList=["*"])
    for headers in ({"Origin": EVIL}, {}):
        reply = http_post(server.port, VERSION_6, headers=headers)
        assert reply.status == 200
        assert reply.headers["access-control-allow-origin"] == "*"


def test_a_disallowed_origin_gets_403_and_its_action_does_not_run(server: RunningServer) -> None:
    reply = http_post(
        server.port,
        {"action": "createDeck", "version": 6, "params": {"deck": "Pwned"}},
        headers={"Origin": EVIL},
    )
    assert reply.status == 403
    assert reply.headers["access-control-allow-origin"] == "http://localhost"
    assert "Pwned" not in deck_names(server)
    assert deck_names(server) == ["Default"]


@pytest.mark.parametrize("body", [b"{1: 2}", b"\xe7\x8c", b"[]", b""], ids=["bad-json", "bad-utf8", "array", "empty"])
def test_a_disallowed_origin_gets_403_even_for_bodies_that_are_not_requests(server: RunningServer, body: bytes) -> None:
    reply = http_post(server.port, body, headers={"Origin": EVIL})
    assert reply.status == 403
    assert reply.headers["access-control-allow-origin"] == "http://localhost"


def test_request_permission_from_a_disallowed_origin_is_a_readable_denial(server: RunningServer) -> None:
    reply = http_post(server.port, {"action": "requestPermission"}, headers={"Origin": EVIL})
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == EVIL
    assert reply.json() == {"permission": "denied"}


def test_options_preflight_answers_the_browser(server: RunningServer) -> None:
    reply = http_post(
        server.port,
        method="OPTIONS",
        headers={
            "Origin": "http://127.0.0.1:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-custom",
        },
    )
    assert reply.status == 200
    assert reply.body == b""
    assert reply.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    assert "POST" in reply.headers["access-control-allow-methods"]
    assert reply.headers["access-control-allow-headers"] == "content-type, x-custom"
    assert "access-control-allow-private-network" not in reply.headers


def test_options_preflight_grants_private_network_access_only_when_asked(server: RunningServer) -> None:
    reply = http_post(
        server.port,
        method="OPTIONS",
        headers={
            "Origin": "chrome-extension://abc",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert reply.status == 200
    assert reply.headers["access-control-allow-private-network"] == "true"
    assert reply.headers["access-control-allow-origin"] == "chrome-extension://abc"


# Host check (DNS rebinding)


def test_a_foreign_host_gets_403_and_its_action_does_not_run(server: RunningServer) -> None:
    reply = http_post(
        server.port,
        {"action": "createDeck", "version": 6, "params": {"deck": "Rebound"}},
        headers={"Host": f"evil.example:{server.port}"},
    )
    assert reply.status == 403
    assert deck_names(server) == ["Default"]


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "foo.localhost", "localhost"])
def test_loopback_hosts_are_allowed(server: RunningServer, host: str) -> None:
    assert version_ok(server, headers={"Host": host.format(port=server.port)})


def test_the_host_allow_list_admits_a_named_host(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webHostAllowList=["myhost.lan"])
    assert version_ok(server, headers={"Host": f"myhost.lan:{server.port}"})
    assert http_post(server.port, VERSION_6, headers={"Host": "other.lan"}).status == 403


def test_star_in_the_host_allow_list_disables_the_check(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webHostAllowList=["*"])
    assert version_ok(server, headers={"Host": "evil.example"})


def test_ipv6_loopback_is_served(server: RunningServer) -> None:
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError as exc:
        pytest.skip(f"this machine has no IPv6 loopback: {exc}")
    assert version_ok(server, host="::1")


# HTTP/1.1 mechanics


def test_keep_alive_reuses_one_connection(server: RunningServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        ports: set[int] = set()
        sockets: set[int] = set()
        for action in ("version", "deckNames", "modelNames", "version"):
            reply = http_request(connection, {"action": action, "version": 6})
            assert reply.status == 200 and reply.json()["error"] is None
            assert "connection" not in reply.headers  # no "Connection: close"
            assert connection.sock is not None, "the server closed the connection"
            sockets.add(id(connection.sock))
            ports.add(connection.sock.getsockname()[1])
        assert len(sockets) == 1 and len(ports) == 1
    finally:
        connection.close()


def test_pipelined_requests_get_responses_in_order(server: RunningServer) -> None:
    # The first request goes to the collection thread, the others are answered on the loop: order must hold.
    requests = [
        {"action": "deckNames", "version": 6},
        {"action": "version", "version": 6},
        {"action": "nope", "version": 6},
    ]
    with raw_socket(server.port) as sock:
        sock.sendall(b"".join(raw_request(server.port, r) for r in requests))
        responses = [parse_response(raw) for raw in read_responses(sock, 3)]
    assert [r.status for r in responses] == [200, 200, 200]
    assert [r.json() for r in responses] == [
        {"result": ["Default"], "error": None},
        {"result": 6, "error": None},
        {"result": None, "error": "unsupported action"},
    ]


LONG_POLL = {"action": "pollEvents", "version": 6, "params": {"events": ["note.added"], "timeout": 1.0}}
"""A request that stays in progress for a second (nothing is added meanwhile)."""


def test_a_request_pipelined_behind_a_slow_one_waits_for_it(server: RunningServer) -> None:
    with raw_socket(server.port) as sock:
        sock.sendall(raw_request(server.port, LONG_POLL) + raw_request(server.port, VERSION_6))
        first, second = (parse_response(raw) for raw in read_responses(sock, 2))
    assert first.json()["result"]["events"] == [] and second.json() == {"result": 6, "error": None}


def test_a_client_that_stops_sending_while_its_request_is_answered_gets_the_answer(server: RunningServer) -> None:
    with raw_socket(server.port) as sock:
        sock.sendall(raw_request(server.port, LONG_POLL))
        sock.shutdown(socket.SHUT_WR)  # nothing more to send: the server sees the end of input at once
        raw = read_until_closed(sock)
    reply = parse_response(raw)
    assert reply.status == 200 and reply.json()["result"]["events"] == []


def test_reading_pauses_while_a_request_is_answered_once_much_follows_it(server: RunningServer) -> None:
    """What follows a request in progress is read (a pipelined request waits in h11's buffer) up to a bound,
    then reading pauses until the answer is sent: a client cannot make the server buffer without limit."""
    from ankiconnect_live.transport.http import BUFFERED_WHILE_ANSWERING

    padded = json.dumps(VERSION_6).encode() + b" " * (16 * 1024 * 1024)  # valid JSON, 16 MB
    with raw_socket(server.port) as sock:
        sock.sendall(raw_request(server.port, LONG_POLL))
        connections = server.app.server._http_connections
        wait_for(lambda: any(c._busy for c in list(connections)))
        (connection,) = [c for c in list(connections) if c._busy]
        sender = threading.Thread(target=sock.sendall, args=(raw_request(server.port, padded),))
        sender.start()  # blocks once the kernel's buffers are full
        transport = connection._transport
        assert transport is not None
        wait_for(lambda: not transport.is_reading())
        time.sleep(0.2)
        # At most one read (asyncio reads up to 256 KiB at a time) beyond the bound.
        assert BUFFERED_WHILE_ANSWERING < connection._read_while_busy <= BUFFERED_WHILE_ANSWERING + 256 * 1024
        first, second = (parse_response(raw) for raw in read_responses(sock, 2))
        sender.join(10)
    assert first.json()["result"]["events"] == [] and second.json() == {"result": 6, "error": None}


def test_a_long_poll_is_answered_at_once_when_the_server_stops(server: RunningServer) -> None:
    # A dashboard long-polling (25 s by default) must not hold up Anki's quitting for the shutdown grace.
    with raw_socket(server.port) as sock:
        sock.sendall(raw_request(server.port, {**LONG_POLL, "params": {"timeout": 25}}))
        wait_for(lambda: any(c._busy for c in list(server.app.server._http_connections)))
        started = time.monotonic()
        server.app.stop()
        assert time.monotonic() - started < 2
        raw = read_until_closed(sock)
    reply = parse_response(raw)
    assert reply.status == 200 and reply.json()["result"]["events"] == []
    assert ("Connection", "close") in reply.headers


def test_a_request_still_running_past_the_shutdown_grace_is_cut_off(server: RunningServer) -> None:
    busy = threading.Thread(target=server.on_collection, args=(lambda col: time.sleep(1.5),))
    busy.start()  # the collection's thread is taken: the next request waits for it
    with raw_socket(server.port) as sock:
        sock.sendall(raw_request(server.port, {"action": "deckNames", "version": 6}))
        wait_for(lambda: any(c._busy for c in list(server.app.server._http_connections)))
        server.app.server.stop(grace=0.2)
        started = time.monotonic()
        assert read_until_closed(sock) == b""  # closed, not left waiting
        assert time.monotonic() - started < 1
    busy.join()


def chunked(body: bytes, size: int) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def chunked_head(port: int) -> bytes:
    return f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()


def test_a_chunked_request_body_is_dispatched(server: RunningServer) -> None:
    body = json.dumps({"action": "createDeck", "version": 6, "params": {"deck": "Chunked"}}).encode()
    with raw_socket(server.port) as sock:
        sock.sendall(chunked_head(server.port) + chunked(body, 7))
        (raw,) = read_responses(sock, 1)
    response = parse_response(raw)
    assert response.status == 200
    assert isinstance(response.json()["result"], int)
    assert "Chunked" in deck_names(server)


@pytest.mark.parametrize("pieces", [1, 20], ids=["one-write", "trickled"])
def test_a_request_head_over_64_kib_gets_431(server: RunningServer, pieces: int) -> None:
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {'a' * (70 * 1024)}\r\n\r\n".encode()
    step = -(-len(head) // pieces)
    with raw_socket(server.port) as sock:
        for start in range(0, len(head), step):
            try:
                sock.sendall(head[start : start + step])
            except OSError:  # the server may answer and close before the rest is written
                break
            if pieces > 1:
                time.sleep(0.005)
        raw = read_until_closed(sock, limit=5)
    assert raw.startswith(b"HTTP/1.1 431 "), raw[:100]
    assert version_ok(server)


def test_a_body_over_the_limit_gets_413_from_content_length(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webMaxBodyBytes=2048)
    with raw_socket(server.port) as sock:
        # Only the head is sent: the limit is enforced before the body is read.
        sock.sendall(f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {4096}\r\n\r\n".encode())
        raw = read_until_closed(sock, limit=5)
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:100]
    pad = {"action": "version", "version": 6, "pad": "x" * 1500}
    assert http_post(server.port, pad).json() == {"result": 6, "error": None}  # just under the limit


def test_a_client_still_writing_a_refused_body_reads_the_413(start_server: Callable[..., RunningServer]) -> None:
    # http.client writes the whole body before reading; if the server closed with that input unread, the
    # kernel's RST would (now and then) destroy the 413 or break the client's write. Repeat to catch that.
    server = start_server(webMaxBodyBytes=2048)
    for _ in range(50):
        reply = http_post(server.port, b"x" * 1_000_000, timeout=5)
        assert reply.status == 413
        assert reply.headers["connection"] == "close"
    assert version_ok(server)


def test_a_body_over_the_limit_gets_413_when_chunked(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webMaxBodyBytes=2048)
    body = json.dumps({"action": "version", "version": 6, "pad": "x" * 3000}).encode()
    with raw_socket(server.port) as sock:
        sock.sendall(chunked_head(server.port) + chunked(body, 1000))
        raw = read_until_closed(sock, limit=5)
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:100]
    assert version_ok(server)


def test_a_head_not_finished_in_time_is_closed(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webHeadTimeout=0.5)
    with raw_socket(server.port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        raw = read_until_closed(sock, limit=5)
        waited = time.monotonic() - started
    assert raw == b""
    assert 0.3 < waited < 3, waited


def test_a_trickled_head_is_closed_at_the_head_deadline(start_server: Callable[..., RunningServer]) -> None:
    # Slow-loris: a byte now and then must not keep the connection alive; the deadline is for the whole head.
    server = start_server(webHeadTimeout=0.5)
    with raw_socket(server.port, timeout=0.1) as sock:
        started = time.monotonic()
        closed_after: float | None = None
        for byte in b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                continue  # still open; send the next byte
            except OSError:
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None and 0.3 < closed_after < 2, closed_after


def test_an_idle_keep_alive_connection_is_closed(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(webIdleTimeout=0.5)
    with raw_socket(server.port) as sock:
        sock.sendall(raw_request(server.port, VERSION_6))
        (raw,) = read_responses(sock, 1)
        assert parse_response(raw).status == 200
        started = time.monotonic()
        assert read_until_closed(sock, limit=5) == b""
        assert 0.3 < time.monotonic() - started < 3


def test_a_busy_keep_alive_connection_stays_open_past_its_first_deadline(
    start_server: Callable[..., RunningServer],
) -> None:
    # Each request moves the connection's deadline on; the timer set for the first one finds it moved.
    server = start_server(webIdleTimeout=0.5, webHeadTimeout=0.5)
    with raw_socket(server.port) as sock:
        for _ in range(8):  # 1.6 s in all: three times the timeout
            sock.sendall(raw_request(server.port, VERSION_6))
            (raw,) = read_responses(sock, 1)
            assert parse_response(raw).status == 200
            time.sleep(0.2)
        started = time.monotonic()
        assert read_until_closed(sock, limit=5) == b""
        assert 0.1 < time.monotonic() - started < 3


def test_a_slow_client_does_not_block_others(server: RunningServer) -> None:
    with raw_socket(server.port) as slow:
        slow.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        started = time.monotonic()
        assert version_ok(server, timeout=2)
        assert time.monotonic() - started < 1
        # The slow client can still finish its request afterwards.
        body = json.dumps(VERSION_6).encode()
        slow.sendall(f"ngth: {len(body)}\r\n\r\n".encode() + body)
        (raw,) = read_responses(slow, 1)
    assert parse_response(raw).json() == {"result": 6, "error": None}


def test_expect_100_continue_sends_the_interim_response(server: RunningServer) -> None:
    # curl sends "Expect: 100-continue" for large bodies and waits for the interim reply before the body.
    body = json.dumps({"action": "version", "version": 6, "pad": "x" * 200_000}).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    with raw_socket(server.port, timeout=5) as sock:
        sock.sendall(head.encode())
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        (raw,) = read_responses(sock, 1)
    assert parse_response(raw).json() == {"result": 6, "error": None}


def test_head_gets_the_banner_headers_without_a_body(server: RunningServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        head = http_request(connection, method="HEAD")
        assert head.status == 200 and head.body == b""
        assert head.headers["content-length"] == str(len(json.dumps({"apiVersion": "AnkiConnect v.6"})))
        # The connection stays in step: the next request on it is answered normally.
        assert http_request(connection, VERSION_6).json() == {"result": 6, "error": None}
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["PUT", "PATCH", "GET"])
def test_other_methods_with_a_body_are_dispatched_like_post(server: RunningServer, method: str) -> None:
    # Upstream has no method filter; clients built on it sometimes send PUT or GET with a body.
    reply = http_post(server.port, VERSION_6, method=method)
    assert reply.status == 200
    assert reply.json() == {"result": 6, "error": None}


def test_a_garbage_request_line_gets_400(server: RunningServer) -> None:
    with raw_socket(server.port) as sock:
        sock.sendall(b"this is not http\r\n\r\n")
        raw = read_until_closed(sock, limit=5)
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:100]
    assert version_ok(server)


def test_concurrent_clients_lose_and_duplicate_no_notes(server: RunningServer) -> None:
    clients, per_client = 20, 5
    failures: list[str] = []
    barrier = threading.Barrier(clients)

    def work(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            barrier.wait(timeout=10)
            fronts = [f"c{index}-n{n}" for n in range(per_client)]
            batch = [basic_note(front, tags=["concurrent"]) for front in fronts[1:]]
            reply = http_request(connection, {"action": "addNotes", "version": 6, "params": {"notes": batch}})
            if reply.status != 200 or reply.json()["error"] is not None:
                failures.append(f"addNotes {index}: {reply.status} {reply.body[:200]!r}")
            single = basic_note(fronts[0], tags=["concurrent"])
            reply = http_request(connection, {"action": "addNote", "version": 6, "params": {"note": single}})
            if reply.status != 200 or not isinstance(reply.json()["result"], int):
                failures.append(f"addNote {index}: {reply.status} {reply.body[:200]!r}")
        except Exception as exc:  # reported below, in the test's thread
            failures.append(f"client {index}: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures

    ids = http_post(server.port, {"action": "findNotes", "version": 6, "params": {"query": "tag:concurrent"}})
    note_ids: list[int] = ids.json()["result"]
    assert len(note_ids) == len(set(note_ids)) == clients * per_client
    infos = http_post(server.port, {"action": "notesInfo", "version": 6, "params": {"notes": note_ids}})
    fronts = sorted(info["fields"]["Front"]["value"] for info in infos.json()["result"])
    assert fronts == sorted(f"c{i}-n{n}" for i in range(clients) for n in range(per_client))


def test_the_server_survives_a_client_leaving_mid_request(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"action": "createDeck", "version": 6, "params": {"deck": "Half"}}).encode()
    with raw_socket(server.port) as sock:
        head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        sock.sendall(head + body[: len(body) // 2])
    assert version_ok(server)
    assert deck_names(server) == ["Default"]  # the half request never ran
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_server_survives_a_client_leaving_mid_response(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The error message repeats the bad value, so a 6 MB string makes a 6 MB response cheaply: more than the
    # kernel buffers (4 MB at most) hold, so the server is still writing when the client resets.
    request = {"action": "version", "version": "x" * (6 << 20)}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # so the response cannot all be in flight
        sock.settimeout(10)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(raw_request(server.port, request))
        first = sock.recv(1024)
        assert first.startswith(b"HTTP/1.1 200 ")
        # Reset rather than close, so the server's next writes fail at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
    assert version_ok(server)
    assert version_ok(server)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
