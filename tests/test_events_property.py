"""Any request that writes notes is followed by note events naming exactly the notes it added, changed and
deleted, as two snapshots of the notes table, taken before and after, tell them apart.

One server lives through every example, so each request meets the notes the ones before it left.
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

FRONTS = ["a", "b", "c", "{{c1::d}}"]
TAGS = ["t", "T", "u v", "t::x"]
Snapshot = dict[int, tuple[Any, ...]]


@pytest.fixture(scope="module")
def served(empty_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    folder = tmp_path_factory.mktemp("events") / "Profile"
    with served_with_decks(empty_collection, folder, ["Other"]) as (server, client):
        yield server, client


def snapshot(server: RunningServer) -> Snapshot:
    """Each note's type, date, fields and tags, by id."""
    rows = server.on_collection(lambda col: col.db.all("select id, mid, mod, flds, tags from notes"))
    return {row[0]: tuple(row[1:]) for row in rows}


def note_spec(front: str, deck: str, tags: list[str]) -> dict[str, Any]:
    cloze = front.startswith("{{c")
    fields = {"Text": front} if cloze else {"Front": front, "Back": "b"}
    return {"deckName": deck, "modelName": "Cloze" if cloze else "Basic", "fields": fields, "tags": tags}


def writes() -> st.SearchStrategy[dict[str, Any]]:
    """One writing call; a note it names is a place among the notes there will be (``resolved``)."""
    ids = st.integers(0, 6).map(lambda place: {"$note": place})
    some = st.lists(ids, max_size=3)
    spec = st.builds(
        note_spec,
        st.sampled_from(FRONTS),
        st.sampled_from(["Default", "Other"]),
        st.lists(st.sampled_from(TAGS), max_size=2),
    )
    fields = st.dictionaries(
        st.sampled_from(["Front", "Back", "Text"]), st.sampled_from(["x", "y", "b", ""]), max_size=2
    )
    return st.one_of(
        st.builds(lambda note: {"action": "addNote", "params": {"note": note}}, spec),
        st.builds(
            lambda notes: {"action": "addNotes", "params": {"notes": notes}}, st.lists(spec, min_size=1, max_size=3)
        ),
        st.builds(lambda i, f: {"action": "updateNoteFields", "params": {"note": {"id": i, "fields": f}}}, ids, fields),
        st.builds(
            lambda i, f, t: {"action": "updateNote", "params": {"note": {"id": i, "fields": f, "tags": t}}},
            ids,
            fields,
            st.lists(st.sampled_from(TAGS), max_size=2),
        ),
        st.builds(
            lambda action, n, t: {"action": action, "params": {"notes": n, "tags": t}},
            st.sampled_from(["addTags", "removeTags"]),
            some,
            st.sampled_from(TAGS),
        ),
        st.builds(lambda n: {"action": "deleteNotes", "params": {"notes": n}}, some),
    )


def requests() -> st.SearchStrategy[dict[str, Any]]:
    """A writing call, or a multi of several."""
    call = writes()
    return st.one_of(
        call,
        st.builds(
            lambda calls: {"action": "multi", "params": {"actions": calls}}, st.lists(call, min_size=1, max_size=6)
        ),
    )


@settings(max_examples=examples(40, 25))
@given(data=st.data())
def test_note_events_name_exactly_the_notes_a_request_changed(served: tuple[Any, ...], data: st.DataObject) -> None:
    server, client = served
    before = snapshot(server)
    seq = client.invoke("pollEvents", timeout=0)["seq"]
    request = resolved(data.draw(requests()), sorted(before))
    client.call({**request, "version": 6})
    after = snapshot(server)
    # A request's events are published before its reply is sent.
    found = client.invoke("pollEvents", since=seq, events=["note.*"], timeout=0)
    assert not found["gap"]
    named: dict[str, list[int]] = {"note.added": [], "note.updated": [], "note.deleted": []}
    for event in found["events"]:
        named[event["event"]].append(event["data"]["noteId"])
    assert sorted(named["note.added"]) == sorted(set(after) - set(before)), request
    assert sorted(named["note.deleted"]) == sorted(set(before) - set(after)), request
    changed = sorted(note_id for note_id in set(before) & set(after) if before[note_id] != after[note_id])
    assert sorted(named["note.updated"]) == changed, request
    # And what each says of its note is the note as the request left it.
    described = server.on_collection(lambda col: {note_id: described_note(col, note_id) for note_id in after})
    for event in found["events"]:
        if event["event"] != "note.deleted":
            said = {key: value for key, value in event["data"].items() if key != "noteId"}
            assert said == described[event["data"]["noteId"]], request


