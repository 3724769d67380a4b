"""suspend, unsuspend, suspended, areSuspended, areDue, getIntervals, cardsToNotes, cardsModTime, forgetCards,
relearnCards, answerCards and setDueDate, on a real collection over both transports."""

from __future__ import annotations

import pytest
from dump import collection_dump
from scheduling_helpers import (
    SYNCED_MOD,
    answer_directly,
    card_state,
    make_learning,
    make_review,
    mark_synced,
    new_card,
    now,
    reversed_cards,
    revlog,
    set_card,
    set_learning_steps,
    today_of,
    undo_once,
)
from support import ApiClient, RunningServer

MISSING = 1234
SUSPENDED, NEW_QUEUE, LEARN_QUEUE, REVIEW_QUEUE = -1, 0, 1, 2
NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3


def assert_marked_for_sync(server: RunningServer, *card_ids: int) -> None:
    for card_id in card_ids:
        state = card_state(server, card_id)
        assert state["usn"] == -1 and state["mod"] > SYNCED_MOD, card_id


# suspend / unsuspend / suspended / areSuspended


def test_suspend_changes_every_card_even_after_already_suspended_ones(client: ApiClient, server: RunningServer) -> None:
    # Upstream removes already-suspended cards from the list it iterates, so the card after each is skipped (D9).
    first, second, third, fourth = (new_card(server, f"q{i}") for i in range(4))
    server.on_collection(lambda col: col.sched.suspend_cards([first, second]))
    mark_synced(server, third, fourth)
    assert client.invoke("suspend", cards=[first, second, third, fourth]) is True
    assert [card_state(server, c)["queue"] for c in (first, second, third, fourth)] == [SUSPENDED] * 4
    assert_marked_for_sync(server, third, fourth)
    assert client.invoke("suspend", cards=[first, third]) is False


