"""guiAddCards and guiAddNoteSetData inside real Anki: the classic Add dialog, filled in and used."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from anki_harness import AnkiSession, wait_until

ADD_CARDS = "AddCards"
NOT_OPEN = "Add Note dialog is not open"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n not really an image").decode()
MP3 = base64.b64encode(b"ID3 not really a sound").decode()


def _add_dialog() -> Any:
    import aqt

    return aqt.dialogs.getInstance(ADD_CARDS)


@pytest.fixture(autouse=True)
def close_add_dialog(anki: AnkiSession) -> Iterator[None]:
    """Close the Add dialog a test opened, without Anki's "discard the input?" question."""
    yield
    dialog = _add_dialog()
    if dialog is not None:
        dialog._close()
    wait_until(lambda: _add_dialog() is None, message="the Add dialog to close")
    anki.settle()


def _shown(dialog: Any) -> dict[str, Any]:
    """What the Add dialog shows: deck, note type, fields and tags of the note being added."""
    col = dialog.col
    note = dialog.editor.note
    return {
        "deck": col.decks.name(dialog.deck_chooser.selected_deck_id),
        "model": col.models.get(dialog.notetype_chooser.selected_notetype_id)["name"],
        "fields": dict(note.items()),
        "tags": list(note.tags),
    }


def _note_in(anki: AnkiSession, deck: str) -> dict[str, Any]:
    (info,) = anki.invoke("notesInfo", query=f'"deck:{deck}"')
    return {
        "model": info["modelName"],
        "fields": {name: field["value"] for name, field in info["fields"].items()},
        "tags": info["tags"],
        "cards": len(info["cards"]),
    }


def _add_from_dialog(anki: AnkiSession, dialog: Any, deck: str) -> dict[str, Any]:
    """Click Add, wait for Anki to store the note, and return it."""
    dialog.add_current_note()
    wait_until(lambda: anki.mw.col.find_notes(f'"deck:{deck}"'), message="the note to be added")
    anki.settle()
    return _note_in(anki, deck)


# guiAddCards


def test_gui_add_cards_opens_the_dialog_filled_in_and_the_note_can_be_added(anki: AnkiSession) -> None:
    anki.fresh_profile()
    anki.invoke("createDeck", deck="Target")
    assert anki.invoke("guiAddCards") == 0  # no note: the dialog as Tools > Add opens it
    dialog = _add_dialog()
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    assert _shown(dialog)["fields"] == {"Front": "", "Back": ""}
    note = {
        "deckName": "Target",
        "modelName": "Basic (and reversed card)",
        "fields": {"Front": "front <b>text</b>", "back": "not a field: names match exactly"},
        "tags": ["from-api", "second"],
        "picture": {"filename": "api-picture.png", "data": PNG, "fields": ["Back"]},
        "audio": [{"filename": "api-sound.mp3", "data": MP3, "fields": ["Front", "Nope"]}],
    }
    assert anki.invoke("guiAddCards", note=note) == 0  # AnkiConnect's answer: the unsaved note's id
    assert _add_dialog() is dialog  # the open dialog shows the note, no second dialog
    assert _shown(dialog) == {
        "deck": "Target",
        "model": "Basic (and reversed card)",
        "fields": {"Front": "front <b>text</b>[sound:api-sound.mp3]", "Back": '<img src="api-picture.png">'},
        "tags": ["from-api", "second"],
    }
    assert anki.invoke("retrieveMediaFile", filename="api-picture.png") == PNG
    assert anki.invoke("retrieveMediaFile", filename="api-sound.mp3") == MP3
    # Filled in again while it shows something: replaced, without Anki's modal "discard?" question.
    again = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": "second front"}, "tags": "a b"}
    assert anki.invoke("guiAddCards", note={**again, "deckName": "target"}) == 0  # deck names ignore case
    assert _shown(dialog) == {
        "deck": "Target",
        "model": "Basic",
        "fields": {"Front": "second front", "Back": ""},
        "tags": ["a", "b"],
    }
    assert anki.invoke("findNotes", query="deck:Target") == []  # nothing is added until the user says so
    assert _add_from_dialog(anki, dialog, "Target") == {
        "model": "Basic",
        "fields": {"Front": "second front", "Back": ""},
        "tags": ["a", "b"],
        "cards": 1,
    }


