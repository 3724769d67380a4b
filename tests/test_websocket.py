"""The WebSocket transport on a real socket: framing, ids, concurrency, handshake policy and shutdown."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from event_helpers import wait_for
from support import RunningServer, basic_note, http_post
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from ankiconnect_live.transport.websocket import BINARY_REFUSED


@contextmanager
def ws_open(url: str, **kwargs: Any) -> Iterator[ClientConnection]:
    """A WebSocket to the test server: no proxy from the environment, quick time-outs."""
    connection = connect(url, proxy=None, legacy=True, open_timeout=5, close_timeout=2, max_size=None, **kwargs)
    try:
        yield connection
    finally:
        connection.close()


def exchange(ws: ClientConnection, request: Any) -> Any:
    """Send one frame (a JSON value, or a str/bytes as is) and return the decoded reply."""
    ws.send(request if isinstance(request, str | bytes) else json.dumps(request))
    return json.loads(ws.recv(timeout=10))


def handshake_status(url: str, **kwargs: Any) -> int:
    """The HTTP status of a handshake the server must refuse."""
    with pytest.raises(InvalidStatus) as refused, ws_open(url, **kwargs):
        pass
    return refused.value.response.status_code


def test_handshake_at_root_and_a_request(server: RunningServer) -> None:
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, {"id": 1, "action": "version", "version": 6}) == {"id": 1, "result": 6, "error": None}


def test_a_full_request_frame_gets_exactly_id_result_error(server: RunningServer) -> None:
    request = {"id": "r1", "action": "deckNames", "version": 6, "params": {}, "key": None}
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, request) == {"id": "r1", "result": ["Default"], "error": None}


@pytest.mark.parametrize("version", [None, 4, 2], ids=["no-version", "v4", "v2"])
def test_old_versions_still_get_the_full_envelope(server: RunningServer, version: int | None) -> None:
    request: dict[str, Any] = {"id": 9, "action": "deckNames"}
    if version is not None:
        request["version"] = version
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, request) == {"id": 9, "result": ["Default"], "error": None}
        assert exchange(ws, {**request, "action": "nope"}) == {"id": 9, "result": None, "error": "unsupported action"}


@pytest.mark.parametrize(
    "request_id",
    ["abc", 7, -1.5, None, True, {"nested": [1, {"x": None}]}, [1, "two"], ""],
    ids=["string", "int", "float", "null", "bool", "object", "array", "empty-string"],
)
def test_any_json_id_is_echoed(server: RunningServer, request_id: Any) -> None:
    with ws_open(server.ws_url) as ws:
        reply = exchange(ws, {"id": request_id, "action": "version", "version": 6})
    assert reply == {"id": request_id, "result": 6, "error": None}


def test_a_frame_without_id_is_answered_with_id_null(server: RunningServer) -> None:
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, {"action": "version", "version": 6}) == {"id": None, "result": 6, "error": None}


def test_an_envelope_error_still_echoes_the_id(server: RunningServer) -> None:
    with ws_open(server.ws_url) as ws:
        reply = exchange(ws, {"id": "bad", "version": 6})
    assert reply == {"id": "bad", "result": None, "error": "'action' is a required property"}


def test_replies_may_overtake_a_slow_request(server: RunningServer) -> None:
    notes = [basic_note(f"slow {n}", tags=["slow"]) for n in range(500)]
    with ws_open(server.ws_url) as ws:
        ws.send(json.dumps({"id": "slow", "action": "addNotes", "version": 6, "params": {"notes": notes}}))
        ws.send(json.dumps({"id": "fast", "action": "version", "version": 6}))
        first = json.loads(ws.recv(timeout=20))
        second = json.loads(ws.recv(timeout=20))
    # version is answered while the 500 notes are still being added on the collection thread.
    assert first == {"id": "fast", "result": 6, "error": None}
    assert second["id"] == "slow" and second["error"] is None
    assert len(second["result"]) == 500 and all(isinstance(nid, int) for nid in second["result"])


def test_many_requests_in_flight_all_come_back_with_their_ids(server: RunningServer) -> None:
    actions = ["version", "deckNames", "modelNames", "findCards"]
    with ws_open(server.ws_url) as ws:
        for n in range(100):
            action = actions[n % len(actions)]
            params = {"query": "deck:Default"} if action == "findCards" else {}
            ws.send(json.dumps({"id": n, "action": action, "version": 6, "params": params}))
        replies = [json.loads(ws.recv(timeout=10)) for _ in range(100)]
    assert sorted(reply["id"] for reply in replies) == list(range(100))
    by_id = {reply["id"]: reply for reply in replies}
    assert all(by_id[n]["error"] is None for n in range(100))
    assert by_id[0]["result"] == 6 and by_id[1]["result"] == ["Default"] and by_id[3]["result"] == []


def test_malformed_json_gets_an_error_and_the_socket_stays_open(server: RunningServer) -> None:
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, '{"id": 1, "action": ') == {
            "id": None,
            "result": None,
            "error": "Expecting value: line 1 column 21 (char 20)",
        }
        assert exchange(ws, {"id": 2, "action": "version", "version": 6}) == {"id": 2, "result": 6, "error": None}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ('[{"id": 1, "action": "version"}]', "[{'id': 1, 'action': 'version'}] is not of type 'object'"),
        ("42", "42 is not of type 'object'"),
        ('"version"', "'version' is not of type 'object'"),
        ("null", "None is not of type 'object'"),
    ],
    ids=["array", "number", "string", "null"],
)
def test_a_json_non_object_gets_an_error_with_id_null(server: RunningServer, frame: str, message: str) -> None:
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, frame) == {"id": None, "result": None, "error": message}
        assert exchange(ws, {"id": 2, "action": "version", "version": 6})["result"] == 6


def test_a_binary_frame_is_refused_and_the_socket_stays_open(server: RunningServer) -> None:
    with ws_open(server.ws_url) as ws:
        reply = exchange(ws, json.dumps({"id": 1, "action": "version", "version": 6}).encode())
        assert reply == {"id": None, "result": None, "error": BINARY_REFUSED}
        assert "binary" in reply["error"] and "text frame" in reply["error"]
        assert exchange(ws, {"id": 2, "action": "version", "version": 6}) == {"id": 2, "result": 6, "error": None}


def test_replies_and_events_come_in_text_frames(server: RunningServer) -> None:
    # Replies are sent as the JSON bytes they were encoded to, flagged as text: a client reading text
    # frames (every browser) must get str, big replies and events alike.
    with ws_open(server.ws_url) as ws:
        ws.send(json.dumps({"id": 1, "action": "subscribe", "version": 6, "params": {"events": ["note.added"]}}))
        assert isinstance(ws.recv(timeout=10), str)
        ws.send(json.dumps({"id": 2, "action": "version", "version": 6}))
        assert isinstance(ws.recv(timeout=10), str)
        many = [basic_note(f"text frame {i}") for i in range(150)]
        ws.send(json.dumps({"id": 3, "action": "addNotes", "version": 6, "params": {"notes": many}}))
        frames = [ws.recv(timeout=10) for _ in range(151)]  # 150 events, then the reply
        assert all(isinstance(frame, str) for frame in frames)
        reply = json.loads(frames[-1])
        assert reply["id"] == 3 and len(reply["result"]) == 150 and all(reply["result"])
        assert json.loads(frames[0])["type"] == "event"


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 70_000])
def test_frames_written_directly_are_the_frames_the_library_writes(size: int) -> None:
    """Messages the session writes itself (the socket keeping up) are framed as websockets frames them."""
    from websockets.frames import Frame, Opcode

    from ankiconnect_live.transport.ws_session import _text_frame_head

    data = b"x" * size
    assert _text_frame_head(size) + data == Frame(Opcode.TEXT, data).serialize(mask=False, extensions=[])


@pytest.mark.parametrize("size", [1, 100, 60_000, 300_000])
def test_replies_of_every_length_arrive_whole_and_in_order(server: RunningServer, size: int) -> None:
    # Short ones are framed by the session, long ones (beyond what it writes at once) by the library.
    content = base64.b64encode(os.urandom(size)).decode()
    with ws_open(server.ws_url) as ws:
        store = {"filename": "sized.bin", "data": content}
        assert exchange(ws, {"id": 0, "action": "storeMediaFile", "version": 6, "params": store})["error"] is None
        for i in range(1, 4):
            ws.send(
                json.dumps({"id": i, "action": "retrieveMediaFile", "version": 6, "params": {"filename": "sized.bin"}})
            )
        replies = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
    assert [reply["id"] for reply in replies] == [1, 2, 3]
    assert all(reply["result"] == content for reply in replies)


# handshake policy


def test_a_disallowed_origin_is_refused_at_the_handshake(server: RunningServer) -> None:
    assert handshake_status(server.ws_url, origin=Origin("http://evil.example")) == 403


def test_an_allowed_origin_may_connect(server: RunningServer) -> None:
    with ws_open(server.ws_url, origin=Origin("chrome-extension://abc")) as ws:
        assert exchange(ws, {"id": 1, "action": "version", "version": 6})["result"] == 6


def test_a_foreign_host_is_refused_at_the_handshake(server: RunningServer) -> None:
    # The URL names the host sent in the Host header; the socket goes to our server whatever it says.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    assert handshake_status(f"ws://evil.example:{server.port}/", sock=sock) == 403


def test_a_loopback_host_name_is_accepted(server: RunningServer) -> None:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    with ws_open(f"ws://localhost:{server.port}/", sock=sock) as ws:
        assert exchange(ws, {"id": 1, "action": "version", "version": 6})["result"] == 6


def test_a_wrong_path_is_404(server: RunningServer) -> None:
    assert handshake_status(f"ws://127.0.0.1:{server.port}/socket") == 404


def test_a_wrong_url_key_is_refused(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="k")
    assert handshake_status(server.ws_url + "?key=wrong") == 403


def test_a_right_url_key_lets_frames_without_a_key_run(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="k")
    with ws_open(server.ws_url + "?key=k") as ws:
        assert exchange(ws, {"id": 1, "action": "version", "version": 6}) == {"id": 1, "result": 6, "error": None}
        created = exchange(ws, {"id": 2, "action": "createDeck", "version": 6, "params": {"deck": "Keyed"}})
        assert created["error"] is None and isinstance(created["result"], int)


def test_without_a_url_key_each_frame_key_is_checked(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="k")
    denied = {"id": 1, "result": None, "error": "valid api key must be provided"}
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, {"id": 1, "action": "version", "version": 6}) == denied
        assert exchange(ws, {"id": 1, "action": "version", "version": 6, "key": "nope"}) == denied
        assert exchange(ws, {"id": 3, "action": "version", "version": 6, "key": "k"}) == {
            "id": 3,
            "result": 6,
            "error": None,
        }


# sharing the port, and shutdown


def test_http_works_on_the_same_port_while_a_websocket_is_open(server: RunningServer) -> None:
    with ws_open(server.ws_url) as ws:
        assert exchange(ws, {"id": 1, "action": "version", "version": 6})["result"] == 6
        reply = http_post(server.port, {"action": "deckNames", "version": 6})
        assert reply.status == 200 and reply.json() == {"result": ["Default"], "error": None}
        assert exchange(ws, {"id": 2, "action": "deckNames", "version": 6})["result"] == ["Default"]


def test_stopping_the_server_closes_websockets_with_1001(server: RunningServer) -> None:
    with ws_open(server.ws_url) as first, ws_open(server.ws_url) as second:
        assert exchange(first, {"id": 1, "action": "version", "version": 6})["result"] == 6
        server.app.stop()
        for ws in (first, second):
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_a_long_poll_is_answered_at_once_when_the_server_stops(server: RunningServer) -> None:
    with ws_open(server.ws_url) as ws:
        ws.send(json.dumps({"id": 1, "action": "pollEvents", "version": 6, "params": {"timeout": 20}}))
        wait_for(lambda: bool(server.app.server.ws_api._in_flight))
        started = time.monotonic()
        server.app.stop()
        assert time.monotonic() - started < 2  # not the 10 s grace
        reply = json.loads(ws.recv(timeout=5))
        assert reply["id"] == 1 and reply["result"]["events"] == [] and reply["error"] is None
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


def test_a_request_still_running_at_shutdown_is_cancelled_not_left_pending(server: RunningServer) -> None:
    """Past the grace period, what still runs is cancelled with the loop; left pending, asyncio reports it on
    Anki's console ("Task was destroyed but it is pending!") when it is collected."""
    busy = threading.Thread(target=server.on_collection, args=(lambda col: time.sleep(1.5),))
    busy.start()  # the collection's thread is taken: the next request waits for it
    with ws_open(server.ws_url) as ws:
        ws.send(json.dumps({"id": 1, "action": "deckNames", "version": 6}))
        tasks = server.app.server.ws_api._in_flight
        wait_for(lambda: bool(tasks))
        running = list(tasks)
        server.app.server.stop(grace=0.2)
        assert all(task.cancelled() for task in running)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    busy.join()
