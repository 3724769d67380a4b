"""One listening port for HTTP and WebSocket, served by an asyncio loop on its own thread."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import Server as WsServer, ServerConnection, serve
from websockets.server import ServerProtocol

from ..events.bus import EventBus
from ..redact import RedactingFilter
from ..settings import Settings
from .api import HttpApi, RequestHandler
from .http import HttpProtocol
from .throttle import KeyThrottle
from .websocket import Snapshot, WebSocketApi

__all__ = ["PortInUse", "Server", "bind_sockets"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".transport")

ws_log = logging.getLogger(log.name + ".websockets")
ws_log.addFilter(RedactingFilter())  # its debug lines show handshake URLs (?key=) and the start of frames

SHUTDOWN_GRACE = 10.0
"""Seconds in-flight requests get to finish when the server stops."""
CANCEL_GRACE = 1.0
"""How long cancelled tasks get to finish once the loop stopped."""
LISTEN_BACKLOG = 1024
"""Connections the kernel holds until the loop accepts them. asyncio's default of 100 drops the rest of a burst
(a thousand overlays reconnecting after a restart), and each dropped one retries only a second later."""


class PortInUse(OSError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} on {host} is already in use")
        self.host = host
        self.port = port


class Server:
    """Owns the event loop thread and the listening sockets.

    ``start()`` returns once connections are accepted (or raises ``PortInUse``); ``stop()`` stops
    accepting, lets in-flight requests finish, closes WebSockets with 1001 and ends the thread.
    """

    def __init__(
        self,
        handle: RequestHandler,
        settings: Callable[[], Settings],
        events: EventBus | None = None,
        snapshot: Snapshot | None = None,
        openapi: Callable[[], Any] | None = None,
    ) -> None:
        self._settings = settings
        self.events = events or EventBus(settings().eventHistory)
        self.keys = KeyThrottle()
        """Wrong-key slow-down per client address, shared by every endpoint (and App.handle)."""
        self._http_api = HttpApi(
            handle, settings, self.events, self.keys, openapi, clients=lambda: (self.websocket_count, self.http_count)
        )
        self.ws_api = WebSocketApi(handle, settings, self.events, snapshot or _no_snapshot, self.keys)
        self._http_connections: set[HttpProtocol] = set()
        self._ws_servers: list[WsServer] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.sockets: list[socket.socket] = []

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "server not started"
        return self._loop

    @property
    def port(self) -> int:
        return int(self.sockets[0].getsockname()[1])

    @property
    def websocket_count(self) -> int:
        return len(self.ws_api.connections)

    @property
    def http_count(self) -> int:
        return len(self._http_connections)

    @property
    def url(self) -> str:
        host = self._settings().webBindAddress
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def start(self) -> None:
        settings = self._settings()
        self.sockets = bind_sockets(settings.webBindAddress, settings.webBindPort)
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(started, failure), name="ankiconnect-live-server", daemon=True
        )
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._loop = None
            raise failure[0]

    def stop(self, grace: float = SHUTDOWN_GRACE) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(grace), loop)
        try:
            future.result(grace + 5)
        except Exception:
            log.exception("unclean server shutdown")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        self.events.detach()
        self._loop = None

    # loop thread

    def _run(self, started: threading.Event, failure: list[BaseException]) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._listen())
        except BaseException as exc:
            failure.append(exc)
            for sock in self.sockets:
                sock.close()
            loop.close()
            started.set()
            return
        self.events.attach(loop)
        started.set()
        try:
            loop.run_forever()
        finally:
            _cancel_remaining(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _listen(self) -> None:
        settings = self._settings()
        for sock in self.sockets:
            server = await serve(
                self.ws_api.handler,
                sock=sock,
                create_connection=self._connection_factory,  # type: ignore[arg-type]
                process_request=self.ws_api.process_request,
                max_size=settings.webMaxBodyBytes,
                server_header=None,
                logger=ws_log,
                compression=None,  # per-client deflate costs CPU on every event and gains nothing on loopback
                backlog=LISTEN_BACKLOG,
            )
            self._ws_servers.append(server)

    def _connection_factory(self, protocol: ServerProtocol, server: WsServer, **kwargs: Any) -> HttpProtocol:
        # websockets calls this for every accepted connection. We answer plain HTTP ourselves and only build
        # its ServerConnection when the first request asks for an upgrade.
        def upgrade(transport: asyncio.Transport, raw: bytes) -> None:
            connection = ServerConnection(protocol, server, **kwargs)
            transport.set_protocol(connection)
            connection.connection_made(transport)
            connection.data_received(raw)

        return HttpProtocol(self._http_api, self._settings, upgrade, self._http_connections)

    async def _shutdown(self, grace: float) -> None:
        for server in self._ws_servers:
            server.server.close()  # stop accepting; existing connections stay up for now
        self.events.end_waits()  # long polls answer now: they would hold shutdown for the whole grace
        for connection in list(self._http_connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(grace):
                await self.ws_api.drain()
                while self._http_connections:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            log.warning("in-flight requests did not finish within %s s", grace)
            for connection in list(self._http_connections):
                connection.abort()  # the client sees the connection close instead of waiting on
        for server in self._ws_servers:
            server.close()  # closes WebSockets with 1001 (going away)
        for server in self._ws_servers:
            await server.wait_closed()


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what still runs once the loop stops (a request past the shutdown grace, a long poll), as
    ``asyncio.run`` does: a task left pending is reported as destroyed when it is collected."""
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=CANCEL_GRACE))


async def _no_snapshot() -> list[tuple[str, dict[str, Any]]]:
    return []


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for the bind address; loopback means both 127.0.0.1 and ::1 on the same port.

    Clients that resolve ``localhost`` to ``::1`` would otherwise be refused (a common AnkiConnect trap).
    """
    for _ in range(5):
        try:
            return _bind_all(_addresses(host), host, port)
        except _SecondPortTaken:
            continue  # port 0: the port picked for IPv4 was taken on IPv6; pick another
    return _bind_all(_addresses(host)[:1], host, port)


class _SecondPortTaken(Exception):
    pass


def _addresses(host: str) -> list[str]:
    if host in ("127.0.0.1", "localhost"):
        return ["127.0.0.1", "::1"]
    if host == "0.0.0.0":
        return ["0.0.0.0", "::"]
    return [host]


def _bind_all(addresses: list[str], host: str, requested_port: int) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    port = requested_port
    try:
        for index, address in enumerate(addresses):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            try:
                sock = _listening_socket(family, address, port)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    if index > 0 and requested_port == 0:
                        raise _SecondPortTaken from None
                    raise PortInUse(host, requested_port) from None
                if index > 0:  # no IPv6 on this machine: IPv4 alone still serves
                    log.info("not listening on %s: %s", address, exc)
                    continue
                raise
            sockets.append(sock)
            port = sock.getsockname()[1]  # with port 0, every address gets the port the first one got
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listening_socket(family: socket.AddressFamily, address: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
