"""Events inside Anki: adapters for Anki's GUI hooks, and change scans after every operation.

Anki's reviewer, screens, profiles and sync have hooks; data changes (whoever made them: the reviewer, the
Browser, the Add dialog, an API request) are found by the ChangeDetector after each operation. Every hook
callback catches everything: Anki silently drops a hook callback that raises.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from aqt import gui_hooks

from ..events.changes import ChangeDetector, Publish, PublishAll

if TYPE_CHECKING:
    from anki.cards import Card
    from anki.collection import Collection, OpChanges
    from aqt.main import AnkiQt

__all__ = ["GuiEvents"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

F = TypeVar("F", bound=Callable[..., None])


def _never_raises(callback: F) -> F:
    @functools.wraps(callback)
    def guarded(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("event hook %s failed", callback.__name__)

    return guarded  # type: ignore[return-value]


class GuiEvents:
    def __init__(
        self,
        mw: AnkiQt,
        publish: Publish,
        own_initiator: Callable[[object | None], bool],
        interested: Callable[[str], bool] = lambda name: True,
        publish_all: PublishAll | None = None,
    ) -> None:
        self._mw = mw
        self._publish = publish
        self._is_ours = own_initiator
        self.detector = ChangeDetector(publish, interested, publish_all, pass_in_steps=True)
        self._queued = 0
        """Scans sent to Anki's collection thread and not finished (counted on the main thread)."""
        self._shown: tuple[int, str] | None = None
        self._hooks: list[tuple[Any, Callable[..., None]]] = [
            (gui_hooks.profile_did_open, self.on_profile_did_open),
            (gui_hooks.profile_will_close, self.on_profile_will_close),
            (gui_hooks.state_did_change, self.on_state_did_change),
            (gui_hooks.reviewer_did_show_question, self.on_reviewer_did_show_question),
            (gui_hooks.reviewer_did_show_answer, self.on_reviewer_did_show_answer),
            (gui_hooks.reviewer_did_answer_card, self.on_reviewer_did_answer_card),
            (gui_hooks.reviewer_will_end, self.on_reviewer_will_end),
            (gui_hooks.operation_did_execute, self.on_operation_did_execute),
            (gui_hooks.sync_will_start, self.on_sync_will_start),
            (gui_hooks.sync_did_finish, self.on_sync_did_finish),
        ]

    def register(self) -> None:
        for hook, callback in self._hooks:
            hook.append(callback)
        col: Collection | None = self._mw.col
        if col is not None:  # the add-on started with a profile already open
            self.detector.baseline(col)

    def unregister(self) -> None:
        for hook, callback in self._hooks:
            hook.remove(callback)

    def after_request(self, col: Collection, changes: OpChanges) -> None:
        """An API request changed the collection (called on the collection thread, inside the operation)."""
        self.detector.scan(col, changes, source="api")

    # Anki's hooks

    @_never_raises
    def on_profile_did_open(self) -> None:
        self.detector.baseline(self._mw.col)
        self._publish("profile.opened", {"profile": self._mw.pm.name})

    @_never_raises
    def on_profile_will_close(self) -> None:
        self._publish("profile.closed", {"profile": self._mw.pm.name})

    @_never_raises
    def on_state_did_change(self, new_state: str, old_state: str) -> None:
        if new_state != "review":
            self._shown = None
        self._publish("ui.stateChanged", {"state": new_state, "previous": old_state})

    @_never_raises
    def on_reviewer_did_show_question(self, card: Card) -> None:
        # Entering review shows the first question twice (a re-entrant refresh): report it once.
        if self._shown != (card.id, "question"):
            self._shown = (card.id, "question")
            self._publish("review.questionShown", self._card_data(card))

    @_never_raises
    def on_reviewer_did_show_answer(self, card: Card) -> None:
        self._shown = (card.id, "answer")
        self._publish("review.answerShown", self._card_data(card))

    @_never_raises
    def on_reviewer_did_answer_card(self, reviewer: Any, card: Card, ease: int) -> None:
        # Anki reports the answer's changes only after showing the next question; report the answer now.
        col = self._mw.col
        if self._queued:  # after the scans still queued, in order, and without waiting for them here
            self._in_background(lambda: self.detector.scan_answers(col))
        else:
            self.detector.scan_answers(col)

    @_never_raises
    def on_reviewer_will_end(self) -> None:
        self._shown = None
        self._publish("review.ended", {})

    @_never_raises
    def on_operation_did_execute(self, changes: OpChanges, handler: object | None) -> None:
        if self._is_ours(handler):
            return  # already scanned inside the request's own operation
        if self._mw.col is not None:
            self._scan(self._mw.col, changes, "anki")

    @_never_raises
    def on_sync_will_start(self) -> None:
        self._publish("sync.started", {})
        if self._mw.col is not None:
            self.detector.sync_starting(self._mw.col)

    @_never_raises
    def on_sync_did_finish(self) -> None:
        self._publish("sync.finished", {"ok": True})
        if self._mw.col is not None:
            self._scan(self._mw.col, None, "sync")

    def _scan(self, col: Collection, changes: OpChanges | None, source: str) -> None:
        # A scan reading many notes (a pass over every note: 92 ms on 200k notes of 1 KB; or the many a big
        # operation wrote) runs on Anki's collection thread, after what is queued there, and in steps: Anki's
        # window neither makes the pass nor waits long for the collection. While one is queued, later scans
        # follow it there (in order, and the window never waits for it).
        if self._queued or self.detector.reads_many_notes(col, changes, source):
            self._in_background(lambda: self.detector.scan(col, changes, source=source))
        else:
            self.detector.scan(col, changes, source=source)

    def _in_background(self, scan: Callable[[], None]) -> None:
        self._queued += 1
        self._mw.taskman.run_in_background(scan, self._scanned)

    def _scanned(self, _: Future[None]) -> None:
        self._queued -= 1  # on the main thread, as _in_background

    # the current state, for snapshots

    def snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        mw = self._mw
        state: list[tuple[str, dict[str, Any]]] = [("profile.opened", {"profile": mw.pm.name if mw.pm else None})]
        state.append(("ui.stateChanged", {"state": mw.state, "previous": None}))
        col: Collection | None = mw.col  # None while no profile is open
        if col is None:
            return state
        card = mw.reviewer.card if mw.state == "review" else None
        if card is not None:
            side = "review.answerShown" if mw.reviewer.state == "answer" else "review.questionShown"
            state.append((side, self._card_data(card)))
        counts = self.detector.snapshot_counts(col)
        if counts is not None:
            state.append(("counts.changed", counts))
        return state

    def _card_data(self, card: Card) -> dict[str, Any]:
        return {"cardId": card.id, "noteId": card.nid, "deckId": card.did, "deck": self._mw.col.decks.name(card.did)}
