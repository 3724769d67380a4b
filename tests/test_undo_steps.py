"""A request is one undo step however many operations it takes. Anki keeps only its 30 newest steps: folding a
request's steps together at its end failed once it had made more, after everything was written (answerCards
and findAndReplaceInModels then answered with Anki's "target undo op not found"; a long multi stayed many
steps). Each step is now folded into the request's first as it is made."""

from __future__ import annotations

from typing import Any

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
