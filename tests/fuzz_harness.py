"""In-process drivers for fuzzing, shared by the Hypothesis tests and the atheris targets (fuzz/).

``run_http`` feeds bytes to one HTTP connection (the real ``HttpProtocol`` and ``HttpApi``, a fake socket)
and checks what comes out is valid HTTP; ``run_ws_message`` runs one WebSocket text message through the
real request path; ``bind_anything`` runs the dispatcher's param check. Each raises AssertionError when
the server misbehaves, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import h11

from ankiconnect_live.actions import ACTIONS, Dispatcher
from ankiconnect_live.actions.errors import InvalidParams
from ankiconnect_live.actions.params import bind_params
from ankiconnect_live.events.bus import EventBus
from ankiconnect_live.settings import Settings, load_settings
from ankiconnect_live.transport.api import HttpApi
from ankiconnect_live.transport.http import HttpProtocol
from ankiconnect_live.transport.throttle import KeyThrottle
from ankiconnect_live.transport.websocket import WebSocketApi
from ankiconnect_live.transport.ws_session import WsSession
from ankiconnect_live.wire import Caller, Outcome

__all__ = ["HttpRun", "bind_anything", "run_http", "run_ws_message"]

# Small limits, so that short inputs reach them too.
SETTINGS = load_settings({"webMaxBodyBytes": 4096, "webMaxHeadBytes": 1024, "apiKey": "k"})
OPEN_SETTINGS = load_settings()
"""No key: WebSocket messages reach the param check."""


class FakeTransport(asyncio.Transport):
    """Records what the protocol writes; reading can be paused and resumed like a socket's."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = False
        self.eof_written = False
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed and not self.eof_written, "write after close"
        self.out += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def get_write_buffer_size(self) -> int:
        return 0


@dataclass
class HttpRun:
    out: bytes
    statuses: list[int]
    handled: list[dict[str, Any]] = field(default_factory=list)
    upgraded: bool = False


async def _handle(request: dict[str, Any], caller: Caller) -> Outcome:
    return Outcome(request.get("version", 4), result=request["action"])


class _Failures(logging.Handler):
    """Collects what the server logs as an error: a reply it could not send, a handler that raised."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def run_http(chunks: list[bytes], settings: Settings = SETTINGS) -> HttpRun:
    """Feed ``chunks`` to one connection (the client then half-closes), and check the replies."""
    failures = _Failures()
    logger = logging.getLogger("ankiconnect_live")
    logger.addHandler(failures)
    try:
        run = asyncio.run(_drive(chunks, settings))
    finally:
        logger.removeHandler(failures)
    assert not failures.records, failures.records
    return run


async def _drive(chunks: list[bytes], settings: Settings) -> HttpRun:
    loop = asyncio.get_running_loop()
    errors: list[Any] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    handled: list[dict[str, Any]] = []

    async def handle(request: dict[str, Any], caller: Caller) -> Outcome:
        handled.append(request)
        return await _handle(request, caller)

    api = HttpApi(handle, lambda: settings, EventBus(100), KeyThrottle(), lambda: {"openapi": "3.1.0"})
    upgraded: list[bytes] = []
    registry: set[HttpProtocol] = set()
    protocol = HttpProtocol(api, lambda: settings, lambda _, raw: upgraded.append(raw), registry)
    transport = FakeTransport()
    protocol.connection_made(transport)
    for chunk in chunks:
        if transport.closed or upgraded:
            break
        protocol.data_received(chunk)  # an exception here would reach the loop: the test fails on it
        for _ in range(5):
            await asyncio.sleep(0)  # let an answer (its task) run
    if not transport.closed and not upgraded:
        protocol.eof_received()
        for _ in range(5):
            await asyncio.sleep(0)
    protocol.connection_lost(None)  # ends an event stream, cancels what is left
    for _ in range(5):
        await asyncio.sleep(0)
    assert not errors, errors
    assert protocol not in registry
    statuses = _statuses(bytes(transport.out), _methods(b"".join(chunks)))
    # 501 is RFC 9112's answer to a transfer coding the server does not implement (``Transfer-Encoding: gzip``):
    # a refusal, not a failure. Any other 5xx would be a server error.
    assert all(status < 500 or status == 501 for status in statuses), statuses
    if 501 in statuses:
        assert b"transfer-encoding" in b"".join(chunks).lower(), statuses
    return HttpRun(bytes(transport.out), statuses, handled, bool(upgraded))


def _methods(data: bytes) -> list[str]:
    """The method of each request in ``data``, as h11 parses them (a reply to HEAD has a head only)."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    methods: list[str] = []
    while True:
        try:
            event = server.next_event()
            if isinstance(event, h11.Request):
                methods.append(event.method.decode("latin-1"))
            elif isinstance(event, h11.EndOfMessage):
                server.send(h11.Response(status_code=204, headers=[]))
                server.send(h11.EndOfMessage())
                server.start_next_cycle()
            elif not isinstance(event, h11.Data):
                return methods  # more data needed, or an upgrade
        except h11.ProtocolError:
            return methods


