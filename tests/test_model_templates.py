"""modelTemplates, modelStyling, updateModelTemplates, updateModelStyling, findAndReplaceInModels and the
modelTemplate* edits, read back from the collection; failed edits leave it unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from dump import collection_dump
from note_helpers import add_direct
from support import ApiClient, RunningServer

REVERSED = "Basic (and reversed card)"
BASIC_BACK = "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"


def questions(server: RunningServer, note_id: int) -> dict[str, str]:
    """Template name -> rendered question of each card of a note."""

    def read(col: Any) -> dict[str, str]:
        return {card.template()["name"]: card.question() for card in col.get_note(note_id).cards()}

    result: dict[str, str] = server.on_collection(read)
    return result


def card_ords(server: RunningServer, note_id: int) -> dict[int, int]:
    """Card id -> template ordinal, for one note."""
    rows = server.on_collection(lambda col: col.db.all("select id, ord from cards where nid = ?", note_id))
    return {int(cid): int(ord_) for cid, ord_ in rows}


def stored_css(server: RunningServer, model: str) -> str:
    css: str = server.on_collection(lambda col: col.models.by_name(model)["css"])
    return css


# reading


def test_model_templates_and_styling(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("modelTemplates", modelName="Basic") == {"Card 1": {"Front": "{{Front}}", "Back": BASIC_BACK}}
    assert list(client.invoke("modelTemplates", modelName=REVERSED)) == ["Card 1", "Card 2"]
    assert client.invoke("modelStyling", modelName="Basic") == {"css": stored_css(server, "Basic")}
    assert ".card" in stored_css(server, "Basic")
    assert client.error("modelTemplates", modelName="Nope") == "model was not found: Nope"
    assert client.error("modelStyling", modelName="Nope") == "model was not found: Nope"


# updateModelTemplates / updateModelStyling


def test_update_model_templates(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back", model=REVERSED)
    templates = {
        "Card 1": {"Front": "<i>{{Front}}</i>", "Back": ""},  # an empty side is left as it is
        "Card 2": {"Back": "{{FrontSide}}<hr id=answer>{{Front}}!"},
        "Card 9": {"Front": "ignored, as upstream"},
    }
    assert client.invoke("updateModelTemplates", model={"name": REVERSED, "templates": templates}) is None
    assert client.invoke("modelTemplates", modelName=REVERSED) == {
        "Card 1": {"Front": "<i>{{Front}}</i>", "Back": BASIC_BACK},
        "Card 2": {"Front": "{{Back}}", "Back": "{{FrontSide}}<hr id=answer>{{Front}}!"},
    }
    assert "<i>front</i>" in questions(server, note_id)["Card 1"]


def test_update_model_styling(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front")
    assert client.invoke("updateModelStyling", model={"name": "Basic", "css": ".card { color: red; }"}) is None
    assert client.invoke("modelStyling", modelName="Basic") == {"css": ".card { color: red; }"}
    assert ".card { color: red; }" in questions(server, note_id)["Card 1"]


# findAndReplaceInModels


def test_find_and_replace_in_one_model(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back")
    params = {"modelName": "Basic", "findText": "{{Front}}", "replaceText": "<u>{{Front}}</u>"}
    assert client.invoke("findAndReplaceInModels", **params) == 1
    assert client.invoke("modelTemplates", modelName="Basic")["Card 1"]["Front"] == "<u>{{Front}}</u>"
    assert "<u>front</u>" in questions(server, note_id)["Card 1"]
    assert client.invoke("modelTemplates", modelName=REVERSED)["Card 1"]["Front"] == "{{Front}}"  # other models kept
    assert client.invoke("findAndReplaceInModels", modelName="Basic", findText="absent", replaceText="x") == 0
    before = collection_dump(server)
    same = {"modelName": "Basic", "findText": "{{Back}}", "replaceText": "{{Back}}"}
    assert client.invoke("findAndReplaceInModels", **same) == 1  # counted, as upstream, but nothing to write
    assert collection_dump(server) == before


def test_find_and_replace_in_all_models_by_part(client: ApiClient, server: RunningServer) -> None:
    """A falsy modelName means every model; front, back and css choose the parts."""
    css_before = stored_css(server, "Cloze")
    count = client.invoke(
        "findAndReplaceInModels",
        modelName="",
        findText="<hr id=answer>",
        replaceText="<hr id=answer class=x>",
        css=False,
    )
    assert count == 4  # the four Basic note types show <hr id=answer> on the back; Cloze does not
    assert client.invoke("modelTemplates", modelName="Basic")["Card 1"]["Back"] == BASIC_BACK.replace(
        "<hr id=answer>", "<hr id=answer class=x>"
    )
    every_model = len(client.invoke("modelNames"))  # all stock styling uses arial
    assert client.invoke("findAndReplaceInModels", modelName=None, findText="arial", replaceText="serif") == every_model
    assert "serif" in stored_css(server, "Cloze") and "arial" in css_before
    server.on_collection(lambda col: col.undo())  # the whole replacement is one undo step
    assert stored_css(server, "Cloze") == css_before and "arial" in stored_css(server, "Basic")
    assert (
        client.invoke("findAndReplaceInModels", modelName="Basic", findText="{{Back}}", replaceText="x", back=False)
        == 0
    )
    only_front = {"modelName": "Basic", "findText": "{{Front}}", "replaceText": "{{Front}}!", "back": False}
    assert client.invoke("findAndReplaceInModels", **only_front, css=False) == 1
    assert client.invoke("modelTemplates", modelName="Basic")["Card 1"]["Front"] == "{{Front}}!"


def test_find_and_replace_in_more_note_types_than_anki_keeps_undo_steps(
    client: ApiClient, server: RunningServer
) -> None:
    """Anki keeps 30 undo steps: folding one per note type together at the end failed after writing them all."""

    def add_types(col: Any) -> None:
        for i in range(35):
            model = col.models.copy(col.models.by_name("Basic"), add=False)
            model["name"] = f"Copy {i}"
            col.models.add_dict(model)

    server.on_collection(add_types)
    before = {name: stored_css(server, name) for name in client.invoke("modelNames")}
    count = client.invoke("findAndReplaceInModels", modelName="", findText="arial", replaceText="serif")
    assert count == len(before) > 35
    assert all("serif" in stored_css(server, name) for name in before)
    server.on_collection(lambda col: col.undo())  # every note type back at once
    assert {name: stored_css(server, name) for name in before} == before


def test_find_and_replace_accepts_the_readmes_nested_params(client: ApiClient, server: RunningServer) -> None:
    """The README nests the params in "model"; upstream rejects that form (D14), here it works."""
    nested = {"modelName": "Basic", "findText": "{{Front}}", "replaceText": "<b>{{Front}}</b>", "front": True}
    assert client.invoke("findAndReplaceInModels", model=nested) == 1
    assert client.invoke("modelTemplates", modelName="Basic")["Card 1"]["Front"] == "<b>{{Front}}</b>"
    assert client.invoke("findAndReplaceInModels", model={**nested, "front": False, "css": False}) == 0


def test_find_and_replace_is_all_or_nothing(client: ApiClient, server: RunningServer) -> None:
    """Basic takes the change, then Anki refuses it for the reversed note type: neither keeps it."""
    add_direct(server, "front", "back", model=REVERSED)
    before = collection_dump(server)
    error = client.error("findAndReplaceInModels", modelName="", findText="{{Front}}", replaceText="{{Back}}")
    assert error == (
        "Card template 2 in note type 'Basic (and reversed card)' has a problem.<br>"
        "The front side is identical to card template 1."
    )
    assert collection_dump(server) == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"modelName": "Nope", "findText": "a", "replaceText": "b"}, "model was not found: Nope", id="unknown-model"
        ),
        pytest.param(
            {"modelName": "Basic", "replaceText": "b"},
            "AnkiConnect.findAndReplaceInModels() missing 1 required positional argument: 'findText'",
            id="no-findText",
        ),
        pytest.param(
            {"modelName": "Basic"},
            "AnkiConnect.findAndReplaceInModels() missing 2 required positional arguments: "
            "'findText' and 'replaceText'",
            id="nothing",
        ),
        pytest.param(
            {"model": {"modelName": "Basic", "findText": "a"}},
            "AnkiConnect.findAndReplaceInModels() missing 1 required positional argument: 'replaceText'",
            id="nested-no-replaceText",
        ),
        pytest.param(
            {"model": {"modelName": "Basic", "findText": "a", "replaceText": "b", "extra": 1}},
            "AnkiConnect.findAndReplaceInModels() got an unexpected keyword argument 'extra'",
            id="nested-unknown-param",
        ),
        pytest.param(
            {"model": {"modelName": "Basic", "findText": 5, "replaceText": "b"}},
            "AnkiConnect.findAndReplaceInModels() argument 'findText' must be a string, not the number 5",
            id="nested-wrong-type",
        ),
        pytest.param(
            {"model": {"modelName": "Basic", "findText": "a", "replaceText": "b"}, "front": False},
            'findAndReplaceInModels takes its params either at the top level or in "model", not both',
            id="both-forms",
        ),
        pytest.param(
            {"modelName": "Basic", "findText": "", "replaceText": "b"}, "findText must not be empty", id="empty-find"
        ),
    ],
)
def test_find_and_replace_errors(
    client: ApiClient, server: RunningServer, params: dict[str, Any], message: str
) -> None:
    before = collection_dump(server)
    assert client.error("findAndReplaceInModels", **params) == message
    assert collection_dump(server) == before


# modelTemplateRename / Reposition / Add / Remove


def test_template_rename_keeps_the_cards(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back", model=REVERSED)
    cards = card_ords(server, note_id)
    rename = {"modelName": REVERSED, "oldTemplateName": "Card 2", "newTemplateName": "Reverse"}
    assert client.invoke("modelTemplateRename", **rename) is None
    assert list(client.invoke("modelTemplates", modelName=REVERSED)) == ["Card 1", "Reverse"]
    assert card_ords(server, note_id) == cards
    assert "back" in questions(server, note_id)["Reverse"]


def test_template_reposition_moves_the_cards_with_it(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back", model=REVERSED)
    reverse_card = {ord_: cid for cid, ord_ in card_ords(server, note_id).items()}[1]
    assert client.invoke("modelTemplateReposition", modelName=REVERSED, templateName="Card 2", index=0) is None
    assert list(client.invoke("modelTemplates", modelName=REVERSED)) == ["Card 2", "Card 1"]
    assert card_ords(server, note_id)[reverse_card] == 0
    assert "back" in questions(server, note_id)["Card 2"]


def test_template_add_makes_cards_for_existing_notes(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back")
    template = {"Name": "Reverse", "Front": "{{Back}}?", "Back": "{{FrontSide}}<hr id=answer>{{Front}}"}
    assert client.invoke("modelTemplateAdd", modelName="Basic", template=template) is None
    assert client.invoke("modelTemplates", modelName="Basic")["Reverse"] == {
        "Front": "{{Back}}?",
        "Back": "{{FrontSide}}<hr id=answer>{{Front}}",
    }
    assert sorted(card_ords(server, note_id).values()) == [0, 1]
    assert "back?" in questions(server, note_id)["Reverse"]


def test_template_remove_deletes_its_cards(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back", model=REVERSED)
    assert client.invoke("modelTemplateRemove", modelName=REVERSED, templateName="Card 1") is None
    assert list(client.invoke("modelTemplates", modelName=REVERSED)) == ["Card 2"]
    assert list(questions(server, note_id)) == ["Card 2"]


TEMPLATE_ERRORS = [
    pytest.param("updateModelTemplates", {"model": {"name": "Nope", "templates": {}}}, "model was not found: Nope"),
    pytest.param("updateModelTemplates", {"model": {"templates": {}}}, 'model has no "name" property'),
    pytest.param("updateModelTemplates", {"model": {"name": "Basic"}}, 'model has no "templates" property'),
    pytest.param(
        "updateModelTemplates",
        {"model": {"name": "Basic", "templates": []}},
        'model property "templates" must be an object',
    ),
    pytest.param(
        "updateModelTemplates",
        {"model": {"name": "Basic", "templates": {"Card 1": "{{Front}}"}}},
        'template "Card 1" must be an object',
    ),
    pytest.param(
        "updateModelTemplates",
        {"model": {"name": "Basic", "templates": {"Card 1": {"Front": 5}}}},
        'template "Card 1" property "Front" must be a string',
    ),
    pytest.param(
        "updateModelTemplates",
        {"model": {"name": "Basic", "templates": {"Card 1": {"Front": "no field"}}}},
        "Card template 1 in note type 'Basic' has a problem.<br>"
        "Expected to find a field replacement on the front of the card template.",
    ),
    pytest.param("updateModelStyling", {"model": {"name": "Nope", "css": ""}}, "model was not found: Nope"),
    pytest.param("updateModelStyling", {"model": {"name": "Basic"}}, 'model has no "css" property'),
    pytest.param("updateModelStyling", {"model": {"name": 3, "css": ""}}, 'model property "name" must be a string'),
    pytest.param(
        "modelTemplateRename",
        {"modelName": REVERSED, "oldTemplateName": "Nope", "newTemplateName": "X"},
        "template was not found in Basic (and reversed card): Nope",
    ),
    # Anki would quietly store "card 1+".
    pytest.param(
        "modelTemplateRename",
        {"modelName": REVERSED, "oldTemplateName": "Card 2", "newTemplateName": "card 1"},
        "template already exists in Basic (and reversed card): card 1",
    ),
    pytest.param(
        "modelTemplateRename",
        {"modelName": REVERSED, "oldTemplateName": "Card 2", "newTemplateName": ""},
        "Empty template name",
    ),
    pytest.param(
        "modelTemplateRename",
        {"modelName": "Nope", "oldTemplateName": "Card 1", "newTemplateName": "X"},
        "model was not found: Nope",
    ),
    pytest.param(
        "modelTemplateReposition",
        {"modelName": REVERSED, "templateName": "Nope", "index": 0},
        "template was not found in Basic (and reversed card): Nope",
    ),
    pytest.param(
        "modelTemplateReposition",
        {"modelName": REVERSED, "templateName": "Card 1", "index": 2},
        "template index should be between 0 and 1: 2",
    ),
    pytest.param(
        "modelTemplateReposition",
        {"modelName": "Nope", "templateName": "Card 1", "index": 0},
        "model was not found: Nope",
    ),
    # Upstream edits the existing template in memory and returns without saving (D3).
    pytest.param(
        "modelTemplateAdd",
        {"modelName": REVERSED, "template": {"Name": "Card 2", "Front": "{{Front}}!", "Back": "x"}},
        "template already exists in Basic (and reversed card): Card 2",
    ),
    pytest.param(
        "modelTemplateAdd",
        {"modelName": REVERSED, "template": {"Front": "{{Front}}!", "Back": "x"}},
        'template has no "Name" property',
    ),
    pytest.param(
        "modelTemplateAdd",
        {"modelName": REVERSED, "template": {"Name": "New", "Back": "x"}},
        'template has no "Front" property',
    ),
    pytest.param(
        "modelTemplateAdd",
        {"modelName": REVERSED, "template": {"Name": "New", "Front": "{{Front}}!", "Back": None}},
        'template has no "Back" property',
    ),
    pytest.param(
        "modelTemplateAdd",
        {"modelName": "Nope", "template": {"Name": "New", "Front": "{{Front}}!", "Back": "x"}},
        "model was not found: Nope",
    ),
    pytest.param(
        "modelTemplateRemove",
        {"modelName": REVERSED, "templateName": "Nope"},
        "template was not found in Basic (and reversed card): Nope",
    ),
    pytest.param("modelTemplateRemove", {"modelName": "Basic", "templateName": "Card 1"}, "must have 1 template"),
    pytest.param("modelTemplateRemove", {"modelName": "Nope", "templateName": "Card 1"}, "model was not found: Nope"),
]


@pytest.mark.parametrize(("action", "params", "message"), TEMPLATE_ERRORS)
def test_template_edit_errors_change_nothing(
    client: ApiClient, server: RunningServer, action: str, params: dict[str, Any], message: str
) -> None:
    add_direct(server, "front", "back", model=REVERSED)
    before = collection_dump(server)
    assert client.error(action, **params) == message
    assert collection_dump(server) == before
