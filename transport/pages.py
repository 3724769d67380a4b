"""The overlay and dashboard: two self-contained, read-only pages from ``pages/``, served on the API's port.

``GET /overlay`` and ``GET /dashboard`` answer the HTML; ``/pages/<name>.js|.css`` their code and styles;
``GET /pages/status`` streams the server's status (connected clients, uptime, event number) for the
dashboard as Server-Sent Events. Everything else the pages show comes from the event protocol and actions
over a same-origin WebSocket.

The pages obey the API's rules: the Host check and the Origin allow-list apply as to every request (in
``api.py``), and with an ``apiKey`` the page and its status need ``?key=``. Their own responses carry a strict
Content-Security-Policy, refuse framing and name no other origin (no ``Access-Control-Allow-Origin``), so no
other site can read what they show. The key is never logged.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from ..events.bus import EventBus
from ..settings import Settings
from ..wire import key_matches
from .http import HttpRequest, HttpResponse
from .policy import OriginVerdict, judge_origin

__all__ = ["PAGE_FILES", "ClientCounts", "Pages", "is_page_request", "page_takes_key"]

PAGE_FILES = Path(__file__).resolve().parents[1] / "pages"
"""The pages' files, shipped with the package and the add-on."""

ClientCounts = Callable[[], tuple[int, int]]
"""The number of WebSocket clients and of HTTP connections now open (the server provides it)."""

ROUTES = {"/overlay": "overlay.html", "/dashboard": "dashboard.html"}
ASSETS = "/pages/"
STATUS = "/pages/status"
STATUS_CHECK_SECONDS = 0.25
"""How often the status stream looks for a change to send (a look costs two ``len`` calls)."""
STATUS_REFRESH_SECONDS = 5.0
"""A status is sent at least this often, so the uptime shown stays current and proxies keep the stream."""

_ASSET_NAME = re.compile(r"[a-z][a-z0-9-]*\.(js|css)")
_CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
}
_SAFE_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?")
_COMMON_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]


def is_page_request(request: HttpRequest) -> bool:
    """Whether ``api.py`` hands this request to the pages (after its Host check)."""
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.path
    return path in ROUTES or path.startswith(ASSETS)


def page_takes_key(request: HttpRequest) -> bool:
    """Whether the request is checked against the API key (the pages and their status, not their code)."""
    return request.path in ROUTES or request.path == STATUS