def described_note(col: Any, note_id: int) -> dict[str, Any]:
    """A note as its events describe it: type, the deck of its first card, tags, sort field."""
    note = col.get_note(note_id)
    first_card = min(note.cards(), key=lambda card: card.ord)
    return {
        "modelName": note.note_type()["name"],
        "deck": col.decks.name(first_card.did),
        "tags": list(note.tags),
        "sortField": col.db.scalar("select sfld from notes where id = ?", note_id),
    }


DECK_NAMES = ["A", "A::B", "a::b::C", "Other", "Z"]


def deck_writes() -> st.SearchStrategy[dict[str, Any]]:
    """Calls that make or remove decks, and answers that write the review log."""
    name = st.sampled_from(DECK_NAMES)
    cards = st.lists(st.integers(0, 6).map(lambda place: {"$card": place}), max_size=3)
    return st.one_of(
        st.builds(lambda deck: {"action": "createDeck", "params": {"deck": deck}}, name),
        st.builds(lambda c, deck: {"action": "changeDeck", "params": {"cards": c, "deck": deck}}, cards, name),
        st.builds(
            lambda decks: {"action": "deleteDecks", "params": {"decks": decks, "cardsToo": True}},
            st.lists(name, max_size=2),
        ),
        st.builds(
            lambda c, ease: {"action": "answerCards", "params": {"answers": [{"cardId": i, "ease": ease} for i in c]}},
            cards,
            st.integers(1, 4),
        ),
        st.builds(
            lambda note: {"action": "addNote", "params": {"note": note}},
            st.builds(note_spec, st.sampled_from(FRONTS), name, st.just([])),
        ),
    )


def decks_and_reviews(server: RunningServer) -> tuple[dict[int, str], list[int]]:
    """Every deck's name by id, and the card of each entry of the review log, in order."""

    def read(col: Any) -> tuple[dict[int, str], list[int]]:
        decks = {deck.id: deck.name for deck in col.decks.all_names_and_ids()}
        return decks, col.db.list("select cid from revlog order by id")

    result: tuple[dict[int, str], list[int]] = server.on_collection(read)
    return result


@settings(max_examples=examples(40, 25))
@given(data=st.data())
def test_deck_and_answer_events_name_exactly_what_a_request_did(served: tuple[Any, ...], data: st.DataObject) -> None:
    server, client = served
    decks_before, reviews_before = decks_and_reviews(server)
    card_ids = server.on_collection(lambda col: sorted(col.db.list("select id from cards")))
    seq = client.invoke("pollEvents", timeout=0)["seq"]
    calls = data.draw(st.lists(deck_writes(), min_size=1, max_size=4))
    request = resolved({"action": "multi", "params": {"actions": calls}}, sorted(card_ids), key="$card")
    client.call({**request, "version": 6})
    decks_after, reviews_after = decks_and_reviews(server)
    found = client.invoke("pollEvents", since=seq, events=["deck.*", "card.answered"], timeout=0)
    assert not found["gap"]
    named: dict[str, list[Any]] = {"deck.created": [], "deck.deleted": [], "card.answered": []}
    for event in found["events"]:
        data_ = event["data"]
        named[event["event"]].append(
            data_["cardId"] if event["event"] == "card.answered" else (data_["deckId"], data_["name"])
        )
    created = sorted((i, name) for i, name in decks_after.items() if i not in decks_before)
    deleted = sorted((i, name) for i, name in decks_before.items() if i not in decks_after)
    assert sorted(named["deck.created"]) == created, request
    assert sorted(named["deck.deleted"]) == deleted, request
    assert named["card.answered"] == reviews_after[len(reviews_before) :], request
