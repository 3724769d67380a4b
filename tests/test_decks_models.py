"""deckNames, deckNamesAndIds, createDeck, modelNames, modelNamesAndIds and modelFieldNames."""

from __future__ import annotations

from note_helpers import make_deck
from support import ApiClient, RunningServer

STOCK_MODELS = [
    "Basic",
    "Basic (and reversed card)",
    "Basic (optional reversed card)",
    "Basic (type in the answer)",
    "Cloze",
]

# decks


def test_deck_names_of_a_new_collection(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("deckNames") == ["Default"]
    assert client.invoke("deckNamesAndIds") == {"Default": 1}


def test_deck_names_include_children_and_filtered_decks(client: ApiClient, server: RunningServer) -> None:
    child = make_deck(server, "Lang::JP")
    filtered = server.on_collection(lambda col: int(col.decks.new_filtered("Cram")))
    assert client.invoke("deckNames") == ["Cram", "Default", "Lang", "Lang::JP"]
    names_and_ids = client.invoke("deckNamesAndIds")
    assert names_and_ids["Lang::JP"] == child and names_and_ids["Cram"] == filtered
    assert names_and_ids == server.on_collection(lambda col: {d.name: d.id for d in col.decks.all_names_and_ids()})


def test_create_deck_returns_the_id_and_creates_parents(client: ApiClient, server: RunningServer) -> None:
    deck_id = client.invoke("createDeck", deck="Lang::JP::Verbs")
    assert isinstance(deck_id, int)
    assert client.invoke("deckNames") == ["Default", "Lang", "Lang::JP", "Lang::JP::Verbs"]
    assert client.invoke("deckNamesAndIds")["Lang::JP::Verbs"] == deck_id
    assert server.on_collection(lambda col: col.decks.id_for_name("Lang::JP::Verbs")) == deck_id


def test_create_deck_returns_an_existing_decks_id(client: ApiClient, server: RunningServer) -> None:
    deck_id = client.invoke("createDeck", deck="Spanish")
    assert client.invoke("createDeck", deck="Spanish") == deck_id
    assert client.invoke("createDeck", deck="spanish") == deck_id
    assert client.invoke("createDeck", deck="Default") == 1
    assert client.invoke("deckNames") == ["Default", "Spanish"]


def test_create_deck_errors(client: ApiClient, server: RunningServer) -> None:
    assert client.error("createDeck", deck="   ")
    assert client.error("createDeck", deck=5)
    assert client.error("createDeck") == "AnkiConnect.createDeck() missing 1 required positional argument: 'deck'"
    assert client.invoke("deckNames") == ["Default"]


# models


def test_model_names(client: ApiClient, server: RunningServer) -> None:
    names = client.invoke("modelNames")
    assert set(STOCK_MODELS) <= set(names)
    assert names == server.on_collection(lambda col: [m.name for m in col.models.all_names_and_ids()])


def test_model_names_and_ids(client: ApiClient, server: RunningServer) -> None:
    names_and_ids = client.invoke("modelNamesAndIds")
    assert list(names_and_ids) == client.invoke("modelNames")
    assert names_and_ids["Basic"] == server.on_collection(lambda col: col.models.by_name("Basic")["id"])
    assert all(isinstance(model_id, int) for model_id in names_and_ids.values())


def test_model_field_names(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("modelFieldNames", modelName="Basic") == ["Front", "Back"]
    assert client.invoke("modelFieldNames", modelName="Cloze") == ["Text", "Back Extra"]
    assert client.invoke("modelFieldNames", modelName="Basic (type in the answer)") == ["Front", "Back"]
    # Anki's name lookup (which upstream uses too) ignores case.
    assert client.invoke("modelFieldNames", modelName="basic") == ["Front", "Back"]


def test_model_field_names_errors(client: ApiClient, server: RunningServer) -> None:
    assert client.error("modelFieldNames", modelName="Nope") == "model was not found: Nope"
    missing = "AnkiConnect.modelFieldNames() missing 1 required positional argument: 'modelName'"
    assert client.error("modelFieldNames") == missing
