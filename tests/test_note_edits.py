"""canAddNote(WithErrorDetail), updateNote, updateNoteModel, updateNoteTags, getNoteTags, notesModTime,
deleteNotes and removeEmptyNotes; and that failed edits (addNotes, updateNote, updateNoteModel) change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from dump import collection_dump
from note_helpers import (
    DUPLICATE,
    EMPTY,
    NO_MEDIA_SOURCE,
    add_direct,
    all_note_ids,
    b64,
    media_files,
    note,
    note_fields,
    note_tags,
)
from support import ApiClient, RunningServer

NO_FIELDS_OR_TAGS = 'Must provide a "fields" or "tags" property.'
TAGS_NOT_STRINGS = "Must provide tags as a list of strings"
REVERSED = "Basic (and reversed card)"


def cards_by_ord(server: RunningServer, note_id: int) -> dict[int, int]:
    """Template ordinal -> card id, for one note."""
    rows = server.on_collection(lambda col: col.db.all("select ord, id from cards where nid = ?", note_id))
    return {int(ord_): int(cid) for ord_, cid in rows}


def model_of(server: RunningServer, note_id: int) -> str:
    name: str = server.on_collection(lambda col: col.get_note(note_id).note_type()["name"])
    return name


def note_mod(server: RunningServer, note_id: int) -> int:
    mod: int = server.on_collection(lambda col: col.db.scalar("select mod from notes where id = ?", note_id))
    return mod


def undo_once(server: RunningServer) -> None:
    server.on_collection(lambda col: col.undo())


def set_fields_directly(server: RunningServer, note_id: int, values: list[str]) -> None:
    """Overwrite a note's fields through the collection (Anki keeps its cards, even when they go blank)."""

    def write(col: Any) -> None:
        existing = col.get_note(note_id)
        existing.fields[:] = values
        col.update_note(existing)

    server.on_collection(write)


# canAddNote / canAddNoteWithErrorDetail


def test_can_add_note_checks_one_note_and_stores_nothing(client: ApiClient, server: RunningServer) -> None:
    existing = add_direct(server, "dup")
    picture = {"filename": "check.png", "data": b64(b"bytes"), "fields": ["Back"]}
    assert client.invoke("canAddNote", note=note("fine", picture=picture)) is True
    assert client.invoke("canAddNote", note=note("dup")) is False
    assert client.invoke("canAddNote", note=note("dup", options={"allowDuplicate": True})) is True
    assert client.invoke("canAddNote", note=note("")) is False
    assert client.invoke("canAddNote", note=note("x", model="nope")) is False
    assert client.invoke("canAddNote", note=note("x", deck="Nope")) is False
    # Upstream answers false for anything createNote rejects, a malformed note included.
    assert client.invoke("canAddNote", note="not a note") is False
    assert all_note_ids(server) == [existing]
    assert media_files(server) == set()


def test_can_add_note_with_error_detail(client: ApiClient, server: RunningServer) -> None:
    add_direct(server, "dup")
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (note("fine"), {"canAdd": True}),
        (note("dup"), {"canAdd": False, "error": DUPLICATE}),
        (note("  "), {"canAdd": False, "error": EMPTY}),
        (note("x", model="nope"), {"canAdd": False, "error": "model was not found: nope"}),
        (note("x", deck="Nope"), {"canAdd": False, "error": "deck was not found: Nope"}),
        (note("x", picture={"filename": "a.png", "fields": ["Back"]}), {"canAdd": False, "error": NO_MEDIA_SOURCE}),
    ]
    for spec, expected in cases:
        assert client.invoke("canAddNoteWithErrorDetail", note=spec) == expected, spec
        # The one-note forms agree with the list forms.
        assert client.invoke("canAddNotesWithErrorDetail", notes=[spec]) == [expected]
    assert client.invoke("canAddNoteWithErrorDetail", note=note("same")) == {"canAdd": True}