def test_suspend_with_false_unsuspends(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    server.on_collection(lambda col: col.sched.suspend_cards([card_id]))
    assert client.invoke("suspend", cards=[card_id], suspend=False) is True
    assert card_state(server, card_id)["queue"] == NEW_QUEUE
    assert client.invoke("suspend", cards=[card_id], suspend=False) is False


def test_suspend_a_missing_card_fails_and_changes_nothing(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    before = collection_dump(server)
    assert client.error("suspend", cards=[card_id, MISSING]) == f"Card was not found: {MISSING}"
    assert client.error("unsuspend", cards=[MISSING]) == f"Card was not found: {MISSING}"
    assert collection_dump(server) == before


def test_suspend_is_one_undo_step(client: ApiClient, server: RunningServer) -> None:
    cards = [new_card(server, "a"), new_card(server, "b")]
    before = collection_dump(server)
    assert client.invoke("suspend", cards=cards) is True
    undo_once(server)
    assert collection_dump(server) == before


def test_unsuspend_returns_whether_anything_changed(client: ApiClient, server: RunningServer) -> None:
    # Upstream always answers null (D2); the README promises true/false.
    suspended, buried, plain = new_card(server, "a"), new_card(server, "b"), new_card(server, "c")
    server.on_collection(lambda col: (col.sched.suspend_cards([suspended]), col.sched.bury_cards([buried])))
    mark_synced(server, suspended)
    assert client.invoke("unsuspend", cards=[plain, suspended, buried]) is True
    assert card_state(server, suspended)["queue"] == NEW_QUEUE
    assert card_state(server, buried)["queue"] == -3  # unsuspend does not unbury
    assert_marked_for_sync(server, suspended)
    assert client.invoke("unsuspend", cards=[plain, suspended]) is False


def test_suspended_and_are_suspended(client: ApiClient, server: RunningServer) -> None:
    suspended, plain = new_card(server, "a"), new_card(server, "b")
    server.on_collection(lambda col: col.sched.suspend_cards([suspended]))
    assert client.invoke("suspended", card=suspended) is True
    assert client.invoke("suspended", card=plain) is False
    assert client.error("suspended", card=MISSING) == f"Card was not found: {MISSING}"
    assert client.invoke("areSuspended", cards=[plain, MISSING, suspended]) == [False, None, True]
    assert client.invoke("areSuspended", cards=[]) == []


# areDue


def test_are_due_from_queue_and_due_without_any_revlog(client: ApiClient, server: RunningServer) -> None:
    # Upstream reads the last revlog row and fails with IndexError for these cards (D10).
    new, due_today, due_later, suspended_review = (new_card(server, f"q{i}") for i in range(4))
    learning_due, learning_later = new_card(server, "l1"), new_card(server, "l2")
    make_review(server, due_today, due_in=0)
    make_review(server, due_later, due_in=3)
    make_review(server, suspended_review, due_in=-2)
    server.on_collection(lambda col: col.sched.suspend_cards([suspended_review]))
    make_learning(server, learning_due, due_at=now() - 5)
    make_learning(server, learning_later, due_at=now() + 7200)
    cards = [new, due_today, due_later, suspended_review, learning_due, learning_later, MISSING]
    assert client.invoke("areDue", cards=cards) == [True, True, False, False, True, False, None]
    assert all(revlog(server, card_id) == [] for card_id in cards)


def test_are_due_for_learning_steps_short_and_long(client: ApiClient, server: RunningServer) -> None:
    short = new_card(server, "short")
    answer_directly(server, short, 1)  # default first step 1 minute: within the 20-minute learn-ahead
    set_learning_steps(server, [60.0])
    long = new_card(server, "long")
    answer_directly(server, long, 1)  # a one-hour step is not due before its time, as upstream decides
    assert client.invoke("areDue", cards=[short, long]) == [True, False]
    set_card(server, long, due=now() - 1)
    assert client.invoke("areDue", cards=[long]) == [True]


def test_are_due_for_a_step_past_the_day_rollover(client: ApiClient, server: RunningServer) -> None:
    card = new_card(server)
    answer_directly(server, card, 1)
    today = today_of(server)
    set_card(server, card, type=1, queue=3, due=today + 1)  # day-based learning: due tomorrow
    assert client.invoke("areDue", cards=[card]) == [False]
    set_card(server, card, due=today)
    assert client.invoke("areDue", cards=[card]) == [True]


# getIntervals


def test_get_intervals(client: ApiClient, server: RunningServer) -> None:
    new, imported, answered = new_card(server, "a"), new_card(server, "b"), new_card(server, "c")
    make_review(server, imported, ivl=7)
    answer_directly(server, answered, 3)  # learning step of 10 minutes: -600 seconds
    answer_directly(server, answered, 3)  # graduates to 1 day
    cards = [new, imported, answered, MISSING]
    assert client.invoke("getIntervals", cards=cards) == [0, 7, 1, None]
    # Always a list with complete, as documented: upstream puts a bare 0 there for new cards.
    assert client.invoke("getIntervals", cards=cards, complete=True) == [[], [], [-600, 1], []]
    assert client.invoke("getIntervals", cards=[]) == []


# cardsToNotes / cardsModTime


def test_cards_to_notes(client: ApiClient, server: RunningServer) -> None:
    note_id, first, second = reversed_cards(server, "cat")
    other = new_card(server, "dog")
    other_note = server.on_collection(lambda col: col.get_card(other).nid)
    assert client.invoke("cardsToNotes", cards=[other, first, MISSING, second]) == [other_note, note_id]
    assert client.invoke("cardsToNotes", cards=[MISSING]) == []


def test_cards_mod_time(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    mark_synced(server, card_id)
    assert client.invoke("cardsModTime", cards=[card_id, MISSING]) == [{"cardId": card_id, "mod": SYNCED_MOD}, {}]


# forgetCards


def test_forget_cards_makes_them_new_with_a_log_entry(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    answer_directly(server, card_id, 4)  # Easy: a review card with reps 1
    mark_synced(server, card_id)
    assert client.invoke("forgetCards", cards=[card_id, MISSING]) is None
    state = card_state(server, card_id)
    assert (state["type"], state["queue"], state["ivl"]) == (NEW, NEW_QUEUE, 0)
    assert state["reps"] == 1  # reset_counts=False, as upstream
    assert revlog(server, card_id)[-1]["type"] == 4  # the "manual" entry the forget logs
    assert_marked_for_sync(server, card_id)


def test_forget_cards_is_one_undo_step(client: ApiClient, server: RunningServer) -> None:
    cards = [new_card(server, "a"), new_card(server, "b")]
    for card_id in cards:
        answer_directly(server, card_id, 4)
    before = collection_dump(server)
    client.invoke("forgetCards", cards=cards)
    undo_once(server)
    assert collection_dump(server) == before


# relearnCards


def test_relearn_cards_answers_review_cards_again(client: ApiClient, server: RunningServer) -> None:
    # Upstream's raw SQL flips type/queue only: no due, no revlog, no undo, no usn (D11).
    review, new = new_card(server, "a"), new_card(server, "b")
    make_review(server, review, due_in=4, ivl=10)
    mark_synced(server, review, new)
    assert client.invoke("relearnCards", cards=[review, new, MISSING]) is None
    state = card_state(server, review)
    assert (state["type"], state["queue"], state["lapses"]) == (RELEARNING, LEARN_QUEUE, 1)
    assert now() + 590 <= state["due"] <= now() + 900  # the default relearning step, 10 minutes (Anki adds fuzz)
    assert [(row["ease"], row["type"]) for row in revlog(server, review)] == [(1, 1)]
    assert_marked_for_sync(server, review)
    assert card_state(server, new)["usn"] == 0 and revlog(server, new) == []  # only review cards relearn


def test_relearn_cards_is_one_undo_step(client: ApiClient, server: RunningServer) -> None:
    cards = [new_card(server, "a"), new_card(server, "b")]
    for card_id in cards:
        make_review(server, card_id)
    before = collection_dump(server)
    client.invoke("relearnCards", cards=cards)
    assert all(card_state(server, card_id)["type"] == RELEARNING for card_id in cards)
    undo_once(server)
    assert collection_dump(server) == before


def test_relearn_cards_beyond_ankis_thirty_undo_steps_is_one_step(client: ApiClient, server: RunningServer) -> None:
    cards = [new_card(server, f"card {i}") for i in range(35)]
    for card_id in cards:
        make_review(server, card_id)
    before = collection_dump(server)
    assert client.invoke("relearnCards", cards=cards) is None
    assert all(card_state(server, card_id)["type"] == RELEARNING for card_id in cards)
    undo_once(server)
    assert collection_dump(server) == before


# answerCards


def test_answer_cards_records_real_answers(client: ApiClient, server: RunningServer) -> None:
    first, second = new_card(server, "a"), new_card(server, "b")
    mark_synced(server, first, second)
    answers = [
        {"cardId": first, "ease": 3, "time": 4321},
        {"cardId": MISSING, "ease": 3},
        {"cardId": second, "ease": 4},
    ]
    assert client.invoke("answerCards", answers=answers) == [True, False, True]
    assert [(r["ease"], r["time"], r["type"], r["usn"]) for r in revlog(server, first)] == [(3, 4321, 0, -1)]
    assert [(r["ease"], r["time"]) for r in revlog(server, second)] == [(4, 0)]
    assert (card_state(server, first)["type"], card_state(server, first)["queue"]) == (LEARNING, LEARN_QUEUE)
    assert card_state(server, second)["type"] == REVIEW  # Easy graduates a new card
    assert_marked_for_sync(server, first, second)


def test_answer_cards_time_is_capped_by_the_deck_options(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    assert client.invoke("answerCards", answers=[{"cardId": card_id, "ease": "1", "time": 600_000}]) == [True]
    assert revlog(server, card_id)[0]["time"] == 60_000  # "Maximum answer seconds" defaults to 60


def test_answer_cards_is_one_undo_step(client: ApiClient, server: RunningServer) -> None:
    first, second = new_card(server, "a"), new_card(server, "b")
    before = collection_dump(server)
    answers = [{"cardId": first, "ease": 1}, {"cardId": second, "ease": 3}, {"cardId": first, "ease": 3}]
    assert client.invoke("answerCards", answers=answers) == [True, True, True]
    assert len(revlog(server, first)) == 2
    undo_once(server)
    assert collection_dump(server) == before


def test_answer_cards_beyond_ankis_thirty_undo_steps_is_still_one_step(
    client: ApiClient, server: RunningServer
) -> None:
    """Anki keeps 30 undo steps: folding the answers together at the end failed after writing them all."""
    cards = [new_card(server, f"card {i}") for i in range(45)]
    other = new_card(server, "other")
    server.on_collection(lambda col: col.sched.suspend_cards([other]))  # an earlier, unrelated undo step
    before = collection_dump(server)
    assert client.invoke("answerCards", answers=[{"cardId": c, "ease": 3} for c in cards]) == [True] * len(cards)
    assert all(len(revlog(server, card_id)) == 1 for card_id in cards)
    undo_once(server)
    assert collection_dump(server) == before
    assert server.on_collection(lambda col: col.undo_status().undo) == "Suspend"


def test_answer_cards_that_fail_after_thirty_answers_are_rolled_back(client: ApiClient, server: RunningServer) -> None:
    cards = [new_card(server, f"card {i}") for i in range(40)]
    broken = new_card(server, "broken")
    set_card(server, broken, did=99999)
    before = collection_dump(server)
    answers = [{"cardId": c, "ease": 3} for c in [*cards, broken]]
    assert "No such deck: '99999'" in client.error("answerCards", answers=answers)
    assert collection_dump(server) == before


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"ease": 5}, "invalid ease 5 in answers[1]: must be one of 1 (Again), 2 (Hard), 3 (Good), 4 (Easy)"),
        ({"ease": 0}, "invalid ease 0 in answers[1]: must be one of 1 (Again), 2 (Hard), 3 (Good), 4 (Easy)"),
        ({"ease": "good"}, 'answers[1].ease must be an integer, not "good"'),
        ({"ease": None}, "answers[1].ease must be an integer, not null"),
        ({"ease": 3, "time": -1}, "answers[1].time must be a number of milliseconds, not -1"),
        ({"ease": 3, "time": 1.5}, "answers[1].time must be an integer, not 1.5"),
        ({"ease": 3, "cardId": None}, "answers[1].cardId must be an integer, not null"),
    ],
)
def test_answer_cards_with_an_invalid_answer_answers_nothing(
    client: ApiClient, server: RunningServer, bad: dict[str, object], message: str
) -> None:
    first, second = new_card(server, "a"), new_card(server, "b")
    before = collection_dump(server)
    answers = [{"cardId": first, "ease": 3}, {"cardId": second, **bad}]
    assert client.error("answerCards", answers=answers) == message
    assert collection_dump(server) == before


def test_answer_cards_that_fail_half_way_are_rolled_back(client: ApiClient, server: RunningServer) -> None:
    good, broken, other = new_card(server, "a"), new_card(server, "b"), new_card(server, "c")
    set_card(server, broken, did=99999)  # a deck that does not exist: the scheduler refuses to answer
    server.on_collection(lambda col: col.sched.suspend_cards([other]))  # an earlier, unrelated undo step
    before = collection_dump(server)
    error = client.error("answerCards", answers=[{"cardId": good, "ease": 3}, {"cardId": broken, "ease": 3}])
    assert "No such deck: '99999'" in error
    assert collection_dump(server) == before
    assert server.on_collection(lambda col: col.undo_status().undo) == "Suspend"  # still the last step


def test_answer_cards_needs_a_list_of_objects(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("answerCards", answers=[]) == []
    assert client.error("answerCards", answers=[1]).startswith("AnkiConnect.answerCards() argument 'answers[0]'")


# setDueDate


def test_set_due_date(client: ApiClient, server: RunningServer) -> None:
    today = today_of(server)
    now_due, tomorrow, ranged = new_card(server, "a"), new_card(server, "b"), new_card(server, "c")
    mark_synced(server, now_due, tomorrow, ranged)
    assert client.invoke("setDueDate", cards=[now_due, MISSING], days="0") is True
    assert client.invoke("setDueDate", cards=[tomorrow], days="1!") is True
    assert client.invoke("setDueDate", cards=[ranged], days="3-7") is True
    for card_id in (now_due, tomorrow, ranged):
        state = card_state(server, card_id)
        assert (state["type"], state["queue"]) == (REVIEW, REVIEW_QUEUE)
    assert card_state(server, now_due)["due"] == today
    assert (card_state(server, tomorrow)["due"], card_state(server, tomorrow)["ivl"]) == (today + 1, 1)
    assert today + 3 <= card_state(server, ranged)["due"] <= today + 7
    assert_marked_for_sync(server, now_due, tomorrow, ranged)
    assert client.invoke("areDue", cards=[now_due, tomorrow]) == [True, False]


def test_set_due_date_is_one_undo_step(client: ApiClient, server: RunningServer) -> None:
    cards = [new_card(server, "a"), new_card(server, "b")]
    before = collection_dump(server)
    client.invoke("setDueDate", cards=cards, days="2")
    undo_once(server)
    assert collection_dump(server) == before


@pytest.mark.parametrize("days", ["abc", "", "-1", "1.5", "3 !", "tomorrow"])
def test_set_due_date_rejects_bad_days(client: ApiClient, server: RunningServer, days: str) -> None:
    card_id = new_card(server)
    before = collection_dump(server)
    error = client.error("setDueDate", cards=[card_id], days=days)
    assert error == f'days must be "N" or "N-M" days, optionally with "!" (e.g. "0", "1!", "3-7"), not {days!r}'
    assert collection_dump(server) == before
