"""The one dispatcher: HTTP, WebSocket and ``multi`` all run requests through ``Dispatcher.run``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..wire import DEFAULT_VERSION, Caller, Outcome, envelope_error, key_matches
from .context import Context, Runtime
from .errors import Denied, InvalidParams, UnsupportedAction, error_text
from .params import bind_params
from .registry import Action

__all__ = ["MAX_MULTI_DEPTH", "Dispatcher"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

MAX_MULTI_DEPTH = 8
"""``multi`` inside ``multi`` is allowed (upstream allows it) but not without end."""

KEY_EXEMPT = frozenset({"requestPermission"})


class Dispatcher:
    """Validates a request object, checks its key, binds params and calls the handler.

    Runs synchronously on the thread that owns the collection; never raises.
    """

    def __init__(self, actions: Mapping[str, Action], runtime: Runtime) -> None:
        self.actions = actions
        self.runtime = runtime

    def lookup(self, name: str, version: int) -> Action | None:
        action = self.actions.get(name)
        if action is None or not action.accepts_version(version):
            return None
        return action

    def run(self, request: Any, caller: Caller, depth: int = 0) -> Outcome:
        """Run one request object (already JSON-decoded) and report its outcome."""
        problem = envelope_error(request)
        if problem is not None:
            return Outcome(DEFAULT_VERSION, error=problem)
        version: int = request.get("version", DEFAULT_VERSION)
        try:
            result = self._call(request, version, caller, depth)
        except Exception as exc:  # every failure becomes the error envelope, as upstream does
            return Outcome(version, error=error_text(exc))
        return Outcome(version, result=result)

    def authorised(self, request: dict[str, Any], caller: Caller) -> bool:
        """Whether the request carries the API key (or needs none)."""
        if request.get("action") in KEY_EXEMPT:
            return True
        return key_matches(request.get("key", caller.url_key), self.runtime.settings().api_key)

    def _call(self, request: dict[str, Any], version: int, caller: Caller, depth: int) -> Any:
        name: str = request["action"]
        settings = self.runtime.settings()
        # The key is checked before the name, as upstream does, so a wrong key reveals nothing.
        if not self.authorised(request, caller):
            raise Denied("valid api key must be provided")
        action = self.lookup(name, version)
        if action is None or (action.gui and self.runtime.gui() is None):
            # Without Anki's window a graphical action does not exist here: clients fall back on exactly this.
            raise UnsupportedAction()
        params = bind_params(name, action.params, request.get("params", {}))

        def run_nested(sub_request: Any) -> Outcome:
            if depth + 1 > MAX_MULTI_DEPTH:
                return Outcome(DEFAULT_VERSION, error=str(InvalidParams("multi is nested too deeply")))
            return self.run(sub_request, caller, depth + 1)

        context = Context(self.runtime, settings, caller, run_nested, self.actions)
        return action.handler(context, **params)