def test_can_add_note_needs_a_note(client: ApiClient, server: RunningServer) -> None:
    assert client.error("canAddNote") == "AnkiConnect.canAddNote() missing 1 required positional argument: 'note'"
    assert client.error("canAddNoteWithErrorDetail", notes=[]) == (
        "AnkiConnect.canAddNoteWithErrorDetail() got an unexpected keyword argument 'notes'"
    )


# addNotes: a failed batch changes nothing at all


def test_failed_add_notes_leaves_the_collection_exactly_as_it_was(client: ApiClient, server: RunningServer) -> None:
    add_direct(server, "dup", tags=["old"])
    before = collection_dump(server)
    picture = {"filename": "batch.png", "data": b64(b"png"), "fields": ["Back"]}
    audio = {"filename": "batch.mp3", "data": b64(b"mp3"), "fields": ["Front"]}
    notes = [note("good", picture=picture, tags=["new"]), note("also good", audio=audio), note("dup")]
    assert client.error("addNotes", notes=notes) == str([DUPLICATE])
    notes = [note("good", picture=picture), note("bad", deck="Nope", audio=audio)]
    assert client.error("addNotes", notes=notes) == "['deck was not found: Nope']"
    assert collection_dump(server) == before


# updateNote


def test_update_note_changes_fields_and_tags_together(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "old back", tags=["old", "keep"])
    other = add_direct(server, "dog", tags=["old"])
    change = {"id": note_id, "fields": {"Back": "new back", "front": "wrong case", "Nope": "x"}, "tags": ["a", "b"]}
    assert client.invoke("updateNote", note=change) is None
    assert note_fields(server, note_id) == {"Front": "cat", "Back": "new back"}  # exact names, as updateNoteFields
    assert sorted(note_tags(server, note_id)) == ["a", "b"]
    assert note_tags(server, other) == ["old"]
    info = client.invoke("notesInfo", notes=[note_id])[0]
    assert info["fields"]["Back"]["value"] == "new back" and sorted(info["tags"]) == ["a", "b"]


