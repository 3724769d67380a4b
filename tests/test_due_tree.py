"""getDeckStats' deck tree comes from memory only while nothing that moves Anki's due counts changed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from anki.decks import DeckTreeNode
from anki.scheduler.v3 import Scheduler
from support import ApiClient, RunningServer

from ankiconnect_live.actions import due_tree


@pytest.fixture
def col(collection_path: Path) -> Iterator[Collection]:
    collection = Collection(str(collection_path))
    other = collection.decks.id("Lang::Other")
    for index in range(6):
        note = collection.new_note(collection.models.by_name("Basic"))  # type: ignore[arg-type]
        note["Front"] = f"word{index}"
        collection.add_note(note, other if index % 2 else 1)  # type: ignore[arg-type]
    yield collection
    collection.close()


class Builds:
    """Counts the trees Anki builds (a spy on the real method, which still runs)."""

    def __init__(self, col: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = col.sched.deck_due_tree

        def build(*args: Any) -> DeckTreeNode:
            self.count += 1
            tree: DeckTreeNode = real(*args)
            return tree

        monkeypatch.setattr(col.sched, "deck_due_tree", build)


def anki_tree(col: Collection) -> DeckTreeNode:
    """The tree as Anki builds it now (not through the spy)."""
    return Scheduler.deck_due_tree(col.sched)


def execute(col: Collection, sql: str, *args: Any) -> None:
    assert col.db is not None
    col.db.execute(sql, *args)


def card_ids(col: Collection) -> list[int]:
    return sorted(int(card) for card in col.find_cards(""))


def test_the_tree_is_built_once_while_nothing_changes(col: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = Builds(col, monkeypatch)
    first = due_tree.deck_due_tree(col)
    assert first == anki_tree(col) and first.children
    for _ in range(3):
        assert due_tree.deck_due_tree(col) is first
    assert builds.count == 1


def _answer(col: Collection) -> None:
    card = col.get_card(card_ids(col)[0])  # type: ignore[arg-type]
    card.start_timer()
    col.sched.answerCard(card, 1)


def _suspend_with_sql(col: Collection) -> None:
    # Raw SQL as add-ons write it: no undo step, no col.mod.
    execute(col, "update cards set queue = -1 where id = ?", card_ids(col)[1])


def _due_review_with_sql(col: Collection) -> None:
    execute(col, "update cards set type = 2, queue = 2, due = 0, ivl = 3 where id = ?", card_ids(col)[2])


def _rename(col: Collection) -> None:
    deck = col.decks.by_name("Lang::Other")
    assert deck is not None
    deck["name"] = "Lang::Renamed"
    col.decks.save(deck)


def _new_limit(col: Collection) -> None:
    config = col.decks.config_dict_for_deck_id(1)  # type: ignore[arg-type]
    config["new"]["perDay"] = 1
    col.decks.update_config(config)


def _learn_ahead(col: Collection) -> None:
    # A learning card due in 10 minutes counts with the default 20 minutes' learn-ahead, not with none.
    soon = int(time.time()) + 600
    execute(col, "update cards set type = 1, queue = 1, due = ? where id = ?", soon, card_ids(col)[3])
    due_tree.deck_due_tree(col)  # kept with the card counted
    due_tree.deck_due_tree(col)
    prefs = col.get_preferences()
    prefs.scheduling.learn_ahead_secs = 0
    col.set_preferences(prefs)


def _add(col: Collection) -> None:
    note = col.new_note(col.models.by_name("Basic"))  # type: ignore[arg-type]
    note["Front"] = "added"
    col.add_note(note, 1)  # type: ignore[arg-type]


def _remove_deck(col: Collection) -> None:
    deck_id = col.decks.id_for_name("Lang::Other")
    assert deck_id is not None
    col.decks.remove([deck_id])


def _undo(col: Collection) -> DeckTreeNode:
    _answer(col)
    due_tree.deck_due_tree(col)
    answered = due_tree.deck_due_tree(col)
    col.undo()
    return answered  # the tree to tell apart from the next one


CHANGES: dict[str, Callable[[Collection], DeckTreeNode | None]] = {
    "answered": _answer,
    "suspended with raw SQL": _suspend_with_sql,
    "made due with raw SQL": _due_review_with_sql,
    "deck renamed": _rename,
    "new cards per day": _new_limit,
    "learn-ahead limit": _learn_ahead,
    "note added": _add,
    "deck removed": _remove_deck,
    "undone": _undo,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_shows_in_the_next_tree(
    col: Collection, change: Callable[[Collection], DeckTreeNode | None]
) -> None:
    due_tree.deck_due_tree(col)
    before = due_tree.deck_due_tree(col)
    between = change(col)
    before = before if between is None else between
    after = due_tree.deck_due_tree(col)
    assert after == anki_tree(col)
    assert after != before


@pytest.mark.parametrize("queue", [1, 4], ids=["learning", "preview"])
def test_a_learning_card_counts_once_the_clock_reaches_it(col: Collection, queue: int) -> None:
    """Anki counts a learning card due within the learn-ahead limit of now: a kept tree holds until then."""
    learn_ahead = col.get_preferences().scheduling.learn_ahead_secs
    due = int(time.time()) + learn_ahead + 2
    execute(col, "update cards set type = 1, queue = ?, due = ? where id = ?", queue, due, card_ids(col)[0])
    kept = due_tree.deck_due_tree(col)
    assert kept.learn_count == 0 and due_tree.deck_due_tree(col) is kept
    deadline = time.monotonic() + 10
    while anki_tree(col).learn_count == 0:
        assert time.monotonic() < deadline, "Anki never counted the card"
        time.sleep(0.1)
    assert due_tree.deck_due_tree(col).learn_count == 1


def test_a_reopened_collection_gets_its_own_tree(col: Collection, collection_path: Path) -> None:
    kept = due_tree.deck_due_tree(col)
    col.close()
    reopened = Collection(str(collection_path))
    try:
        fresh = due_tree.deck_due_tree(reopened)
        assert fresh is not kept and fresh == anki_tree(reopened)
    finally:
        reopened.close()
    col.reopen()


def test_a_clock_set_back_discards_the_tree() -> None:
    """A card counted at the later time need not count at the earlier one."""
    state, db = (5, 100), object()
    kept = due_tree._Kept(db, state, built_by=1_000, learn_ahead=1200, next_due=5_000.0, tree=DeckTreeNode())
    assert kept.holds(db, state, 1_000) and kept.holds(db, state, 3_799)
    assert not kept.holds(db, state, 999)
    assert not kept.holds(db, state, 3_800)  # 3800 + 1200 reaches the next learning card
    assert not kept.holds(db, (6, 100), 1_000) and not kept.holds(db, (5, 101), 1_000)
    assert not kept.holds(object(), state, 1_000)


def test_get_deck_stats_sees_a_review_answered_between_two_polls(client: ApiClient, server: RunningServer) -> None:
    """End to end: a dashboard polling getDeckStats sees each answer at once."""
    note = client.invoke(
        "addNote", note={"deckName": "Default", "modelName": "Basic", "fields": {"Front": "polled", "Back": ""}}
    )
    (card,) = client.invoke("findCards", query=f"nid:{note}")
    for _ in range(3):
        assert client.invoke("getDeckStats", decks=["Default"])["1"]["new_count"] == 1
    assert client.invoke("answerCards", answers=[{"cardId": card, "ease": 1}]) == [True]
    stats = client.invoke("getDeckStats", decks=["Default"])["1"]
    assert (stats["new_count"], stats["learn_count"]) == (0, 1)