@pytest.mark.parametrize(
    ("note", "error"),
    [
        pytest.param({"deckName": "Nope", "modelName": "Nope"}, "deck was not found: Nope", id="deck-first"),
        pytest.param({"deckName": "Default", "modelName": "Nope"}, "model was not found: Nope", id="model"),
        pytest.param({"modelName": "Basic"}, 'note has no "deckName" property', id="no-deck"),
        pytest.param({"deckName": "Default"}, 'note has no "modelName" property', id="no-model"),
        pytest.param(["Default"], "note must be an object", id="not-an-object"),
        pytest.param(
            {"deckName": "Default", "modelName": "Basic", "fields": {"Front": 1}},
            'field "Front" must be a string',
            id="field-value",
        ),
        pytest.param(
            {"deckName": "Default", "modelName": "Basic", "tags": [1]},
            "Must provide tags as a list of strings",
            id="tags",
        ),
        pytest.param(
            {"deckName": "Default", "modelName": "Basic", "audio": {"filename": "x.mp3", "fields": ["Front"]}},
            'You must provide a "data", "path", or "url" field.',
            id="media-without-source",
        ),
    ],
)
def test_gui_add_cards_rejects_a_bad_note_before_opening_anything(anki: AnkiSession, note: Any, error: str) -> None:
    assert anki.error("guiAddCards", note=note) == error
    assert _add_dialog() is None


# guiAddNoteSetData


def test_gui_add_note_set_data_without_an_add_dialog_is_an_error(anki: AnkiSession) -> None:
    """AnkiConnect answers {"error": ..., "code": 1} as a success result (D25); here it is an error."""
    anki.fresh_profile()
    assert anki.error("guiAddNoteSetData", note={"fields": {"Front": "x"}}) == NOT_OPEN
    assert anki.error("guiAddNoteSetData", note={}, append=True) == NOT_OPEN


def test_gui_add_note_set_data_changes_the_open_dialog(anki: AnkiSession) -> None:
    anki.fresh_profile()
    anki.invoke("createDeck", deck="Other")
    start = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": "a", "Back": "b"}, "tags": ["old"]}
    anki.invoke("guiAddCards", note=start)
    dialog = _add_dialog()

    # append: fields are concatenated, tags are merged.
    assert anki.invoke(
        "guiAddNoteSetData",
        note={"fields": {"Front": "+more"}, "tags": ["new", "old"], "audio": {"filename": "s.mp3", "data": MP3}},
        append=True,
    )
    wait_until(lambda: _shown(dialog)["fields"]["Front"] == "a+more", message="the dialog to change")
    assert _shown(dialog) == {
        "deck": "Default",
        "model": "Basic",
        "fields": {"Front": "a+more", "Back": "b"},
        "tags": ["old", "new"],
    }
    assert anki.invoke("retrieveMediaFile", filename="s.mp3") == MP3  # stored, referenced nowhere

    # Without append: values replace; the note type and deck change (the fields carry over).
    change = {
        "modelName": "Basic (and reversed card)",
        "deckName": "Other",
        "fields": {"Back": "new back"},
        "tags": ["only"],
        "picture": {"filename": "p.png", "data": PNG, "fields": ["Back", "Missing"]},
    }
    assert anki.invoke("guiAddNoteSetData", note=change) is True
    wait_until(lambda: _shown(dialog)["model"] == "Basic (and reversed card)", message="the note type to change")
    assert _shown(dialog) == {
        "deck": "Other",
        "model": "Basic (and reversed card)",
        "fields": {"Front": "a+more", "Back": 'new back<img src="p.png">'},
        "tags": ["only"],
    }

    # Errors change nothing.
    errors = [
        ({"deckName": "Nope", "modelName": "Nope"}, 'Deck "Nope" not found'),
        ({"modelName": "Nope"}, 'Model "Nope" not found'),
        ({"fields": {"front": "x"}}, 'Field "front" not found in current note'),
        ({"modelName": "Cloze", "fields": {"Front": "x"}}, 'Field "Front" not found in current note'),
        ({"fields": {"Front": 1}}, 'field "Front" must be a string'),
        ({"tags": [1]}, "Must provide tags as a list of strings"),
        ({"picture": {"filename": "q.png", "fields": ["Front"]}}, 'You must provide a "data", "path", or "url" field.'),
    ]
    for note, error in errors:
        assert anki.error("guiAddNoteSetData", note=note) == error
    assert anki.error("guiAddNoteSetData", note=["Front"]) == "note must be an object"
    assert anki.invoke("retrieveMediaFile", filename="q.png") is False
    anki.settle()
    assert _shown(dialog)["fields"] == {"Front": "a+more", "Back": 'new back<img src="p.png">'}

    assert _add_from_dialog(anki, dialog, "Other") == {
        "model": "Basic (and reversed card)",
        "fields": {"Front": "a+more", "Back": 'new back<img src="p.png">'},
        "tags": ["only"],
        "cards": 2,
    }
