"""modelFieldDescriptions, modelFieldFonts, modelFieldsOnTemplates and the modelField* edits, read back from the
collection; failed edits leave it unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from dump import collection_dump
from note_helpers import add_direct, note_fields
from support import ApiClient, RunningServer

REVERSED = "Basic (and reversed card)"


def stored_fields(server: RunningServer, model: str) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = server.on_collection(lambda col: col.models.by_name(model)["flds"])
    return fields


def front_template(server: RunningServer, model: str) -> str:
    qfmt: str = server.on_collection(lambda col: col.models.by_name(model)["tmpls"][0]["qfmt"])
    return qfmt


def sort_field(server: RunningServer, note_id: int) -> str:
    value: str = server.on_collection(lambda col: col.db.scalar("select sfld from notes where id = ?", note_id))
    return value


# reading


def test_field_descriptions_and_fonts(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("modelFieldDescriptions", modelName="Basic") == ["", ""]
    assert client.invoke("modelFieldFonts", modelName="Cloze") == {
        "Text": {"font": "Arial", "size": 20},
        "Back Extra": {"font": "Arial", "size": 20},
    }
    assert client.error("modelFieldDescriptions", modelName="Nope") == "model was not found: Nope"
    assert client.error("modelFieldFonts", modelName="Nope") == "model was not found: Nope"


def test_fields_on_templates_of_stock_note_types(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("modelFieldsOnTemplates", modelName="Basic") == {"Card 1": [["Front"], ["Back"]]}
    assert client.invoke("modelFieldsOnTemplates", modelName=REVERSED) == {
        "Card 1": [["Front"], ["Back"]],
        "Card 2": [["Back"], ["Front"]],
    }
    assert client.invoke("modelFieldsOnTemplates", modelName="Cloze") == {"Cloze": [["Text"], ["Back Extra"]]}
    assert client.error("modelFieldsOnTemplates", modelName="Nope") == "model was not found: Nope"


def test_fields_on_templates_rules(client: ApiClient, server: RunningServer) -> None:
    """Modifiers are dropped, sections are skipped, FrontSide and the front's fields are not on the back list."""
    front = "{{#Hint}}{{hint:Hint}}{{/Hint}} {{^Extra}}none{{/Extra}} {{text:Word}} {{ Word }} {{tts en_US:Word}}"
    back = "{{FrontSide}} {{Word}} {{type:Meaning}} {{Meaning}} {{Extra}}"
    client.invoke(
        "createModel",
        modelName="Rules",
        inOrderFields=["Word", "Meaning", "Hint", "Extra"],
        cardTemplates=[{"Name": "Only", "Front": front, "Back": back}],
    )
    assert client.invoke("modelFieldsOnTemplates", modelName="Rules") == {
        "Only": [["Hint", "Word", "Word", "Word"], ["Meaning", "Meaning", "Extra"]]
    }


# renaming, moving, adding, removing


def test_field_rename_keeps_note_content_and_updates_templates(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "question", "answer")
    assert client.invoke("modelFieldRename", modelName="Basic", oldFieldName="Front", newFieldName="Question") is None
    assert client.invoke("modelFieldNames", modelName="Basic") == ["Question", "Back"]
    assert note_fields(server, note_id) == {"Question": "question", "Back": "answer"}
    assert front_template(server, "Basic") == "{{Question}}"
    # Anki drops the characters a field name cannot hold; a change of case is a rename too.
    client.invoke("modelFieldRename", modelName="Basic", oldFieldName="Back", newFieldName=" #Ans:wer ")
    client.invoke("modelFieldRename", modelName="Basic", oldFieldName="Question", newFieldName="question")
    assert client.invoke("modelFieldNames", modelName="Basic") == ["question", "Answer"]
    assert note_fields(server, note_id) == {"question": "question", "Answer": "answer"}


