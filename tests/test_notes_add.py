"""addNote, addNotes, canAddNotes and canAddNotesWithErrorDetail: results, errors and duplicate scopes."""

from __future__ import annotations

from typing import Any

import pytest
from note_helpers import (
    DUPLICATE,
    EMPTY,
    NO_MEDIA_SOURCE,
    add_direct,
    all_note_ids,
    b64,
    card_decks,
    make_deck,
    media_files,
    note,
    note_fields,
    note_tags,
    remove_notes,
)
from support import ApiClient, RunningServer

# addNote


def test_add_note_returns_the_new_id_with_fields_tags_and_deck(client: ApiClient, server: RunningServer) -> None:
    make_deck(server, "Lang::JP")
    note_id = client.invoke("addNote", note=note("猫", "cat", deck="Lang::JP", tags=["jp", "animal"]))
    assert isinstance(note_id, int) and all_note_ids(server) == [note_id]
    assert note_fields(server, note_id) == {"Front": "猫", "Back": "cat"}
    assert sorted(note_tags(server, note_id)) == ["animal", "jp"]
    assert card_decks(server, note_id) == ["Lang::JP"]


def test_add_note_makes_one_card_per_template(client: ApiClient, server: RunningServer) -> None:
    note_id = client.invoke("addNote", note=note("front", model="Basic (and reversed card)"))
    assert card_decks(server, note_id) == ["Default", "Default"]


def test_add_note_deck_names_match_case_insensitively(client: ApiClient, server: RunningServer) -> None:
    make_deck(server, "Lang::JP")
    first = client.invoke("addNote", note=note("a", deck="default"))
    second = client.invoke("addNote", note=note("b", deck="lang::jp"))
    assert card_decks(server, first) == ["Default"]
    assert card_decks(server, second) == ["Lang::JP"]
    assert client.invoke("deckNames") == ["Default", "Lang", "Lang::JP"]


def test_add_note_field_names_match_case_insensitively_and_unknown_ones_are_ignored(
    client: ApiClient, server: RunningServer
) -> None:
    spec = note("x")
    spec["fields"] = {"front": "hello", "BACK": "world", "Extra": "ignored"}
    note_id = client.invoke("addNote", note=spec)
    assert note_fields(server, note_id) == {"Front": "hello", "Back": "world"}


def test_add_note_without_tags_or_back(client: ApiClient, server: RunningServer) -> None:
    spec = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": "only front"}}
    note_id = client.invoke("addNote", note=spec)
    assert note_fields(server, note_id) == {"Front": "only front", "Back": ""}
    assert note_tags(server, note_id) == []


def test_add_note_never_creates_a_deck(client: ApiClient, server: RunningServer) -> None:
    assert client.error("addNote", note=note("x", deck="Nope")) == "deck was not found: Nope"
    assert client.invoke("deckNames") == ["Default"]
    assert all_note_ids(server) == []


def test_add_note_unknown_model(client: ApiClient, server: RunningServer) -> None:
    assert client.error("addNote", note=note("x", model="Nope")) == "model was not found: Nope"
    # The model is looked up before the deck, as upstream does.
    assert client.error("addNote", note=note("x", model="Nope", deck="Gone")) == "model was not found: Nope"
    assert all_note_ids(server) == []


@pytest.mark.parametrize("front", ["", "   ", "<b></b>"])
def test_add_note_with_an_empty_first_field(client: ApiClient, server: RunningServer, front: str) -> None:
    assert client.error("addNote", note=note(front, "back")) == EMPTY
    assert all_note_ids(server) == []


def test_add_note_cloze_needs_a_cloze_deletion(client: ApiClient, server: RunningServer) -> None:
    cloze = {"deckName": "Default", "modelName": "Cloze", "fields": {"Text": "no deletion here"}}
    assert client.error("addNote", note=cloze) == "cannot create note for unknown reason"
    note_id = client.invoke("addNote", note={**cloze, "fields": {"text": "{{c1::a}} and {{c2::b}}"}})
    assert len(card_decks(server, note_id)) == 2


