"""Running requests inside Anki: data actions as background collection operations, GUI actions on main.

Every request starts on the Qt main thread (posted with ``mw.taskman.run_on_main``, which wakes the loop:
no polling). Actions that only touch the collection then run on Anki's collection thread, as Anki's own
``CollectionOp`` does, so a long request never freezes the window. Their undoable changes are merged into
one undo step and announced with ``operation_did_execute``, so every screen refreshes the modern way and
Edit > Undo reverts the whole request.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ..actions.dispatch import Dispatcher
from ..events.changes import all_changes, merge_steps
from ..pacing import pacing
from ..transport.bridge import Done
from ..wire import DEFAULT_VERSION, Caller, Outcome

if TYPE_CHECKING:
    from anki.collection import Collection, OpChanges
    from aqt.main import AnkiQt

    from .runtime import GuiRuntime

__all__ = ["GuiStarter"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

MAIN_THREAD_ACTIONS = frozenset(
    {"getProfiles", "getActiveProfile", "loadProfile", "requestPermission", "sync", "reloadCollection"}
)
"""Actions that drive Anki itself (profiles, dialogs, its own sync) and so must run on the main thread."""


class GuiStarter:
    """The ``Starter`` of the desktop app (see ``app.App``)."""

    def __init__(
        self,
        mw: AnkiQt,
        runtime: GuiRuntime,
        ask_permission: Callable[..., None] | None = None,
        after_request: Callable[[Collection, OpChanges], None] | None = None,
    ) -> None:
        from .gui_sync import GuiSync

        self._mw = mw
        self._runtime = runtime
        self._ask_permission = ask_permission
        self._after_request = after_request
        self._sync = GuiSync(mw)

    def __call__(self, dispatcher: Dispatcher, request: dict[str, Any], caller: Caller, done: Done) -> None:
        if self._ask_permission is not None and self._needs_permission_dialog(request, caller):
            self._ask_permission(request, caller, done)
        elif request.get("action") == "sync" and self._runtime.collection() is not None:
            if dispatcher.authorised(request, caller):
                self._sync.start(request, done)
            else:
                done(dispatcher.run(request, caller))  # the key error, in the dispatcher's words
        elif (target := self._profile_switch(dispatcher, request, caller)) is not None:
            # Answer once the other profile is really open, so the client's next request finds it.
            version = request.get("version", DEFAULT_VERSION)
            self._runtime.switch_profile(target, lambda: done(Outcome(version, result=True)))
        elif self._runtime.collection() is None or _needs_main_thread(dispatcher, request):
            done(dispatcher.run(request, caller))
        else:
            self._run_in_background(dispatcher, request, caller, done)

    def _profile_switch(self, dispatcher: Dispatcher, request: dict[str, Any], caller: Caller) -> str | None:
        """The profile a valid, authorised loadProfile request switches to, if it means a switch."""
        params = request.get("params")
        if request.get("action") != "loadProfile" or not isinstance(params, dict) or set(params) != {"name"}:
            return None
        name = params["name"]
        if not isinstance(name, str):
            return None
        if name == self._runtime.profile_name() or name not in self._runtime.profiles():
            return None  # the dispatcher answers these (true at once, false)
        if not dispatcher.authorised(request, caller):
            return None  # the dispatcher answers with the key error
        return name

    def _needs_permission_dialog(self, request: dict[str, Any], caller: Caller) -> bool:
        if request.get("action") != "requestPermission" or caller.origin_allowed or not caller.origin:
            return False
        return caller.origin not in self._runtime.settings().ignoreOriginList

    def _run_in_background(self, dispatcher: Dispatcher, request: dict[str, Any], caller: Caller, done: Done) -> None:
        mw = self._mw
        mw._increase_background_ops()  # Anki waits for these before closing the collection

        def task() -> tuple[Outcome, OpChanges | None]:
            col = self._runtime.collection()
            if col is None:  # closed between posting and running
                return dispatcher.run(request, caller), None
            with pacing():  # long loops let the main thread run now and then
                before = col.undo_status().last_step
                outcome = dispatcher.run(request, caller)
                changes = _merged_changes(col, before)
                if changes is not None and self._after_request is not None:
                    self._after_request(col, changes)  # events, found while still on the collection thread
            return outcome, changes

        def finished(future: Future[tuple[Outcome, OpChanges | None]]) -> None:
            mw._decrease_background_ops()
            try:
                outcome, changes = future.result()
            except Exception as exc:  # the dispatcher never raises; this is a bug, reported to the client
                log.exception("request failed outside the dispatcher")
                outcome, changes = Outcome(request.get("version", DEFAULT_VERSION), error=str(exc)), None
            if changes is not None:
                _announce(mw, changes, initiator=self)
            done(outcome)

        # The task runs on Anki's collection thread: take this request's context (where its handlers'
        # events go) along.
        context = contextvars.copy_context()
        mw.taskman.run_in_background(lambda: context.run(task), finished, uses_collection=True)


def _needs_main_thread(dispatcher: Dispatcher, request: Any, depth: int = 0) -> bool:
    if not isinstance(request, dict):
        return False
    name = request.get("action")
    if name in MAIN_THREAD_ACTIONS:
        return True
    action = dispatcher.actions.get(name) if isinstance(name, str) else None
    if action is not None and action.gui:
        return True
    if name == "multi" and depth < 8:
        params = request.get("params")
        subs = params.get("actions") if isinstance(params, dict) else None
        if isinstance(subs, list):
            return any(_needs_main_thread(dispatcher, sub, depth + 1) for sub in subs)
    return False


def _merged_changes(col: Collection, before: int) -> OpChanges | None:
    """Fold the undo steps a request made into one, so one Edit > Undo reverts the whole request."""
    after = col.undo_status().last_step
    if after == before:
        return None
    if after < before:  # a legacy change emptied Anki's undo queue and its numbering restarted
        return all_changes()
    return merge_steps(col, before + 1)


def _announce(mw: AnkiQt, changes: OpChanges, initiator: object) -> None:
    from aqt.operations import on_op_finished

    try:
        on_op_finished(mw, changes, initiator)
    except Exception:  # a screen failing to refresh must not lose the client's answer
        log.exception("refreshing Anki's screens failed")
