"""Card scheduling actions: suspension, due state, intervals, forgetting, due dates and card lookups.

Reads go to SQLite with the ids as one JSON array parameter (``json_each``), so a list of any length is one
parameterized query. Every change goes through an Anki operation (never raw SQL), so it is undoable as one
step and marks the cards modified (usn -1, mod now) for the next sync.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import InvalidParams, NotFound, Unavailable
from .lookup import database
from .registry import Registry
from .undo_steps import UndoFolder

if TYPE_CHECKING:
    from anki.cards import Card, CardId
    from anki.collection import Collection

__all__ = ["as_integer", "card_ids", "card_rows", "get_card", "registry"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

registry = Registry("scheduling")
action = registry.action

_SUSPENDED = -1
_NEW = 0
_REVIEW = 2
_LEARNING_QUEUES = (1, 4)  # intraday learning and preview: ``due`` is a timestamp
_LONG_STEP_SECS = 1200
"""Upstream's areDue: a learning step longer than this is due only once its time has passed (no learn-ahead)."""

_EASES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
_MAX_MILLIS = 2**32 - 1
"""The revlog's time column is an unsigned 32-bit number in Anki."""

_DAYS = re.compile(r"\d+(-\d+)?!?")
"""What Anki's set_due_date accepts: ``N`` or ``N-M`` days, ``!`` to also set the interval."""


def as_integer(value: Any) -> int | None:
    """An integer from JSON, digit strings included as params.py accepts them; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def card_ids(cards: Sequence[int]) -> list[CardId]:
    """The ids for Anki's card ops, each once: they fail on an id given twice (a UNIQUE constraint of theirs)."""
    from anki.cards import CardId

    return [CardId(card_id) for card_id in dict.fromkeys(cards)]


def get_card(col: Collection, card_id: int) -> Card:
    """The card, or AnkiConnect's ``Card was not found: X``."""
    from anki.cards import CardId
    from anki.errors import NotFoundError

    try:
        return col.get_card(CardId(card_id))
    except NotFoundError:
        raise NotFound(f"Card was not found: {card_id}") from None


def card_rows(col: Collection, cards: Sequence[int], columns: str) -> dict[int, Sequence[Any]]:
    """``id -> [columns...]`` for the cards that exist, in one query whatever the number of ids."""
    rows = database(col).all(
        f"select id, {columns} from cards where id in (select value from json_each(?))",
        json.dumps(sorted(set(cards))),
    )
    return {row[0]: row[1:] for row in rows}


def _last_intervals(col: Collection, cards: Sequence[int]) -> dict[int, list[int]]:
    """Each card's revlog intervals, oldest first (negative: seconds, positive: days)."""
    rows = database(col).all(
        "select cid, ivl from revlog where cid in (select value from json_each(?)) order by id",
        json.dumps(sorted(set(cards))),
    )
    intervals: dict[int, list[int]] = {}
    for cid, ivl in rows:
        intervals.setdefault(cid, []).append(ivl)
    return intervals


@action("suspend")
def suspend(ctx: Context, *, cards: list[int], suspend: bool = True) -> bool:
    """Suspend cards (or unsuspend with ``suspend`` false); false if every card already was in that state."""
    return _set_suspended(ctx.col, cards, suspend)


@action("unsuspend")
def unsuspend(ctx: Context, *, cards: list[int]) -> bool:
    """Unsuspend cards; false if none of them was suspended."""
    # Upstream drops suspend()'s result and always answers null (D2); the README promises this bool.
    return _set_suspended(ctx.col, cards, False)


def _set_suspended(col: Collection, cards: list[int], suspend: bool) -> bool:
    queues = card_rows(col, cards, "queue")
    for card_id in cards:  # upstream checks every id first, so a missing one changes nothing
        if card_id not in queues:
            raise NotFound(f"Card was not found: {card_id}")
    # Filtered into a new list: upstream removes from the list it iterates and so skips cards (D9).
    todo = sorted({cid for cid in cards if (queues[cid][0] == _SUSPENDED) != suspend})
    if not todo:
        return False
    if suspend:
        col.sched.suspend_cards(card_ids(todo))
    else:
        col.sched.unsuspend_cards(card_ids(todo))  # only suspended cards are passed, so none is unburied
    return True


