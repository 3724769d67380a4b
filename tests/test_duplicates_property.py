"""canAddNotesWithErrorDetail answers as upstream AnkiConnect decides, for any notes against any collection.

The oracle is upstream's algorithm written with Anki's own pieces: the default check is Anki's
``note.fields_check()``; with ``duplicateScope: "deck"`` or ``checkAllModels`` it is an empty first field (HTML
stripped, where upstream looks at the raw text: the one difference, documented), or
a note with the same first-field checksum (``anki.utils.field_checksum``: SHA-1 of the field, HTML stripped),
of the same note type unless all types count, with a card in the scope's decks. The server answers from its
own batch check (one query for all notes). One server lives through every example, adding notes as it goes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_profiles import examples
from hypothesis import given, settings, strategies as st
from twin_support import served_with_decks

FRONTS = ["a", "A", "a ", "<b>a</b>", "&nbsp;", "", "b", "<img src='x.png'>", "{{c1::a}}", "é"]
DECKS = ["Default", "A", "A::B", "Other"]
MODELS = ["Basic", "Basic (and reversed card)", "Cloze"]
EMPTY, DUPLICATE = "cannot create note because it is empty", "cannot create note because it is a duplicate"


@pytest.fixture(scope="module")
def served(empty_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    folder = tmp_path_factory.mktemp("duplicates") / "Profile"
    with served_with_decks(empty_collection, folder, DECKS[1:]) as (server, client):
        yield server, client


def first_field(model: str) -> str:
    return "Text" if model == "Cloze" else "Front"


NOTES = st.builds(
    lambda front, deck, model, options: {
        "deckName": deck,
        "modelName": model,
        "fields": {first_field(model): front, "Back": "b"} if model != "Cloze" else {"Text": front},
        "options": options,
    },
    st.sampled_from(FRONTS),
    st.sampled_from(DECKS),
    st.sampled_from(MODELS),
    st.sampled_from(
        [
            {},
            {"allowDuplicate": True},
            {"duplicateScope": "deck"},
            {"duplicateScope": "deck", "duplicateScopeOptions": {"checkChildren": True}},
            {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "A", "checkChildren": True}},
            {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "A"}},
            {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "Nope"}},
            {"duplicateScope": "deck", "duplicateScopeOptions": {"checkAllModels": True}},
            {"duplicateScopeOptions": {"checkAllModels": True}},
            {"duplicateScope": "collection", "allowDuplicate": False},
        ]
    ),
)


def stripped(col: Any, text: str) -> str:
    """The text without HTML (media names kept), as Anki compares first fields."""
    from anki.collection import StripHtmlMode

    text_only: str = col._backend.strip_html(text=text, mode=StripHtmlMode.PRESERVE_MEDIA_FILENAMES)
    return text_only


def field_checksum(col: Any, text: str) -> int:
    """``anki.utils.field_checksum``, with this collection's backend to strip the HTML."""
    return int(hashlib.sha1(stripped(col, text).encode("utf-8")).hexdigest()[:8], 16)


def upstream_verdict(col: Any, spec: dict[str, Any]) -> dict[str, Any]:
    model = col.models.by_name(spec["modelName"])
    note = col.new_note(model)
    for name, value in spec["fields"].items():
        if name in note:
            note[name] = value
    options = spec.get("options", {})
    scope_options = options.get("duplicateScopeOptions", {})
    all_models = scope_options.get("checkAllModels", False)
    if options.get("duplicateScope") != "deck" and not all_models:
        state = int(note.fields_check())
    elif not stripped(col, note.fields[0]).strip():
        state = 1  # upstream looks at the raw text, so "&nbsp;" or "<br>" is filled: see docs/compatibility.md
    else:
        rows = col.db.all("select id, mid from notes where csum = ?", field_checksum(col, note.fields[0]))
        hits = [note_id for note_id, mid in rows if all_models or mid == model["id"]]
        state = 0
        if hits and options.get("duplicateScope") == "deck":
            name = scope_options.get("deckName") or spec["deckName"]
            deck_id = col.decks.id_for_name(name)
            decks = set()
            if deck_id is not None:
                decks = {
                    deck_id,
                    *(col.decks.deck_and_child_ids(deck_id) if scope_options.get("checkChildren") else []),
                }
            hits = [h for h in hits if set(col.db.list("select did from cards where nid = ?", h)) & decks]
        if hits:
            state = 2
    if state == 0 or (state == 2 and options.get("allowDuplicate")):
        return {"canAdd": True}
    error = {1: EMPTY, 2: DUPLICATE}.get(state, "cannot create note for unknown reason")
    return {"canAdd": False, "error": error}


@settings(max_examples=examples(200, 5))  # quick: a few ms each
@given(data=st.data())
def test_can_add_notes_decides_as_upstream(served: tuple[Any, ...], data: st.DataObject) -> None:
    server, client = served
    for note in data.draw(st.lists(NOTES, max_size=2)):  # the collection grows as the examples go
        client.call(
            {"action": "addNote", "version": 6, "params": {"note": {**note, "options": {"allowDuplicate": True}}}}
        )
    notes = data.draw(st.lists(NOTES, min_size=1, max_size=5))
    verdicts = client.invoke("canAddNotesWithErrorDetail", notes=notes)
    expected = server.on_collection(lambda col: [upstream_verdict(col, note) for note in notes])
    assert verdicts == expected, notes
    assert client.invoke("canAddNotes", notes=notes) == [verdict["canAdd"] for verdict in expected]
