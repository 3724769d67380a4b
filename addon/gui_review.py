"""Graphical actions around the reviewer, and Edit > Undo.

Everything goes through Anki's own reviewer, as a click would: answers are Anki's ``answer_card`` operation,
so the review is logged, undoable and announced to every screen. An answer runs on Anki's collection
thread; when nothing else is queued there, the reply waits (a few milliseconds) until it is stored, so a
client's next request already sees the next card. Undo, when Anki is idle, runs at once for the same reason.
"""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from ..actions.errors import ActionError, CollectionUnavailable
from .gui_host import gui_action

if TYPE_CHECKING:
    from anki.cards import Card
    from anki.collection import Collection
    from aqt.main import AnkiQt
    from aqt.reviewer import Reviewer

__all__ = ["NOT_REVIEWING", "open_collection", "require_collection"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

NOT_REVIEWING = "Gui review is not currently active."
"""guiCurrentCard's error outside review (upstream's text; its README wrongly promised null)."""

STORE_TIMEOUT = 2.0
"""How long (seconds) a reply may wait for an answer to be stored before answering anyway."""


def open_collection(mw: AnkiQt) -> Collection | None:
    """The open collection, or None while no profile is open (or Anki has it closed for an import)."""
    col: Collection | None = mw.col  # typed as always set, but None between profiles
    return col


def require_collection(mw: AnkiQt) -> Collection:
    col = open_collection(mw)
    if col is None:
        raise CollectionUnavailable()
    return col


@gui_action("guiReviewActive")
def review_active(mw: AnkiQt) -> bool:
    return mw.state == "review" and mw.reviewer.card is not None


def _reviewer(mw: AnkiQt) -> Reviewer | None:
    """The reviewer while a card is on screen (not while an answer is being stored)."""
    reviewer = mw.reviewer
    if not review_active(mw) or reviewer.state not in ("question", "answer"):
        return None
    return reviewer


@gui_action("guiCurrentCard")
def current_card(mw: AnkiQt) -> dict[str, Any]:
    reviewer = mw.reviewer
    card = reviewer.card
    if not review_active(mw) or card is None:
        raise ActionError(NOT_REVIEWING)
    col = require_collection(mw)
    note_type = card.note_type()
    note = card.note()
    buttons = [ease for ease, _label in reviewer._answerButtonList()]
    return {
        "cardId": card.id,
        "fields": {
            field["name"]: {"value": note.fields[field["ord"]], "order": field["ord"]} for field in note_type["flds"]
        },
        "fieldOrder": card.ord,
        "question": card.question(),
        "answer": card.answer(),
        "buttons": buttons,
        "nextReviews": _next_reviews(col, reviewer, card, buttons),
        "modelName": note_type["name"],
        "deckName": col.decks.name(card.did),
        "css": note_type["css"],
        "template": card.template()["name"],
    }


def _next_reviews(col: Collection, reviewer: Reviewer, card: Card, buttons: list[int]) -> list[str]:
    """The interval shown on each answer button (from the states the reviewer will apply)."""
    try:
        states = reviewer.get_scheduling_states()
    except AttributeError:  # no queued-card info (cannot happen while a card is shown; be safe)
        states = col._backend.get_scheduling_states(card.id)
    labels = list(col._backend.describe_next_states(states))  # what the v3 scheduler's nextIvlStr reads
    return [labels[ease - 1] if 1 <= ease <= len(labels) else "" for ease in buttons]


@gui_action("guiStartCardTimer")
def start_card_timer(mw: AnkiQt) -> bool:
    reviewer = _reviewer(mw)
    if reviewer is None or reviewer.card is None:
        return False
    reviewer.card.start_timer()
    return True


@gui_action("guiShowQuestion")
def show_question(mw: AnkiQt) -> bool:
    reviewer = _reviewer(mw)
    if reviewer is None:
        return False
    reviewer._showQuestion()
    return True


@gui_action("guiShowAnswer")
def show_answer(mw: AnkiQt) -> bool:
    reviewer = _reviewer(mw)
    if reviewer is None:
        return False
    reviewer._showAnswer()
    return True


@gui_action("guiAnswerCard")
def answer_card(mw: AnkiQt, ease: int) -> bool:
    reviewer = _reviewer(mw)
    if reviewer is None or reviewer.state != "answer":
        return False
    if ease not in [button for button, _label in reviewer._answerButtonList()]:
        return False
    queue_was_idle = mw._background_op_count == 0
    reviewer._answerCard(ease)  # type: ignore[arg-type]  # checked against the buttons above
    if not _answer_started(reviewer):
        return False  # an add-on's reviewer_will_answer_card filter refused the answer
    if queue_was_idle:
        _wait_for_collection_thread(mw)
    return True


@gui_action("guiPlayAudio")
def play_audio(mw: AnkiQt) -> bool:
    reviewer = _reviewer(mw)
    if reviewer is None:
        return False
    reviewer.replayAudio()
    return True


@gui_action("guiUndo")
def undo(mw: AnkiQt) -> bool:
    """Edit > Undo (Anki's ``operations.collection.undo``), finished before the reply when Anki is idle.

    With other operations queued, Anki's own asynchronous undo runs after them instead. "Nothing to undo"
    is no error (as in Anki, which ignores it silently).
    """
    from anki.errors import UndoEmpty
    from aqt import gui_hooks
    from aqt.operations import on_op_finished
    from aqt.utils import tooltip, tr

    col = require_collection(mw)
    if mw._background_op_count:
        mw.undo()
        return True
    try:
        out = col.undo()
    except UndoEmpty:
        return True
    gui_hooks.state_did_undo(out)
    tooltip(tr.undo_action_undone(action=out.operation), parent=mw)
    on_op_finished(mw, out, initiator=None)
    _refresh_screen(mw)
    return True


def _refresh_screen(mw: AnkiQt) -> None:
    """Redraw the main window's screen now if a change left it stale.

    Anki redraws an unfocused main window only once it gets the focus again (``on_focus_did_change``); a
    client wants the result at once: in review, the restored card is the one guiCurrentCard then reports.
    """
    screens: dict[str, Any] = {"review": mw.reviewer, "overview": mw.overview, "deckBrowser": mw.deckBrowser}
    screen = screens.get(mw.state)
    if screen is not None:
        screen.refresh_if_needed()


def _answer_started(reviewer: Reviewer) -> bool:
    return reviewer.state == "transition"


def _wait_for_collection_thread(mw: AnkiQt) -> None:
    """Block until the operation just started on Anki's collection thread has been stored.

    That thread runs one task at a time, in order, so an empty task queued behind the operation finishes
    right after it. Its on-main completion (the reviewer showing the next card, screens refreshing) is then
    already queued ahead of any later request. Only called when the queue was idle, so the wait is short.
    """
    executor = getattr(mw.taskman, "_collection_executor", None)
    if executor is None:
        return
    try:
        executor.submit(lambda: None).result(timeout=STORE_TIMEOUT)
    except FutureTimeout:
        log.warning("the collection operation is still running; answering the request anyway")
