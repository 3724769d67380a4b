"""Clients that misbehave at the socket level: leaving mid-request or mid-response, over HTTP and WebSocket,
and crowds of idle and slow-loris connections. The server must keep answering everyone else and free every
connection it held (its HTTP and WebSocket connection counts return to zero)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from support import RunningServer, WsApiClient, http_post, raw_request, raw_socket
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

BIG_NOTES = 3000
"""Notes whose notesInfo is several MB: more than the kernel's socket buffers hold, so the server is still
writing when the client goes away."""


def wait_for(condition: Callable[[], bool], limit: float = 20) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def connections_closed(server: RunningServer) -> bool:
    transport = server.app.server
    return transport.http_count == 0 and transport.websocket_count == 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def version_ok(server: RunningServer) -> bool:
    reply: Any = http_post(server.port, {"action": "version", "version": 6}, timeout=30).json()
    return bool(reply == {"result": 6, "error": None})


def seed_big_notes(server: RunningServer) -> list[int]:
    """BIG_NOTES notes with 2 KB fields, added straight into the collection (set-up, not under test)."""

    def add(col: Any) -> list[int]:
        from anki.collection import AddNoteRequest

        model = col.models.by_name("Basic")
        requests = []
        for i in range(BIG_NOTES):
            note = col.new_note(model)
            note["Front"], note["Back"] = f"big {i}", "x" * 2048
            requests.append(AddNoteRequest(note, col.decks.id("Default")))
        col.add_notes(requests)
        return [int(request.note.id) for request in requests]

    ids: list[int] = server.on_collection(add)
    return ids


def reset(sock: socket.socket) -> None:
    """Close with RST, not FIN: the server's next write fails at once, as when a client process dies."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def small_receiver(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # so the response cannot all be in flight
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    return sock


def ws_handshake(sock: socket.socket, port: int) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101 "), head


def masked_text_frame_head(length: int) -> bytes:
    """A client text frame's head announcing ``length`` payload bytes (mask key of zeros: payload as is)."""
    assert length >= 126 and length < 1 << 16
    return bytes([0x81, 0x80 | 126]) + struct.pack("!H", length) + b"\0\0\0\0"


# leaving mid-request and mid-response


