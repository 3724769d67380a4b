"""The one dispatcher: HTTP, WebSocket and ``multi`` all run requests through ``Dispatcher.run``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
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
        return self._outcome(version, partial(self._call, request, version, caller, depth))

    def authorised(self, request: dict[str, Any], caller: Caller) -> bool:
        """Whether the request carries the API key (or needs none)."""
        if request.get("action") in KEY_EXEMPT:
            return True
        return key_matches(request.get("key", caller.url_key), self.runtime.settings().api_key)

    def run_all(self, requests: list[Any], caller: Caller, depth: int = 0) -> list[Outcome]:
        """Run requests in order, as ``multi`` does: each as ``run`` would, except that consecutive calls of an
        action that can be batched (``addNote``, ``updateNoteFields``) are done at once, with the outcomes
        they would have had one after another (a client syncing notes sends hundreds in one ``multi``; each
        written alone costs Anki a transaction of its own)."""
        outcomes: list[Outcome] = []
        start = 0
        while start < len(requests):
            action = self._batchable(requests[start])
            end = start + 1
            while action is not None and end < len(requests) and self._batchable(requests[end]) is action:
                end += 1
            if end - start < 2:
                outcomes.append(self.run(requests[start], caller, depth))
            else:
                outcomes += self._run_batch(requests[start:end], caller, depth)
            start = end
        return outcomes

    def _batchable(self, request: Any) -> Action | None:
        if not isinstance(request, dict) or envelope_error(request) is not None:
            return None
        action = self.actions.get(request["action"])
        return action if action is not None and action.batch is not None else None

    def _run_batch(self, requests: list[dict[str, Any]], caller: Caller, depth: int) -> list[Outcome]:
        """Calls of one batchable action: each checked as ``run`` checks it, those that pass done at once."""
        outcomes: list[Outcome | None] = []
        bound: list[tuple[int, int, dict[str, Any]]] = []  # (slot, version, params) of each call that passed
        action = context = None
        for request in requests:
            version: int = request.get("version", DEFAULT_VERSION)
            try:
                action, context, params = self._bound(request, version, caller, depth)
            except Exception as exc:  # a call that fails its checks writes nothing: the others run on
                outcomes.append(Outcome(version, error=error_text(exc)))
                continue
            bound.append((len(outcomes), version, params))
            outcomes.append(None)
        if action is not None and context is not None:
            results = self._batched(action, context, [params for *_, params in bound])
            for i, (slot, version, params) in enumerate(bound):
                if results is None:
                    outcomes[slot] = self._outcome(version, partial(action.handler, context, **params))
                elif isinstance(results[i], BaseException):
                    outcomes[slot] = Outcome(version, error=error_text(results[i]))
                else:
                    outcomes[slot] = Outcome(version, result=results[i])
        return [outcome for outcome in outcomes if outcome is not None]

    @staticmethod
    def _batched(action: Action, context: Context, calls: list[dict[str, Any]]) -> list[Any] | None:
        """Each call's result (or exception) from the action's batch handler; None when they must run one by one."""
        if len(calls) < 2 or action.batch is None:
            return None
        try:
            results = action.batch(context, calls)
        except Exception:
            # It wrote nothing: run one by one, each call reporting its own failure.
            log.info("a run of %s calls in one multi goes one by one", action.name, exc_info=True)
            return None
        if len(results) != len(calls):
            raise RuntimeError(f"{action.name}'s batch gave {len(results)} results for {len(calls)} calls")
        return results

    @staticmethod
    def _outcome(version: int, call: Callable[[], Any]) -> Outcome:
        try:
            return Outcome(version, result=call())
        except Exception as exc:  # every failure becomes the error envelope, as upstream does
            return Outcome(version, error=error_text(exc))

    def _call(self, request: dict[str, Any], version: int, caller: Caller, depth: int) -> Any:
        action, context, params = self._bound(request, version, caller, depth)
        return action.handler(context, **params)

    def _bound(
        self, request: dict[str, Any], version: int, caller: Caller, depth: int
    ) -> tuple[Action, Context, dict[str, Any]]:
        """The action a request names, its context and its checked params; raises what the client is told."""
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

        def run_nested(sub_requests: list[Any]) -> list[Outcome]:
            if depth + 1 > MAX_MULTI_DEPTH:
                return [Outcome(DEFAULT_VERSION, error=str(InvalidParams("multi is nested too deeply")))] * len(
                    sub_requests
                )
            return self.run_all(sub_requests, caller, depth + 1)

        context = Context(self.runtime, settings, caller, run_nested, self.actions)
        return action, context, params
