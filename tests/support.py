"""Real clients for the real server: HTTP (http.client) and WebSocket (the websockets sync client)."""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from ankiconnect_live.app import App
from ankiconnect_live.headless import HeadlessRuntime


@dataclass
class RunningServer:
    """A headless server on an ephemeral port, serving a real collection file."""

    app: App
    runtime: HeadlessRuntime
    path: Path

    @property
    def port(self) -> int:
        return self.app.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def on_collection(self, fn: Any) -> Any:
        """Run ``fn(col)`` on the collection's owner thread (test set-up and checks)."""
        return self.runtime.run(lambda: fn(self.runtime.collection()))

    def stop(self) -> None:
        self.app.stop()
        self.runtime.close()


@dataclass
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_post(
    port: int,
    body: bytes | str | Any = b"",
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str = "/",
    host: str = "127.0.0.1",
    timeout: float = 10,
) -> HttpReply:
    """One request on a new connection."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        return http_request(connection, body, headers=headers, method=method, path=path)
    finally:
        connection.close()


def http_request(
    connection: http.client.HTTPConnection,
    body: bytes | str | Any = b"",
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str = "/",
) -> HttpReply:
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    return HttpReply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)


class ApiClient:
    """Sends AnkiConnect requests over one transport and normalises replies to ``(result, error)``."""

    transport = ""

    def send(self, request: Any) -> Any:
        raise NotImplementedError

    def call(self, request: dict[str, Any]) -> tuple[Any, Any]:
        reply = self.send(request)
        version = request.get("version", 4) if isinstance(request, dict) else 4
        if self.transport == "ws":
            assert set(reply) == {"id", "result", "error"}, reply
            return reply["result"], reply["error"]
        enveloped = isinstance(reply, dict) and set(reply) == {"result", "error"}
        if enveloped and (reply["error"] is not None or version > 4):
            return reply["result"], reply["error"]
        return reply, None

    def invoke(self, action: str, /, **params: Any) -> Any:
        """Run an action with version 6 and return its result; an error fails the test."""
        result, error = self.call({"action": action, "version": 6, "params": params})
        assert error is None, f"{action} failed: {error}"
        return result

    def error(self, action: str, /, **params: Any) -> str:
        """Run an action that must fail and return its error text."""
        result, error = self.call({"action": action, "version": 6, "params": params})
        assert error is not None, f"{action} unexpectedly succeeded: {result!r}"
        assert result is None
        return str(error)

    def close(self) -> None:
        pass


class HttpApiClient(ApiClient):
    transport = "http"

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = headers or {}

    def send(self, request: Any) -> Any:
        reply = http_request(self.connection, request, headers=self.headers)
        assert reply.status == 200, (reply.status, reply.body)
        return reply.json()

    def close(self) -> None:
        self.connection.close()


class WsApiClient(ApiClient):
    transport = "ws"

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.socket: ClientConnection = connect(url, proxy=None, max_size=None, legacy=True, **kwargs)
        self.ids = itertools.count(1)

    def send(self, request: Any) -> Any:
        request_id = next(self.ids)
        if isinstance(request, dict):
            request = {**request, "id": request_id}
        self.socket.send(json.dumps(request))
        reply = json.loads(self.socket.recv(timeout=30))
        assert reply["id"] == (request_id if isinstance(request, dict) else None), reply
        return reply

    def close(self) -> None:
        self.socket.close()


@contextmanager
def raw_socket(port: int, host: str = "127.0.0.1", timeout: float = 10) -> Iterator[socket.socket]:
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        yield sock
    finally:
        sock.close()


def read_until_closed(sock: socket.socket, limit: float = 10) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def read_responses(sock: socket.socket, count: int, limit: float = 10) -> list[bytes]:
    """Read ``count`` complete HTTP responses (each with Content-Length) from a raw socket."""
    buffer = b""
    responses: list[bytes] = []
    deadline = time.monotonic() + limit
    while len(responses) < count and time.monotonic() < deadline:
        while True:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                break
            head = buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            total = head_end + 4 + length
            if len(buffer) < total:
                break
            responses.append(buffer[:total])
            buffer = buffer[total:]
        if len(responses) >= count:
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
    return responses


@dataclass
class RawResponse:
    """One HTTP response as it came off a raw socket: header order and spelling kept."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


def parse_response(raw: bytes) -> RawResponse:
    """Split one complete response (as returned by ``read_responses``) into its parts."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (status_line.split(" ", 2) + [""])[:3]
    headers = [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    return RawResponse(int(status), reason, headers, body)


def raw_request(
    port: int,
    body: bytes | Any = b"",
    *,
    method: str = "POST",
    target: str = "/",
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of one HTTP/1.1 request with Host and Content-Length, for writing on a raw socket."""
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def basic_note(front: str, back: str = "back", tags: list[str] | None = None) -> dict[str, Any]:
    """An addNote(s) note spec for the stock Basic note type in the Default deck."""
    return {
        "deckName": "Default",
        "modelName": "Basic",
        "fields": {"Front": front, "Back": back},
        "tags": tags or [],
    }
