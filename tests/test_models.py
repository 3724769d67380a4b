"""findModelsById, findModelsByName, modelNameFromId and createModel, read back from the collection."""

from __future__ import annotations

from typing import Any

import pytest
from dump import collection_dump
from support import ApiClient, RunningServer

NOTETYPE_KEYS = {"id", "name", "type", "mod", "usn", "sortf", "did", "tmpls", "flds", "css", "latexPre", "latexPost"}


def stored_model(server: RunningServer, name: str) -> dict[str, Any]:
    model: dict[str, Any] = server.on_collection(lambda col: col.models.by_name(name))
    return model


def model_id(server: RunningServer, name: str) -> int:
    return int(stored_model(server, name)["id"])


def card_sides(server: RunningServer, note_id: int) -> list[tuple[str, str, str]]:
    """(template name, question HTML, answer HTML) of each card of a note, in template order."""

    def read(col: Any) -> list[tuple[str, str, str]]:
        cards = sorted(col.get_note(note_id).cards(), key=lambda card: card.ord)
        return [(card.template()["name"], card.question(), card.answer()) for card in cards]

    result: list[tuple[str, str, str]] = server.on_collection(read)
    return result


def vocab_model(**overrides: Any) -> dict[str, Any]:
    """createModel params for a two-field, two-template note type."""
    params: dict[str, Any] = {
        "modelName": "Vocab",
        "inOrderFields": ["Word", "Meaning"],
        "cardTemplates": [
            {"Name": "Recognise", "Front": "<b>{{Word}}</b>", "Back": "{{FrontSide}}<hr id=answer>{{Meaning}}"},
            {"Front": "{{Meaning}}", "Back": "{{FrontSide}}<hr id=answer>{{Word}}"},
        ],
        "css": ".card { color: teal; }",
    }
    params.update(overrides)
    return params


# findModelsById / findModelsByName / modelNameFromId


def test_find_models_by_id_and_name_return_the_full_note_types(client: ApiClient, server: RunningServer) -> None:
    basic, cloze = stored_model(server, "Basic"), stored_model(server, "Cloze")
    by_id = client.invoke("findModelsById", modelIds=[cloze["id"], basic["id"]])
    assert by_id == [cloze, basic]
    assert set(by_id[0]) >= NOTETYPE_KEYS
    assert by_id[0]["type"] == 1 and [f["name"] for f in by_id[0]["flds"]] == ["Text", "Back Extra"]
    assert by_id[1]["tmpls"][0]["qfmt"] == "{{Front}}"
    assert client.invoke("findModelsByName", modelNames=["Basic", "Cloze"]) == [basic, cloze]
    assert client.invoke("findModelsById", modelIds=[]) == []
    assert client.invoke("findModelsByName", modelNames=[]) == []


def test_find_models_errors(client: ApiClient, server: RunningServer) -> None:
    basic_id = model_id(server, "Basic")
    assert client.error("findModelsById", modelIds=[basic_id, 123]) == "model was not found: 123"
    # Beyond 64 bits an id is malformed rather than missing: the param check says so before any lookup.
    too_big = f"AnkiConnect.findModelsById() argument 'modelIds[0]' must be a 64-bit integer, not the number {2**64}"
    assert client.error("findModelsById", modelIds=[2**64]) == too_big
    assert client.error("findModelsByName", modelNames=["Basic", "Nope"]) == "model was not found: Nope"
    missing = "AnkiConnect.findModelsById() missing 1 required positional argument: 'modelIds'"
    assert client.error("findModelsById") == missing


