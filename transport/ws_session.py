"""One WebSocket connection's outgoing side: a bounded queue for replies and events, and its subscriptions.

Every message for a client goes through its queue, so a subscription's reply always precedes its events,
and a client that stops reading can never make the server buffer without limit: when its queue is full the
connection is closed with ``SLOW_CONSUMER`` and every other client carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ..events.bus import Event, EventBus
from ..wire import encode_json

__all__ = ["SLOW_CONSUMER", "WsSession"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".transport")

SLOW_CONSUMER = 4008
"""Close code for a client that did not read its messages fast enough (its queue overflowed)."""


class WsSession:
    def __init__(self, connection: ServerConnection, queue_size: int) -> None:
        self._connection = connection
        self._queue: asyncio.Queue[str | bytes] = asyncio.Queue(maxsize=max(1, queue_size))
        self._subscriptions: dict[int, Callable[[], None]] = {}
        self.closing = False
        self._writer = asyncio.get_running_loop().create_task(self._write())
        self._closer: asyncio.Task[None] | None = None  # kept: the loop holds only a weak reference to tasks

    def send(self, message: str | dict[str, Any]) -> None:
        """Queue a message; never blocks. An overflow closes the connection (the client is too slow)."""
        if self.closing:
            return
        # A reply goes out as the JSON bytes it was encoded to, in a text frame: decoding it to a str only for
        # the library to encode it again cost a 10 MB cardsInfo reply two copies with the GIL held.
        text = message if isinstance(message, str) else encode_json(message)
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self._too_slow()

    def push_event(self, subscription: int) -> Callable[[Event], None]:
        return lambda event: self.send(event.message(subscription))

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
        try:
            while True:
                text = await self._queue.get()
                await self._connection.send(text, text=True)
        except ConnectionClosed:
            self.closing = True


def subscription_reply(request_id: Any, subscription: int, bus: EventBus) -> dict[str, Any]:
    return {"id": request_id, "result": {"subscription": subscription, "seq": bus.seq}, "error": None}
