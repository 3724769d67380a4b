"""Set-up and read-back for the scheduling tests, straight on the collection (never through the API)."""

from __future__ import annotations

import time
from typing import Any

from note_helpers import add_direct
from support import RunningServer

CARD_COLUMNS = ("type", "queue", "due", "ivl", "factor", "reps", "lapses", "left", "flags", "odue", "usn", "mod")
SYNCED_MOD = 1_600_000_000
"""A modification time long past, for cards made to look synced."""


def new_card(server: RunningServer, front: str = "q", *, deck: str = "Default") -> int:
    """The one card of a new Basic note."""
    note_id = add_direct(server, front, deck=deck)
    card_id: int = server.on_collection(lambda col: col.get_note(note_id).card_ids()[0])
    return card_id


def reversed_cards(server: RunningServer, front: str = "q") -> tuple[int, int, int]:
    """``(note id, first card, second card)`` of a new "Basic (and reversed card)" note."""
    note_id = add_direct(server, front, "back", model="Basic (and reversed card)")
    first, second = server.on_collection(lambda col: sorted(col.get_note(note_id).card_ids()))
    return note_id, first, second


def set_card(server: RunningServer, card_id: int, **values: Any) -> None:
    """Change card attributes through Anki (no revlog row), e.g. to make a review card without history."""

    def change(col: Any) -> None:
        card = col.get_card(card_id)
        for key, value in values.items():
            setattr(card, key, value)
        col.update_card(card)

    server.on_collection(change)


def make_review(server: RunningServer, card_id: int, *, due_in: int = 0, ivl: int = 5, factor: int = 2500) -> None:
    """Turn a card into a review card due in ``due_in`` days, as an imported card would be (no revlog)."""
    today = today_of(server)
    set_card(server, card_id, type=2, queue=2, due=today + due_in, ivl=ivl, factor=factor, reps=3)


def make_learning(server: RunningServer, card_id: int, *, due_at: int) -> None:
    """Turn a card into an intraday learning card due at an epoch time (no revlog)."""
    set_card(server, card_id, type=1, queue=1, due=due_at, left=1)


def mark_synced(server: RunningServer, *card_ids: int) -> None:
    """Make cards look synced (usn 0, an old mod), so a change must mark them again."""

    def write(col: Any) -> None:
        for card_id in card_ids:
            col.db.execute("update cards set usn = 0, mod = ? where id = ?", SYNCED_MOD, card_id)

    server.on_collection(write)


def card_state(server: RunningServer, card_id: int) -> dict[str, int]:
    row = server.on_collection(
        lambda col: col.db.first(f"select {', '.join(CARD_COLUMNS)} from cards where id = ?", card_id)
    )
    return dict(zip(CARD_COLUMNS, row, strict=True))


def revlog(server: RunningServer, card_id: int) -> list[dict[str, int]]:
    """The card's review log, oldest first."""
    columns = ("ease", "time", "type", "ivl", "usn")
    rows = server.on_collection(
        lambda col: col.db.all(f"select {', '.join(columns)} from revlog where cid = ? order by id", card_id)
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def today_of(server: RunningServer) -> int:
    today: int = server.on_collection(lambda col: col.sched.today)
    return today


def answer_directly(server: RunningServer, card_id: int, ease: int) -> None:
    """Answer a card through the collection's scheduler (set-up for history-dependent checks)."""

    def answer(col: Any) -> None:
        card = col.get_card(card_id)
        card.start_timer()
        col.sched.answerCard(card, ease)

    server.on_collection(answer)


def set_learning_steps(server: RunningServer, minutes: list[float]) -> None:
    """The Default deck options' learning steps."""

    def write(col: Any) -> None:
        config = col.decks.config_dict_for_deck_id(1)
        config["new"]["delays"] = minutes
        col.decks.update_config(config)

    server.on_collection(write)


def undo_once(server: RunningServer) -> None:
    server.on_collection(lambda col: col.undo())


def now() -> int:
    return int(time.time())