@action("suspended")
def suspended(ctx: Context, *, card: int) -> bool:
    """Whether one card is suspended."""
    return bool(get_card(ctx.col, card).queue == _SUSPENDED)


@action("areSuspended")
def are_suspended(ctx: Context, *, cards: list[int]) -> list[bool | None]:
    """Whether each card is suspended; null where a card does not exist."""
    queues = card_rows(ctx.col, cards, "queue")
    return [queues[cid][0] == _SUSPENDED if cid in queues else None for cid in cards]


@action("areDue")
def are_due(ctx: Context, *, cards: list[int]) -> list[bool | None]:
    """Whether each card is due now (new cards count as due); null where a card does not exist."""
    col = ctx.col
    states = card_rows(col, cards, "type, queue, due")
    # Anki's own is:due decides from queue and due (learning cards within the learn-ahead limit count).
    # Upstream read the card's last revlog row instead and failed without one (D10).
    due_now = _due_cards(col, [cid for cid, (ctype, _, _) in states.items() if ctype != _NEW])
    learning = [cid for cid, (_, queue, _) in states.items() if queue in _LEARNING_QUEUES]
    steps = _last_intervals(col, learning) if learning else {}
    now = time.time()
    result: list[bool | None] = []
    for cid in cards:
        if cid not in states:
            result.append(None)
            continue
        ctype, queue, due = states[cid]
        if ctype == _NEW:
            result.append(True)
        elif queue in _LEARNING_QUEUES and steps.get(cid, [0])[-1] < -_LONG_STEP_SECS:
            result.append(due <= now)  # upstream: a long learning step is not due before its time
        else:
            result.append(cid in due_now)
    return result


def _due_cards(col: Collection, cards: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(cards), 500):  # keeps each search string short
        chunk = ",".join(str(cid) for cid in cards[start : start + 500])
        found.update(int(cid) for cid in col.find_cards(f"cid:{chunk} is:due"))
    return found


@action("getIntervals")
def get_intervals(ctx: Context, *, cards: list[int], complete: bool = False) -> list[Any]:
    """Each card's last interval (negative: seconds, positive: days; 0 for new cards), or its whole history."""
    col = ctx.col
    history = _last_intervals(col, cards)
    if complete:
        # Every entry a list, as documented ([] without reviews); upstream puts a bare 0 there for new cards.
        return [history.get(cid, []) for cid in cards]
    states = card_rows(col, cards, "type, ivl")
    result: list[Any] = []
    for cid in cards:
        if cid not in states:
            result.append(None)  # upstream fails with IndexError
        elif states[cid][0] == _NEW:
            result.append(0)
        else:
            # Without revlog rows (imported, or scheduled by other tools) the card's own interval is the answer;
            # upstream fails with IndexError (D10).
            result.append(history[cid][-1] if cid in history else states[cid][1])
    return result


@action("cardsToNotes")
def cards_to_notes(ctx: Context, *, cards: list[int]) -> list[int]:
    """The ids of the notes of the cards, each once, in the order of the cards; unknown cards are ignored."""
    notes = card_rows(ctx.col, cards, "nid")
    return list(dict.fromkeys(notes[cid][0] for cid in cards if cid in notes))


@action("cardsModTime")
def cards_mod_time(ctx: Context, *, cards: list[int]) -> list[dict[str, Any]]:
    """Each card's modification time (epoch seconds); ``{}`` where a card does not exist."""
    mods = card_rows(ctx.col, cards, "mod")
    return [{"cardId": cid, "mod": mods[cid][0]} if cid in mods else {} for cid in cards]


@action("forgetCards")
def forget_cards(ctx: Context, *, cards: list[int]) -> None:
    """Reset cards to new, back at their original position, keeping review and lapse counts; logged in the revlog."""
    # Upstream's flags: log=True (the scheduler always logs), restore_position=True, reset_counts=False.
    ctx.col.sched.schedule_cards_as_new(card_ids(cards), restore_position=True, reset_counts=False)


