"""findNotes, notesInfo, updateNoteFields, getTags and addTags."""

from __future__ import annotations

from typing import Any

from note_helpers import PROFILE, add_direct, b64, media_files, note_fields, note_tags
from support import ApiClient, RunningServer

# findNotes


def test_find_notes(client: ApiClient, server: RunningServer) -> None:
    cat = add_direct(server, "cat", tags=["animal"])
    dog = add_direct(server, "dog", deck="Pets", tags=["animal"])
    car = add_direct(server, "car")
    assert sorted(client.invoke("findNotes", query="")) == sorted([cat, dog, car])
    assert client.invoke("findNotes", query="deck:Pets") == [dog]
    assert sorted(client.invoke("findNotes", query="tag:animal")) == sorted([cat, dog])
    assert client.invoke("findNotes", query='"front:ca*" -tag:animal') == [car]
    assert client.invoke("findNotes", query="nothing-matches-this") == []


def test_find_notes_with_a_null_or_missing_query(client: ApiClient, server: RunningServer) -> None:
    add_direct(server, "cat")
    assert client.invoke("findNotes", query=None) == []
    assert client.invoke("findNotes") == []


def test_find_notes_with_invalid_search_syntax(client: ApiClient, server: RunningServer) -> None:
    assert client.error("findNotes", query="deck:(")
    assert client.error("findNotes", query="prop:nonsense>1")


# notesInfo


def test_notes_info_shape(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "猫 <b>neko</b>", "cat", model="Basic (and reversed card)", tags=["jp", "animal"])
    [info] = client.invoke("notesInfo", notes=[note_id])
    expected_cards, mod = server.on_collection(
        lambda col: (
            [c.id for c in sorted(col.get_note(note_id).cards(), key=lambda c: c.ord)],
            col.get_note(note_id).mod,
        )
    )
    assert info == {
        "noteId": note_id,
        "profile": PROFILE,
        "tags": ["animal", "jp"],
        "fields": {"Front": {"value": "猫 <b>neko</b>", "order": 0}, "Back": {"value": "cat", "order": 1}},
        "modelName": "Basic (and reversed card)",
        "mod": mod,
        "cards": expected_cards,
    }
    assert len(info["cards"]) == 2


def test_notes_info_lists_cards_by_template_order(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "front", "back", model="Basic (and reversed card)")

    def give_the_reverse_card_the_smaller_id(col: Any) -> list[int]:
        forward, backward = sorted(col.get_note(note_id).cards(), key=lambda c: c.ord)
        col.db.execute("update cards set id = ? where id = ?", forward.id - 1_000_000, backward.id)
        return [forward.id, forward.id - 1_000_000]

    by_ord = server.on_collection(give_the_reverse_card_the_smaller_id)
    assert client.invoke("notesInfo", notes=[note_id])[0]["cards"] == by_ord


def test_notes_info_keeps_alignment_for_missing_ids(client: ApiClient, server: RunningServer) -> None:
    first = add_direct(server, "one")
    second = add_direct(server, "two")
    infos = client.invoke("notesInfo", notes=[second, 123, first, second])
    assert [info.get("noteId") for info in infos] == [second, None, first, second]
    assert infos[1] == {}
    assert infos[0]["fields"]["Front"] == {"value": "two", "order": 0}
    assert client.invoke("notesInfo", notes=[]) == []


def test_notes_info_by_query(client: ApiClient, server: RunningServer) -> None:
    cat = add_direct(server, "cat", deck="Pets")
    add_direct(server, "car")
    by_query = client.invoke("notesInfo", query="deck:Pets")
    assert by_query == client.invoke("notesInfo", notes=[cat])
    # A query wins over a list of ids.
    assert client.invoke("notesInfo", notes=[12345], query="deck:Pets") == by_query
    assert client.invoke("notesInfo", query="nothing-matches") == []
    assert client.error("notesInfo", query="deck:(")


def test_notes_info_needs_notes_or_a_query(client: ApiClient, server: RunningServer) -> None:
    message = 'Must provide either "notes" or a "query"'
    assert client.error("notesInfo") == message
    assert client.error("notesInfo", notes=None, query=None) == message


