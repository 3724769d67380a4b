"""Event delivery besides WebSocket subscriptions (SSE, pollEvents), and a WebSocket client too slow to keep up."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest
from event_helpers import Subscriber, newest_seq, sse_frames, sse_open
from support import HttpApiClient, RunningServer, basic_note, http_post, raw_socket, read_until_closed
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from ankiconnect_live.transport import ws_session
from ankiconnect_live.transport.ws_session import SLOW_CONSUMER


@pytest.fixture
def api(server: RunningServer) -> Iterator[HttpApiClient]:
    client = HttpApiClient(server.port)
    yield client
    client.close()


def frame_event(frame: dict[str, str]) -> tuple[int, str, dict[str, Any]]:
    """(id, event, the data's `data`) of one SSE event frame, checked against the data's own fields."""
    data = json.loads(frame["data"])
    assert set(data) == {"seq", "time", "event", "data"}
    assert data["seq"] == int(frame["id"]) and data["event"] == frame["event"]
    return data["seq"], data["event"], data["data"]


# Server-Sent Events


def test_sse_streams_the_events_asked_for_with_their_numbers(server: RunningServer, api: HttpApiClient) -> None:
    with sse_open(server.port, "/events?events=note.*,counts.changed") as response:
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
        assert response.getheader("Cache-Control") == "no-cache"
        assert sse_frames(response, 1) == [{"retry": "2000"}]
        seq = newest_seq(server)
        note_id = api.invoke("addNote", note=basic_note("streamed"))
        api.invoke("createDeck", deck="Not asked for")
        api.invoke("deleteNotes", notes=[note_id])
        got = [frame_event(frame) for frame in sse_frames(response, 4)]
        assert [(s - seq, name) for s, name, _ in got] == [
            (2, "note.added"),
            (3, "counts.changed"),
            (7, "note.deleted"),
            (8, "counts.changed"),
        ]
        assert got[0][2]["noteId"] == note_id


@pytest.mark.parametrize("resume", ["Last-Event-ID", "since"])
def test_sse_resumes_after_the_last_event_seen(server: RunningServer, api: HttpApiClient, resume: str) -> None:
    seq = newest_seq(server)
    first = api.invoke("addNote", note=basic_note("one"))
    second = api.invoke("addNote", note=basic_note("two"))
    target, headers = "/events?events=note.added", {}
    if resume == "since":
        target += f"&since={seq + 1}"
    else:
        headers = {"Last-Event-ID": str(seq + 1)}
        target += "&since=0"  # Last-Event-ID wins: it is where the browser's EventSource got to
    with sse_open(server.port, target, headers) as response:
        got = [frame_event(frame) for frame in sse_frames(response, 3)[1:]]
    assert [(name, data["noteId"]) for _, name, data in got] == [("note.added", first), ("note.added", second)]


def test_sse_says_when_events_were_missed(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(eventHistory=2)
    with closing(HttpApiClient(server.port)) as api:
        api.invoke("addNote", note=basic_note("gone"))
    with sse_open(server.port, "/events?since=0") as response:
        gap = sse_frames(response, 2)[1]
    # profile.opened, collection.changed, note.added (nobody listened for counts.changed)
    assert gap == {"id": "3", "event": "gap", "data": '{"since": 0, "seq": 3}'}


@pytest.mark.parametrize(
    "target, status, error",
    [
        ("/events?events=nope", 400, "no event matches 'nope'"),
        ("/events?since=abc", 400, "since must be an event number, not 'abc'"),
    ],
)
def test_sse_refuses_bad_queries(server: RunningServer, target: str, status: int, error: str) -> None:
    reply = http_post(server.port, method="GET", path=target)
    assert reply.status == status
    assert reply.json()["error"].startswith(error)


def test_sse_needs_the_key_when_one_is_set(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="s3cret")
    for target in ("/events", "/events?key=wrong"):
        reply = http_post(server.port, method="GET", path=target)
        assert (reply.status, reply.json()) == (403, {"result": None, "error": "valid api key must be provided"})
    with sse_open(server.port, "/events?key=s3cret") as response:
        assert response.status == 200


def test_sse_follows_the_origin_policy(server: RunningServer) -> None:
    reply = http_post(server.port, method="GET", path="/events", headers={"Origin": "http://evil.example"})
    assert reply.status == 403


def test_the_stream_ends_when_the_server_stops(server: RunningServer, api: HttpApiClient) -> None:
    with raw_socket(server.port) as sock:
        sock.sendall(b"GET /events?events=note.added HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        api.invoke("addNote", note=basic_note("last"))
        api.close()
        time.sleep(0.05)  # let the frame go out before the stop
        started = time.monotonic()
        stopping = threading.Thread(target=server.app.stop)  # the fixture closes the collection later
        stopping.start()
        raw = read_until_closed(sock, limit=5)
        assert time.monotonic() - started < 3
        stopping.join(10)
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert b"event: note.added" in raw


def test_the_stream_ends_with_a_complete_body_when_the_server_stops(server: RunningServer) -> None:
    stopping = threading.Thread(target=server.app.stop)
    with sse_open(server.port, "/events") as response:
        sse_frames(response, 1)
        stopping.start()
        try:
            assert response.read() == b""  # http.client raises IncompleteRead on a chunked body cut short
        finally:
            stopping.join(10)


# pollEvents


def test_poll_events_returns_what_happened_since(server: RunningServer, api: HttpApiClient) -> None:
    seq = newest_seq(server)
    note_id = api.invoke("addNote", note=basic_note("polled"))
    result = api.invoke("pollEvents", since=seq, events=["note.*"], timeout=5)
    assert set(result) == {"gap", "seq", "events"}
    assert result["gap"] is False and result["seq"] == seq + 2
    assert [(e["seq"], e["event"], e["data"]["noteId"]) for e in result["events"]] == [(seq + 2, "note.added", note_id)]
    assert set(result["events"][0]) == {"seq", "time", "event", "data"}


def test_poll_events_waits_for_the_next_event(server: RunningServer, api: HttpApiClient) -> None:
    seq = newest_seq(server)
    result: list[Any] = []

    def poll() -> None:
        with closing(HttpApiClient(server.port)) as client:
            result.append(client.invoke("pollEvents", since=seq, events=["deck.created"], timeout=10))

    poller = threading.Thread(target=poll)
    started = time.monotonic()
    poller.start()
    time.sleep(0.1)
    api.invoke("addNote", note=basic_note("not this one"))  # not asked for: the poll goes on waiting
    deck_id = api.invoke("createDeck", deck="Awaited")
    poller.join(5)
    assert time.monotonic() - started < 3
    assert [(e["event"], e["data"]) for e in result[0]["events"]] == [
        ("deck.created", {"deckId": deck_id, "name": "Awaited"})
    ]


def test_poll_events_times_out_with_no_events(server: RunningServer, api: HttpApiClient) -> None:
    started = time.monotonic()
    result = api.invoke("pollEvents", timeout=0.3)
    elapsed = time.monotonic() - started
    assert result == {"gap": False, "seq": server.app.events.seq, "events": []}
    assert 0.3 <= elapsed < 2


def test_poll_events_reports_a_gap(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(eventHistory=2)
    with closing(HttpApiClient(server.port)) as api:
        api.invoke("addNote", note=basic_note("gone"))
        assert api.invoke("pollEvents", since=0, timeout=1) == {"gap": True, "seq": 3, "events": []}
        assert api.invoke("pollEvents", since=99, timeout=1) == {"gap": True, "seq": 3, "events": []}


@pytest.mark.parametrize(
    "params, error",
    [
        ({"timeout": 31}, "timeout must be between 0 and 30 seconds, not 31"),
        ({"timeout": -1}, "timeout must be between 0 and 30 seconds, not -1"),
        ({"events": ["nope"]}, "no event matches 'nope'"),
    ],
)
def test_poll_events_refuses_bad_params(api: HttpApiClient, params: dict[str, Any], error: str) -> None:
    assert api.error("pollEvents", **params).startswith(error)


def test_poll_events_needs_the_key(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="s3cret")
    with closing(HttpApiClient(server.port)) as api:
        assert api.error("pollEvents", timeout=0) == "valid api key must be provided"
        reply = api.send({"action": "pollEvents", "version": 6, "key": "s3cret", "params": {"timeout": 0}})
        assert reply["error"] is None


# slow consumers


def test_a_client_too_slow_for_its_events_is_closed_and_delays_nobody(
    start_server: Callable[..., RunningServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_session, "STALLED_SECONDS", 0.2)
    server = start_server(eventQueueSize=50)
    bus = server.app.events
    good = Subscriber(server, compression=None)
    good.subscribe(["media.stored", "note.added"])
    # The slow client reads nothing: a small receive buffer, and its library stops reading after 4 messages.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    slow = Subscriber(server, sock=sock, compression=None, max_queue=4)
    slow.subscribe(["media.stored", "note.added"])
    (slow_side,) = [c for c in server.app.server.ws_api.connections if c.remote_address[1] == sock.getsockname()[1]]
    received: list[dict[str, Any]] = []
    reader = threading.Thread(target=_read_all, args=(good, received))
    reader.start()
    blob = os.urandom(8 * 1024).hex()  # 16 kB that no compression could shrink
    sent, request_ms = 0, None
    try:
        while slow_side.state is State.OPEN:
            assert sent < 4000, "the slow client was never closed"
            for _ in range(10):
                bus.publish("media.stored", {"filename": blob, "n": sent})
                sent += 1
            expected = sent + (request_ms is not None)  # and the note.added of the request below
            _wait_for_count(received, expected)  # the other client gets everything as it goes
            if request_ms is None and slow_side.transport.get_write_buffer_size() > 0:
                # The slow client's socket is full: the collection and the other clients carry on regardless.
                started = time.perf_counter()
                with closing(HttpApiClient(server.port)) as api:
                    api.invoke("addNote", note=basic_note("meanwhile"))
                request_ms = (time.perf_counter() - started) * 1000
                _wait_for_count(received, sent + 1)
        assert request_ms is not None and request_ms < 1000
        assert [e["data"].get("n") for e in received if e["event"] == "media.stored"] == list(range(sent))
        assert [e["data"]["sortField"] for e in received if e["event"] == "note.added"] == ["meanwhile"]
        assert bus.listener_count == 1  # the slow client's subscription is gone
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                slow.socket.recv(timeout=5)  # what was already on its way, then the close
        assert closed.value.rcvd is not None and closed.value.rcvd.code == SLOW_CONSUMER == 4008
        assert closed.value.rcvd.reason == "too slow: messages could not be delivered in time"
    finally:
        good.close()
        reader.join(5)
        slow.close()


def test_a_burst_of_more_events_than_the_queue_holds_reaches_a_client_that_reads(
    start_server: Callable[..., RunningServer],
) -> None:
    """An addNotes of many notes queues a note.added for each at once: a client reading along is no slow one."""
    server = start_server(eventQueueSize=50)
    reader = Subscriber(server, compression=None)
    reader.subscribe(["note.added"])
    received: list[dict[str, Any]] = []
    thread = threading.Thread(target=_read_all, args=(reader, received))
    thread.start()
    try:
        with closing(HttpApiClient(server.port)) as api:
            added = api.invoke("addNotes", notes=[basic_note(f"burst {i}") for i in range(2000)])
        _wait_for_count(received, len(added))
        assert [e["data"]["noteId"] for e in received] == added
        assert server.app.events.listener_count == 1  # still subscribed
        # A burst is sent corked (TCP_CORK, on Linux): the cork must come off, or a lone event afterwards would
        # wait for the kernel's 200 ms timeout.
        latencies = []
        for n in range(5):
            started = time.monotonic()
            server.app.events.publish("note.added", {"noteId": -n})
            _wait_for_count(received, len(added) + n + 1)
            latencies.append(time.monotonic() - started)
            time.sleep(0.02)
        assert min(latencies) < 0.1, latencies
    finally:
        reader.close()
        thread.join(5)


def test_a_client_that_stops_reading_is_closed_however_fast_events_come(
    start_server: Callable[..., RunningServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond a hundred times eventQueueSize messages waiting, a client is closed without waiting for the stall
    to last: memory stays bounded even while events pour in."""
    monkeypatch.setattr(ws_session, "STALLED_SECONDS", 3600.0)
    server = start_server(eventQueueSize=5)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    stalled = Subscriber(server, sock=sock, compression=None, max_queue=4)
    stalled.subscribe(["media.stored"])
    blob = os.urandom(8 * 1024).hex()
    try:
        for n in range(5000):
            server.app.events.publish("media.stored", {"filename": blob, "n": n})
            if server.app.events.listener_count == 0:
                break
            time.sleep(0.0005)
        assert server.app.events.listener_count == 0  # its subscription went with it
    finally:
        stalled.close()


def _read_all(subscriber: Subscriber, into: list[dict[str, Any]]) -> None:
    try:
        while True:
            into.append(json.loads(subscriber.socket.recv(timeout=10)))
    except (ConnectionClosed, TimeoutError):
        pass


def _wait_for_count(items: list[Any], count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while len(items) < count:
        assert time.monotonic() < deadline, f"timed out with {len(items)} of {count}"
        time.sleep(0.001)
    assert len(items) == count
