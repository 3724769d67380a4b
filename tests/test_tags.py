"""removeTags, clearUnusedTags, replaceTags and replaceTagsInAllNotes."""

from __future__ import annotations

from typing import Any

import pytest
from dump import collection_dump
from note_helpers import add_direct, note_tags
from support import ApiClient, RunningServer

SPACED_REPLACEMENT = "replace_with_tag must be a single tag, without spaces"


def tags_of(server: RunningServer, *note_ids: int) -> list[list[str]]:
    return [sorted(note_tags(server, note_id)) for note_id in note_ids]


def registered_tags(server: RunningServer) -> list[str]:
    """The collection's tag list (which keeps tags no note uses until they are cleared)."""
    return sorted(server.on_collection(lambda col: col.tags.all()))


def undo_once(server: RunningServer) -> None:
    server.on_collection(lambda col: col.undo())


# removeTags


def test_remove_tags(client: ApiClient, server: RunningServer) -> None:
    first = add_direct(server, "a", tags=["keep", "drop", "Gone", "gone::child"])
    second = add_direct(server, "b", tags=["drop", "keep"])
    untouched = add_direct(server, "c", tags=["drop"])
    assert client.invoke("removeTags", notes=[first, second, 123], tags="drop GONE") is None
    # Case-insensitive, child tags included (Anki's bulk removal, as upstream uses).
    assert tags_of(server, first, second, untouched) == [["keep"], ["keep"], ["drop"]]
    assert client.invoke("removeTags", notes=[], tags="drop") is None
    assert note_tags(server, untouched) == ["drop"]


def test_remove_tags_errors(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "a", tags=["x"])
    assert client.error("removeTags", notes=[note_id], tags=["x"]) == (
        "AnkiConnect.removeTags() argument 'tags' must be a string, not a list"
    )
    assert client.error("removeTags", tags="x") == (
        "AnkiConnect.removeTags() missing 1 required positional argument: 'notes'"
    )
    assert note_tags(server, note_id) == ["x"]


# clearUnusedTags


def test_clear_unused_tags(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "a", tags=["used", "unused", "parent::child"])
    client.invoke("removeTags", notes=[note_id], tags="unused parent::child")
    assert registered_tags(server) == ["parent::child", "unused", "used"]
    assert client.invoke("clearUnusedTags") is None
    assert registered_tags(server) == ["used"]
    assert client.invoke("getTags") == ["used"]
    assert note_tags(server, note_id) == ["used"]


# replaceTags


def test_replace_tags_in_the_given_notes(client: ApiClient, server: RunningServer) -> None:
    first = add_direct(server, "a", tags=["old", "oldish", "old::child", "x::old", "keep"])
    second = add_direct(server, "b", tags=["old"])
    untouched = add_direct(server, "c", tags=["old"])
    result = client.invoke("replaceTags", notes=[first, second, 123], tag_to_replace="OLD", replace_with_tag="new")
    assert result is None
    # Whole tags only, in any case; other tags, parents and children stay.
    assert tags_of(server, first, second, untouched) == [
        ["keep", "new", "old::child", "oldish", "x::old"],
        ["new"],
        ["old"],
    ]


def test_replace_tags_special_characters_are_literal(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "a", tags=["c++", "a.b", "axb", "$1"])
    client.invoke("replaceTags", notes=[note_id], tag_to_replace="c++", replace_with_tag="cpp$1")
    client.invoke("replaceTags", notes=[note_id], tag_to_replace="a.b", replace_with_tag="a-b")
    client.invoke("replaceTags", notes=[note_id], tag_to_replace="$1", replace_with_tag="dollar")
    assert note_tags(server, note_id) == sorted(["a-b", "axb", "cpp$1", "dollar"])


def test_replace_tags_with_nothing_removes_the_tag_and_an_existing_tag_merges(
    client: ApiClient, server: RunningServer
) -> None:
    note_id = add_direct(server, "a", tags=["gone", "twin", "other"])
    client.invoke("replaceTags", notes=[note_id], tag_to_replace="gone", replace_with_tag="")
    client.invoke("replaceTags", notes=[note_id], tag_to_replace="twin", replace_with_tag="other")
    assert note_tags(server, note_id) == ["other"]


