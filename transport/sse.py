"""Server-Sent Events at ``GET /events``: a read-only event stream for browsers and OBS browser sources.

``GET /events?events=card.answered,counts.changed&since=42&key=...``; a reconnecting ``EventSource`` sends
``Last-Event-ID`` and gets every event it missed (or a ``gap`` event when they are no longer kept).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from http import HTTPStatus

from ..events.bus import Event, EventBus
from ..events.catalogue import UnknownEvent, matcher
from ..settings import Settings
from ..wire import error_reply, key_matches
from .http import HttpRequest, HttpResponse

__all__ = ["KEEPALIVE_SECONDS", "event_stream"]

KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies and OBS from dropping a quiet stream."""
RETRY_MS = 2000


def event_stream(request: HttpRequest, settings: Settings, bus: EventBus, allow_origin: str) -> HttpResponse:
    """The response for ``GET /events``: an error, or the stream."""
    query = request.query
    if not key_matches(_first(query, "key"), settings.api_key):
        return _error(HTTPStatus.FORBIDDEN, "valid api key must be provided", allow_origin)
    try:
        names = matcher(_split(query.get("events")))
    except UnknownEvent as exc:
        return _error(HTTPStatus.BAD_REQUEST, str(exc), allow_origin)
    since_text = request.headers.get("last-event-id") or _first(query, "since")
    if since_text is not None and not since_text.strip().isdigit():
        return _error(HTTPStatus.BAD_REQUEST, f"since must be an event number, not {since_text!r}", allow_origin)
    since = int(since_text) if since_text is not None else bus.seq
    headers = [
        ("Content-Type", "text/event-stream; charset=utf-8"),
        ("Cache-Control", "no-cache"),
        ("Access-Control-Allow-Origin", allow_origin),
        ("X-Accel-Buffering", "no"),
    ]
    return HttpResponse(HTTPStatus.OK, headers, stream=_events(bus, names, since))


async def _events(bus: EventBus, names: frozenset[str], since: int) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[Event] = asyncio.Queue()
    # Missed events and the live listener are taken in one step (no await between): nothing slips through.
    missed = bus.since(since, names)
    remove = bus.listen(names, queue.put_nowait)
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        if missed is None:
            gap = {"since": since, "seq": bus.seq}
            yield f"id: {bus.seq}\nevent: gap\ndata: {json.dumps(gap)}\n\n".encode()
        else:
            for event in missed:
                yield _frame(event)
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield _frame(event)
    finally:
        remove()


def _frame(event: Event) -> bytes:
    return f"id: {event.seq}\nevent: {event.name}\ndata: {{{event.body}}}\n\n".encode()


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _error(status: int, message: str, allow_origin: str) -> HttpResponse:
    body = json.dumps(error_reply(message)).encode()
    headers = [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", allow_origin)]
    return HttpResponse(status, headers, body)
