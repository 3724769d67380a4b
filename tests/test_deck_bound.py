"""Searches confined to a few decks give exactly Anki's own ids through the deck bound, in id order."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.collection import Collection
from hypothesis import given, settings
from search_strategies import searches

from ankiconnect_live.actions import deck_bound, field_index

# Decks with names Anki matches in its own ways: children, case (ß, σ/ς, the Kelvin sign), wildcards, spaces,
# a single colon, NFD input. "Strafe", "σa" and "ςb" make a wrong reading name some decks but not all.
DECKS = ["A", "A::B", "A::B::C", "A:x", "a b", "Straße", "Strafe", "σa", "ςb", "K", "école", "x*y", "My_Deck"]
QUERIES = [
    "deck:A",
    "deck:a",
    "deck:A::B",
    "deck:a::b::c",
    "deck:A*",
    "deck:A::*",
    "deck:A*B",
    "deck:a_b",
    'deck:"a b"',
    '"deck:a b"',
    "deck:A:x",
    "deck:stra_e",
    "deck:straße",
    "deck:STRAẞE",
    "deck:ς*",
    "deck:Σa",
    "deck:\u212a",
    "deck:e\u0301cole",
    "deck:x*y",
    "deck:My_Deck",
    "deck:Cram",
    "deck:A is:new",
    "deck:A -is:suspended",
    "deck:A is:suspended",
    "deck:A is:review",
    "deck:A::B is:due",
    "deck:A front:w1*",
    "deck:A tag:t",
    "deck:A card:2",
    "deck:A (is:new or is:suspended)",
    "(deck:A is:new) tag:t",
    "deck:A deck:A::B",
    "deck:A -deck:A::B",
    "deck:nosuch",
    # Answered by Anki alone: no deck every match needs, a value Anki reads its own way, or too many cards.
    "deck:A or deck:K",
    "-deck:A",
    "deck:A:",
    '"deck:A "',
    '"deck: A"',
    "deck:filtered",
    "deck:current",
    "deck:*",
    "deck:Other",
    "deck:Other::*",
]
FALLBACKS = QUERIES[QUERIES.index("deck:A or deck:K") :] + ["deck:A:x", "deck:nosuch"]


@pytest.fixture
def col(collection_path: Path) -> Iterator[Collection]:
    collection = _build(collection_path)
    yield collection
    collection.close()


@pytest.fixture(scope="module")
def shared_col(empty_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    """The same decks and notes, for tests that only search (Hypothesis runs many examples on one collection)."""
    path = tmp_path_factory.mktemp("decks") / "collection.anki2"
    shutil.copy(empty_collection, path)
    collection = _build(path)
    yield collection
    collection.close()


def _build(path: Path) -> Collection:
    collection = Collection(str(path))
    basic = collection.models.by_name("Basic")
    reversed_model = collection.models.by_name("Basic (and reversed card)")
    assert basic is not None and reversed_model is not None
    decks = {name: int(collection.decks.id(name)) for name in [*DECKS, "Other", "Other::Child"]}  # type: ignore[arg-type]
    for index, name in enumerate(DECKS * 3):
        note = collection.new_note(reversed_model if index % 3 == 1 else basic)
        note["Front"], note["Back"] = f"w{index}", "back"
        note.tags = ["t"] if index % 2 else []
        collection.add_note(note, decks[name])  # type: ignore[arg-type]
    for index in range(150):  # most of the collection lies elsewhere, so the small decks are worth confining
        note = collection.new_note(basic)
        note["Front"] = f"other{index}"
        collection.add_note(note, decks["Other::Child" if index % 2 else "Other"])  # type: ignore[arg-type]
    in_a = list(collection.find_cards("deck:A"))
    # Some reversed cards live in another deck than their note's first card; cards in every state.
    collection.set_deck(list(collection.find_cards("card:2 deck:A::B")), decks["K"])
    collection.sched.suspend_cards(in_a[:3])
    collection.sched.set_due_date(in_a[3:9], "0-5")
    collection.sched.bury_cards(in_a[9:10])
    # A filtered deck holding cards whose home deck is A::B: "deck:A::B" still finds them.
    cram = collection.sched.get_or_create_filtered_deck(0)  # type: ignore[arg-type]
    cram.name = "Cram"
    cram.config.search_terms[0].search = "deck:A::B::C"
    collection.sched.add_or_update_filtered_deck(cram)
    return collection


def test_deck_searches_match_ankis(col: Collection) -> None:
    """Anki's ids; by id where confined (Anki's order follows its query plan), else in Anki's order."""
    assert col.find_cards("deck:Cram"), "the filtered deck holds cards"
    for query in QUERIES:
        ours = field_index.find_notes(col, query), field_index.find_cards(col, query)
        anki = [int(n) for n in col.find_notes(query)], [int(c) for c in col.find_cards(query)]
        confined = deck_bound.restricted(col, query) is not None
        assert confined == (query not in FALLBACKS), query
        if confined:
            anki = sorted(anki[0]), sorted(anki[1])
        elif " or " in query:  # Anki's order after an OR follows its query plan
            ours, anki = (sorted(ours[0]), sorted(ours[1])), (sorted(anki[0]), sorted(anki[1]))
        assert ours == anki, query