@action("setDueDate")
def set_due_date(ctx: Context, *, cards: list[int], days: str) -> bool:
    """Make cards review cards due in ``days``: "0" today, "1!" tomorrow (also setting the interval), "3-7" a range."""
    if not _DAYS.fullmatch(days):
        # Anki's own error is only the rejected text.
        raise InvalidParams(
            f'days must be "N" or "N-M" days, optionally with "!" (e.g. "0", "1!", "3-7"), not {days!r}'
        )
    ctx.col.sched.set_due_date(card_ids(cards), days)
    return True


@action("relearnCards")
def relearn_cards(ctx: Context, *, cards: list[int]) -> None:
    """Send review cards back to relearning by answering them "Again" (a lapse); other cards are left as they are."""
    # Upstream flips type/queue with raw SQL: no due, no undo, no usn (D11). A real "Again" answer through the
    # scheduler is Anki's own way into relearning: relearning steps, lapse count, leech check and a revlog row.
    col = ctx.col
    types = card_rows(col, cards, "type")
    reviews = [cid for cid in dict.fromkeys(cards) if cid in types and types[cid][0] == _REVIEW]
    _answer_all(col, [(cid, 1, 0) for cid in reviews])


@action("answerCards")
def answer_cards(ctx: Context, *, answers: list[dict[str, Any]]) -> list[bool]:
    """Answer cards as the reviewer does (ease 1-4, optional ``time`` in ms); false where a card does not exist."""
    col = ctx.col
    checked = [_checked_answer(answer, index) for index, answer in enumerate(answers)]  # all, before any answer
    found = card_rows(col, [cid for cid, _, _ in checked], "id")
    _answer_all(col, [answer for answer in checked if answer[0] in found])
    return [cid in found for cid, _, _ in checked]


def _checked_answer(answer: dict[str, Any], index: int) -> tuple[int, int, int]:
    """``(cardId, ease, time)`` of one answer, or an error naming it."""
    where = f"answers[{index}]"
    card_id = _integer(answer.get("cardId"), f"{where}.cardId")
    ease = _integer(answer.get("ease"), f"{where}.ease")
    if ease not in _EASES:
        names = ", ".join(f"{n} ({name})" for n, name in _EASES.items())
        raise InvalidParams(f"invalid ease {ease} in {where}: must be one of {names}")
    taken = answer.get("time")
    millis = 0 if taken is None else _integer(taken, f"{where}.time")
    if not 0 <= millis <= _MAX_MILLIS:
        raise InvalidParams(f"{where}.time must be a number of milliseconds, not {millis}")
    return card_id, ease, millis


def _integer(value: Any, where: str) -> int:
    number = as_integer(value)
    if number is None:
        raise InvalidParams(f"{where} must be an integer, not {json.dumps(value)}")
    return number


def _answer_all(col: Collection, answers: Sequence[tuple[int, int, int]]) -> None:
    """Answer through the v3 scheduler, all answers as one undo step; on a failure none stays answered."""
    from anki.scheduler.v3 import CardAnswer, Scheduler

    sched = col.sched
    if not isinstance(sched, Scheduler):
        raise Unavailable("scheduler is not available")
    ratings = {1: CardAnswer.AGAIN, 2: CardAnswer.HARD, 3: CardAnswer.GOOD, 4: CardAnswer.EASY}
    steps = UndoFolder(col)  # the answers as one step, however many (Anki keeps 30 steps)
    try:
        for card_id, ease, millis in answers:
            card = get_card(col, card_id)
            card.start_timer()  # build_answer reads the timer; the client's time replaces its value below
            states = col._backend.get_scheduling_states(card.id)
            answer = sched.build_answer(card=card, states=states, rating=ratings[ease])
            answer.milliseconds_taken = millis  # Anki caps it at the deck's "maximum answer seconds"
            sched.answer_card(answer)
            steps.fold()
    except Exception:
        if steps.first is not None:
            _roll_back(col, steps.first)
        raise


def _roll_back(col: Collection, first_step: int) -> None:
    """Undo the answers given so far. Anki empties its undo queue when some operations fail; then the
    earlier answers cannot be taken back, and the original error is still what the client sees."""
    try:
        col.merge_undo_entries(first_step)
        col.undo()
    except Exception:
        log.exception("could not take back the answers recorded before the failure")