def test_model_name_from_id(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("modelNameFromId", modelId=model_id(server, "Cloze")) == "Cloze"
    assert client.error("modelNameFromId", modelId=42) == "model was not found: 42"
    too_small = f"AnkiConnect.modelNameFromId() argument 'modelId' must be a 64-bit integer, not the number {-(2**70)}"
    assert client.error("modelNameFromId", modelId=-(2**70)) == too_small
    assert client.error("modelNameFromId", modelId=2**63 - 1) == f"model was not found: {2**63 - 1}"


# createModel


def test_create_model_makes_a_note_type_that_takes_notes(client: ApiClient, server: RunningServer) -> None:
    created = client.invoke("createModel", **vocab_model())
    assert created == stored_model(server, "Vocab")
    assert set(created) >= NOTETYPE_KEYS and created["type"] == 0
    assert [f["name"] for f in created["flds"]] == ["Word", "Meaning"]
    # A template without "Name" gets "Card N" by its position, as upstream.
    assert [t["name"] for t in created["tmpls"]] == ["Recognise", "Card 2"]
    assert created["css"] == ".card { color: teal; }"
    assert client.invoke("modelNameFromId", modelId=created["id"]) == "Vocab"
    assert client.invoke("modelFieldNames", modelName="Vocab") == ["Word", "Meaning"]

    note = {"deckName": "Default", "modelName": "Vocab", "fields": {"Word": "gato", "Meaning": "cat"}, "tags": []}
    note_id = client.invoke("addNote", note=note)
    (first, first_q, first_a), (second, second_q, second_a) = card_sides(server, note_id)
    assert (first, second) == ("Recognise", "Card 2")
    assert "<b>gato</b>" in first_q and "cat" in first_a and "color: teal" in first_q
    assert "cat" in second_q and "gato" in second_a


def test_create_model_defaults_and_cloze(client: ApiClient, server: RunningServer) -> None:
    plain = client.invoke(
        "createModel", modelName="Plain", inOrderFields=["Q"], cardTemplates=[{"Front": "{{Q}}", "Back": "{{Q}}!"}]
    )
    assert plain["css"] == stored_model(server, "Basic")["css"]  # Anki's default styling
    assert [t["name"] for t in plain["tmpls"]] == ["Card 1"]

    cloze = client.invoke(
        "createModel",
        modelName="My Cloze",
        inOrderFields=["Text", "Extra"],
        cardTemplates=[{"Name": "Cloze", "Front": "{{cloze:Text}}", "Back": "{{cloze:Text}}<br>{{Extra}}"}],
        isCloze=True,
    )
    assert cloze["type"] == 1
    fields = {"Text": "{{c1::Paris}} is in {{c2::France}}", "Extra": ""}
    note_id = client.invoke("addNote", note={"deckName": "Default", "modelName": "My Cloze", "fields": fields})
    sides = card_sides(server, note_id)
    assert len(sides) == 2
    assert "[...]" in sides[0][1] and "France" in sides[0][1] and "Paris" in sides[0][2]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"inOrderFields": []}, "Must provide at least one field for inOrderFields", id="no-fields"),
        pytest.param({"cardTemplates": []}, "Must provide at least one card for cardTemplates", id="no-templates"),
        pytest.param({"modelName": "Basic"}, "Model name already exists", id="name-exists"),
        # Anki would quietly store "basic-1a2b3": its names match regardless of case.
        pytest.param({"modelName": "bASIC"}, "Model name already exists", id="name-exists-other-case"),
        pytest.param(
            {"cardTemplates": [{"Name": "A", "Back": "{{Word}}"}]},
            'cardTemplates[0] has no "Front" property',
            id="no-front",
        ),
        pytest.param(
            {"cardTemplates": [{"Front": "{{Word}}", "Back": "x"}, {"Front": "{{Meaning}}"}]},
            'cardTemplates[1] has no "Back" property',
            id="no-back",
        ),
        pytest.param(
            {"cardTemplates": [{"Front": "{{Word}}", "Back": 5}]},
            'cardTemplates[0] property "Back" must be a string',
            id="back-not-a-string",
        ),
        pytest.param({"inOrderFields": ["Word", "word"]}, "field already exists in Vocab: word", id="same-field"),
        pytest.param({"inOrderFields": ["Word", "{}"]}, "not a valid field name: {}", id="empty-field-name"),
        pytest.param(
            {
                "cardTemplates": [
                    {"Front": "{{Word}}", "Back": "a"},
                    {"Name": "card 1", "Front": "{{Meaning}}", "Back": "b"},
                ]
            },
            "template already exists in Vocab: card 1",
            id="same-template",
        ),
        pytest.param({"modelName": ""}, "Empty notetype name", id="empty-name"),
        pytest.param(
            {"cardTemplates": [{"Front": "no fields here", "Back": "{{Word}}"}]},
            "Card template 1 in note type 'Vocab' has a problem.<br>"
            "Expected to find a field replacement on the front of the card template.",
            id="anki-rejects-template",
        ),
    ],
)
def test_create_model_errors_change_nothing(
    client: ApiClient, server: RunningServer, overrides: dict[str, Any], message: str
) -> None:
    before = collection_dump(server)
    assert client.error("createModel", **vocab_model(**overrides)) == message
    assert collection_dump(server) == before


def test_create_model_param_errors(client: ApiClient, server: RunningServer) -> None:
    missing = "AnkiConnect.createModel() missing 2 required positional arguments: 'inOrderFields' and 'cardTemplates'"
    assert client.error("createModel", modelName="X") == missing
    wrong = "AnkiConnect.createModel() argument 'cardTemplates[0]' must be an object, not a list"
    assert client.error("createModel", modelName="X", inOrderFields=["A"], cardTemplates=[["{{A}}", "b"]]) == wrong
