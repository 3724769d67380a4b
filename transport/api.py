"""AnkiConnect over HTTP: the request/reply rules clients can observe, on top of ``http.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from ..events.bus import EventBus
from ..settings import Settings
from ..wire import (
    Caller,
    Outcome,
    WireError,
    banner,
    decode_json,
    encode_json,
    envelope_error,
    error_reply,
    key_matches,
)
from .http import HttpRequest, HttpResponse
from .pages import ClientCounts, Pages, is_page_request, page_takes_key
from .policy import OriginVerdict, host_allowed, judge_origin
from .sse import event_stream
from .throttle import KeyThrottle, TooManyFailures

__all__ = ["HttpApi", "RequestHandler"]

RequestHandler = Callable[[dict[str, Any], Caller], Awaitable[Outcome]]
"""Runs one validated request object; provided by the composition root (it reaches the dispatcher)."""

_OFF_LOOP_BYTES = 1 << 20  # bodies this large are decoded on a worker thread, not on the event loop


class HttpApi:
    """Answers one HTTP request the way AnkiConnect does, with our Host check and limits on top."""

    def __init__(
        self,
        handle: RequestHandler,
        settings: Callable[[], Settings],
        events: EventBus,
        keys: KeyThrottle | None = None,
        openapi: Callable[[], Any] | None = None,
        clients: ClientCounts | None = None,
    ) -> None:
        self._handle = handle
        self._settings = settings
        self._events = events
        self._keys = keys or KeyThrottle()
        self._openapi = openapi
        self._openapi_body: bytes | None = None
        self._pages = Pages(settings, events, clients)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        settings = self._settings()
        host = request.headers.get("host")
        if not host_allowed(host, settings):
            return _json(HTTPStatus.FORBIDDEN, error_reply(f"host not allowed: {host}"), "http://localhost")
        origin = request.headers.get("origin")
        verdict = judge_origin(origin, settings)
        if request.method == "OPTIONS":
            return _preflight(request, verdict, origin)
        if is_page_request(request):  # the overlay and dashboard (pages.py); wrong keys slowed down as for /events
            refused = await self._slow_down(request, settings, verdict) if page_takes_key(request) else None
            return refused or self._pages(request, verdict)
        if request.path == "/events" and request.method == "GET":
            if not verdict.allowed:
                return _forbidden(verdict)
            if (refused := await self._slow_down(request, settings, verdict)) is not None:
                return refused
            return event_stream(request, settings, self._events, verdict.allow_origin)
        if request.path == "/openapi.json" and request.method in ("GET", "HEAD") and self._openapi is not None:
            return self._openapi_reply(verdict)
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
        caller = Caller("http", origin, verdict.allowed, keys[0] if keys else None, request.peer)
        outcome = await self._handle(parsed, caller)
        # A denied page may still read requestPermission's answer, as upstream allows.
        allow_origin = verdict.allow_origin if verdict.allowed else (origin or verdict.allow_origin)
        return _json(HTTPStatus.OK, outcome.reply(), allow_origin)

    async def _slow_down(self, request: HttpRequest, settings: Settings, verdict: OriginVerdict) -> HttpResponse | None:
        """The wrong-key slow-down for a key given in the URL (``GET /events?key=``); see ``throttle.py``."""
        keys = request.query.get("key")
        try:
            wait = self._keys.wait_for(request.peer, key_matches(keys[0] if keys else None, settings.api_key))
        except TooManyFailures as exc:
            return _json(HTTPStatus.TOO_MANY_REQUESTS, error_reply(str(exc)), verdict.allow_origin)
        if wait:
            await asyncio.sleep(wait)
        return None

    def _openapi_reply(self, verdict: OriginVerdict) -> HttpResponse:
        # The same origin rule as every other endpoint: a page not allowed learns nothing here either.
        if not verdict.allowed:
            return _forbidden(verdict)
        if self._openapi_body is None:
            assert self._openapi is not None
            self._openapi_body = encode_json(self._openapi())
        return HttpResponse(
            HTTPStatus.OK,
            [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", verdict.allow_origin)],
            self._openapi_body,
        )


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
