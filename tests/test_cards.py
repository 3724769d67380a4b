"""findCards and cardsInfo."""

from __future__ import annotations

from typing import Any

from note_helpers import add_direct
from support import ApiClient, RunningServer

CARD_KEYS = {
    "cardId",
    "fields",
    "fieldOrder",
    "question",
    "answer",
    "modelName",
    "ord",
    "deckName",
    "css",
    "factor",
    "interval",
    "note",
    "type",
    "queue",
    "due",
    "reps",
    "lapses",
    "left",
    "mod",
    "nextReviews",
    "flags",
}


def card_ids(server: RunningServer, note_id: int) -> list[int]:
    """A note's card ids, in template order."""
    ids: list[int] = server.on_collection(
        lambda col: [c.id for c in sorted(col.get_note(note_id).cards(), key=lambda c: c.ord)]
    )
    return ids


# findCards


def test_find_cards(client: ApiClient, server: RunningServer) -> None:
    reversed_note = add_direct(server, "cat", "neko", model="Basic (and reversed card)", deck="Pets")
    plain = add_direct(server, "car")
    pets = card_ids(server, reversed_note)
    assert sorted(client.invoke("findCards", query="deck:Pets")) == sorted(pets)
    assert sorted(client.invoke("findCards", query="")) == sorted(pets + card_ids(server, plain))
    assert client.invoke("findCards", query="card:2") == [pets[1]]
    assert client.invoke("findCards", query=f"nid:{plain}") == card_ids(server, plain)
    assert client.invoke("findCards", query="nothing-matches-this") == []


def test_find_cards_with_a_null_or_missing_query(client: ApiClient, server: RunningServer) -> None:
    add_direct(server, "cat")
    assert client.invoke("findCards", query=None) == []
    assert client.invoke("findCards") == []


def test_find_cards_with_invalid_search_syntax(client: ApiClient, server: RunningServer) -> None:
    assert client.error("findCards", query="(unclosed")
    assert client.error("findCards", query="is:nonsense")


# cardsInfo


def test_cards_info_of_a_new_card(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "the front", "the back", deck="Lang::JP")
    [card_id] = card_ids(server, note_id)
    [info] = client.invoke("cardsInfo", cards=[card_id])
    assert set(info) == CARD_KEYS
    expected: dict[str, Any] = server.on_collection(
        lambda col: {
            "css": col.models.by_name("Basic")["css"],
            "due": col.get_card(card_id).due,
            "mod": col.get_card(card_id).mod,
        }
    )
    assert info["cardId"] == card_id and info["note"] == note_id
    assert info["fields"] == {"Front": {"value": "the front", "order": 0}, "Back": {"value": "the back", "order": 1}}
    assert info["modelName"] == "Basic"
    assert info["ord"] == 0 and info["fieldOrder"] == 0
    assert info["deckName"] == "Lang::JP"
    assert info["css"] == expected["css"] and ".card" in info["css"]
    assert "<style>" in info["question"] and "the front" in info["question"]
    assert "<style>" in info["answer"] and "the back" in info["answer"]
    assert "the back" not in info["question"]
    assert (info["type"], info["queue"], info["due"]) == (0, 0, expected["due"])
    assert (info["factor"], info["interval"], info["reps"], info["lapses"], info["left"]) == (0, 0, 0, 0, 0)
    assert info["mod"] == expected["mod"]
    assert info["flags"] == 0
    next_reviews = info["nextReviews"]
    assert isinstance(next_reviews, list) and len(next_reviews) == 4
    assert all(isinstance(label, str) and label for label in next_reviews)


def test_cards_info_of_a_reverse_card(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front text", "back text", model="Basic (and reversed card)")
    forward, backward = client.invoke("cardsInfo", cards=card_ids(server, note_id))
    assert (forward["ord"], backward["ord"]) == (0, 1)
    assert backward["fieldOrder"] == 1
    assert "back text" in backward["question"] and "front text" not in backward["question"]
    assert forward["note"] == backward["note"] == note_id
    assert backward["modelName"] == "Basic (and reversed card)"


def test_cards_info_reports_flags_queue_and_deck_changes(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat")
    [card_id] = card_ids(server, note_id)

    def change(col: Any) -> None:
        col.set_user_flag_for_cards(3, [card_id])
        col.sched.suspend_cards([card_id])
        col.set_deck([card_id], col.decks.id("Moved", create=True))

    server.on_collection(change)
    [info] = client.invoke("cardsInfo", cards=[card_id])
    assert (info["flags"], info["queue"], info["deckName"]) == (3, -1, "Moved")


def test_cards_info_names_the_filtered_deck_a_card_is_in(client: ApiClient, server: RunningServer) -> None:
    [card_id] = card_ids(server, add_direct(server, "cat", deck="Home"))

    def cram(col: Any) -> None:
        deck_id = col.decks.new_filtered("Cram")
        deck = col.decks.get(deck_id)
        deck["terms"][0][0] = "deck:Home"
        col.decks.save(deck)
        col.sched.rebuild_filtered_deck(deck_id)

    server.on_collection(cram)
    [info] = client.invoke("cardsInfo", cards=[card_id])
    assert info["deckName"] == "Cram"


def test_cards_info_keeps_alignment_for_missing_ids(client: ApiClient, server: RunningServer) -> None:
    [card_id] = card_ids(server, add_direct(server, "cat"))
    infos = client.invoke("cardsInfo", cards=[123, card_id, 456])
    assert infos[0] == {} and infos[2] == {}
    assert infos[1]["cardId"] == card_id
    assert client.invoke("cardsInfo", cards=[]) == []


def test_cards_info_needs_a_list_of_ids(client: ApiClient, server: RunningServer) -> None:
    assert client.error("cardsInfo") == "AnkiConnect.cardsInfo() missing 1 required positional argument: 'cards'"
    assert client.error("cardsInfo", cards="1")
