"""Searches through the server give exactly Anki's own ids, whatever writes came before them: the field and tag
indexes, the deck bound and the memory of repeated searches must all follow every change. Anki's own search
on the same collection, right after, is the truth. Compared as sets: Anki gives ids in no particular order
(its query plan's), and a search answered from an index or within a few decks gives them by id (see
docs/compatibility.md; tests/test_field_index.py checks the order where it is Anki's).

One server lives through every example, so each meets what the ones before it wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_profiles import examples
from hypothesis import given, settings, strategies as st
from support import RunningServer
from twin_support import resolved, served_with_decks

FRONTS = ["a", "A", "b", "a b", "<b>a</b>", "é"]
DECKS = ["A", "A::B", "Other"]
TAGS = ["t", "T", "t::x", "u"]
QUERIES = [
    "",
    "a",
    '"Front:a"',
    "front:A",
    '"Front:a b"',
    '"Front:<b>a</b>"',
    "Front:é",
    '"deck:A" "Front:a"',
    '"deck:A::B" "Front:b"',
    '"Front:a" or "Front:b"',
    "front:a*",
    "tag:t",
    "tag:T",
    "tag:t::x",
    "tag:u -tag:t",
    "deck:A",
    "deck:A*",
    "deck:a::b",
    "deck:Other tag:t",
    '"deck:A" -tag:t',
    "is:new",
    "deck:A is:new",
]


@pytest.fixture(scope="module")
def served(empty_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    folder = tmp_path_factory.mktemp("searches") / "Profile"
    with served_with_decks(empty_collection, folder, DECKS) as (server, client):
        yield server, client


def writes() -> st.SearchStrategy[dict[str, Any]]:
    """A write; the notes and cards it names are places among those there are (``resolved``)."""
    note = st.integers(0, 6).map(lambda place: {"$note": place})
    card = st.integers(0, 6).map(lambda place: {"$card": place})
    spec = st.builds(
        lambda front, deck, tags: {"deckName": deck, "modelName": "Basic", "fields": {"Front": front}, "tags": tags},
        st.sampled_from(FRONTS),
        st.sampled_from(DECKS),
        st.lists(st.sampled_from(TAGS), max_size=2),
    )
    return st.one_of(
        st.builds(lambda note: {"action": "addNote", "params": {"note": note}}, spec),
        st.builds(
            lambda n, front: {"action": "updateNoteFields", "params": {"note": {"id": n, "fields": {"Front": front}}}},
            note,
            st.sampled_from(FRONTS),
        ),
        st.builds(
            lambda action, n, tag: {"action": action, "params": {"notes": [n], "tags": tag}},
            st.sampled_from(["addTags", "removeTags"]),
            note,
            st.sampled_from(TAGS),
        ),
        st.builds(lambda n: {"action": "deleteNotes", "params": {"notes": [n]}}, note),
        st.builds(
            lambda c, deck: {"action": "changeDeck", "params": {"cards": [c], "deck": deck}},
            card,
            st.sampled_from(DECKS),
        ),
    )


SEARCHES = st.lists(
    st.tuples(st.sampled_from(["findNotes", "findCards"]), st.sampled_from(QUERIES)), min_size=1, max_size=5
)


@settings(max_examples=examples(40, 25))
@given(data=st.data())
def test_searches_give_ankis_results_after_any_writes(served: tuple[Any, ...], data: st.DataObject) -> None:
    """The same searches after each write (and asked twice, so that a search remembered is asked again)."""
    server, client = served
    searches = data.draw(SEARCHES)
    for write in data.draw(st.lists(writes(), min_size=1, max_size=4)):
        note_ids, card_ids = server.on_collection(
            lambda col: (sorted(col.db.list("select id from notes")), sorted(col.db.list("select id from cards")))
        )
        client.call({**resolved(resolved(write, note_ids), card_ids, key="$card"), "version": 6})
        for action, query in searches * 2:
            find = "find_notes" if action == "findNotes" else "find_cards"
            expected = server.on_collection(lambda col, find=find, query=query: sorted(getattr(col, find)(query)))
            result, error = client.call({"action": action, "version": 6, "params": {"query": query}})
            assert error is None and len(result) == len(expected), (action, query, write, error)
            assert sorted(result) == expected, (action, query, write, check_state(server))


def check_state(server: RunningServer) -> list[Any]:
    """The notes there are, for the message of a failure."""
    rows: list[Any] = server.on_collection(lambda col: col.db.all("select id, flds, tags from notes"))
    return rows
