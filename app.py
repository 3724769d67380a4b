"""The application both modes build: the dispatcher, the thread bridge and the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .actions import ACTIONS, Dispatcher
from .actions.context import Runtime, publishing
from .actions.dispatch import KEY_EXEMPT
from .actions.media_fetch import media_policy
from .actions.openapi import openapi_document
from .events.bus import EventBus
from .request_log import RequestLog
from .transport.bridge import Bridge, BridgeClosed, Done, Post
from .transport.server import Server
from .transport.throttle import TooManyFailures
from .wire import DEFAULT_VERSION, Caller, Outcome

__all__ = ["App", "Starter", "run_now"]

log = logging.getLogger(__name__.rsplit(".", 1)[0])

Starter = Callable[[Dispatcher, dict[str, Any], Caller, Done], None]
"""Starts one request on the owner thread and calls ``done`` with its Outcome when it is finished."""


def run_now(dispatcher: Dispatcher, request: dict[str, Any], caller: Caller, done: Done) -> None:
    """The owner thread runs the request to the end (a runtime that finds no events of its own)."""
    done(dispatcher.run(request, caller))


class App:
    """Wires the dispatcher to the server through the bridge to the collection's owner thread."""

    def __init__(self, runtime: Runtime, post: Post, starter: Starter | None = None) -> None:
        self.runtime = runtime
        self.dispatcher = Dispatcher(ACTIONS, runtime)
        self.bridge = Bridge(post)
        self.events = EventBus(runtime.settings().eventHistory)
        self.server = Server(self.handle, runtime.settings, self.events, self.snapshot, self.openapi)
        self.request_log: RequestLog | None = None
        # A runtime that finds its own events (headless: ``attach_events``) is handed the bus, and runs each
        # request with its own starter (``start_request``, which scans what the request changed).
        attach = getattr(runtime, "attach_events", None)
        if attach is not None:
            attach(self.events.publish, self.events.interested, self.events.publish_all)
        self._starter: Starter = getattr(runtime, "start_request", run_now) if starter is None else starter

    async def handle(self, request: dict[str, Any], caller: Caller) -> Outcome:
        """Run one request (logged to ``apiLogPath`` when set), wrong keys slowed down per client address."""
        request_log = self.request_log
        if request_log is None:
            return await self._handle(request, caller)
        ticket = request_log.request(request, caller)
        outcome = await self._handle(request, caller)
        request_log.reply(ticket, outcome)
        return outcome

    async def _handle(self, request: dict[str, Any], caller: Caller) -> Outcome:
        """Actions that touch neither collection nor GUI skip the thread hop."""
        version = request.get("version", DEFAULT_VERSION)
        if caller.peer is not None and request["action"] not in KEY_EXEMPT:
            # The dispatcher checks the key again (and words the error); this only decides the wait.
            try:
                wait = self.server.keys.wait_for(caller.peer, self.dispatcher.authorised(request, caller))
            except TooManyFailures as exc:
                return Outcome(version, error=str(exc))
            if wait:
                await asyncio.sleep(wait)
        action = self.dispatcher.lookup(request["action"], version)
        if action is not None and action.inline:
            ran = self.dispatcher.run(request, caller)
            if ran.error is None and action.domain == "events":
                return await self._event_action(action.name, ran, caller)
            return ran
        try:
            outcome: Outcome = await self.bridge.submit(lambda done: self._start(request, caller, done))
        except BridgeClosed as exc:
            return Outcome(version, error=str(exc))
        return outcome

    def _start(self, request: dict[str, Any], caller: Caller, done: Done) -> None:
        """On the owner thread: start the request, with this server's bus for the events handlers publish."""
        with publishing(self.events.publish), media_policy(self.runtime.settings()):
            self._starter(self.dispatcher, request, caller, done)

    async def _event_action(self, name: str, planned: Outcome, caller: Caller) -> Outcome:
        """The second half of the event actions, once the dispatcher accepted key and params."""
        plan = planned.result
        if name == "pollEvents":
            since = plan["since"] if plan["since"] is not None else self.events.seq
            found = await self.events.wait(since, frozenset(plan["events"]), plan["timeout"])
            if found is None:
                return Outcome(planned.version, result={"gap": True, "seq": self.events.seq, "events": []})
            # `seq` is what to pass as `since` next time: every matching event up to it is in `events`.
            result = {"gap": False, "seq": self.events.seq, "events": [event.record() for event in found]}
            return Outcome(planned.version, result=result)
        if caller.transport != "ws":
            return Outcome(planned.version, error=f"{name} needs a WebSocket connection; use GET /events or pollEvents")
        return planned  # the WebSocket layer subscribes with the checked plan

    async def snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        """The current state as events, read on the owner thread (empty if the runtime keeps none)."""
        read = getattr(self.runtime, "event_snapshot", None)
        if read is None:
            return []
        try:
            state: list[tuple[str, dict[str, Any]]] = await self.bridge.call(read)
        except Exception:
            log.exception("could not read the current state for a snapshot")
            return []
        return state

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of every action, for ``GET /openapi.json``."""
        return openapi_document(self.dispatcher.actions, api_version=self.runtime.settings().apiVersion)

    def open_request_log(self) -> None:
        """Open ``apiLogPath`` (if set); raises OSError naming the file. ``start`` calls it too."""
        path = self.runtime.settings().apiLogPath
        if path and self.request_log is None:
            self.request_log = RequestLog.open(path)

    def start(self) -> None:
        try:
            self.open_request_log()
        except OSError as exc:  # in Anki: serve anyway, and say why nothing is logged
            log.error("%s", exc.strerror)
        self.server.start()

    def stop(self) -> None:
        """Answer what is in flight, close every connection, then refuse further work."""
        self.server.stop()
        self.bridge.close()
        if self.request_log is not None:
            self.request_log.close()
            self.request_log = None