def test_replace_tags_with_no_notes_changes_nothing(client: ApiClient, server: RunningServer) -> None:
    note_id = add_direct(server, "a", tags=["old"])
    before = collection_dump(server)
    # Anki's find-and-replace reads an empty id list as "all notes": that must not leak through.
    client.invoke("replaceTags", notes=[], tag_to_replace="old", replace_with_tag="new")
    client.invoke("replaceTags", notes=[123], tag_to_replace="old", replace_with_tag="new")
    client.invoke("replaceTags", notes=[note_id], tag_to_replace="", replace_with_tag="new")
    client.invoke("replaceTags", notes=[note_id], tag_to_replace="absent", replace_with_tag="new")
    assert collection_dump(server) == before


def test_replace_tags_is_one_update(client: ApiClient, server: RunningServer) -> None:
    note_ids = [add_direct(server, f"n{i}", tags=["old", f"t{i}"]) for i in range(5)]
    before = collection_dump(server)
    client.invoke("replaceTags", notes=note_ids, tag_to_replace="old", replace_with_tag="new")
    assert all("new" in tags for tags in tags_of(server, *note_ids))
    undo_once(server)
    assert collection_dump(server) == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tag_to_replace": "old", "replace_with_tag": "new"}, "missing 1 required positional argument: 'notes'"),
        ({"notes": "NOTES", "replace_with_tag": "new"}, "missing 1 required positional argument: 'tag_to_replace'"),
        ({"notes": "NOTES"}, "missing 2 required positional arguments: 'tag_to_replace' and 'replace_with_tag'"),
        (
            {"notes": "NOTES", "tag_to_replace": "old", "replace_with_tag": 5},
            "argument 'replace_with_tag' must be a string, not the number 5",
        ),
        (
            {"notes": ["x"], "tag_to_replace": "old", "replace_with_tag": "new"},
            "argument 'notes[0]' must be an integer, not the string 'x'",
        ),
        (
            {"notes": "NOTES", "tagToReplace": "old", "replace_with_tag": "new"},
            "got an unexpected keyword argument 'tagToReplace'",
        ),
        ({"notes": "NOTES", "tag_to_replace": "old", "replace_with_tag": "two tags"}, SPACED_REPLACEMENT),
    ],
)
def test_failed_replace_tags_changes_nothing(
    client: ApiClient, server: RunningServer, params: dict[str, Any], message: str
) -> None:
    note_ids = [add_direct(server, "a", tags=["old"]), add_direct(server, "b", tags=["old", "x"])]
    before = collection_dump(server)
    if params.get("notes") == "NOTES":
        params = {**params, "notes": note_ids}
    expected = message if message == SPACED_REPLACEMENT else f"AnkiConnect.replaceTags() {message}"
    assert client.error("replaceTags", **params) == expected
    assert collection_dump(server) == before


# replaceTagsInAllNotes


def test_replace_tags_in_all_notes(client: ApiClient, server: RunningServer) -> None:
    first = add_direct(server, "a", tags=["old", "old::child", "older"])
    second = add_direct(server, "b", tags=["OLD", "keep"])
    third = add_direct(server, "c", tags=["other"])
    assert client.invoke("replaceTagsInAllNotes", tag_to_replace="old", replace_with_tag="lang::new") is None
    assert tags_of(server, first, second, third) == [
        ["lang::new", "old::child", "older"],
        ["keep", "lang::new"],
        ["other"],
    ]
    client.invoke("replaceTagsInAllNotes", tag_to_replace="lang::new", replace_with_tag="")
    assert tags_of(server, first, second, third) == [["old::child", "older"], ["keep"], ["other"]]


def test_replace_tags_in_all_notes_errors_change_nothing(client: ApiClient, server: RunningServer) -> None:
    add_direct(server, "a", tags=["old"])
    before = collection_dump(server)
    assert client.error("replaceTagsInAllNotes", tag_to_replace="old", replace_with_tag="a b") == SPACED_REPLACEMENT
    assert client.error("replaceTagsInAllNotes", tag_to_replace="old") == (
        "AnkiConnect.replaceTagsInAllNotes() missing 1 required positional argument: 'replace_with_tag'"
    )
    assert client.error("replaceTagsInAllNotes", tag_to_replace=["old"], replace_with_tag="new") == (
        "AnkiConnect.replaceTagsInAllNotes() argument 'tag_to_replace' must be a string, not a list"
    )
    assert collection_dump(server) == before
