"""Property-based fuzzing of WebSocket message handling, in-process and over real connections.

In-process (the real request path, dispatcher and session; no collection): any text frame gets exactly one
well-formed reply tagged with the request's id, and never an exception. Over real sockets to a real
headless server: random text, binary, oversized, fragmented frames and raw garbage after the handshake
never crash the server, which keeps answering ``version``. ``make fuzz`` runs them longer.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import fuzz_profiles
import pytest
from fuzz_harness import run_ws_message
from hypothesis import given, settings, strategies as st
from support import RunningServer, raw_socket
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ankiconnect_live.actions import ACTIONS
from ankiconnect_live.transport.websocket import BINARY_REFUSED

LIMIT = 4096
"""The server's webMaxBodyBytes in the socket tests, which is also its largest WebSocket message."""

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=15,
)
NAMES = st.sampled_from(sorted(ACTIONS)) | st.text(max_size=12)
REQUESTS = st.fixed_dictionaries(
    {"action": NAMES | JSON},
    optional={
        "id": JSON,
        "version": st.integers(-2, 8) | JSON,
        "params": st.dictionaries(st.text(max_size=10), JSON, max_size=4) | JSON,
        "key": st.none() | st.text(max_size=5),
    },
)


def _encode(value: Any) -> str:
    return json.dumps(value)  # NaN and Infinity included: the server must refuse them cleanly


@settings(max_examples=fuzz_profiles.examples(300, scale=20))
@given(st.text(max_size=200))
def test_any_text_gets_exactly_one_reply(text: str) -> None:
    run_ws_message(text)


@settings(max_examples=fuzz_profiles.examples(300, scale=20))
@given(JSON)
def test_any_json_value_gets_one_reply(value: Any) -> None:
    (reply, *_) = run_ws_message(_encode(value))
    if not isinstance(value, dict):
        assert reply["id"] is None and reply["error"] is not None, reply


@settings(max_examples=fuzz_profiles.examples(500, scale=20))
@given(REQUESTS)
def test_a_request_gets_a_reply_with_its_id(request: dict[str, Any]) -> None:
    (reply, *_) = run_ws_message(_encode(request))
    sent_id = json.loads(_encode(request)).get("id")  # NaN survives only as itself: compare what was sent
    assert json.dumps(reply["id"]) == json.dumps(sent_id), (reply, request)
    if reply["error"] is None:
        # Only a known action can succeed; without a collection that leaves the ones that need none.
        assert request["action"] in ACTIONS, reply


# Over real connections to a real server


@pytest.fixture
def small_server(start_server: Callable[..., RunningServer]) -> RunningServer:
    return start_server(webMaxBodyBytes=LIMIT)


def _connect(server: RunningServer) -> ClientConnection:
    return connect(server.ws_url, proxy=None, max_size=None, open_timeout=10, close_timeout=2)


def _replies(ws: ClientConnection) -> Iterator[dict[str, Any]]:
    while True:
        message = ws.recv(timeout=10)
        assert isinstance(message, str), message
        yield json.loads(message)


def _version(ws: ClientConnection, probe: str) -> None:
    """The server still answers ``version`` on this connection (after replies to what came before)."""
    ws.send(json.dumps({"action": "version", "version": 6, "id": probe}))
    for reply in _replies(ws):
        if reply.get("id") == probe:
            assert reply["result"] == 6 and reply["error"] is None, reply
            return


def _answers(server: RunningServer) -> None:
    with _connect(server) as ws:
        _version(ws, "fresh")


FRAMES = st.lists(
    st.one_of(
        st.tuples(st.just("text"), st.text(max_size=300) | REQUESTS.map(_encode)),
        st.tuples(st.just("binary"), st.binary(max_size=300)),
        st.tuples(st.just("fragments"), st.lists(st.text(max_size=40), min_size=1, max_size=4)),
        st.tuples(st.just("oversized"), st.integers(LIMIT + 1, LIMIT * 3)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=fuzz_profiles.examples(40, scale=20))
@given(frames=FRAMES)
def test_random_frames_never_crash_the_server(small_server: RunningServer, frames: list[tuple[str, Any]]) -> None:
    with _connect(small_server) as ws:
        for kind, payload in frames:
            if kind == "text":
                ws.send(payload)
            elif kind == "binary":
                ws.send(payload)
                binary_reply = next(r for r in _replies(ws) if r.get("error") == BINARY_REFUSED)
                assert binary_reply["id"] is None
            elif kind == "fragments":
                ws.send(iter(payload))  # one message in several frames
            else:
                ws.send("x" * payload)
                with pytest.raises(ConnectionClosed) as closed:
                    for _ in _replies(ws):
                        pass
                # 1009: message too big (RFC 6455 7.4.1); the connection ends, the server does not.
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
                break
        else:
            _version(ws, "probe")
    _answers(small_server)


def _handshake(sock: socket.socket, port: int) -> None:
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
    assert head.startswith(b"HTTP/1.1 101"), head


@settings(max_examples=fuzz_profiles.examples(40, scale=20))
@given(garbage=st.binary(min_size=1, max_size=2000))
def test_garbage_after_the_handshake_never_crashes_the_server(small_server: RunningServer, garbage: bytes) -> None:
    with raw_socket(small_server.port, timeout=5) as sock:
        _handshake(sock, small_server.port)
        try:
            sock.sendall(garbage)
            sock.shutdown(socket.SHUT_WR)  # then the server must finish with this connection on its own
            while sock.recv(65536):
                pass
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server dropped us mid-garbage: allowed, it is a protocol error
    _answers(small_server)


def test_an_integer_beyond_pythons_limit_is_a_clean_error() -> None:
    # Found by fuzzing: json.loads raises a bare ValueError past 4300 digits, which escaped as a crash.
    (reply,) = run_ws_message('{"action": "version", "id": ' + "1" * 5000 + "}")
    assert reply["id"] is None and "4300 digits" in reply["error"], reply
