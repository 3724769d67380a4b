"""AnkiConnect over HTTP: the request/reply rules clients can observe, on top of ``http.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from ..events.bus import EventBus
from ..settings import Settings
from ..wire import Caller, Outcome, WireError, banner, decode_json, encode_json, envelope_error, error_reply
from .http import HttpRequest, HttpResponse
from .policy import OriginVerdict, host_allowed, judge_origin
from .sse import event_stream

__all__ = ["HttpApi", "RequestHandler"]

RequestHandler = Callable[[dict[str, Any], Caller], Awaitable[Outcome]]
"""Runs one validated request object; provided by the composition root (it reaches the dispatcher)."""

_OFF_LOOP_BYTES = 1 << 20  # bodies this large are decoded on a worker thread, not on the event loop


class HttpApi:
    """Answers one HTTP request the way AnkiConnect does, with our Host check and limits on top."""

    def __init__(self, handle: RequestHandler, settings: Callable[[], Settings], events: EventBus) -> None:
        self._handle = handle
        self._settings = settings
        self._events = events

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        settings = self._settings()
        host = request.headers.get("host")
        if not host_allowed(host, settings):
            return _json(HTTPStatus.FORBIDDEN, error_reply(f"host not allowed: {host}"), "http://localhost")
        origin = request.headers.get("origin")
        verdict = judge_origin(origin, settings)
        if request.method == "OPTIONS":
            return _preflight(request, verdict, origin)
        if request.path == "/events" and request.method == "GET":
            if not verdict.allowed:
                return _forbidden(verdict)
            return event_stream(request, settings, self._events, verdict.allow_origin)
        if not request.body:
            if not verdict.allowed:
                return _forbidden(verdict)
            return _json(HTTPStatus.OK, banner(settings.apiVersion), verdict.allow_origin)
        problem, parsed = await _parse(request.body)
        if problem is not None:
            if not verdict.allowed:
                return _forbidden(verdict)
            return _json(HTTPStatus.OK, error_reply(problem), verdict.allow_origin)
        if not verdict.allowed and parsed["action"] != "requestPermission":
            # Never run an action for a page the user did not allow (upstream ran them until 2021).
            return _forbidden(verdict)
        keys = request.query.get("key")
        caller = Caller("http", origin, verdict.allowed, keys[0] if keys else None)
        outcome = await self._handle(parsed, caller)
        # A denied page may still read requestPermission's answer, as upstream allows.
        allow_origin = verdict.allow_origin if verdict.allowed else (origin or verdict.allow_origin)
        return _json(HTTPStatus.OK, outcome.reply(), allow_origin)


async def _parse(body: bytes) -> tuple[str | None, Any]:
    try:
        if len(body) >= _OFF_LOOP_BYTES:
            parsed = await asyncio.to_thread(decode_json, body)
        else:
            parsed = decode_json(body)
    except WireError as exc:
        return str(exc), None
    return envelope_error(parsed), parsed


def _json(status: int, value: Any, allow_origin: str) -> HttpResponse:
    headers = [
        ("Content-Type", "application/json"),
        ("Access-Control-Allow-Origin", allow_origin),
        ("Access-Control-Allow-Headers", "*"),
    ]
    return HttpResponse(status, headers, encode_json(value))


def _forbidden(verdict: OriginVerdict) -> HttpResponse:
    return _json(HTTPStatus.FORBIDDEN, error_reply("origin not allowed"), verdict.allow_origin)


def _preflight(request: HttpRequest, verdict: OriginVerdict, origin: str | None) -> HttpResponse:
    # A denied page may still send requestPermission with a JSON body, so the preflight names its origin;
    # every other action from that page is refused with 403 before it runs.
    allow_origin = verdict.allow_origin if verdict.allowed or origin is None else origin
    asked = request.headers.get("access-control-request-headers")
    headers = [
        ("Access-Control-Allow-Origin", allow_origin),
        ("Access-Control-Allow-Headers", asked or "*"),
        ("Access-Control-Allow-Methods", "POST, GET, OPTIONS"),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
    ]
    if request.headers.get("access-control-request-private-network", "").lower() == "true":
        headers.append(("Access-Control-Allow-Private-Network", "true"))
    return HttpResponse(HTTPStatus.OK, headers)
