"""getDecks, changeDeck, deleteDecks, getDeckStats and deckNameFromId, on a real collection over both transports."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from dump import collection_dump
from note_helpers import make_deck
from support import ApiClient, RunningServer

CARDS_TOO = "Since Anki 2.1.28 it's not possible to delete decks without deleting cards as well"
INTO_FILTERED = "Cards can't be manually moved into a filtered deck."

_fronts = itertools.count()


def add_cards(server: RunningServer, count: int, deck: str = "Default") -> list[int]:
    """Add ``count`` Basic notes (one card each) to a deck, created if missing; their card ids in order."""

    def add(col: Any) -> list[int]:
        from anki.collection import AddNoteRequest

        model = col.models.by_name("Basic")
        deck_id = col.decks.id(deck, create=True)
        notes = []
        for _ in range(count):
            note = col.new_note(model)
            note["Front"] = f"front {next(_fronts)}"
            notes.append(note)
        col.add_notes([AddNoteRequest(note, deck_id) for note in notes])
        return [int(card_id) for note in notes for card_id in note.card_ids()]

    result: list[int] = server.on_collection(add)
    return result


def make_filtered(server: RunningServer, name: str, search: str) -> int:
    """A filtered deck built from ``search``: the matching cards move into it."""

    def build(col: Any) -> int:
        from anki.decks import DeckId

        deck = col.sched.get_or_create_filtered_deck(DeckId(0))
        deck.name = name
        del deck.config.search_terms[1:]  # the default second term would pull in Default's new cards
        deck.config.search_terms[0].search = search
        return int(col.sched.add_or_update_filtered_deck(deck).id)

    result: int = server.on_collection(build)
    return result


def card_rows(server: RunningServer, card_ids: Sequence[int]) -> dict[int, tuple[int, int, int, int]]:
    """Card id -> (did, odid, usn, mod) for the cards that exist."""
    listed = ",".join(map(str, card_ids))
    sql = f"select id, did, odid, usn, mod from cards where id in ({listed})"
    rows = server.on_collection(lambda col: col.db.all(sql))
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def deck_id(server: RunningServer, name: str) -> int | None:
    found = server.on_collection(lambda col: col.decks.id_for_name(name))
    return None if found is None else int(found)


def deck_names(server: RunningServer) -> list[str]:
    return sorted(server.on_collection(lambda col: [d.name for d in col.decks.all_names_and_ids()]))


def all_card_ids(server: RunningServer) -> list[int]:
    return sorted(int(c) for c in server.on_collection(lambda col: col.find_cards("")))


@contextmanager
def counting_queries(server: RunningServer) -> Iterator[list[str]]:
    """Record every SQL statement the collection's database handle runs meanwhile."""
    statements: list[str] = []

    def patch(col: Any) -> None:
        original = col.db._query

        def counted(sql: str, *args: Any, **kwargs: Any) -> Any:
            statements.append(sql)
            return original(sql, *args, **kwargs)

        col.db._query = counted

    def unpatch(col: Any) -> None:
        del col.db._query

    server.on_collection(patch)
    try:
        yield statements
    finally:
        server.on_collection(unpatch)


def unchanged_by(server: RunningServer, call: Callable[[], Any]) -> Any:
    """Run ``call`` and check that the collection is exactly as before; its result."""
    before = collection_dump(server)
    result = call()
    assert collection_dump(server) == before
    return result


# getDecks


def test_get_decks_groups_cards_by_their_current_deck(client: ApiClient, server: RunningServer) -> None:
    """Keys are full deck names (a filtered deck's own name for cards in it); ids keep the request's order."""
    default = add_cards(server, 2)
    verbs = add_cards(server, 2, "Lang::JP::Verbs")
    crammed = add_cards(server, 1, "Lang")
    make_filtered(server, "Cram", f"cid:{crammed[0]}")
    cards = [verbs[1], default[0], crammed[0], verbs[0], default[1]]
    decks = unchanged_by(server, lambda: client.invoke("getDecks", cards=cards))
    assert decks == {"Lang::JP::Verbs": [verbs[1], verbs[0]], "Default": [default[0], default[1]], "Cram": crammed}
    assert list(decks) == ["Lang::JP::Verbs", "Default", "Cram"]


def test_get_decks_leaves_out_missing_cards(client: ApiClient, server: RunningServer) -> None:
    """Upstream lists a missing card under "Default" (D8); it is left out."""
    (card,) = add_cards(server, 1, "Spanish")
    assert client.invoke("getDecks", cards=[1, card, 2]) == {"Spanish": [card]}
    # An id asked for twice is listed twice, as upstream does.
    assert client.invoke("getDecks", cards=[card, 3, card]) == {"Spanish": [card, card]}
    assert client.invoke("getDecks", cards=[123456789]) == {}
    assert client.invoke("getDecks", cards=[]) == {}