def test_notes_info_mod_follows_updates(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat")
    server.on_collection(lambda col: col.db.execute("update notes set mod = 1000 where id = ?", note_id))
    assert client.invoke("notesInfo", notes=[note_id])[0]["mod"] == 1000
    client.invoke("updateNoteFields", note={"id": note_id, "fields": {"Back": "changed"}})
    assert client.invoke("notesInfo", notes=[note_id])[0]["mod"] > 1000


# updateNoteFields


def test_update_note_fields_uses_exact_names_and_ignores_unknown_ones(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "old back")
    result = client.invoke(
        "updateNoteFields", note={"id": note_id, "fields": {"Front": "dog", "back": "case differs", "Nope": "x"}}
    )
    assert result is None
    assert note_fields(server, note_id) == {"Front": "dog", "Back": "old back"}
    info = client.invoke("notesInfo", notes=[note_id])[0]
    assert info["fields"]["Front"]["value"] == "dog"


def test_update_note_fields_keeps_tags_and_unnamed_fields(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back", tags=["keep"])
    client.invoke("updateNoteFields", note={"id": note_id, "fields": {}})
    assert note_fields(server, note_id) == {"Front": "cat", "Back": "back"}
    assert note_tags(server, note_id) == ["keep"]


def test_update_note_fields_appends_media_to_named_fields(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back")
    note: dict[str, Any] = {
        "id": note_id,
        "fields": {"Back": "new back"},
        "picture": {"filename": "cat.png", "data": b64(b"png"), "fields": ["Back"]},
        "audio": [{"filename": "cat.mp3", "data": b64(b"mp3"), "fields": ["Front", "Nope"]}],
    }
    assert client.invoke("updateNoteFields", note=note) is None
    assert note_fields(server, note_id) == {"Front": "cat[sound:cat.mp3]", "Back": 'new back<img src="cat.png">'}
    assert media_files(server) == {"cat.png", "cat.mp3"}


def test_update_note_fields_errors(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "cat", "back")
    assert client.error("updateNoteFields", note={"id": 123, "fields": {"Front": "x"}}) == "Note was not found: 123"
    assert client.error("updateNoteFields", note={"fields": {"Front": "x"}})
    assert client.error("updateNoteFields", note={"id": note_id})
    bad_media = {"id": note_id, "fields": {"Front": "x"}, "picture": {"filename": "a.png", "fields": ["Back"]}}
    assert client.error("updateNoteFields", note=bad_media) == 'You must provide a "data", "path", or "url" field.'
    # A failed update changes nothing.
    assert note_fields(server, note_id) == {"Front": "cat", "Back": "back"}


# getTags / addTags


def test_get_tags(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("getTags") == []
    add_direct(server, "a", tags=["zeta", "Alpha"])
    add_direct(server, "b", tags=["lang::jp", "zeta"])
    assert sorted(client.invoke("getTags")) == ["Alpha", "lang::jp", "zeta"]


def test_add_tags_takes_a_space_separated_string(client: ApiClient, server: RunningServer) -> None:
    first = add_direct(server, "a", tags=["old"])
    second = add_direct(server, "b")
    untouched = add_direct(server, "c")
    assert client.invoke("addTags", notes=[first, second, 999], tags="new other") is None
    assert sorted(note_tags(server, first)) == ["new", "old", "other"]
    assert sorted(note_tags(server, second)) == ["new", "other"]
    assert note_tags(server, untouched) == []
    assert sorted(client.invoke("getTags")) == ["new", "old", "other"]
    assert sorted(client.invoke("notesInfo", notes=[second])[0]["tags"]) == ["new", "other"]


def test_add_tags_with_add_false_removes(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "a", tags=["keep", "drop", "gone"])
    assert client.invoke("addTags", notes=[note_id], tags="drop gone", add=False) is None
    assert note_tags(server, note_id) == ["keep"]
    assert client.invoke("findNotes", query="tag:drop") == []


def test_add_tags_errors(client: ApiClient, server: RunningServer) -> None:
    assert client.error("addTags", notes=[1], tags=["a", "b"])
    assert client.error("addTags", tags="a")