def test_http_client_leaving_mid_body_runs_nothing_and_frees_the_connection(server: RunningServer) -> None:
    fds = open_fds()
    body = json.dumps({"action": "createDeck", "version": 6, "params": {"deck": "Half"}}).encode()
    for _ in range(20):
        with raw_socket(server.port) as sock:
            head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            sock.sendall(head + body[: len(body) // 2])
    assert wait_for(lambda: connections_closed(server))
    assert version_ok(server)
    assert http_post(server.port, {"action": "deckNames", "version": 6}).json()["result"] == ["Default"]
    assert wait_for(lambda: connections_closed(server) and open_fds() <= fds)


def test_http_client_leaving_mid_response_frees_the_connection(server: RunningServer) -> None:
    ids = seed_big_notes(server)
    fds = open_fds()
    for _ in range(5):
        sock = small_receiver(server.port)
        sock.sendall(raw_request(server.port, {"action": "notesInfo", "version": 6, "params": {"notes": ids}}))
        assert sock.recv(1024).startswith(b"HTTP/1.1 200 ")
        reset(sock)
    assert version_ok(server)
    # The same request read to the end still gets the whole answer.
    reply = http_post(server.port, {"action": "notesInfo", "version": 6, "params": {"notes": ids}}, timeout=60)
    assert len(reply.json()["result"]) == BIG_NOTES
    assert wait_for(lambda: connections_closed(server) and open_fds() <= fds)


def test_websocket_client_leaving_mid_frame_frees_the_connection(server: RunningServer) -> None:
    fds = open_fds()
    message = json.dumps({"action": "createDeck", "version": 6, "params": {"deck": "Half"}, "id": 1}).encode()
    message += b" " * (200 - len(message))
    for leave in (socket.socket.close, reset):
        with raw_socket(server.port) as sock:
            ws_handshake(sock, server.port)
            assert wait_for(lambda: server.app.server.websocket_count == 1)
            sock.sendall(masked_text_frame_head(len(message)) + message[:100])
            leave(sock)
        assert wait_for(lambda: connections_closed(server))
    assert http_post(server.port, {"action": "deckNames", "version": 6}).json()["result"] == ["Default"]
    assert wait_for(lambda: connections_closed(server) and open_fds() <= fds)


def test_websocket_client_leaving_mid_response_frees_the_connection(server: RunningServer) -> None:
    ids = seed_big_notes(server)
    fds = open_fds()
    request = json.dumps({"action": "notesInfo", "version": 6, "params": {"notes": ids}, "id": 1}).encode()
    for _ in range(3):
        sock = small_receiver(server.port)
        ws_handshake(sock, server.port)
        frame = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", len(request)) + b"\0\0\0\0" + request
        sock.sendall(frame)
        assert sock.recv(16)[:1] == b"\x81"  # the reply's frame has started
        reset(sock)
        assert wait_for(lambda: server.app.server.websocket_count == 0)
    api = WsApiClient(server.ws_url)
    try:
        assert len(api.invoke("notesInfo", notes=ids)) == BIG_NOTES
    finally:
        api.close()
    assert version_ok(server)
    assert wait_for(lambda: connections_closed(server) and open_fds() <= fds)
    assert not server.app.server.ws_api._in_flight  # no request task left behind


def test_websocket_message_over_the_limit_closes_only_that_connection(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(webMaxBodyBytes=64 * 1024)
    with connect(server.ws_url, proxy=None, open_timeout=30) as bystander:
        with connect(server.ws_url, proxy=None, open_timeout=30, max_size=None) as ws:
            ws.send(json.dumps({"action": "version", "version": 6, "id": 1, "pad": "x" * (64 * 1024)}))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
        bystander.send(json.dumps({"action": "version", "version": 6, "id": 2}))
        assert json.loads(bystander.recv(timeout=30)) == {"id": 2, "result": 6, "error": None}
    assert wait_for(lambda: connections_closed(server))


def test_deeply_nested_requests_get_errors_and_the_server_carries_on(server: RunningServer) -> None:
    """JSON nested past Python's recursion limit, and multi inside multi without end: clear errors, no crash."""
    too_deep = {"result": None, "error": "request is nested too deeply"}
    assert http_post(server.port, b"[" * 100_000).json() == too_deep
    request: dict[str, Any] = {"action": "version", "version": 6}
    for _ in range(12):
        request = {"action": "multi", "version": 6, "params": {"actions": [request]}}
    reply = http_post(server.port, request).json()
    for _ in range(9):  # the ninth level down is refused; the levels above it answer normally
        assert reply["error"] is None and len(reply["result"]) == 1
        reply = reply["result"][0]
    assert reply == {"result": None, "error": "multi is nested too deeply"}
    with connect(server.ws_url, proxy=None, open_timeout=30) as ws:
        ws.send("[" * 100_000)
        assert json.loads(ws.recv(timeout=30)) == {"id": None, **too_deep}
        ws.send(json.dumps({"action": "version", "version": 6, "id": 1}))
        assert json.loads(ws.recv(timeout=30)) == {"id": 1, "result": 6, "error": None}
    assert version_ok(server)


# crowds of idle and slow connections

IDLE = 1000
SLOW = 200
HEAD_TIMEOUT = 8.0


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def test_a_burst_of_connections_waits_in_the_backlog_while_the_loop_is_busy(server: RunningServer) -> None:
    # A thousand overlays reconnecting at once after a restart: the kernel must hold them all until the loop
    # gets to them. With asyncio's default backlog of 100 the rest were dropped and connected a second later.
    busy = threading.Event()

    def hold_the_loop() -> None:  # it accepts nothing meanwhile
        busy.set()
        time.sleep(1.5)

    server.app.server.loop.call_soon_threadsafe(hold_the_loop)
    assert busy.wait(5)
    burst: list[socket.socket] = []
    try:
        began = time.monotonic()
        for _ in range(500):
            burst.append(socket.create_connection(("127.0.0.1", server.port), timeout=1.0))
        assert time.monotonic() - began < 1.0
        assert wait_for(lambda: server.app.server.http_count == 500)
    finally:
        for sock in burst:
            sock.close()
    assert version_ok(server)


def test_idle_and_slow_loris_crowds_do_not_starve_real_clients(start_server: Callable[..., RunningServer]) -> None:
    # The server runs in this process: the client and server ends of every connection count against one limit.
    raise_fd_limit(2 * (IDLE + SLOW) + 512)
    server = start_server(webHeadTimeout=HEAD_TIMEOUT, webIdleTimeout=HEAD_TIMEOUT)
    crowd: list[socket.socket] = []
    slow: list[socket.socket] = []
    first_opened = time.monotonic()
    try:
        for n in range(IDLE + SLOW):
            (crowd if n < IDLE else slow).append(socket.create_connection(("127.0.0.1", server.port), timeout=30))
            if n % 50 == 49:
                # In steps the listen backlog takes whole: past it the kernel drops connection attempts, whose
                # retries (1 s, then 3 s) let the first of the crowd reach their head deadline before the last
                # arrive, and the whole crowd was never there at once.
                assert wait_for(lambda: server.app.server.http_count == len(crowd) + len(slow))
        head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: 2\r\nX-Pad: ".encode()
        assert server.app.server.http_count == IDLE + SLOW
        stop = threading.Event()

        def trickle() -> None:
            # One byte of a never-ending head per slow connection every 0.2 s: each keeps sending, never finishes.
            position = 0
            while not stop.is_set():
                for sock in slow:
                    with contextlib.suppress(OSError):
                        sock.send(head[position : position + 1] or b"a")  # the head, then a header value without end
                position += 1
                stop.wait(0.2)

        trickler = threading.Thread(target=trickle)
        trickler.start()
        latencies: list[float] = []
        try:
            with connect(server.ws_url, proxy=None, open_timeout=30) as ws:
                # Until just before the first crowd connection's head deadline: the whole crowd is there throughout.
                while time.monotonic() < first_opened + HEAD_TIMEOUT - 2 or len(latencies) < 3:
                    began = time.monotonic()
                    assert version_ok(server)
                    ws.send(json.dumps({"action": "deckNames", "version": 6, "id": 1}))
                    assert json.loads(ws.recv(timeout=30))["result"] == ["Default"]
                    latencies.append(time.monotonic() - began)
            crowd_left = server.app.server.http_count
        finally:
            stop.set()
            trickler.join(10)
        assert max(latencies) < 5.0, latencies  # generous: a loaded 2-core machine
        assert crowd_left >= IDLE + SLOW, crowd_left  # the answers came while the whole crowd was connected
        # Every crowd connection is dropped once the head deadline passes, trickling or not.
        assert wait_for(lambda: server.app.server.http_count == 0, HEAD_TIMEOUT + 30)
        for sock in [*crowd[:50], *slow[:50]]:
            sock.settimeout(10)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(4096) == b""
        assert version_ok(server)
    finally:
        for sock in [*crowd, *slow]:
            sock.close()
    assert wait_for(lambda: connections_closed(server))