def test_get_decks_keeps_each_decks_cards_in_the_order_given(client: ApiClient, server: RunningServer) -> None:
    """Many cards shuffled across decks, repeated and mixed with missing ids, against each card's own deck."""
    import random

    cards = add_cards(server, 600) + add_cards(server, 600, "Lang::JP") + add_cards(server, 600, "Other")
    asked = cards + cards[::7] + [1, 2, 3]
    random.Random(8).shuffle(asked)
    names = server.on_collection(lambda col: {card: col.decks.name(col.get_card(card).did) for card in cards})
    expected: dict[str, list[int]] = {}
    for card in asked:
        if card in names:
            expected.setdefault(names[card], []).append(card)
    decks = client.invoke("getDecks", cards=asked)
    assert decks == expected
    assert list(decks) == list(expected)


def test_get_decks_reads_10k_cards_with_one_query(client: ApiClient, server: RunningServer) -> None:
    cards = add_cards(server, 5_000) + add_cards(server, 5_000, "Other")
    with counting_queries(server) as statements:
        decks = client.invoke("getDecks", cards=cards)
    assert len(statements) == 1
    assert decks == {"Default": cards[:5_000], "Other": cards[5_000:]}


def test_get_decks_param_errors(client: ApiClient, server: RunningServer) -> None:
    assert client.error("getDecks") == "AnkiConnect.getDecks() missing 1 required positional argument: 'cards'"
    wrong = "AnkiConnect.getDecks() argument 'cards' must be a list of integers, not the string 'x'"
    assert client.error("getDecks", cards="x") == wrong


# changeDeck


def test_change_deck_moves_cards_through_anki_so_they_sync(client: ApiClient, server: RunningServer) -> None:
    """usn -1 and a new mod mark the cards for the next sync; the move is Anki's undoable "Change Deck"."""
    cards = add_cards(server, 3)
    target = make_deck(server, "Spanish")
    listed = ",".join(map(str, cards))
    server.on_collection(lambda col: col.db.execute(f"update cards set usn = 5, mod = 1000 where id in ({listed})"))
    started = int(time.time())
    assert client.invoke("changeDeck", cards=cards[:2], deck="Spanish") is None
    rows = card_rows(server, cards)
    for card in cards[:2]:
        did, odid, usn, mod = rows[card]
        assert (did, odid, usn) == (target, 0, -1) and mod >= started
    assert rows[cards[2]] == (1, 0, 5, 1000)
    assert server.on_collection(lambda col: col.undo_status().undo) == "Change Deck"


def test_change_deck_creates_a_missing_deck_with_its_parents(client: ApiClient, server: RunningServer) -> None:
    cards = add_cards(server, 2)
    assert client.invoke("changeDeck", cards=cards, deck="Lang::JP::Verbs") is None
    assert deck_names(server) == ["Default", "Lang", "Lang::JP", "Lang::JP::Verbs"]
    target = deck_id(server, "Lang::JP::Verbs")
    assert {did for did, *_ in card_rows(server, cards).values()} == {target}
    # An existing deck is found whatever the case of the name, as everywhere in Anki.
    assert client.invoke("changeDeck", cards=cards, deck="lang::jp") is None
    assert deck_names(server) == ["Default", "Lang", "Lang::JP", "Lang::JP::Verbs"]
    assert {did for did, *_ in card_rows(server, cards).values()} == {deck_id(server, "Lang::JP")}


def test_change_deck_takes_cards_out_of_filtered_decks(client: ApiClient, server: RunningServer) -> None:
    cards = add_cards(server, 3, "Home")
    home = deck_id(server, "Home")
    cram = make_filtered(server, "Cram", "deck:Home")
    assert {row[:2] for row in card_rows(server, cards).values()} == {(cram, home)}
    client.invoke("changeDeck", cards=[cards[0]], deck="Elsewhere")
    client.invoke("changeDeck", cards=[cards[1]], deck="Home")
    rows = card_rows(server, cards)
    assert rows[cards[0]][:2] == (deck_id(server, "Elsewhere"), 0)
    assert rows[cards[1]][:2] == (home, 0)
    assert rows[cards[2]][:2] == (cram, home)
    sql = f"select queue from cards where id in ({cards[0]}, {cards[1]})"
    queues = server.on_collection(lambda col: col.db.list(sql))
    assert queues == [0, 0]  # back in the new queue, not left in a filtered deck's state


def test_change_deck_ignores_missing_cards(client: ApiClient, server: RunningServer) -> None:
    (card,) = add_cards(server, 1)
    assert client.invoke("changeDeck", cards=[1, card, 2], deck="Target") is None
    assert card_rows(server, [card])[card][0] == deck_id(server, "Target")
    assert all_card_ids(server) == [card]


