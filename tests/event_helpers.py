"""A WebSocket event subscriber for the event tests, and readers for the SSE stream.

Events of a request are published before its reply, and a marker event published by the test afterwards is
numbered after them; so reading up to the marker gives every event a request caused, without sleeping, and
shows that nothing else came.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from support import RunningServer
from websockets.sync.client import ClientConnection, connect

__all__ = ["MARK", "Subscriber", "names", "newest_seq", "sse_frames", "sse_open", "wait_for"]

MARK = "review.ended"
"""Never published headless (no reviewer): the tests publish it themselves as a marker."""


class Subscriber:
    """One WebSocket with subscriptions; replies and events are read apart (events before a reply are kept)."""

    def __init__(self, server: RunningServer, *, url: str | None = None, **kwargs: Any) -> None:
        self.server = server
        self.socket: ClientConnection = connect(
            url or server.ws_url, proxy=None, max_size=None, open_timeout=5, close_timeout=2, legacy=True, **kwargs
        )
        self._ids = itertools.count(1)
        self._marks = itertools.count(1)
        self._pending: deque[dict[str, Any]] = deque()
        self._mark_subscription: int | None = None

    def call(self, action: str, /, *, key: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a request on this socket and return its reply (``id``, ``result``, ``error``)."""
        request_id = next(self._ids)
        request: dict[str, Any] = {"id": request_id, "action": action, "version": 6, "params": params}
        if key is not None:
            request["key"] = key
        self.socket.send(json.dumps(request))
        while True:
            message = self._receive(10)
            if message.get("id") == request_id and "type" not in message:
                return message
            self._pending.append(message)

    def subscribe(self, events: list[str] | None = None, *, key: str | None = None, **params: Any) -> int:
        reply = self.call("subscribe", key=key, **({} if events is None else {"events": events}), **params)
        assert reply["error"] is None, reply
        assert set(reply["result"]) == {"subscription", "seq"}
        subscription: int = reply["result"]["subscription"]
        return subscription

    def next(self, timeout: float = 5) -> dict[str, Any]:
        """The next event (or gap) message, markers left out."""
        while True:
            message = self._pending.popleft() if self._pending else self._receive(timeout)
            if message.get("event") != MARK:
                return message

    def settle(self) -> list[dict[str, Any]]:
        """Every event message that came before now (publishes a marker and reads up to it)."""
        if self._mark_subscription is None:
            self._mark_subscription = self.subscribe([MARK])
        token = next(self._marks)
        self.server.app.events.publish(MARK, {"token": token})
        found: list[dict[str, Any]] = []
        while True:
            message = self._pending.popleft() if self._pending else self._receive(5)
            if message.get("event") != MARK:
                found.append(message)
            elif message["subscription"] == self._mark_subscription and message["data"] == {"token": token}:
                return found

    def close(self) -> None:
        self.socket.close()

    def _receive(self, timeout: float) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.socket.recv(timeout=timeout))
        return message


def newest_seq(server: RunningServer) -> int:
    """The bus's newest event number, read on the server's loop (events from start-up are numbered there)."""

    async def read() -> int:
        return server.app.events.seq

    return asyncio.run_coroutine_threadsafe(read(), server.app.server.loop).result(5)


def wait_for(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def names(messages: list[dict[str, Any]]) -> list[str]:
    return [message["event"] for message in messages]


@contextmanager
def sse_open(port: int, target: str, headers: dict[str, str] | None = None) -> Iterator[http.client.HTTPResponse]:
    """GET an event stream: its response, to read from while the block runs."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", target, headers=headers or {})
        with connection.getresponse() as response:
            yield response
    finally:
        connection.close()


def sse_frames(response: http.client.HTTPResponse, count: int) -> list[dict[str, str]]:
    """Read ``count`` SSE frames (``retry``, comments and all): each as its fields, ``data`` kept as text."""
    frames: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    while len(frames) < count:
        line = response.readline().decode("utf-8")
        assert line, f"the stream ended after {frames}"
        line = line.rstrip("\n")
        if not line:
            frames.append(fields)
            fields = {}
        else:
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
    return frames
