"""The reviewer's graphical actions inside real Anki: deck screens, the card under review, answering, undo."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from anki_harness import AnkiSession, wait_until

NOT_REVIEWING = "Gui review is not currently active."
NO_COLLECTION = "collection is not available"


def _add_notes(anki: AnkiSession, deck: str, *fronts: str) -> list[int]:
    """Add Basic notes straight to the collection; return their (single) cards' ids."""
    col = anki.mw.col
    deck_id = col.decks.id(deck)
    card_ids: list[int] = []
    for front in fronts:
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = front, f"{front} back"
        col.add_note(note, deck_id)
        card_ids.extend(note.card_ids())
    return card_ids


def _revlog(anki: AnkiSession, card_id: int) -> list[tuple[int, int]]:
    """The card's review log: (ease, type) per row."""
    rows = anki.mw.col.db.all("select ease, type from revlog where cid = ? order by id", card_id)
    return [(int(ease), int(kind)) for ease, kind in rows]


@pytest.fixture
def reviewing(anki: AnkiSession) -> Iterator[list[int]]:
    """A fresh profile with two new cards in deck "Lang", under review through guiDeckReview."""
    anki.fresh_profile()
    cards = _add_notes(anki, "Lang", "first", "second")
    assert anki.invoke("guiDeckReview", name="Lang") is True
    assert anki.mw.state == "review" and anki.mw.reviewer.card.id == cards[0]
    yield cards
    anki.mw.moveToState("deckBrowser")
    anki.settle()


@pytest.fixture
def answered(anki: AnkiSession) -> Iterator[list[tuple[int, int]]]:
    """Records reviewer_did_answer_card: (card id, ease) per answer."""
    from aqt import gui_hooks

    seen: list[tuple[int, int]] = []

    def on_answer(reviewer: Any, card: Any, ease: int) -> None:
        seen.append((card.id, ease))

    gui_hooks.reviewer_did_answer_card.append(on_answer)
    yield seen
    gui_hooks.reviewer_did_answer_card.remove(on_answer)


def test_outside_review_the_reviewer_actions_answer_false_and_the_current_card_is_an_error(
    anki: AnkiSession,
) -> None:
    anki.fresh_profile()
    _add_notes(anki, "Lang", "waiting")
    assert anki.mw.state == "deckBrowser"
    assert anki.invoke("guiReviewActive") is False
    assert anki.error("guiCurrentCard") == NOT_REVIEWING
    for action in ("guiStartCardTimer", "guiShowQuestion", "guiShowAnswer", "guiPlayAudio"):
        assert anki.invoke(action) is False, action
    assert anki.invoke("guiAnswerCard", ease=3) is False
    assert anki.mw.state == "deckBrowser"


def test_deck_screens(anki: AnkiSession) -> None:
    anki.fresh_profile()
    _add_notes(anki, "Lang::Verbs", "to be")
    mw = anki.mw
    assert anki.invoke("guiDeckOverview", name="Lang::Verbs") is True
    assert mw.state == "overview" and mw.col.decks.current()["name"] == "Lang::Verbs"
    # Selecting a deck is Anki's undoable "Select Deck", and Edit > Undo says so.
    assert mw.col.undo_status().undo == "Select Deck" and "Select Deck" in mw.form.actionUndo.text()
    assert anki.invoke("guiDeckBrowser") is None
    assert mw.state == "deckBrowser"
    # Unknown decks: false, nothing changes (and no deck is created).
    assert anki.invoke("guiDeckOverview", name="Nope") is False
    assert anki.invoke("guiDeckReview", name="Nope") is False
    assert mw.state == "deckBrowser" and mw.col.decks.id_for_name("Nope") is None
    # Deck names match as Anki's do: case-insensitively.
    assert anki.invoke("guiDeckReview", name="lang::verbs") is True
    assert mw.state == "review" and anki.invoke("guiReviewActive") is True
    # A deck with nothing due: true (the deck exists) but Anki stays on its overview.
    mw.col.decks.id("Empty")
    assert anki.invoke("guiDeckReview", name="Empty") is True
    assert mw.state == "overview" and anki.invoke("guiReviewActive") is False
    assert mw.col.decks.current()["name"] == "Empty"
    anki.settle()


def test_current_card_describes_the_card_under_review(anki: AnkiSession, reviewing: list[int]) -> None:
    card = anki.invoke("guiCurrentCard")
    model = anki.mw.col.models.by_name("Basic")
    assert card["cardId"] == reviewing[0]
    assert card["fields"] == {
        "Front": {"value": "first", "order": 0},
        "Back": {"value": "first back", "order": 1},
    }
    assert card["fieldOrder"] == 0
    assert "first" in card["question"] and "first back" not in card["question"]
    assert "first back" in card["answer"]
    assert card["buttons"] == [1, 2, 3, 4]
    assert len(card["nextReviews"]) == 4 and all(isinstance(r, str) and r for r in card["nextReviews"])
    assert card["nextReviews"] == list(anki.mw.col.sched.describe_next_states(anki.mw.reviewer._v3.states))
    assert (card["modelName"], card["deckName"], card["template"]) == ("Basic", "Lang", "Card 1")
    assert card["css"] == model["css"]
    assert set(card) == {
        "cardId", "fields", "fieldOrder", "question", "answer", "buttons", "nextReviews", "modelName",
        "deckName", "css", "template",
    }  # fmt: skip