def test_change_deck_errors_change_nothing(client: ApiClient, server: RunningServer) -> None:
    cards = add_cards(server, 2)
    make_filtered(server, "Cram", f"cid:{cards[1]}")
    assert unchanged_by(server, lambda: client.error("changeDeck", cards=[cards[0]], deck="Cram")) == INTO_FILTERED
    empty = unchanged_by(server, lambda: client.error("changeDeck", cards=cards, deck="  "))
    assert empty == "deck name must not be empty"
    missing = unchanged_by(server, lambda: client.error("changeDeck", cards=cards))
    assert missing == "AnkiConnect.changeDeck() missing 1 required positional argument: 'deck'"
    wrong = unchanged_by(server, lambda: client.error("changeDeck", cards=cards, deck=7))
    assert wrong == "AnkiConnect.changeDeck() argument 'deck' must be a string, not the number 7"


# deleteDecks


def test_delete_decks_removes_decks_children_cards_and_notes(client: ApiClient, server: RunningServer) -> None:
    kept = add_cards(server, 2, "Kept")
    add_cards(server, 2, "Lang::JP")
    add_cards(server, 1, "Lang")
    add_cards(server, 1, "Spanish")
    result = client.invoke("deleteDecks", decks=["Lang", "Spanish", "No such deck"], cardsToo=True)
    assert result is None
    assert deck_names(server) == ["Default", "Kept"]
    assert all_card_ids(server) == sorted(kept)
    assert server.on_collection(lambda col: col.note_count()) == 2


def test_delete_decks_empties_but_keeps_the_default_deck(client: ApiClient, server: RunningServer) -> None:
    """Anki never deletes the Default deck: it deletes its cards and keeps the deck, as upstream shows."""
    add_cards(server, 2)
    kept = add_cards(server, 1, "Kept")
    assert client.invoke("deleteDecks", decks=["Default"], cardsToo=True) is None
    assert deck_names(server) == ["Default", "Kept"]
    assert all_card_ids(server) == kept


def test_delete_decks_accepts_cards_too_as_a_string(client: ApiClient, server: RunningServer) -> None:
    """Some clients (AnkiConnectBenchmark) send "True"; upstream only tests truthiness."""
    add_cards(server, 1, "One")
    add_cards(server, 1, "Two")
    assert client.invoke("deleteDecks", decks=["One"], cardsToo="True") is None
    assert client.invoke("deleteDecks", decks=["two"], cardsToo="true") is None
    assert deck_names(server) == ["Default"]
    assert all_card_ids(server) == []


def test_delete_decks_returns_a_filtered_decks_cards_home(client: ApiClient, server: RunningServer) -> None:
    cards = add_cards(server, 2, "Home")
    make_filtered(server, "Cram", "deck:Home")
    assert client.invoke("deleteDecks", decks=["Cram"], cardsToo=True) is None
    assert deck_names(server) == ["Default", "Home"]
    assert {row[:2] for row in card_rows(server, cards).values()} == {(deck_id(server, "Home"), 0)}


def test_delete_decks_requires_cards_too(client: ApiClient, server: RunningServer) -> None:
    add_cards(server, 1, "Spanish")
    for cards_too in ({}, {"cardsToo": False}, {"cardsToo": "false"}, {"cardsToo": 0}, {"cardsToo": None}):
        error = unchanged_by(server, lambda: client.error("deleteDecks", decks=["Spanish"], **cards_too))  # noqa: B023
        assert error == CARDS_TOO, cards_too
    missing = "AnkiConnect.deleteDecks() missing 1 required positional argument: 'decks'"
    assert unchanged_by(server, lambda: client.error("deleteDecks", cardsToo=True)) == missing
    assert unchanged_by(server, lambda: client.error("deleteDecks", decks=["Spanish"], cardsToo="yes"))


def test_delete_decks_of_unknown_names_changes_nothing(client: ApiClient, server: RunningServer) -> None:
    add_cards(server, 1, "Spanish")
    assert unchanged_by(server, lambda: client.invoke("deleteDecks", decks=["Nope", "Lang"], cardsToo=True)) is None
    assert unchanged_by(server, lambda: client.invoke("deleteDecks", decks=[], cardsToo=True)) is None


# getDeckStats


