"""One WebSocket connection's outgoing side: its messages, in order, and its subscriptions.

Messages go out in order, so a subscription's reply always precedes its events. While nothing waits and the
client's socket keeps up, a message is framed and written at once (frames made in one turn of the loop go
out in one write); otherwise it waits in a queue for the writer, which sends through the WebSocket library
and waits for the socket. A client that stops reading can never make the server buffer without limit: once
``eventQueueSize`` messages wait and its socket has taken none for ``STALLED_SECONDS`` (or a hundred times as
many wait), the connection is closed with ``SLOW_CONSUMER`` and every other client carries on. A burst is no
stall: an ``addNotes`` of 10k notes queues 10k ``note.added`` at once for a client that reads them all in a
blink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from ..events.bus import Event, EventBus
from ..wire import encode_json

__all__ = ["SLOW_CONSUMER", "WsSession"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".transport")

SLOW_CONSUMER = 4008
"""Close code for a client that did not read its messages fast enough."""
STALLED_SECONDS = 5.0
"""How long a client with a full queue may take no message before it counts as too slow."""
HARD_LIMIT_FACTOR = 100
"""Times ``eventQueueSize`` messages waiting that close a client at once, stalled or not (memory)."""
TURN = 32
"""Messages a client's writer sends at a time before letting the loop run other work: a burst of 10k events
to a few clients, sent in one go, held every other request for a second."""

DIRECT_LIMIT = 64 * 1024
"""Bytes the socket may still hold (with the frames of this turn) for a message to be written at once."""

Message = str | bytes | tuple[Event, int]
"""Text to send, or an event for a subscription (its message is written when sent, not when queued)."""


class WsSession:
    def __init__(self, connection: ServerConnection, queue_size: int) -> None:
        self._connection = connection
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._full = max(1, queue_size)
        self._moving = time.monotonic()  # when the socket last took a message, or messages started waiting
        self._sending = False
        transport = getattr(connection, "transport", None)
        self._transport: asyncio.WriteTransport | None = (
            transport if isinstance(transport, asyncio.WriteTransport) else None
        )
        self._frames: list[bytes] = []  # written at once in this turn of the loop, going out together
        self._framed = 0
        self._subscriptions: dict[int, Callable[[], None]] = {}
        self.closing = False
        self._writer = asyncio.get_running_loop().create_task(self._write())
        self._closer: asyncio.Task[None] | None = None  # kept: the loop holds only a weak reference to tasks

    def send(self, message: str | dict[str, Any]) -> None:
        """Send a message, at once or behind those waiting; never blocks. A client too slow is disconnected."""
        if self.closing:
            return
        # A reply goes out as the JSON bytes it was encoded to, in a text frame: decoding it to a str only for
        # the library to encode it again cost a 10 MB cardsInfo reply two copies with the GIL held.
        self._enqueue(message if isinstance(message, str) else encode_json(message))

    def push_event(self, subscription: int) -> Callable[[Event], None]:
        # Written at once when the socket keeps up; beyond, the rest of a burst waits in the queue unformatted.
        return lambda event: self._enqueue((event, subscription)) if not self.closing else None

    def _enqueue(self, message: Message) -> None:
        if self._queue.empty() and not self._sending:
            data = _text(message)
            if self._write_now(data):
                return
            message = data  # formatted already
        waiting = self._queue.qsize()
        if waiting == 0 and not self._sending:
            self._moving = time.monotonic()  # nothing was waiting: the clock starts now
        elif waiting >= self._full and (
            waiting >= self._full * HARD_LIMIT_FACTOR or time.monotonic() - self._moving > STALLED_SECONDS
        ):
            self._too_slow()
            return
        self._queue.put_nowait(message)

    def _write_now(self, data: bytes) -> bool:
        """Frame a message for this turn's write, unless the socket is behind (or the connection closing): no
        queue, no task switch, no trip through the WebSocket library, which were most of the server's work
        for each subscriber of an event."""
        transport = self._transport
        if (
            transport is None
            or self._connection.state is not State.OPEN
            or transport.get_write_buffer_size() + self._framed + len(data) > DIRECT_LIMIT
        ):
            return False
        if not self._frames:
            asyncio.get_running_loop().call_soon(self._flush)
        self._frames += (_text_frame_head(len(data)), data)
        self._framed += len(data)
        return True

    def _flush(self) -> None:
        frames, self._frames, self._framed = self._frames, [], 0
        transport = self._transport
        if transport is not None and self._connection.state is State.OPEN and not transport.is_closing():
            transport.write(b"".join(frames))

    def add_subscription(self, subscription: int, remove: Callable[[], None]) -> None:
        if self.closing:  # the client left (or was too slow) while the subscription was being set up
            remove()
            return
        self._subscriptions[subscription] = remove

    def remove_subscription(self, subscription: int) -> bool:
        remove = self._subscriptions.pop(subscription, None)
        if remove is None:
            return False
        remove()
        return True

    def release(self) -> None:
        """Drop every subscription and stop writing (the connection is gone)."""
        self.closing = True
        for remove in self._subscriptions.values():
            remove()
        self._subscriptions.clear()
        self._writer.cancel()

    def _too_slow(self) -> None:
        self.closing = True
        log.warning("closing a WebSocket client that does not keep up with its messages")
        for remove in self._subscriptions.values():
            remove()
        self._subscriptions.clear()
        self._writer.cancel()
        self._closer = asyncio.get_running_loop().create_task(
            self._connection.close(SLOW_CONSUMER, "too slow: messages could not be delivered in time")
        )

    async def _write(self) -> None:
        cork = _corker(self._connection)
        try:
            while True:
                message = await self._queue.get()
                # Several waiting (a burst): the kernel holds their frames until the last, so a few large TCP
                # segments carry them instead of one each; 40% less of the server's time for a burst to send.
                corked = cork if not self._queue.empty() else None
                if corked is not None:
                    corked(True)
                try:
                    for sent in range(TURN):
                        if sent:
                            if self._queue.empty():
                                break
                            message = self._queue.get_nowait()
                        await self._send(message)
                finally:
                    if corked is not None:
                        corked(False)
                if not self._queue.empty():
                    await asyncio.sleep(0)  # other clients' requests go in between
        except ConnectionClosed:
            self.closing = True

    async def _send(self, message: Message) -> None:
        self._sending = True
        await self._connection.send(_text(message), text=True)  # waits while the client's socket is full
        self._sending = False
        self._moving = time.monotonic()


def _text(message: Message) -> bytes:
    """A message's bytes (ASCII: replies and events are encoded with ASCII escapes)."""
    if isinstance(message, tuple):
        event, subscription = message
        return event.message(subscription).encode()
    return message.encode() if isinstance(message, str) else message


def _text_frame_head(size: int) -> bytes:
    """The head of an unfragmented text frame as a server sends it (RFC 6455 5.2: FIN, opcode 1, no mask)."""
    if size < 126:
        return bytes((0x81, size))
    if size < 1 << 16:
        return b"\x81\x7e" + size.to_bytes(2, "big")
    return b"\x81\x7f" + size.to_bytes(8, "big")


def _corker(connection: ServerConnection) -> Callable[[bool], None] | None:
    """Sets TCP_CORK on the connection's socket (Linux); None where there is no such option or socket."""
    option = getattr(socket, "TCP_CORK", None)
    transport = getattr(connection, "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if option is None or sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None

    def cork(on: bool) -> None:
        with contextlib.suppress(OSError):  # the connection is going: nothing left to send anyway
            sock.setsockopt(socket.IPPROTO_TCP, option, int(on))

    return cork


def subscription_reply(request_id: Any, subscription: int, bus: EventBus) -> dict[str, Any]:
    return {"id": request_id, "result": {"subscription": subscription, "seq": bus.seq}, "error": None}
