"""The least any HTTP server in another process can do: answer each POST with bytes it already holds.

``python bench/bare_server.py`` prints ``listening on PORT``; ``PUT /`` with an ``X-Request`` header (the
SHA-1 of a request body) stores its body as the reply to that request, and every ``POST`` (keep-alive) gets
the reply stored for its body, with no parsing beyond the head and that hash. Its round trip, measured under
the same conditions as the real server's, is what a request costs before any work is done: the bound below
which no out-of-process server can go (``data_ops.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["BareServer", "bare_server"]


class _Bare(asyncio.Protocol):
    replies: dict[bytes, bytes] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head, found, rest = self.buffer.partition(b"\r\n\r\n")
            if not found:
                return
            length, key = 0, b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                elif name.strip().lower() == b"x-request":
                    key = value.strip()
            if len(rest) < length:
                return
            body, self.buffer = rest[:length], rest[length:]
            if head.startswith(b"PUT"):
                _Bare.replies[key] = body
                reply = body
            else:
                reply = _Bare.replies.get(hashlib.sha1(body).hexdigest().encode(), b"{}")
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(reply) + reply
            )


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Bare, "127.0.0.1", 0)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


class BareServer:
    """A running bare server: prime it with a reply, then time POSTs to it."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port)

    def prime(self, request: bytes, reply: bytes) -> None:
        """Make ``reply`` the answer to ``request``."""
        self.connection.request("PUT", "/", body=reply, headers={"X-Request": hashlib.sha1(request).hexdigest()})
        if self.connection.getresponse().read() != reply:
            raise RuntimeError("the bare server did not store its reply")

    def post(self, body: bytes) -> bytes:
        self.connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        return self.connection.getresponse().read()


@contextlib.contextmanager
def bare_server() -> Iterator[BareServer]:
    with subprocess.Popen([sys.executable, str(Path(__file__))], stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        try:
            if not line.startswith("listening on "):
                raise RuntimeError(f"bare server did not start: {line!r}")
            server = BareServer(int(line.split()[-1]))
            yield server
            server.connection.close()
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve())