def test_get_deck_stats_counts_from_the_due_tree(client: ApiClient, server: RunningServer) -> None:
    """Keys are id strings; "name" is the deck's own name part; parents include their children's counts."""
    jp = add_cards(server, 3, "Lang::JP")
    add_cards(server, 1, "Lang")

    def study(col: Any) -> None:
        col.sched.set_due_date([jp[0]], "0")  # a review due today
        card = col.get_card(jp[1])
        card.start_timer()
        col.sched.answerCard(card, 1)  # "Again" on a new card: in learning

    server.on_collection(study)
    lang, lang_jp = deck_id(server, "Lang"), deck_id(server, "Lang::JP")
    stats = unchanged_by(server, lambda: client.invoke("getDeckStats", decks=["Lang::JP", "Lang"]))
    assert stats == {
        str(lang): {
            "deck_id": lang,
            "name": "Lang",
            "new_count": 2,
            "learn_count": 1,
            "review_count": 1,
            "total_in_deck": 1,
        },
        str(lang_jp): {
            "deck_id": lang_jp,
            "name": "JP",
            "new_count": 1,
            "learn_count": 1,
            "review_count": 1,
            "total_in_deck": 3,
        },
    }


def test_get_deck_stats_of_the_default_deck(client: ApiClient, server: RunningServer) -> None:
    """Anki hides an empty Default deck from its tree once other decks exist; its counts are zero."""
    empty_default = {"deck_id": 1, "name": "Default", "new_count": 0, "learn_count": 0, "review_count": 0}
    assert client.invoke("getDeckStats", decks=["Default"]) == {"1": {**empty_default, "total_in_deck": 0}}
    add_cards(server, 1, "Spanish")
    assert client.invoke("getDeckStats", decks=["default"]) == {"1": {**empty_default, "total_in_deck": 0}}
    add_cards(server, 2)
    stats = client.invoke("getDeckStats", decks=["Default"])
    assert stats == {"1": {**empty_default, "new_count": 2, "total_in_deck": 2}}


def test_get_deck_stats_skips_and_never_creates_missing_decks(client: ApiClient, server: RunningServer) -> None:
    """Upstream creates a deck for every unknown name (D7)."""
    add_cards(server, 1, "Spanish")
    spanish = deck_id(server, "Spanish")
    stats = unchanged_by(server, lambda: client.invoke("getDeckStats", decks=["Nope", "Spanish", "A::B"]))
    assert list(stats) == [str(spanish)]
    assert unchanged_by(server, lambda: client.invoke("getDeckStats", decks=["Nope"])) == {}
    assert unchanged_by(server, lambda: client.invoke("getDeckStats", decks=[])) == {}
    missing = "AnkiConnect.getDeckStats() missing 1 required positional argument: 'decks'"
    assert client.error("getDeckStats") == missing


@pytest.mark.parametrize(
    "names",
    [
        ["Lang::JP", "Lang", "Nope"],
        ["lang::jp", " Lang :: JP ", "LANG"],
        ["a:::b", "a: ::b", "a::::b", "a"],  # Anki drops the colons at the ends of each part
    ],
)
def test_get_deck_stats_finds_decks_as_anki_does(server: RunningServer, client: ApiClient, names: list[str]) -> None:
    """Names as Anki's id_for_name reads them: in any case, with spaces or colons around "::"."""
    for deck in ("Lang::JP", "a::b"):
        add_cards(server, 1, deck)

    def anki_ids(col: Any) -> list[str]:
        return sorted({str(deck) for name in names if (deck := col.decks.id_for_name(name)) is not None})

    expected = server.on_collection(anki_ids)
    assert len(expected) == 2  # each list names two decks Anki finds
    assert sorted(client.invoke("getDeckStats", decks=names)) == expected


# deckNameFromId


def test_deck_name_from_id(client: ApiClient, server: RunningServer) -> None:
    verbs = make_deck(server, "Lang::JP::Verbs")
    add_cards(server, 1)
    cram = make_filtered(server, "Cram", "deck:*")
    assert unchanged_by(server, lambda: client.invoke("deckNameFromId", deckId=verbs)) == "Lang::JP::Verbs"
    assert client.invoke("deckNameFromId", deckId=1) == "Default"
    assert client.invoke("deckNameFromId", deckId=cram) == "Cram"
    assert client.invoke("deckNameFromId", deckId=str(verbs)) == "Lang::JP::Verbs"


def test_deck_name_from_an_unknown_id_is_an_error(client: ApiClient, server: RunningServer) -> None:
    """Upstream answers "Default" for any unknown id (D6)."""
    for unknown in (123456789, 0, -5):
        error = unchanged_by(server, lambda: client.error("deckNameFromId", deckId=unknown))  # noqa: B023
        assert error == f"deck was not found: {unknown}"
    missing = "AnkiConnect.deckNameFromId() missing 1 required positional argument: 'deckId'"
    assert client.error("deckNameFromId") == missing
    wrong = "AnkiConnect.deckNameFromId() argument 'deckId' must be an integer, not the string 'Default'"
    assert client.error("deckNameFromId", deckId="Default") == wrong