class Pages:
    """Answers the page requests; ``clients`` reports the server's open connections (None: unknown)."""

    def __init__(self, settings: Callable[[], Settings], events: EventBus, clients: ClientCounts | None) -> None:
        self._settings = settings
        self._events = events
        self._clients = clients
        self._started = time.time()
        self._version = _package_version()

    def __call__(self, request: HttpRequest, verdict: OriginVerdict) -> HttpResponse:
        if not verdict.allowed:
            return _text(HTTPStatus.FORBIDDEN, "origin not allowed")
        settings = self._settings()
        path = request.path
        if path in ROUTES:
            return self._page(request, settings, ROUTES[path])
        if path == STATUS:
            if not _key_ok(request, settings):
                return _text(HTTPStatus.FORBIDDEN, "valid api key must be provided")
            return self._status(request)
        name = path[len(ASSETS) :]
        if not _ASSET_NAME.fullmatch(name) or not (PAGE_FILES / name).is_file():
            return _text(HTTPStatus.NOT_FOUND, "no such page")
        # The pages' code holds no data (it is the same as in the add-on), so it needs no key.
        kind = name.rsplit(".", 1)[1]
        headers = [("Content-Type", _CONTENT_TYPES[kind]), ("Cache-Control", "no-cache"), *_COMMON_HEADERS]
        return HttpResponse(HTTPStatus.OK, headers, (PAGE_FILES / name).read_bytes())

    def status(self) -> dict[str, object]:
        """What the dashboard shows as the server's status."""
        websockets, connections = self._clients() if self._clients is not None else (None, None)
        settings = self._settings()
        return {
            "version": self._version,
            "apiVersion": settings.apiVersion,
            "uptime": round(time.time() - self._started, 1),
            "websocketClients": websockets,
            "httpConnections": connections,
            "eventSeq": self._events.seq,
            "apiKeyRequired": settings.api_key is not None,
        }

    def _page(self, request: HttpRequest, settings: Settings, filename: str) -> HttpResponse:
        if not _key_ok(request, settings):
            return _text(
                HTTPStatus.FORBIDDEN,
                "valid api key must be provided: open this page with ?key=<your apiKey> at the end of its address",
            )
        host = request.headers.get("host")
        if host is not None and not judge_origin(f"http://{host}", settings).allowed:
            # The page's own WebSocket would be refused: its address is not an allowed origin.
            return _own_origin_refused(request, settings, host)
        headers = [
            ("Content-Type", _CONTENT_TYPES["html"]),
            ("Content-Security-Policy", _content_security_policy(host)),
            ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cache-Control", "no-store"),
            *_COMMON_HEADERS,
        ]
        return HttpResponse(HTTPStatus.OK, headers, (PAGE_FILES / filename).read_bytes())

    def _status(self, request: HttpRequest) -> HttpResponse:
        headers = [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("X-Accel-Buffering", "no"),
            *_COMMON_HEADERS,
        ]
        if request.method == "HEAD":
            return HttpResponse(HTTPStatus.OK, headers)
        return HttpResponse(HTTPStatus.OK, headers, stream=self._status_stream())

    async def _status_stream(self) -> AsyncIterator[bytes]:
        """A ``status`` event now, then whenever something but the uptime changed (or every few seconds)."""
        yield b"retry: 1000\n\n"
        sent: dict[str, object] | None = None
        sent_at = 0.0
        while True:
            status = self.status()
            unchanged = sent is not None and {**sent, "uptime": 0} == {**status, "uptime": 0}
            if not unchanged or time.monotonic() - sent_at >= STATUS_REFRESH_SECONDS:
                sent, sent_at = status, time.monotonic()
                yield f"event: status\ndata: {json.dumps(status)}\n\n".encode()
            await asyncio.sleep(STATUS_CHECK_SECONDS)


def _key_ok(request: HttpRequest, settings: Settings) -> bool:
    keys = request.query.get("key")
    return key_matches(keys[0] if keys else None, settings.api_key)


def _own_origin_refused(request: HttpRequest, settings: Settings, host: str) -> HttpResponse:
    """``localhost`` pages go to the loopback address the default allow-list admits; others are told why."""
    hostname = urlsplit(f"http://{host}").hostname if _SAFE_HOST.fullmatch(host) else None
    loopback = "[::1]" if settings.webBindAddress == "::1" else "127.0.0.1"
    port = urlsplit(f"http://{host}").port if hostname is not None else None
    if hostname == "localhost" and judge_origin(f"http://{loopback}", settings).allowed:
        location = f"http://{loopback}{f':{port}' if port else ''}{request.target}"
        return HttpResponse(HTTPStatus.TEMPORARY_REDIRECT, [("Location", location), ("Cache-Control", "no-store")])
    return _text(
        HTTPStatus.FORBIDDEN,
        "this page could not reach the API from its own address: open it at http://127.0.0.1:<port>/..., "
        "or add its origin to webCorsOriginList",
    )


def _content_security_policy(host: str | None) -> str:
    # 'self' covers ws: to the same host in current browsers; older ones (OBS's) need it named.
    sockets = f" ws://{host} wss://{host}" if host is not None and _SAFE_HOST.fullmatch(host) else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{sockets}; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _text(status: HTTPStatus, message: str) -> HttpResponse:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"), *_COMMON_HEADERS]
    return HttpResponse(status, headers, f"{message}\n".encode())


def _package_version() -> str | None:
    try:
        return importlib.metadata.version("ankiconnect-live")
    except importlib.metadata.PackageNotFoundError:  # the add-on is not an installed distribution
        return None