def test_field_reposition_moves_content_and_the_sort_field(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back")
    assert client.invoke("modelFieldReposition", modelName="Basic", fieldName="Back", index=0) is None
    assert client.invoke("modelFieldNames", modelName="Basic") == ["Back", "Front"]
    assert note_fields(server, note_id) == {"Back": "back", "Front": "front"}
    assert sort_field(server, note_id) == "front"  # the sort field is still Front, now second
    before = collection_dump(server)
    client.invoke("modelFieldReposition", modelName="Basic", fieldName="Back", index=0)  # already there
    assert collection_dump(server) == before


def test_field_add(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back")
    assert client.invoke("modelFieldAdd", modelName="Basic", fieldName="Notes") is None
    client.invoke("modelFieldAdd", modelName="Basic", fieldName="Source", index=0)
    assert client.invoke("modelFieldNames", modelName="Basic") == ["Source", "Front", "Back", "Notes"]
    assert note_fields(server, note_id) == {"Source": "", "Front": "front", "Back": "back", "Notes": ""}
    # An existing field is not added again; with an index it is moved, as upstream.
    before = collection_dump(server)
    client.invoke("modelFieldAdd", modelName="Basic", fieldName="Notes")
    assert collection_dump(server) == before
    client.invoke("modelFieldAdd", modelName="Basic", fieldName="Notes", index=1)
    assert client.invoke("modelFieldNames", modelName="Basic") == ["Source", "Notes", "Front", "Back"]
    assert stored_fields(server, "Basic")[1]["font"] == "Arial"


def test_field_remove_drops_content_and_template_references(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back", model="Basic (type in the answer)")
    assert client.invoke("modelFieldRemove", modelName="Basic (type in the answer)", fieldName="Back") is None
    assert note_fields(server, note_id) == {"Front": "front"}
    assert "Back" not in server.on_collection(lambda col: str(col.models.by_name("Basic (type in the answer)")))


# font, size, description


def test_field_font_size_and_description(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("modelFieldSetFont", modelName="Basic", fieldName="Front", font="Courier") is None
    assert client.invoke("modelFieldSetFontSize", modelName="Basic", fieldName="Front", fontSize=32) is None
    assert client.invoke("modelFieldFonts", modelName="Basic") == {
        "Front": {"font": "Courier", "size": 32},
        "Back": {"font": "Arial", "size": 20},
    }
    assert client.invoke("modelFieldSetDescription", modelName="Basic", fieldName="Back", description="the answer")
    assert client.invoke("modelFieldDescriptions", modelName="Basic") == ["", "the answer"]
    assert [f["description"] for f in stored_fields(server, "Basic")] == ["", "the answer"]


# errors: every failed edit leaves the collection as it was

EDIT_ERRORS = [
    pytest.param(
        "modelFieldRename", {"oldFieldName": "Nope", "newFieldName": "X"}, "field was not found in Basic: Nope"
    ),
    # Anki would quietly store "front+".
    pytest.param(
        "modelFieldRename", {"oldFieldName": "Back", "newFieldName": "front"}, "field already exists in Basic: front"
    ),
    pytest.param("modelFieldRename", {"oldFieldName": "Back", "newFieldName": " ^: "}, "not a valid field name:  ^: "),
    pytest.param("modelFieldReposition", {"fieldName": "Nope", "index": 0}, "field was not found in Basic: Nope"),
    pytest.param("modelFieldReposition", {"fieldName": "Back", "index": 2}, "field index should be between 0 and 1: 2"),
    pytest.param(
        "modelFieldReposition", {"fieldName": "Back", "index": -1}, "field index should be between 0 and 1: -1"
    ),
    pytest.param("modelFieldAdd", {"fieldName": "BACK"}, "field already exists in Basic: BACK"),
    pytest.param("modelFieldAdd", {"fieldName": "New", "index": 3}, "field index should be between 0 and 2: 3"),
    pytest.param("modelFieldAdd", {"fieldName": "Front", "index": 5}, "field index should be between 0 and 1: 5"),
    pytest.param("modelFieldAdd", {"fieldName": "#"}, "not a valid field name: #"),
    pytest.param("modelFieldRemove", {"fieldName": "Nope"}, "field was not found in Basic: Nope"),
    pytest.param("modelFieldSetFont", {"fieldName": "Nope", "font": "Arial"}, "field was not found in Basic: Nope"),
    pytest.param("modelFieldSetFont", {"fieldName": "Front", "font": 12}, "font should be a string: 12"),
    pytest.param("modelFieldSetFont", {"fieldName": "Front", "font": None}, "font should be a string: None"),
    pytest.param("modelFieldSetFontSize", {"fieldName": "Nope", "fontSize": 9}, "field was not found in Basic: Nope"),
    pytest.param(
        "modelFieldSetFontSize", {"fieldName": "Front", "fontSize": "big"}, "fontSize should be an integer: big"
    ),
    pytest.param(
        "modelFieldSetFontSize", {"fieldName": "Front", "fontSize": 1.5}, "fontSize should be an integer: 1.5"
    ),
    pytest.param(
        "modelFieldSetFontSize", {"fieldName": "Front", "fontSize": True}, "fontSize should be an integer: True"
    ),
    pytest.param(
        "modelFieldSetFontSize", {"fieldName": "Front", "fontSize": 0}, "fontSize should be between 1 and 65535: 0"
    ),
    pytest.param(
        "modelFieldSetFontSize",
        {"fieldName": "Front", "fontSize": 70000},
        "fontSize should be between 1 and 65535: 70000",
    ),
    pytest.param(
        "modelFieldSetDescription", {"fieldName": "Nope", "description": ""}, "field was not found in Basic: Nope"
    ),
    pytest.param(
        "modelFieldSetDescription",
        {"fieldName": "Front", "description": ["a"]},
        "description should be a string: ['a']",
    ),
]


@pytest.mark.parametrize(("action", "params", "message"), EDIT_ERRORS)
def test_field_edit_errors_change_nothing(
    client: ApiClient, server: RunningServer, action: str, params: dict[str, Any], message: str
) -> None:
    add_direct(server, "front", "back")
    before = collection_dump(server)
    assert client.error(action, modelName="Basic", **params) == message
    assert collection_dump(server) == before


def test_field_removals_anki_refuses_change_nothing(client: ApiClient, server: RunningServer) -> None:
    """Anki's own checks still apply, all or nothing; the messages are Anki's."""
    add_direct(server, "front", "back", model=REVERSED)
    before = collection_dump(server)
    assert client.error("modelFieldRemove", modelName=REVERSED, fieldName="Back") == (
        "Card template 2 in note type 'Basic (and reversed card)' has a problem.<br>"
        "The front side is identical to card template 1."
    )
    assert collection_dump(server) == before
    client.invoke("modelFieldRemove", modelName="Basic", fieldName="Back")
    before = collection_dump(server)
    assert client.error("modelFieldRemove", modelName="Basic", fieldName="Front") == "1 field required"
    assert collection_dump(server) == before


def test_field_edits_of_an_unknown_model(client: ApiClient, server: RunningServer) -> None:
    params: dict[str, dict[str, Any]] = {
        "modelFieldRename": {"oldFieldName": "Front", "newFieldName": "X"},
        "modelFieldReposition": {"fieldName": "Front", "index": 0},
        "modelFieldAdd": {"fieldName": "X"},
        "modelFieldRemove": {"fieldName": "Front"},
        "modelFieldSetFont": {"fieldName": "Front", "font": "Arial"},
        "modelFieldSetFontSize": {"fieldName": "Front", "fontSize": 10},
        "modelFieldSetDescription": {"fieldName": "Front", "description": ""},
    }
    before = collection_dump(server)
    for action, wanted in params.items():
        assert client.error(action, modelName="Nope", **wanted) == "model was not found: Nope", action
    missing = "AnkiConnect.modelFieldAdd() missing 1 required positional argument: 'fieldName'"
    assert client.error("modelFieldAdd", modelName="Basic") == missing
    assert collection_dump(server) == before
