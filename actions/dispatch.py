"""The one dispatcher: HTTP, WebSocket and ``multi`` all run requests through ``Dispatcher.run``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..wire import DEFAULT_VERSION, Caller, Outcome, envelope_error, key_matches
from .context import Context, Runtime
from .errors import Denied, InvalidParams, UnsupportedAction, error_text
from .params import bind_params
from .registry import Action, OneByOne
from .undo_steps import UndoFolder

__all__ = ["MAX_MULTI_DEPTH", "Dispatcher"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

MAX_MULTI_DEPTH = 8
"""``multi`` inside ``multi`` is allowed (upstream allows it) but not without end."""

KEY_EXEMPT = frozenset({"requestPermission"})

_TOO_DEEP = Outcome(DEFAULT_VERSION, error=str(InvalidParams("multi is nested too deeply")))


@dataclass(slots=True)
class _Slot:
    """Where one request of a ``multi`` gets its outcome: known, or the outcomes of a nested ``multi``'s parts."""

    known: Outcome | None = None
    version: int = DEFAULT_VERSION
    parts: list[_Slot] | None = None

    def outcome(self) -> Outcome:
        if self.parts is not None:
            return Outcome(self.version, result=[part.outcome().reply() for part in self.parts])
        assert self.known is not None, "every call of a multi runs before its replies are read"
        return self.known


@dataclass(slots=True)
class _Call:
    """A request of a ``multi`` to run in its turn; with its action, context and params when already bound."""

    slot: _Slot
    request: Any
    depth: int
    action: Action | None = None
    context: Context | None = None
    params: dict[str, Any] = field(default_factory=dict)


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
        action that can be batched (``addNote``, ``updateNoteFields``, tags, ``changeDeck``) are done
        together, with the outcomes they would have had one after another. Calls inside a nested ``multi``
        count where they stand, so a client's ``multi`` of one ``multi`` of ``addNote`` per file is one run
        (a client syncing notes sends hundreds; each written alone costs Anki a transaction of its own)."""
        calls: list[_Call] = []
        slots = [self._planned(request, caller, depth, calls) for request in requests]
        steps = UndoFolder(self.runtime.collection)  # the whole multi one undo step, however many calls
        start = 0
        while start < len(calls):
            end = start + 1
            while calls[start].action is not None and end < len(calls) and calls[end].action is calls[start].action:
                end += 1
            self._run_calls(calls[start:end], caller)
            steps.fold()
            start = end
        return [slot.outcome() for slot in slots]

    def _planned(self, request: Any, caller: Caller, depth: int, calls: list[_Call]) -> _Slot:
        """The slot of one request's outcome: known at once when its checks fail, else filled by a call added
        to ``calls`` (or, for a nested ``multi``, by the calls of its requests, in order)."""
        action = self._batchable_or_multi(request)
        if action is None:  # run in its turn as ``run`` runs it (which words any error)
            slot = _Slot()
            calls.append(_Call(slot, request, depth))
            return slot
        version: int = request.get("version", DEFAULT_VERSION)
        # Checking a call changes nothing, so it may happen before the calls ahead of it have run.
        try:
            action, context, params = self._bound(request, version, caller, depth)
        except Exception as exc:
            return _Slot(Outcome(version, error=error_text(exc)))
        if action.name == "multi":
            if depth + 1 > MAX_MULTI_DEPTH:
                return _Slot(Outcome(version, result=[_TOO_DEEP.reply()] * len(params["actions"])))
            return _Slot(
                version=version, parts=[self._planned(sub, caller, depth + 1, calls) for sub in params["actions"]]
            )
        slot = _Slot(version=version)
        calls.append(_Call(slot, request, depth, action, context, params))
        return slot

    def _batchable_or_multi(self, request: Any) -> Action | None:
        if envelope_error(request) is not None:
            return None
        action = self.actions.get(request["action"])
        return action if action is not None and (action.batch is not None or action.name == "multi") else None

    def _run_calls(self, calls: list[_Call], caller: Caller) -> None:
        """One call, or a run of bound calls of one batchable action: done at once, or one by one when the
        batch handler cannot do them together."""
        first = calls[0]
        if first.action is None or first.context is None:
            first.slot.known = self.run(first.request, caller, first.depth)
            return
        results = self._batched(first.action, first.context, [call.params for call in calls])
        for i, call in enumerate(calls):
            version = call.slot.version
            if results is None:
                call.slot.known = self._outcome(version, partial(first.action.handler, first.context, **call.params))
            elif isinstance(results[i], BaseException):
                call.slot.known = Outcome(version, error=error_text(results[i]))
            else:
                call.slot.known = Outcome(version, result=results[i])

    @staticmethod
    def _batched(action: Action, context: Context, calls: list[dict[str, Any]]) -> list[Any] | None:
        """Each call's result (or exception) from the action's batch handler; None when they must run one by one."""
        if len(calls) < 2 or action.batch is None:
            return None
        try:
            results = action.batch(context, calls)
        except OneByOne:
            return None
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
                return [_TOO_DEEP] * len(sub_requests)
            return self.run_all(sub_requests, caller, depth + 1)

        context = Context(self.runtime, settings, caller, run_nested, self.actions)
        return action, context, params