def test_add_note_duplicate_in_default_scope(client: ApiClient, server: RunningServer) -> None:
    make_deck(server, "Other")
    existing = add_direct(server, "cat")
    # Collection-wide, same note type, first field compared with its HTML stripped.
    assert client.error("addNote", note=note("cat")) == DUPLICATE
    assert client.error("addNote", note=note("<b>cat</b>", deck="Other")) == DUPLICATE
    assert all_note_ids(server) == [existing]
    # Another note type, other text, or a difference in the second field only: not the same first field.
    other_model = client.invoke("addNote", note=note("cat", model="Basic (and reversed card)"))
    other_text = client.invoke("addNote", note=note("Cat"))
    assert sorted(all_note_ids(server)) == sorted([existing, other_model, other_text])


def test_add_note_allow_duplicate(client: ApiClient, server: RunningServer) -> None:
    existing = add_direct(server, "cat")
    added = client.invoke("addNote", note=note("cat", options={"allowDuplicate": True}))
    assert added != existing and len(all_note_ids(server)) == 2
    assert client.error("addNote", note=note("cat", options={"allowDuplicate": False})) == DUPLICATE


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allowDuplicate": "yes"}, 'option parameter "allowDuplicate" must be boolean'),
        ({"allowDuplicate": None}, 'option parameter "allowDuplicate" must be boolean'),
        (
            {"duplicateScope": "deck", "duplicateScopeOptions": {"checkChildren": 1.5}},
            'option parameter "duplicateScopeOptions.checkChildren" must be boolean',
        ),
        (
            {"duplicateScopeOptions": {"checkAllModels": "no"}},
            'option parameter "duplicateScopeOptions.checkAllModels" must be boolean',
        ),
    ],
)
def test_add_note_option_type_errors(
    client: ApiClient, server: RunningServer, options: dict[str, Any], message: str
) -> None:
    assert client.error("addNote", note=note("x", options=options)) == message
    assert client.invoke("canAddNotesWithErrorDetail", notes=[note("x", options=options)]) == [
        {"canAdd": False, "error": message}
    ]
    assert all_note_ids(server) == []


# The duplicate scopes, each case checked with canAddNotesWithErrorDetail and then with addNote (which must
# agree). Existing notes: "cat" (Basic) with a card in "Deck A::Child" and "dog" (Basic) in "Deck A".
SCOPE_CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # (first field, target deck, options, is a duplicate)
    ("dog", "Deck B", {}, True),
    ("dog", "Deck B", {"duplicateScope": "collection"}, True),
    ("dog", "Deck B", {"duplicateScope": "deck"}, False),
    ("dog", "Deck A", {"duplicateScope": "deck"}, True),
    ("<i>dog</i>", "Deck A", {"duplicateScope": "deck"}, True),
    ("cat", "Deck A", {"duplicateScope": "deck"}, False),
    ("cat", "Deck A", {"duplicateScope": "deck", "duplicateScopeOptions": {"checkChildren": False}}, False),
    ("cat", "Deck A", {"duplicateScope": "deck", "duplicateScopeOptions": {"checkChildren": True}}, True),
    ("cat", "Deck A::Child", {"duplicateScope": "deck", "duplicateScopeOptions": {"checkChildren": True}}, True),
    ("dog", "Deck B", {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "Deck A"}}, True),
    ("dog", "Deck B", {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "deck a"}}, True),
    ("dog", "Deck A", {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "Deck B"}}, False),
    ("dog", "Deck A", {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "No Such Deck"}}, False),
    ("dog", "Deck A", {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": None}}, True),
    (
        "cat",
        "Deck B",
        {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "Deck A", "checkChildren": True}},
        True,
    ),
    ("dog", "Deck B", {"allowDuplicate": True}, False),
    ("dog", "Deck A", {"allowDuplicate": True, "duplicateScope": "deck"}, False),
]


def test_duplicate_scopes(client: ApiClient, server: RunningServer) -> None:
    make_deck(server, "Deck B")
    existing = {add_direct(server, "cat", deck="Deck A::Child"), add_direct(server, "dog", deck="Deck A")}
    for front, deck, options, duplicate in SCOPE_CASES:
        case = f"{front!r} into {deck!r} with {options}"
        spec = note(front, deck=deck, options=options)
        detail = client.invoke("canAddNotesWithErrorDetail", notes=[spec])
        assert detail == ([{"canAdd": False, "error": DUPLICATE}] if duplicate else [{"canAdd": True}]), case
        assert client.invoke("canAddNotes", notes=[spec]) == [not duplicate], case
        if duplicate:
            assert client.error("addNote", note=spec) == DUPLICATE, case
        else:
            added = client.invoke("addNote", note=spec)
            assert card_decks(server, added) == [deck], case
            remove_notes(server, [added])
        assert set(all_note_ids(server)) == existing, case