def test_answering_goes_through_the_reviewer_and_is_logged_before_the_reply(
    anki: AnkiSession, reviewing: list[int], answered: list[tuple[int, int]]
) -> None:
    first, second = reviewing
    reviewer = anki.mw.reviewer
    # The question is showing: no answer yet.
    assert reviewer.state == "question"
    assert anki.invoke("guiAnswerCard", ease=3) is False
    assert anki.invoke("guiShowAnswer") is True
    assert reviewer.state == "answer"
    # Eases outside the card's buttons.
    for ease in (0, 5, -1):
        assert anki.invoke("guiAnswerCard", ease=ease) is False, ease
    assert _revlog(anki, first) == [] and reviewer.state == "answer"
    assert anki.invoke("guiAnswerCard", ease=4) is True  # Easy: the first card leaves the learning queue
    assert _revlog(anki, first) == [(4, 0)]  # stored before the reply: a learning-type review, ease 4
    wait_until(lambda: answered == [(first, 4)], message="reviewer_did_answer_card")
    # The reviewer has already moved on when the client asks next.
    assert anki.invoke("guiCurrentCard")["cardId"] == second
    assert reviewer.state == "question"


def test_an_answer_an_add_on_refuses_is_false(anki: AnkiSession, reviewing: list[int]) -> None:
    from aqt import gui_hooks

    def refuse(proceed_ease: tuple[bool, Literal[1, 2, 3, 4]], reviewer: Any, card: Any) -> tuple[bool, Any]:
        return False, proceed_ease[1]

    assert anki.invoke("guiShowAnswer") is True
    gui_hooks.reviewer_will_answer_card.append(refuse)
    try:
        assert anki.invoke("guiAnswerCard", ease=3) is False
    finally:
        gui_hooks.reviewer_will_answer_card.remove(refuse)
    assert _revlog(anki, reviewing[0]) == [] and anki.mw.reviewer.state == "answer"
    assert anki.invoke("guiAnswerCard", ease=3) is True
    assert _revlog(anki, reviewing[0]) == [(3, 0)]


def test_show_question_answer_timer_and_audio(anki: AnkiSession, reviewing: list[int]) -> None:
    from aqt import gui_hooks

    reviewer = anki.mw.reviewer
    assert anki.invoke("guiShowAnswer") is True and reviewer.state == "answer"
    assert anki.invoke("guiShowQuestion") is True and reviewer.state == "question"
    reviewer.card.timer_started = 0.0
    assert anki.invoke("guiStartCardTimer") is True
    assert abs(reviewer.card.timer_started - time.time()) < 10
    replays: list[tuple[int, bool]] = []

    def on_replay(web: Any, card: Any, question_side: bool) -> None:
        replays.append((card.id, question_side))

    gui_hooks.audio_will_replay.append(on_replay)
    try:
        assert anki.invoke("guiPlayAudio") is True
        assert anki.invoke("guiShowAnswer") is True
        assert anki.invoke("guiPlayAudio") is True
    finally:
        gui_hooks.audio_will_replay.remove(on_replay)
    assert replays == [(reviewing[0], True), (reviewing[0], False)]


def test_undo_reverts_an_answer_given_in_the_reviewer(
    anki: AnkiSession, reviewing: list[int], answered: list[tuple[int, int]]
) -> None:
    first = reviewing[0]
    col = anki.mw.col
    anki.invoke("guiShowAnswer")
    assert anki.invoke("guiAnswerCard", ease=1) is True
    assert _revlog(anki, first) == [(1, 0)]
    wait_until(lambda: answered, message="reviewer_did_answer_card")
    assert col.undo_status().undo == "Answer Card"
    assert anki.invoke("guiUndo") is True
    assert _revlog(anki, first) == []  # undone before the reply
    assert col.get_card(first).queue == 0  # new again
    assert col.undo_status().redo == "Answer Card"
    from aqt.qt import QApplication
    from aqt.utils import current_window

    print(
        "DEBUG",
        current_window(),
        QApplication.focusWidget(),
        QApplication.activeWindow(),
        anki.mw.reviewer._refresh_needed,
        anki.mw.reviewer.card.id == first,
    )
    wait_until(lambda: anki.mw.reviewer.card.id == first, message="the reviewer to show the card again")
    anki.settle()


def test_undo_outside_review_and_with_nothing_to_undo(anki: AnkiSession) -> None:
    anki.fresh_profile()
    col = anki.mw.col
    assert not col.undo_status().undo
    assert anki.invoke("guiUndo") is True  # nothing to undo: still true, and no warning
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"] = "undo me"
    anki.mw.col.add_note(note, col.decks.id("Default"))
    assert col.undo_status().undo == "Add Note"
    assert anki.invoke("guiUndo") is True
    assert col.note_count() == 0
    anki.settle()


def test_without_a_profile(anki: AnkiSession) -> None:
    anki.close_profile()
    try:
        assert anki.invoke("guiReviewActive") is False
        assert anki.error("guiCurrentCard") == NOT_REVIEWING
        assert anki.invoke("guiAnswerCard", ease=1) is False
        for action, params in [
            ("guiUndo", {}),
            ("guiDeckOverview", {"name": "Default"}),
            ("guiDeckReview", {"name": "Default"}),
            ("guiDeckBrowser", {}),
        ]:
            assert anki.error(action, **params) == NO_COLLECTION, action
    finally:
        anki.fresh_profile()
