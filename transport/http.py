"""HTTP/1.1 connections on h11: keep-alive, pipelining, chunked bodies, limits and timeouts.

A connection starts here; when its first request asks for a WebSocket, the raw bytes are handed to
websockets (see ``websocket.py``) and this protocol steps aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import h11

from ..settings import Settings
from .throttle import client_address

__all__ = ["HttpProtocol", "HttpRequest", "HttpResponse"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".transport")

STREAM_BUFFER_LIMIT = 1 << 20
"""Bytes an event stream may have waiting for a slow client before the stream is closed."""

LINGER_SECONDS = 2.0
"""How long a connection refused with an error keeps reading (and dropping) what the client still sends."""
BUFFERED_WHILE_ANSWERING = 256 * 1024
"""Bytes of later requests read while one is answered; beyond, reading waits for the answer."""

BIG_BODY = 64 * 1024
"""Bodies this size and over are written apart from their head: joining them would copy them once more."""


@dataclass(slots=True)
class HttpRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    peer: str | None = None
    """The client's address (its /64 network for IPv6), for per-client limits."""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    """A body sent piece by piece as it is produced (Server-Sent Events); the connection ends with it."""


App = Callable[[HttpRequest], Awaitable[HttpResponse]]
Upgrade = Callable[[asyncio.Transport, bytes], None]


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests are answered one at a time and in order (HTTP/1.1 pipelining).

    While a request is being answered, what follows it is read (pipelined requests wait in h11's buffer) up to
    ``BUFFERED_WHILE_ANSWERING`` bytes; then reading pauses until the answer is sent, so a client cannot make us
    buffer more. (Pausing for every request cost two system calls per request.)
    """

    def __init__(
        self,
        app: App,
        settings: Callable[[], Settings],
        upgrade: Upgrade,
        registry: set[HttpProtocol],
    ) -> None:
        self._app = app
        self._settings = settings()
        self._upgrade = upgrade
        self._registry = registry
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=self._settings.webMaxHeadBytes)
        self._transport: asyncio.Transport | None = None
        self._peer: str | None = None
        self._raw: bytearray | None = bytearray()  # bytes of the first request, for a WebSocket hand-off
        self._request: HttpRequest | None = None
        self._body = bytearray()
        self._busy = False
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None  # when the connection closes unless something moves it on
        self._read_while_busy = 0  # bytes read while a request is being answered
        self._paused = False
        self._waiting_idle = False  # between keep-alive requests, before any byte of the next one
        self._draining = False  # an error reply was sent; input is read and dropped until the client stops
        self._streaming = False  # an event stream is being sent: the connection carries nothing else

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._peer = client_address(transport.get_extra_info("peername"))
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # One write per response already; NODELAY also spares pipelined replies the Nagle delay.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._registry.add(self)
        self._arm_timer(self._settings.webHeadTimeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._registry.discard(self)
        self._stop_timer()
        self._transport = None
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def data_received(self, data: bytes) -> None:
        if self._draining or self._streaming:
            return
        if self._raw is not None:
            self._raw += data
        if self._busy:
            self._read_while_busy += len(data)
            if self._read_while_busy > BUFFERED_WHILE_ANSWERING and not self._paused and self._transport is not None:
                self._transport.pause_reading()
                self._paused = True
        if self._waiting_idle:
            # A new request has started: its head must now arrive quickly (slow-loris defence).
            self._waiting_idle = False
            self._arm_timer(self._settings.webHeadTimeout)
        try:
            self._h11.receive_data(data)
        except h11.RemoteProtocolError as exc:
            self._fail(exc)
            return
        self._pump()

    def eof_received(self) -> bool | None:
        if self._draining or self._streaming:
            self._close()
            return None
        with contextlib.suppress(h11.RemoteProtocolError):
            self._h11.receive_data(b"")
        self._pump()
        # The client may stop sending while its request is answered: keep the transport open for the answer
        # (the connection closes once it is sent, as h11 then sees the client gone).
        return True if self._busy else None

    # server control

    @property
    def idle(self) -> bool:
        return self._draining or (not self._busy and self._request is None)

    def shutdown(self) -> None:
        """Stop after the response in progress; close at once when idle."""
        self._closing = True
        if self.idle:
            self._close()
        elif self._streaming and self._task is not None:
            self._task.cancel()  # an event stream has no end of its own

    def abort(self) -> None:
        """Close now, whatever is in progress (shutdown, once its grace is over)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._close()

    # request parsing

    def _pump(self) -> None:
        while self._transport is not None and not self._busy:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail(exc)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._waiting_idle = False
                if not self._on_request(event):
                    return
            elif isinstance(event, h11.Data):
                self._body += event.data
                self._arm_timer(self._settings.webIdleTimeout)  # a body may be slow, but must not stall
                if len(self._body) > self._settings.webMaxBodyBytes:
                    self._send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
                    return
            elif isinstance(event, h11.EndOfMessage):
                self._start_answer()
            elif isinstance(event, h11.ConnectionClosed):
                self._close()
                return

    def _on_request(self, event: h11.Request) -> bool:
        headers: dict[str, str] = {}
        for name, value in event.headers:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            if key in headers and key != "host":
                # Repeated fields join with commas (RFC 9110 5.3); an empty one adds nothing, and would leave a
                # value ending in ", " that h11 refuses to send back (e.g. an Origin echoed to a preflight).
                headers[key] = ", ".join(part for part in (headers[key], text) if part)
            else:
                headers[key] = text
        request = HttpRequest(event.method.decode("ascii"), event.target.decode("latin-1"), headers, peer=self._peer)
        self._request = request  # from here on, even an error reply knows whether it answers a HEAD
        if _head_size(event) > self._settings.webMaxHeadBytes:
            # h11 only limits a head that arrives in pieces; one that came in a single read is checked here.
            self._send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, close=True)
            return False
        raw, self._raw = self._raw, None
        if _wants_websocket(request):
            if raw is None:
                self._send_error(HTTPStatus.BAD_REQUEST, close=True, text="open a new connection for WebSocket")
                return False
            self._hand_off(bytes(raw))
            return False
        self._body = bytearray()
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._settings.webMaxBodyBytes:
            self._send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
            return False
        if self._h11.they_are_waiting_for_100_continue:
            self._write(self._h11.send(h11.InformationalResponse(status_code=100, headers=[], reason=_reason(100))))
        self._arm_timer(self._settings.webIdleTimeout)
        return True

    def _hand_off(self, raw: bytes) -> None:
        transport, self._transport = self._transport, None
        assert transport is not None
        self._stop_timer()
        self._registry.discard(self)
        self._upgrade(transport, raw)

    # answering

    def _start_answer(self) -> None:
        assert self._request is not None
        self._request.body = bytes(self._body)
        self._body = bytearray()
        self._busy = True
        self._read_while_busy = 0
        self._cancel_timer()
        self._task = asyncio.get_running_loop().create_task(self._answer(self._request))

    async def _answer(self, request: HttpRequest) -> None:
        try:
            response = await self._app(request)
        except Exception:
            log.exception("request handler failed")
            response = HttpResponse(HTTPStatus.INTERNAL_SERVER_ERROR, [("Content-Type", "text/plain")])
            response.body = b"internal server error\n"
        if response.stream is not None:
            await self._stream(response)
            return
        self._send(response, head_only=request.method == "HEAD")
        self._request = None
        self._busy = False
        self._finish_cycle()

    async def _stream(self, response: HttpResponse) -> None:
        """Send a streamed body; it ends when the stream does, the client leaves, or the server stops."""
        assert response.stream is not None
        self._closing = True  # a stream is the connection's last response
        self._streaming = True
        self._cancel_timer()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        self._write(self._h11.send(h11.Response(status_code=response.status, headers=headers, reason=b"OK")) or b"")
        transport = self._transport
        assert transport is not None
        transport.resume_reading()  # to notice the client leaving
        try:
            async for chunk in response.stream:
                if transport.is_closing():
                    break
                if transport.get_write_buffer_size() > STREAM_BUFFER_LIMIT:
                    log.warning("closing an event stream whose client does not keep up")
                    break
                self._write(self._h11.send(h11.Data(data=chunk)) or b"")
        finally:
            if not transport.is_closing():
                # The last, empty chunk: the client sees the stream end, not a broken connection.
                with contextlib.suppress(h11.LocalProtocolError):
                    self._write(self._h11.send(h11.EndOfMessage()) or b"")
            await response.stream.aclose()  # type: ignore[attr-defined]
            self._request = None
            self._busy = False
            self._close()

    def _finish_cycle(self) -> None:
        if self._transport is None:
            return
        if self._closing or self._h11.our_state is h11.MUST_CLOSE:
            self._close()
            return
        try:
            self._h11.start_next_cycle()
        except h11.LocalProtocolError:
            self._close()
            return
        if self._paused:
            self._paused = False
            self._transport.resume_reading()
        self._arm_timer(self._settings.webIdleTimeout)
        self._waiting_idle = True
        self._pump()

    def _send(self, response: HttpResponse, *, head_only: bool = False) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if not head_only or not any(k.lower() == b"content-length" for k, _ in headers):
            headers.append((b"Content-Length", str(len(response.body)).encode()))
        if self._closing:
            headers.append((b"Connection", b"close"))
        reason = _reason(response.status)
        try:
            # h11 hands the head back line by line: one write for it (with TCP_NODELAY each write is a segment).
            head = b"".join(self._pieces(h11.Response(status_code=response.status, headers=headers, reason=reason)))
            body = [h11.Data(data=response.body)] if response.body and not head_only else []
            rest = [piece for event in (*body, h11.EndOfMessage()) for piece in self._pieces(event)]
        except h11.LocalProtocolError:
            log.exception("could not send a response")
            self._close()
            return
        if len(response.body) < BIG_BODY:
            self._write(b"".join([head, *rest]))  # one segment for the usual small reply
        else:
            self._write(head)
            for piece in rest:  # a big body (200k ids: 3 MB) goes out as it is, not copied behind its head first
                self._write(piece)

    def _pieces(self, event: h11.Event) -> list[bytes]:
        # Unlike send(), this hands a body back as it is instead of joining it to the head.
        return self._h11.send_with_data_passthrough(event) or []

    def _send_error(self, status: HTTPStatus, *, close: bool, text: str | None = None) -> None:
        self._closing = self._closing or close
        body = f"{text or status.phrase}\n".encode()
        if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            # A reply to HEAD has no body (h11 refuses to send one): a HEAD cut short gets its 400 head only.
            head_only = self._request is not None and self._request.method == "HEAD"
            self._send(HttpResponse(status, [("Content-Type", "text/plain; charset=utf-8")], body), head_only=head_only)
        self._linger()

    def _linger(self) -> None:
        # Closing a socket with unread input makes the kernel send RST, which can destroy the error reply
        # before the client reads it (a client still writing a body it was refused). So half-close, drop
        # whatever still arrives, and close at the client's EOF or after LINGER_SECONDS.
        transport = self._transport
        if transport is None or not transport.can_write_eof():
            self._close()
            return
        self._draining = True
        transport.write_eof()
        transport.resume_reading()
        self._arm_timer(LINGER_SECONDS)

    def _fail(self, exc: h11.RemoteProtocolError) -> None:
        status = HTTPStatus(exc.error_status_hint)
        if status == HTTPStatus.BAD_REQUEST and "Receive buffer too long" in str(exc):
            status = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
        self._send_error(status, close=True)

    def _write(self, data: bytes) -> None:
        # A transport whose write failed (the client reset) closes on the loop's next turn; until then, more
        # writes would only be counted and, from the fifth, logged by asyncio.
        if self._transport is not None and data and not self._transport.is_closing():
            self._transport.write(data)

    def _close(self) -> None:
        self._stop_timer()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._registry.discard(self)

    # timers

    def _arm_timer(self, seconds: float) -> None:
        """Close the connection unless something moves it on within ``seconds``. Arming moves a deadline; the
        loop's timer is replaced only for an earlier one (else a request re-created two or three)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self._deadline = deadline
        if self._timer is None or self._timer.when() > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(deadline, self._on_timer)

    def _cancel_timer(self) -> None:
        self._deadline = None  # the loop's timer, when it fires, finds nothing due

    def _stop_timer(self) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self._deadline is None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._deadline:  # moved on since: wait for the new deadline
            self._timer = loop.call_at(self._deadline, self._on_timer)
            return
        self._deadline = None
        self._on_timeout()

    def _on_timeout(self) -> None:
        if self._busy:
            return
        log.debug("closing a connection that went quiet")
        self._close()


def _wants_websocket(request: HttpRequest) -> bool:
    return request.method == "GET" and "websocket" in request.headers.get("upgrade", "").lower()


def _head_size(event: h11.Request) -> int:
    """The size of the request line and headers as sent, give or take optional whitespace."""
    line = len(event.method) + len(event.target) + len(b"  HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in event.headers) + 2


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""