def test_update_note_fields_only_or_tags_only(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back", tags=["keep"])
    client.invoke("updateNote", note={"id": note_id, "fields": {"Front": "dog"}})
    assert note_fields(server, note_id) == {"Front": "dog", "Back": "back"}
    assert note_tags(server, note_id) == ["keep"]
    client.invoke("updateNote", note={"id": note_id, "tags": "single"})
    assert note_fields(server, note_id) == {"Front": "dog", "Back": "back"}
    assert note_tags(server, note_id) == ["single"]
    client.invoke("updateNote", note={"id": note_id, "tags": []})
    assert note_tags(server, note_id) == []


def test_update_note_stores_media_with_the_fields(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back")
    picture = {"filename": "cat.png", "data": b64(b"png"), "fields": ["Back"]}
    change = {"id": note_id, "fields": {"Back": "new"}, "tags": ["pic"], "picture": picture}
    assert client.invoke("updateNote", note=change) is None
    assert note_fields(server, note_id) == {"Front": "cat", "Back": 'new<img src="cat.png">'}
    assert note_tags(server, note_id) == ["pic"]
    assert media_files(server) == {"cat.png"}


def test_update_note_is_one_undoable_update(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back", tags=["a", "b", "c"])
    before = collection_dump(server)
    client.invoke("updateNote", note={"id": note_id, "fields": {"Front": "dog"}, "tags": ["x", "y"]})
    undo_once(server)
    assert collection_dump(server) == before


def test_update_note_errors(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back")
    assert client.error("updateNote", note={"id": note_id}) == NO_FIELDS_OR_TAGS
    assert client.error("updateNote", note={}) == NO_FIELDS_OR_TAGS
    assert client.error("updateNote", note={"fields": {"Front": "x"}}) == 'note has no "id" property'
    assert client.error("updateNote", note={"id": 123, "fields": {"Front": "x"}}) == "Note was not found: 123"
    assert client.error("updateNote", note={"id": 123, "tags": ["x"]}) == "Note was not found: 123"
    for tags in ([1], ["x", None], 5, None, {"a": "b"}):
        assert client.error("updateNote", note={"id": note_id, "tags": tags}) == TAGS_NOT_STRINGS, tags
    assert client.error("updateNote", note={"id": note_id, "fields": ["x"]}) == "fields must be an object"
    # As upstream: a missing note is reported before a bad tag list when fields come first ...
    assert client.error("updateNote", note={"id": 123, "fields": {}, "tags": 5}) == "Note was not found: 123"
    # ... and the tag list is checked first when there are no fields.
    assert client.error("updateNote", note={"id": 123, "tags": 5}) == TAGS_NOT_STRINGS
    assert client.error("updateNote") == "AnkiConnect.updateNote() missing 1 required positional argument: 'note'"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # Valid fields and media, then a tag list of the wrong type.
        (
            {
                "fields": {"Front": "changed"},
                "picture": {"filename": "p.png", "data": b64(b"p"), "fields": ["Back"]},
                "tags": ["ok", 3],
            },
            TAGS_NOT_STRINGS,
        ),
        # Valid fields and tags, then a media object that cannot be read.
        ({"fields": {"Front": "changed"}, "tags": ["new"], "audio": {"filename": "a.mp3"}}, NO_MEDIA_SOURCE),
        # A field value of the wrong type after a valid one.
        ({"fields": {"Front": "changed", "Back": 7}, "tags": ["new"]}, 'field "Back" must be a string'),
        # The note does not exist.
        ({"id": 123, "fields": {"Front": "changed"}, "tags": ["new"]}, "Note was not found: 123"),
    ],
)
def test_failed_update_note_changes_nothing(
    client: ApiClient, server: RunningServer, change: dict[str, Any], message: str
) -> None:
    note_id = add_direct(server, "cat", "back", tags=["old"])
    before = collection_dump(server)
    assert client.error("updateNote", note={"id": note_id, **change}) == message
    assert collection_dump(server) == before


# updateNoteModel


def test_update_note_model_remaps_cards_and_keeps_tags(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back", tags=["keep", "me"])
    [first_card] = cards_by_ord(server, note_id).values()
    change = {"id": note_id, "modelName": REVERSED, "fields": {"front": "neko", "BACK": "cat", "Nope": "x"}}
    assert client.invoke("updateNoteModel", note=change) is None
    assert model_of(server, note_id) == REVERSED
    assert note_fields(server, note_id) == {"Front": "neko", "Back": "cat"}
    assert sorted(note_tags(server, note_id)) == ["keep", "me"]  # upstream clears them (D20)
    cards = cards_by_ord(server, note_id)
    assert sorted(cards) == [0, 1] and cards[0] == first_card  # the card (and its history) is kept
    info = client.invoke("notesInfo", notes=[note_id])[0]
    assert info["modelName"] == REVERSED and info["cards"] == [cards[0], cards[1]]


def test_update_note_model_drops_cards_of_templates_the_new_type_lacks(
    client: ApiClient, server: RunningServer
) -> None:
    note_id = add_direct(server, "front", "back", model=REVERSED, tags=["t"])
    forward = cards_by_ord(server, note_id)[0]
    change = {"id": note_id, "modelName": "Basic", "fields": {"Front": "only front"}, "tags": ["x", "y z"]}
    client.invoke("updateNoteModel", note=change)
    assert model_of(server, note_id) == "Basic"
    assert cards_by_ord(server, note_id) == {0: forward}
    # Fields not named are emptied, as upstream does.
    assert note_fields(server, note_id) == {"Front": "only front", "Back": ""}
    assert sorted(note_tags(server, note_id)) == ["x", "y", "z"]
    problems = server.on_collection(lambda col: col.db.scalar("select count() from cards where ord > 0"))
    assert problems == 0


def test_update_note_model_to_a_cloze_type(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back")
    first_card = cards_by_ord(server, note_id)[0]
    change = {"id": note_id, "modelName": "Cloze", "fields": {"text": "{{c1::neko}} is {{c2::cat}}"}}
    client.invoke("updateNoteModel", note=change)
    assert model_of(server, note_id) == "Cloze"
    assert note_fields(server, note_id) == {"Text": "{{c1::neko}} is {{c2::cat}}", "Back Extra": ""}
    cards = cards_by_ord(server, note_id)
    assert sorted(cards) == [0, 1] and cards[0] == first_card


def test_update_note_model_to_the_same_type_rewrites_fields(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back", tags=["old"])
    cards = cards_by_ord(server, note_id)
    client.invoke("updateNoteModel", note={"id": note_id, "modelName": "Basic", "fields": {"Back": "b"}, "tags": []})
    assert note_fields(server, note_id) == {"Front": "", "Back": "b"}
    assert note_tags(server, note_id) == []
    assert cards_by_ord(server, note_id) == cards


def test_update_note_model_is_one_undo_step(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back", tags=["old"])
    before = collection_dump(server)
    change = {"id": note_id, "modelName": REVERSED, "fields": {"Front": "x", "Back": "y"}, "tags": ["new"]}
    client.invoke("updateNoteModel", note=change)
    undo_once(server)
    assert collection_dump(server) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"modelName": "Basic", "fields": {"Front": "x"}}, "Note ID is required"),
        ({"id": 0, "modelName": "Basic", "fields": {"Front": "x"}}, "Note ID is required"),
        ({"id": None, "modelName": "Basic", "fields": {"Front": "x"}}, "Note ID is required"),
        ({"id": "NOTE", "fields": {"Front": "x"}}, "Model name is required"),
        ({"id": "NOTE", "modelName": "", "fields": {"Front": "x"}}, "Model name is required"),
        ({"id": "NOTE", "modelName": "Basic"}, "Fields must be provided as a dictionary"),
        ({"id": "NOTE", "modelName": "Basic", "fields": {}}, "Fields must be provided as a dictionary"),
        ({"id": "NOTE", "modelName": "Basic", "fields": ["x"]}, "Fields must be provided as a dictionary"),
        ({"id": "NOTE", "modelName": "Nope", "fields": {"Front": "x"}}, "Model 'Nope' not found"),
        ({"id": 123, "modelName": "Nope", "fields": {"Front": "x"}}, "Note was not found: 123"),
        ({"id": "NOTE", "modelName": REVERSED, "fields": {"Front": "x"}, "tags": [1]}, TAGS_NOT_STRINGS),
        ({"id": "NOTE", "modelName": REVERSED, "fields": {"Back": 1}}, 'field "Back" must be a string'),
    ],
)
def test_update_note_model_errors_change_nothing(
    client: ApiClient, server: RunningServer, change: dict[str, Any], message: str
) -> None:
    note_id = add_direct(server, "cat", "back", tags=["old"])
    before = collection_dump(server)
    if change.get("id") == "NOTE":
        change = {**change, "id": note_id}
    assert client.error("updateNoteModel", note=change) == message
    assert collection_dump(server) == before


# updateNoteTags / getNoteTags


def test_update_note_tags_replaces_every_tag(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", tags=["old", "older"])
    other = add_direct(server, "dog", tags=["old"])
    assert client.invoke("updateNoteTags", note=note_id, tags=["new", "lang::jp"]) is None
    assert sorted(note_tags(server, note_id)) == ["lang::jp", "new"]
    assert note_tags(server, other) == ["old"]
    # A string is one entry; like upstream (which adds each entry with addTags), spaces separate tags.
    client.invoke("updateNoteTags", note=note_id, tags="solo")
    assert note_tags(server, note_id) == ["solo"]
    client.invoke("updateNoteTags", note=note_id, tags="two words")
    assert sorted(note_tags(server, note_id)) == ["two", "words"]
    client.invoke("updateNoteTags", note=note_id, tags=[])
    assert note_tags(server, note_id) == []


def test_update_note_tags_is_one_update(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", tags=["a", "b", "c"])
    before = collection_dump(server)
    client.invoke("updateNoteTags", note=note_id, tags=["x", "y", "z"])
    undo_once(server)  # upstream needs one undo per removed and per added tag
    assert collection_dump(server) == before


def test_update_note_tags_errors(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", tags=["old"])
    before = collection_dump(server)
    for tags in (5, None, [1], ["ok", None], {"a": "b"}):
        assert client.error("updateNoteTags", note=note_id, tags=tags) == TAGS_NOT_STRINGS, tags
    assert client.error("updateNoteTags", note=123, tags=["x"]) == "Note was not found: 123"
    assert client.error("updateNoteTags", note=note_id) == (
        "AnkiConnect.updateNoteTags() missing 1 required positional argument: 'tags'"
    )
    assert collection_dump(server) == before


def test_get_note_tags(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", tags=["b", "a::child"])
    assert client.invoke("getNoteTags", note=note_id) == ["a::child", "b"]
    assert client.invoke("getNoteTags", note=add_direct(server, "dog")) == []
    assert client.error("getNoteTags", note=123) == "Note was not found: 123"


# notesModTime


def test_notes_mod_time_keeps_alignment(client: ApiClient, server: RunningServer) -> None:
    first = add_direct(server, "one")
    second = add_direct(server, "two")
    server.on_collection(lambda col: col.db.execute("update notes set mod = 1000 where id = ?", first))
    result = client.invoke("notesModTime", notes=[second, 123, first, second])
    assert result == [
        {"noteId": second, "mod": note_mod(server, second)},
        {},
        {"noteId": first, "mod": 1000},
        {"noteId": second, "mod": note_mod(server, second)},
    ]
    assert client.invoke("notesModTime", notes=[]) == []
    client.invoke("updateNoteFields", note={"id": first, "fields": {"Back": "changed"}})
    [changed] = client.invoke("notesModTime", notes=[first])
    assert changed["mod"] > 1000 and changed["mod"] == client.invoke("notesInfo", notes=[first])[0]["mod"]


# deleteNotes


def test_delete_notes_removes_notes_and_cards_and_ignores_unknown_ids(client: ApiClient, server: RunningServer) -> None:
    gone = add_direct(server, "gone", model=REVERSED)
    also_gone = add_direct(server, "also gone")
    kept = add_direct(server, "kept")
    assert client.invoke("deleteNotes", notes=[gone, 123, also_gone]) is None
    assert all_note_ids(server) == [kept]
    card_notes = server.on_collection(lambda col: col.db.list("select distinct nid from cards"))
    assert card_notes == [kept]
    assert client.invoke("deleteNotes", notes=[]) is None
    assert client.invoke("deleteNotes", notes=[999]) is None
    assert all_note_ids(server) == [kept]


def test_delete_notes_errors(client: ApiClient, server: RunningServer) -> None:
    assert client.error("deleteNotes") == "AnkiConnect.deleteNotes() missing 1 required positional argument: 'notes'"
    assert client.error("deleteNotes", notes="1") == (
        "AnkiConnect.deleteNotes() argument 'notes' must be a list of integers, not the string '1'"
    )


# removeEmptyNotes


def test_remove_empty_notes_removes_notes_without_content(client: ApiClient, server: RunningServer) -> None:
    blanks = [["", ""], ["<br>", "&nbsp;"], ["<div> </div>", "\u200b"]]
    contents = [["", "back only"], ['<img src="x.png">', ""], ["", "[sound:a.mp3]"], ["0", ""]]
    empty_ids: list[int] = []
    full_ids: list[int] = []
    for values in blanks + contents:
        note_id = add_direct(server, "placeholder", "placeholder")
        set_fields_directly(server, note_id, values)
        (empty_ids if values in blanks else full_ids).append(note_id)
    models = client.invoke("modelNames")
    assert client.invoke("removeEmptyNotes") is None
    assert all_note_ids(server) == sorted(full_ids)
    remaining_cards = server.on_collection(lambda col: col.db.list("select distinct nid from cards"))
    assert not set(remaining_cards) & set(empty_ids)
    # Upstream's removeEmptyNotes deletes the unused note types instead (D1); they stay.
    assert client.invoke("modelNames") == models
    assert client.invoke("removeEmptyNotes") is None
    assert all_note_ids(server) == sorted(full_ids)