def _statuses(out: bytes, methods: list[str]) -> list[int]:
    """Parse the output as a client would; malformed HTTP fails the check."""
    client = h11.Connection(h11.CLIENT)
    statuses: list[int] = []
    if not out:
        return statuses  # (h11 would take b"" for the end of the connection)
    client.receive_data(out)
    # h11 needs a request to read a response: the one each response answers, as a pipelining client sends
    # them (GET for an error reply to bytes that were no request). The bytes after one response stay in
    # h11's buffer for the next cycle.
    while True:
        method = methods[len(statuses)] if len(statuses) < len(methods) else "GET"
        client.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        client.send(h11.EndOfMessage())
        while True:
            event = client.next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                statuses.append(event.status_code)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return statuses  # an event stream cut short, or nothing more
        if client.our_state is h11.MUST_CLOSE or client.their_state is h11.MUST_CLOSE:
            assert not client.trailing_data[0], "bytes after a response that closes the connection"
            return statuses
        if not client.trailing_data[0]:
            return statuses
        client.start_next_cycle()


# WebSocket messages


class FakeConnection:
    """The two things a ``WsSession`` asks of its connection: send a text frame, close with a code."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.close_code: int | None = None

    async def send(self, message: str | bytes, *, text: bool | None = None) -> None:
        assert isinstance(message, str) or text is True, "a reply must go out in a text frame"
        self.sent.append(message if isinstance(message, str) else message.decode("utf-8"))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.close_code = code


def run_ws_message(text: str) -> list[dict[str, Any]]:
    """One text frame through the WebSocket request path (the real dispatcher and session, no collection).

    Returns every message the client gets: first the reply (tagged with the request's ``id``), then, after a
    ``subscribe``, only events or a gap notice.
    """
    sent = asyncio.run(_answer_one(text))
    messages = [json.loads(message) for message in sent]
    assert messages, "no reply"
    reply, *others = messages
    assert set(reply) == {"id", "result", "error"}, reply
    assert reply["error"] is None or isinstance(reply["error"], str), reply
    assert all(message.get("type") in ("event", "gap") and "id" not in message for message in others), others
    return messages


async def _answer_one(text: str) -> list[str]:
    loop = asyncio.get_running_loop()
    errors: list[Any] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    dispatcher = Dispatcher(ACTIONS, _NoCollection())

    async def handle(request: dict[str, Any], caller: Caller) -> Outcome:
        return dispatcher.run(request, caller)

    api = WebSocketApi(handle, lambda: OPEN_SETTINGS, EventBus(100), _no_snapshot)
    connection = FakeConnection()
    session = WsSession(connection, 100)  # type: ignore[arg-type]
    try:
        await api._answer(session, text, Caller("ws"))
        for _ in range(5):
            await asyncio.sleep(0)  # the session's writer empties its queue
    finally:
        session.release()
    await asyncio.sleep(0)
    assert not errors, errors
    assert connection.close_code is None, connection.close_code
    return connection.sent


async def _no_snapshot() -> list[tuple[str, dict[str, Any]]]:
    return []


class _NoCollection:
    """A runtime with no collection open: every action gets as far as its params, then stops."""

    def collection(self) -> None:
        return None

    def settings(self) -> Settings:
        return OPEN_SETTINGS

    def profile_name(self) -> str:
        return "fuzz"

    def gui(self) -> None:
        return None

    def profiles(self) -> list[str]:
        return ["fuzz"]

    def load_profile(self, name: str) -> bool:
        return False

    def reload_collection(self) -> None:
        return None


# params


def bind_anything(action: str, params: Any) -> dict[str, Any] | None:
    """The param check on any JSON: bound params, or None after a clean InvalidParams; nothing else."""
    spec = ACTIONS[action].params
    if not isinstance(params, dict):
        return None
    try:
        return bind_params(action, spec, params)
    except InvalidParams as exc:
        assert str(exc).startswith(f"AnkiConnect.{action}() "), str(exc)
        return None