def test_check_all_models_finds_duplicates_across_note_types(client: ApiClient, server: RunningServer) -> None:
    add_direct(server, "cat", model="Basic (and reversed card)", deck="Deck A")
    across = {"duplicateScopeOptions": {"checkAllModels": True}}
    assert client.error("addNote", note=note("<b>cat</b>", options=across)) == DUPLICATE
    in_deck = {"duplicateScope": "deck", "duplicateScopeOptions": {"checkAllModels": True}}
    assert client.error("addNote", note=note("cat", deck="Deck A", options=in_deck)) == DUPLICATE
    # checkAllModels off, or the other note type's note not in the target deck: fine.
    assert isinstance(client.invoke("addNote", note=note("cat", deck="Deck A")), int)
    assert isinstance(client.invoke("addNote", note=note("cat", options=in_deck)), int)


def test_custom_duplicate_check_reports_an_empty_first_field(client: ApiClient, server: RunningServer) -> None:
    scoped = {"duplicateScope": "deck"}
    assert client.error("addNote", note=note("  ", options=scoped)) == EMPTY
    assert client.error("addNote", note=note("", options={"duplicateScopeOptions": {"checkAllModels": True}})) == EMPTY


def test_add_note_with_a_bad_note_object(client: ApiClient, server: RunningServer) -> None:
    assert client.error("addNote", note={"deckName": "Default", "fields": {"Front": "x"}})
    assert client.error("addNote", note={**note("x"), "deckName": 3})
    assert client.error("addNote", note="not an object")
    assert all_note_ids(server) == []


# addNotes


def test_add_notes_returns_ids_in_order(client: ApiClient, server: RunningServer) -> None:
    ids = client.invoke("addNotes", notes=[note("one"), note("two", tags=["t"]), note("three")])
    assert len(ids) == 3 and sorted(ids) == all_note_ids(server)
    assert [note_fields(server, i)["Front"] for i in ids] == ["one", "two", "three"]
    assert note_tags(server, ids[1]) == ["t"]
    assert client.invoke("addNotes", notes=[]) == []


def test_add_notes_is_all_or_nothing(client: ApiClient, server: RunningServer) -> None:
    error = client.error("addNotes", notes=[note("good"), note("bad", model="nope"), note("good too")])
    assert error == "['model was not found: nope']"
    assert all_note_ids(server) == []


def test_add_notes_reports_every_failure_in_order(client: ApiClient, server: RunningServer) -> None:
    existing = add_direct(server, "dup")
    notes = [note("fine"), note("x", deck="Nope"), note("dup"), note(""), note("x", model="nope")]
    assert client.error("addNotes", notes=notes) == str(
        ["deck was not found: Nope", DUPLICATE, EMPTY, "model was not found: nope"]
    )
    assert all_note_ids(server) == [existing]


def test_add_notes_counts_earlier_notes_of_the_same_batch_as_duplicates(
    client: ApiClient, server: RunningServer
) -> None:
    assert client.error("addNotes", notes=[note("same"), note("other"), note("<b>same</b>")]) == str([DUPLICATE])
    assert all_note_ids(server) == []
    # As if added one by one: a deck-scoped later note only clashes with an earlier one in its deck ...
    make_deck(server, "Deck B")
    scoped = {"duplicateScope": "deck"}
    ids = client.invoke("addNotes", notes=[note("same"), note("same", deck="Deck B", options=scoped)])
    assert len(ids) == 2
    assert client.error("addNotes", notes=[note("new"), note("new", options=scoped)]) == str([DUPLICATE])
    # ... and allowDuplicate lets the repeat through.
    repeat = client.invoke("addNotes", notes=[note("twice"), note("twice", options={"allowDuplicate": True})])
    assert len(all_note_ids(server)) == 4 and len(repeat) == 2


def test_add_notes_with_a_failing_note_stores_none_of_the_batch_media(client: ApiClient, server: RunningServer) -> None:
    picture = {"filename": "batch.png", "data": b64(b"png bytes"), "fields": ["Back"]}
    notes = [note("good", picture=picture), note("bad", deck="Nope")]
    assert client.error("addNotes", notes=notes) == "['deck was not found: Nope']"
    assert all_note_ids(server) == [] and media_files(server) == set()
    # A later note whose own media cannot be read fails the batch before anything is stored.
    unreadable = {"filename": "late.png", "fields": ["Back"]}
    notes = [note("good", picture=picture), note("late", picture=unreadable)]
    assert client.error("addNotes", notes=notes) == str([NO_MEDIA_SOURCE])
    assert all_note_ids(server) == [] and media_files(server) == set()


