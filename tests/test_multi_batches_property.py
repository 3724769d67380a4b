"""Any sequence of addNote, updateNoteFields, addTags, removeTags and changeDeck calls, sent as one ``multi``
(some of them in nested ones), gives the replies and leaves the collection as the same calls sent one request
each to a copy of it. Both copies live through every example, so each starts where the last one left off.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_profiles import examples
from hypothesis import given, settings, strategies as st
from support import HttpApiClient, RunningServer
from twin_support import seeded_twins, serving, state, without_ids

FRONTS = ["a", "b", "A", "dup", "kept", "{{c1::a}}", ""]
DECKS = ["Default", "Other", "Other::Child", "other", "Filtered", "New::Deck", "Nope", " "]
TAGS = ["t", "T", "t u", "u::v", "U", ""]
MODELS = ["Basic", "Basic", "Basic (and reversed card)", "Cloze", "Nope"]


@pytest.fixture(scope="module")
def twins(empty_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    tmp_path = tmp_path_factory.mktemp("twins")
    template = tmp_path / "template.anki2"
    template.write_bytes(empty_collection.read_bytes())
    from anki.collection import Collection

    col = Collection(str(template))
    col.decks.new_filtered("Filtered")  # Anki adds the cards of a note meant for it to Default
    reversed_cards = col.models.by_name("Basic (and reversed card)")
    assert reversed_cards is not None
    reversed_cards["tmpls"][1]["did"] = col.decks.id("Other::Child")  # Deck Override: its own deck
    col.models.update_dict(reversed_cards)
    col.close()
    batched_path, alone_path, ids = seeded_twins(template, tmp_path)
    with serving(batched_path) as batched, serving(alone_path) as alone:
        clients = HttpApiClient(batched.port), HttpApiClient(alone.port)
        yield batched, alone, *clients, ids
        for client in clients:
            client.close()


def note_ids(ids: dict[str, int]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from([ids["dup"], ids["kept"], ids["edit me"], 12345]), max_size=3)


def add_notes(models: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """addNote calls: notes of these note types, in decks that exist or not, with any duplicate options."""
    options = st.fixed_dictionaries(
        {},
        optional={
            "allowDuplicate": st.booleans(),
            "duplicateScope": st.sampled_from(["deck", "collection"]),
            "duplicateScopeOptions": st.fixed_dictionaries(
                {},
                optional={
                    "deckName": st.sampled_from(["Other", "Nope"]),
                    "checkChildren": st.booleans(),
                    "checkAllModels": st.booleans(),
                },
            ),
        },
    )
    return st.builds(
        lambda front, deck, model, opts: {
            "action": "addNote",
            "params": {
                "note": {
                    "deckName": deck,
                    "modelName": model,
                    "fields": {"Front": front, "Back": "b"} if model != "Cloze" else {"Text": front},
                    "options": opts,
                }
            },
        },
        st.sampled_from(FRONTS),
        st.sampled_from(DECKS[:7]),
        st.sampled_from(models),
        options,
    )


def calls(ids: dict[str, int]) -> st.SearchStrategy[dict[str, Any]]:
    add_note = add_notes(MODELS)
    update = st.builds(
        lambda note_id, fields: {"action": "updateNoteFields", "params": {"note": {"id": note_id, "fields": fields}}},
        st.sampled_from([ids["dup"], ids["kept"], ids["edit me"], 12345, "x"]),
        st.dictionaries(st.sampled_from(["Front", "Back", "Nope"]), st.sampled_from(["x", "y", "", 5]), max_size=2),
    )
    tags = st.builds(
        lambda action, notes, tags, add: {
            "action": action,
            "params": {
                "notes": notes,
                "tags": tags,
                **({"add": add} if action == "addTags" and add is not None else {}),
            },
        },
        st.sampled_from(["addTags", "addTags", "removeTags"]),
        note_ids(ids),
        st.sampled_from(TAGS),
        st.sampled_from([None, True, False]),
    )
    cards = [ids["dup card"], ids["kept card"], ids["edit me card"], 999]
    deck = st.builds(
        lambda cards, deck: {"action": "changeDeck", "params": {"cards": cards, "deck": deck}},
        st.lists(st.sampled_from(cards), max_size=3),
        st.sampled_from(DECKS),
    )
    other = st.just({"action": "deckNames"})
    return st.one_of(add_note, add_note, update, tags, tags, deck, other)


def nested(requests: list[dict[str, Any]], cuts: list[int]) -> list[dict[str, Any]]:
    """The requests with some stretches of them wrapped in a multi of their own."""
    out: list[dict[str, Any]] = []
    start = 0
    for cut in sorted(set(cuts)):
        if start < cut <= len(requests):
            out.append({"action": "multi", "params": {"actions": requests[start:cut]}})
            start = cut
    return out + requests[start:]


def leaves(replies: list[Any], shape: list[dict[str, Any]]) -> list[Any]:
    """The replies of the calls themselves, nested multis unwrapped."""
    flat: list[Any] = []
    for reply, request in zip(replies, shape, strict=True):
        if request["action"] == "multi":
            flat += reply
        else:
            flat.append(reply)
    return flat


@settings(max_examples=examples(40, 25))
@given(data=st.data())
def test_a_multi_of_calls_matches_the_calls_one_by_one(twins: tuple[Any, ...], data: st.DataObject) -> None:
    batched, alone, batched_client, alone_client, ids = twins
    requests = data.draw(st.lists(calls(ids), min_size=1, max_size=12))
    shape = nested(requests, data.draw(st.lists(st.integers(1, 12), max_size=3)))
    together = leaves(batched_client.invoke("multi", actions=shape), shape)
    one_by_one = [alone_client.invoke("multi", actions=[request])[0] for request in requests]
    assert without_ids(together) == without_ids(one_by_one)
    assert same_state(batched, alone)


def same_state(batched: RunningServer, alone: RunningServer) -> bool:
    return bool(state(batched) == state(alone))


# Deck Override is left out: addNotes checks a batch before writing any of it, so it counts an earlier note of
# the batch in that note's own deck only, where the cards a template sends elsewhere would be (a known gap).
BATCHED_MODELS = [model for model in MODELS if model != "Basic (and reversed card)"]


@settings(max_examples=examples(40, 25))
@given(data=st.data())
def test_add_notes_is_add_note_one_by_one_all_or_nothing(twins: tuple[Any, ...], data: st.DataObject) -> None:
    """addNotes answers as upstream, which adds each note in turn and, if any failed, takes them all back: the
    notes' ids, or the list of the failures' messages with nothing added."""
    batched, alone, batched_client, alone_client, _ = twins
    notes = [call["params"]["note"] for call in data.draw(st.lists(add_notes(BATCHED_MODELS), min_size=1, max_size=8))]
    result, error = batched_client.call({"action": "addNotes", "version": 6, "params": {"notes": notes}})
    one_by_one = [alone_client.call({"action": "addNote", "version": 6, "params": {"note": note}}) for note in notes]
    failures = [failure for _, failure in one_by_one if failure is not None]
    if failures:
        assert (result, error) == (None, str(failures))
        added = [note_id for note_id, failure in one_by_one if failure is None]
        assert alone_client.call({"action": "deleteNotes", "version": 6, "params": {"notes": added}}) == (None, None)
    else:
        assert error is None and len(result) == len(notes)
    assert same_state(batched, alone)
