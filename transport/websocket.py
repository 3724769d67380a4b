"""AnkiConnect over WebSocket: one JSON request per text frame, replies tagged with the request's id."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..events.bus import EventBus
from ..settings import Settings
from ..wire import Caller, WireError, decode_json, envelope_error, error_reply, key_matches
from .api import RequestHandler
from .policy import host_allowed, judge_origin
from .throttle import KeyThrottle, TooManyFailures, client_address
from .ws_session import WsSession, subscription_reply

Snapshot = Callable[[], Awaitable[list[tuple[str, dict[str, Any]]]]]
"""The current state as events (profile, screen, current card, due counts), read on the owner thread."""

__all__ = ["Snapshot", "WebSocketApi", "snapshot_message"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".transport")

MAX_IN_FLIGHT = 64
"""Requests one socket may have running at once; beyond that we stop reading its frames."""

BINARY_REFUSED = "binary frames are not supported: send each request as a JSON text frame"


class WebSocketApi:
    """The handshake policy (``process_request``) and the per-connection request loop (``handler``)."""

    def __init__(
        self,
        handle: RequestHandler,
        settings: Callable[[], Settings],
        events: EventBus,
        snapshot: Snapshot,
        keys: KeyThrottle | None = None,
    ) -> None:
        self._handle = handle
        self._keys = keys or KeyThrottle()
        self._settings = settings
        self._events = events
        self._snapshot = snapshot
        self._next_subscription = 0
        self.connections: set[ServerConnection] = set()
        self._callers: weakref.WeakKeyDictionary[ServerConnection, Caller] = weakref.WeakKeyDictionary()
        self._in_flight: set[asyncio.Task[None]] = set()

    async def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Apply the Host, Origin and URL-key rules before the handshake completes."""
        settings = self._settings()
        if urlsplit(request.path).path != "/":
            return _reject(HTTPStatus.NOT_FOUND, "no WebSocket endpoint at this path")
        host = request.headers.get("Host")
        if not host_allowed(host, settings):
            return _reject(HTTPStatus.FORBIDDEN, f"host not allowed: {host}")
        origin = request.headers.get("Origin")
        if not judge_origin(origin, settings).allowed:
            return _reject(HTTPStatus.FORBIDDEN, "origin not allowed")
        keys = parse_qs(urlsplit(request.path).query).get("key")
        url_key = keys[0] if keys else None
        peer = client_address(connection.remote_address)
        if url_key is not None:
            key_ok = key_matches(url_key, settings.api_key)
            try:
                wait = self._keys.wait_for(peer, key_ok)
            except TooManyFailures as exc:
                return _reject(HTTPStatus.TOO_MANY_REQUESTS, str(exc))
            if wait:
                await asyncio.sleep(wait)  # the handshake of a client guessing keys is slowed down
            if not key_ok:
                return _reject(HTTPStatus.FORBIDDEN, "valid api key must be provided")
        self._callers[connection] = Caller("ws", origin, True, url_key, peer)
        return None

    async def handler(self, connection: ServerConnection) -> None:
        caller = self._callers.pop(connection, Caller("ws"))
        self.connections.add(connection)
        session = WsSession(connection, self._settings().eventQueueSize)
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        try:
            async for message in connection:
                if isinstance(message, bytes):
                    session.send({"id": None, **error_reply(BINARY_REFUSED)})
                    continue
                await slots.acquire()
                task = asyncio.get_running_loop().create_task(self._answer(session, message, caller))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                task.add_done_callback(lambda _: slots.release())
        except ConnectionClosed:
            pass
        finally:
            session.release()
            self.connections.discard(connection)

    async def drain(self) -> None:
        """Wait for requests already running, so shutdown answers them before closing sockets."""
        if self._in_flight:
            await asyncio.wait(list(self._in_flight))

    async def _answer(self, session: WsSession, message: str, caller: Caller) -> None:
        try:
            request = decode_json(message.encode("utf-8", "surrogatepass"))
        except WireError as exc:
            session.send({"id": None, **error_reply(str(exc))})
            return
        request_id = request.get("id") if isinstance(request, dict) else None
        problem = envelope_error(request)
        if problem is not None:
            session.send({"id": request_id, **error_reply(problem)})
            return
        outcome = await self._handle(request, caller)
        if outcome.error is None and request["action"] == "subscribe":
            await self._subscribe(session, request_id, outcome.result)
        elif outcome.error is None and request["action"] == "unsubscribe":
            found = session.remove_subscription(outcome.result["subscription"])
            error = None if found else f"no subscription {outcome.result['subscription']} on this connection"
            session.send({"id": request_id, "result": found or None, "error": error})
        else:
            session.send({"id": request_id, **outcome.envelope()})

    async def _subscribe(self, session: WsSession, request_id: Any, plan: dict[str, Any]) -> None:
        bus = self._events
        names = frozenset(plan["events"])
        snapshot: list[tuple[str, dict[str, Any]]] = []
        start = bus.seq
        if plan["snapshot"]:
            snapshot = await self._snapshot()
        since = plan["since"] if plan["since"] is not None else start
        # From here on nothing awaits: the reply, the snapshot, the missed events and the live listener are
        # queued in one go, so no event can slip between them.
        self._next_subscription += 1
        subscription = self._next_subscription
        session.send(subscription_reply(request_id, subscription, bus))
        now = int(time.time() * 1000)
        for name, data in snapshot:
            if name in names:
                session.send(snapshot_message(subscription, start, now, name, data))
        missed = bus.since(since, names)
        if missed is None:
            session.send({"type": "gap", "subscription": subscription, "since": since, "seq": bus.seq})
        else:
            for event in missed:
                session.send(event.message(subscription))
        session.add_subscription(subscription, bus.listen(names, session.push_event(subscription)))


def _reject(status: HTTPStatus, text: str) -> Response:
    body = f"{text}\n".encode()
    headers = Headers([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def snapshot_message(subscription: int, seq: int, stamp: int, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The current state, in an event's shape, marked as a snapshot and numbered as of ``seq``."""
    return {
        "type": "event",
        "subscription": subscription,
        "seq": seq,
        "time": stamp,
        "event": name,
        "data": data,
        "snapshot": True,
    }
