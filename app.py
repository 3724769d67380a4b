"""The application both modes build: the dispatcher, the thread bridge and the server."""

from __future__ import annotations

from typing import Any

from .actions import ACTIONS, Dispatcher
from .actions.context import Runtime
from .transport.bridge import Bridge, BridgeClosed, Post
from .transport.server import Server
from .wire import DEFAULT_VERSION, Caller, Outcome

__all__ = ["App"]


class App:
    """Wires the dispatcher to the server through the bridge to the collection's owner thread."""

    def __init__(self, runtime: Runtime, post: Post) -> None:
        self.runtime = runtime
        self.dispatcher = Dispatcher(ACTIONS, runtime)
        self.bridge = Bridge(post)
        self.server = Server(self.handle, runtime.settings)

    async def handle(self, request: dict[str, Any], caller: Caller) -> Outcome:
        """Run one request; actions that touch neither collection nor GUI skip the thread hop."""
        version = request.get("version", DEFAULT_VERSION)
        action = self.dispatcher.lookup(request["action"], version)
        if action is not None and action.inline:
            return self.dispatcher.run(request, caller)
        try:
            return await self.bridge.call(self.dispatcher.run, request, caller)
        except BridgeClosed as exc:
            return Outcome(version, error=str(exc))

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        """Answer what is in flight, close every connection, then refuse further work."""
        self.server.stop()
        self.bridge.close()