def test_ankis_own_order_on_an_analysed_collection(col: Collection) -> None:
    """With SQLite's statistics (Anki's Check Database gathers them) Anki reads the whole table for a deck
    term and gives ids in id order: then the confined answers are in Anki's very order."""
    col.optimize()
    for query in QUERIES:
        if query not in FALLBACKS:
            ours = field_index.find_notes(col, query), field_index.find_cards(col, query)
            assert ours == (list(col.find_notes(query)), list(col.find_cards(query))), query


def test_the_cases_are_real(col: Collection) -> None:
    """Each tricky deck name is found by Anki as the test means it (else the comparison proves little)."""

    def decks_of(query: str) -> set[str]:
        return {col.decks.name(col.get_card(card).did) for card in col.find_cards(query)}

    assert decks_of("deck:stra_e") == {"Straße", "Strafe"}
    assert decks_of("deck:ς*") == {"σa", "ςb"}
    assert decks_of("deck:\u212a") == {"K"}
    assert decks_of("deck:A:") == decks_of("deck:A") > {"A", "A::B"}
    assert decks_of("deck:A::B") == {"A::B", "A::B::C", "Cram"}


def test_confined_to_the_decks_named(col: Collection) -> None:
    ids = {int(col.decks.id_for_name(name)) for name in ("A::B", "A::B::C")}  # type: ignore[arg-type]
    confined = deck_bound.restricted(col, "deck:A::B is:new")
    assert confined == f"(deck:A::B is:new) did:{','.join(str(i) for i in sorted(ids))}"


def test_changes_show_at_once(col: Collection) -> None:
    before = field_index.find_cards(col, "deck:K")
    moved = list(col.find_cards("deck:A::B::C"))[:2]
    col.set_deck(moved, int(col.decks.id_for_name("K")))  # type: ignore[arg-type]
    after = field_index.find_cards(col, "deck:K")
    assert after == sorted(col.find_cards("deck:K")) and set(after) == set(before) | set(moved)


def test_a_renamed_deck_is_named_at_once(col: Collection) -> None:
    """Deck names are remembered until a row is written: a deck renamed into A::B is part of the next search."""
    query = "deck:A::B is:new"
    before = field_index.find_cards(col, query)
    deck = col.decks.by_name("K")
    assert deck is not None
    deck["name"] = "A::B::K"
    col.decks.save(deck)
    after = field_index.find_cards(col, query)
    assert deck_bound.restricted(col, query) is not None
    assert after == sorted(col.find_cards(query)) and len(after) > len(before)


@pytest.mark.parametrize(("elsewhere", "confined"), [(1, False), (40, True)])
def test_a_term_naming_most_decks_counts_the_others_first(
    collection_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: int, confined: bool
) -> None:
    """``deck:L*`` names six decks and leaves two: the cards of those two are counted first (few of them say
    at once that L holds most cards); many of them leave it to the count of L's own cards."""
    monkeypatch.setattr(deck_bound, "PROBE", 4)
    col = Collection(str(collection_path))
    try:
        basic = col.models.by_name("Basic")
        assert basic is not None
        for index, name in enumerate([f"L::{n}" for n in range(5) for _ in range(2)] + ["Rest"] * elsewhere):
            note = col.new_note(basic)
            note["Front"] = f"n{index}"
            col.add_note(note, col.decks.id(name))  # type: ignore[arg-type]
        assert col.db is not None
        counted: list[str] = []
        scalar = col.db.scalar

        def counting(sql: str, *args: int) -> object:
            counted.append(sql)
            return scalar(sql, *args)

        monkeypatch.setattr(col.db, "scalar", counting)
        assert (deck_bound.restricted(col, "deck:L*") is not None) is confined
        others = ",".join(str(i) for i in sorted({int(col.decks.id_for_name(n)) for n in ("Default", "Rest")}))  # type: ignore[arg-type]
        limited = [sql for sql in counted if "limit" in sql]
        assert f"did in ({others})" in limited[0]
        assert len(limited) == (2 if confined else 1)
        anki = list(col.find_cards("deck:L*"))
        assert field_index.find_cards(col, "deck:L*") == (sorted(anki) if confined else anki)
    finally:
        col.close()


_QUERY = searches(
    [
        "deck:A",
        "deck:a::b",
        "deck:A*",
        "deck:stra_e",
        "deck:ς*",
        "deck:K",
        '"deck:a b"',
        "deck:Cram",
        "deck:Other",
        "deck:A:",
        "-deck:A::B",
        "is:new",
        "is:suspended",
        "tag:t",
        "front:w1*",
        "card:2",
    ],
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(query=_QUERY)
def test_any_combination_gets_ankis_ids(shared_col: Collection, query: str) -> None:
    """Anki's ids for any mix of deck terms with others, under AND, OR and negation; by id where confined."""
    ours = field_index.find_notes(shared_col, query), field_index.find_cards(shared_col, query)
    anki = list(shared_col.find_notes(query)), list(shared_col.find_cards(query))
    assert (sorted(ours[0]), sorted(ours[1])) == (sorted(anki[0]), sorted(anki[1])), query
    if deck_bound.restricted(shared_col, query) is not None:
        assert ours == (sorted(ours[0]), sorted(ours[1])), query