# canAddNotes / canAddNotesWithErrorDetail


def test_can_add_notes_reports_each_note_and_adds_nothing(client: ApiClient, server: RunningServer) -> None:
    existing = add_direct(server, "dup")
    picture = {"filename": "check.png", "data": b64(b"bytes"), "fields": ["Back"]}
    notes = [
        note("fine", picture=picture),
        note("dup"),
        note(""),
        note("x", model="nope"),
        note("x", deck="Nope"),
        note("dup", options={"allowDuplicate": True}),
    ]
    assert client.invoke("canAddNotes", notes=notes) == [True, False, False, False, False, True]
    assert client.invoke("canAddNotesWithErrorDetail", notes=notes) == [
        {"canAdd": True},
        {"canAdd": False, "error": DUPLICATE},
        {"canAdd": False, "error": EMPTY},
        {"canAdd": False, "error": "model was not found: nope"},
        {"canAdd": False, "error": "deck was not found: Nope"},
        {"canAdd": True},
    ]
    assert all_note_ids(server) == [existing]
    assert media_files(server) == set()
    assert client.invoke("deckNames") == ["Default"]
    assert client.invoke("canAddNotes", notes=[]) == []
    assert client.invoke("canAddNotesWithErrorDetail", notes=[]) == []


def test_can_add_notes_judges_each_note_alone(client: ApiClient, server: RunningServer) -> None:
    # Unlike addNotes, a check does not add, so two equal new notes are each addable.
    assert client.invoke("canAddNotes", notes=[note("same"), note("same")]) == [True, True]


def test_can_add_notes_sees_media_the_note_would_bring(client: ApiClient, server: RunningServer) -> None:
    # A picture appended to an empty first field makes it non-empty, for the check as for addNote.
    picture = {"filename": "only.png", "data": b64(b"img"), "fields": ["Front"]}
    spec = note("", picture=picture)
    assert client.invoke("canAddNotes", notes=[spec]) == [True]
    assert media_files(server) == set()
    bad = note("x", picture={"filename": "nothing.png", "fields": ["Back"]})
    assert client.invoke("canAddNotesWithErrorDetail", notes=[bad]) == [{"canAdd": False, "error": NO_MEDIA_SOURCE}]
    note_id = client.invoke("addNote", note=spec)
    assert note_fields(server, note_id)["Front"] == '<img src="only.png">'


def test_yomitan_duplicate_probe(client: ApiClient, server: RunningServer) -> None:
    """Yomitan strips notes to the first field, sets allowDuplicate false and matches on the error text."""
    add_direct(server, "食べる")
    probe = {
        "deckName": "Default",
        "modelName": "Basic",
        "fields": {"Front": "食べる", "Back": ""},
        "tags": [],
        "options": {"allowDuplicate": False, "duplicateScope": "collection"},
    }
    fresh = {**probe, "fields": {"Front": "飲む", "Back": ""}}
    result, error = client.call(
        {"action": "canAddNotesWithErrorDetail", "version": 2, "params": {"notes": [probe, fresh]}}
    )
    assert error is None
    assert result[0]["canAdd"] is False and DUPLICATE in result[0]["error"]
    assert result[1] == {"canAdd": True}


def test_add_notes_gives_every_note_its_own_guid_fields_and_tags(client: ApiClient, server: RunningServer) -> None:
    """Notes of one batch are built from one template per note type; nothing may be shared between them."""
    specs = [note(f"word {i}", f"meaning {i}", tags=[f"t{i}"]) for i in range(30)]
    ids = client.invoke("addNotes", notes=specs)
    rows = server.on_collection(
        lambda col: col.db.all(f"select id, guid, flds, tags from notes where id in {tuple(ids)}")
    )
    assert len({guid for _, guid, _, _ in rows}) == 30
    assert all(guid and "\x1f" not in guid and " " not in guid for _, guid, _, _ in rows)
    by_id = {nid: (flds, tags) for nid, _, flds, tags in rows}
    for i, note_id in enumerate(ids):
        assert by_id[note_id] == (f"word {i}\x1fmeaning {i}", f" t{i} ")
