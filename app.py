"""The application both modes build: the dispatcher, the thread bridge and the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .actions import ACTIONS, Dispatcher
from .actions.context import Runtime
from .transport.bridge import Bridge, BridgeClosed, Done, Post
from .transport.server import Server
from .wire import DEFAULT_VERSION, Caller, Outcome

__all__ = ["App", "Starter", "run_now"]

Starter = Callable[[Dispatcher, dict[str, Any], Caller, Done], None]
"""Starts one request on the owner thread and calls ``done`` with its Outcome when it is finished."""


def run_now(dispatcher: Dispatcher, request: dict[str, Any], caller: Caller, done: Done) -> None:
    """Headless: the owner thread runs the request to the end."""
    done(dispatcher.run(request, caller))


class App:
    """Wires the dispatcher to the server through the bridge to the collection's owner thread."""

    def __init__(self, runtime: Runtime, post: Post, starter: Starter = run_now) -> None:
        self.runtime = runtime
        self.dispatcher = Dispatcher(ACTIONS, runtime)
        self.bridge = Bridge(post)
        self.server = Server(self.handle, runtime.settings)
        self._starter = starter

    async def handle(self, request: dict[str, Any], caller: Caller) -> Outcome:
        """Run one request; actions that touch neither collection nor GUI skip the thread hop."""
        version = request.get("version", DEFAULT_VERSION)
        action = self.dispatcher.lookup(request["action"], version)
        if action is not None and action.inline:
            return self.dispatcher.run(request, caller)
        try:
            outcome: Outcome = await self.bridge.submit(
                lambda done: self._starter(self.dispatcher, request, caller, done)
            )
        except BridgeClosed as exc:
            return Outcome(version, error=str(exc))
        return outcome

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        """Answer what is in flight, close every connection, then refuse further work."""
        self.server.stop()
        self.bridge.close()
