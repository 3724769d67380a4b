"""A request is one undo step however many operations it takes. Anki keeps only its 30 newest steps: folding a
request's steps together at its end failed once it had made more, after everything was written (answerCards
and findAndReplaceInModels then answered with Anki's "target undo op not found"; a long multi stayed many
steps). Each step is now folded into the request's first as it is made."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from dump import collection_dump
from note_helpers import add_direct
from support import ApiClient, RunningServer

MORE_THAN_ANKI_KEEPS = 40


def _cards(server: RunningServer, count: int) -> list[int]:
    note_ids = [add_direct(server, f"note {i}") for i in range(count)]
    cards: list[int] = server.on_collection(lambda col: [col.get_note(n).card_ids()[0] for n in note_ids])
    return cards


def _undo_once(server: RunningServer) -> None:
    server.on_collection(lambda col: col.undo())


def _earlier_step(server: RunningServer) -> None:
    """An unrelated step before the request: undoing the request once must leave it alone."""
    server.on_collection(lambda col: col.decks.add_normal_deck_with_name("Before the request"))


def test_a_multi_of_more_calls_than_anki_keeps_steps_is_one_step(client: ApiClient, server: RunningServer) -> None:
    cards = _cards(server, MORE_THAN_ANKI_KEEPS)
    _earlier_step(server)
    before = collection_dump(server)
    calls: list[dict[str, Any]] = []
    for i, card_id in enumerate(cards):  # different actions in turn: no run is written together
        calls.append({"action": "suspend", "params": {"cards": [card_id]}})
        calls.append({"action": "createDeck", "params": {"deck": f"Made {i}"}})
    replies = client.invoke("multi", actions=calls)
    assert replies[0::2] == [True] * len(cards) and all(isinstance(deck_id, int) for deck_id in replies[1::2])
    assert client.invoke("areSuspended", cards=cards) == [True] * len(cards)
    _undo_once(server)
    assert collection_dump(server) == before
    assert server.on_collection(lambda col: col.undo_status().undo) == "Add Deck"  # the earlier step, still there


def test_set_deck_config_id_on_many_decks_is_one_step(client: ApiClient, server: RunningServer) -> None:
    names = [f"Deck {i}" for i in range(MORE_THAN_ANKI_KEEPS)]
    for name in names:
        client.invoke("createDeck", deck=name)
    config_id = client.invoke("cloneDeckConfigId", name="Shared")
    before = collection_dump(server)
    assert client.invoke("setDeckConfigId", decks=names, configId=config_id) is True
    assert {client.invoke("getDeckConfig", deck=name)["id"] for name in names} == {config_id}
    _undo_once(server)
    assert collection_dump(server) == before
    assert {client.invoke("getDeckConfig", deck=name)["id"] for name in names} == {1}  # (not in the dump)


def test_a_run_of_change_deck_to_many_new_decks_is_one_step(client: ApiClient, server: RunningServer) -> None:
    cards = _cards(server, MORE_THAN_ANKI_KEEPS)
    _earlier_step(server)
    before = collection_dump(server)
    calls = [{"action": "changeDeck", "params": {"cards": [c], "deck": f"Target {i}"}} for i, c in enumerate(cards)]
    assert client.invoke("multi", actions=calls) == [None] * len(cards)
    decks = client.invoke("getDecks", cards=cards)
    assert decks == {f"Target {i}": [c] for i, c in enumerate(cards)}
    _undo_once(server)
    assert collection_dump(server) == before


def test_a_multi_of_calls_with_alternating_tags_is_one_step(client: ApiClient, server: RunningServer) -> None:
    # Each run of identical tags is its own write: alternating tags make one per call.
    notes = [add_direct(server, f"tagged {i}") for i in range(MORE_THAN_ANKI_KEEPS)]
    client.invoke("addTags", notes=notes[:1], tags="red green blue")  # known tags (a new one empties Anki's undo)
    before = collection_dump(server)
    colours = ["red", "green", "blue"]
    calls = [{"action": "addTags", "params": {"notes": [n], "tags": colours[i % 3]}} for i, n in enumerate(notes)]
    assert client.invoke("multi", actions=calls) == [None] * len(notes)
    assert client.invoke("getNoteTags", note=notes[4]) == ["green"]
    _undo_once(server)
    assert collection_dump(server) == before


def test_operations_that_change_nothing_do_not_break_the_one_step(
    client: ApiClient, server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A deck saved as it was takes an undo number but leaves no step: the first step kept is the one."""
    names = [f"Deck {i}" for i in range(MORE_THAN_ANKI_KEEPS)]
    for name in names:
        client.invoke("createDeck", deck=name)
    config_id = client.invoke("cloneDeckConfigId", name="Shared")
    client.invoke("setDeckConfigId", decks=names[::2], configId=config_id)  # half of them already use it
    before = {name: client.invoke("getDeckConfig", deck=name)["id"] for name in names}
    with caplog.at_level(logging.WARNING):
        assert client.invoke("setDeckConfigId", decks=names, configId=config_id) is True
    assert not [r for r in caplog.records if "could not fold" in r.getMessage()]
    _undo_once(server)
    assert {name: client.invoke("getDeckConfig", deck=name)["id"] for name in names} == before
