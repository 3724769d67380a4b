"""Tag searches answered from the tag index give exactly Anki's own results, and stay right as tags change."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from anki.collection import Collection

from ankiconnect_live.actions import field_index

# Each note's tags: children, case, Unicode folding and normalisation, colons that are not "::", wildcard
# characters Anki reads in a search (never in a note's tags).
NOTE_TAGS = [
    ["skip"],
    ["Skip::Child"],
    ["SKIP::child::Grand"],
    ["skipper"],
    ["a:::b"],
    ["a:b"],
    ["ß"],
    ["SS"],
    ["Straße::Ecke"],
    ["σ"],
    ["ς"],
    ["\u212ameter"],  # KELVIN SIGN: Anki's case-insensitive match finds it with "kmeter"
    ["e\u0301cole"],  # NFD, as a tag imported from elsewhere may be
    ["日本語::文法"],
    ["my_tag", "myxtag"],
    ["two", "tags"],
    [],
]
QUERIES = [
    "tag:skip",
    "tag:SKIP",
    "tag:skip::child",
    "tag:Skip::Child::grand",
    "tag:skipper",
    "tag:ski",
    "tag:a",
    "tag:a:",
    '"tag:a:b"',
    "tag:a::",
    "tag:ss",
    "tag:ß",
    "tag:STRASSE",
    "tag:straße",
    "tag:Σ",
    "tag:ς",
    "tag:kmeter",
    "tag:\u00e9cole",
    "tag:e\u0301cole",
    "tag:日本語",
    "tag:two",
    '"tag:two tags"',
    "tag:nosuchtag",
    "tag:skip or tag:ß",
    "tag:skip deck:Other",
    "front:word tag:skip",
    "(tag:skip or tag:two) -tag:skip::child",
    # These fall back to Anki's own search (wildcards, regex, untagged notes, negation):
    "tag:my_tag",
    "tag:sk*",
    "tag:*",
    "tag:none",
    "tag:re:^sk",
    "tag:nc:ecole",
    "-tag:skip",
]
FALLBACKS = ["tag:my_tag", "tag:sk*", "tag:*", "tag:none", "tag:re:^sk", "tag:nc:ecole", "-tag:skip"]


@pytest.fixture
def col(collection_path: Path) -> Iterator[Collection]:
    collection = Collection(str(collection_path))
    other = collection.decks.id("Other")
    for index, tags in enumerate(NOTE_TAGS):
        note = collection.new_note(collection.models.by_name("Basic"))  # type: ignore[arg-type]
        note["Front"] = "word"
        collection.add_note(note, other if index % 2 else 1)  # type: ignore[arg-type]
        # Written as they are, past Anki's own tidying of tags (which would, e.g., turn the NFD tag into NFC).
        execute(collection, "update notes set tags = ? where id = ?", f" {' '.join(tags)} " if tags else "", note.id)
    yield collection
    collection.close()


def execute(col: Collection, sql: str, *args: str | int) -> None:
    assert col.db is not None
    col.db.execute(sql, *args)


def _same_as_anki(col: Collection) -> None:
    """The same ids in the same order (after an OR, Anki's order follows its query plan: compared as sets)."""
    for query in QUERIES:
        ours = field_index.find_notes(col, query), field_index.find_cards(col, query)
        anki = [int(n) for n in col.find_notes(query)], [int(c) for c in col.find_cards(query)]
        if " or " in query:
            ours, anki = (sorted(ours[0]), sorted(ours[1])), (sorted(anki[0]), sorted(anki[1]))
        assert ours == anki, query


def test_tag_searches_match_ankis(col: Collection) -> None:
    _same_as_anki(col)
    counts = {query: len(col.find_notes(query)) for query in ("tag:skip", "tag:kmeter", "tag:Σ", "tag:a:", "tag:ß")}
    assert counts == {"tag:skip": 3, "tag:kmeter": 1, "tag:Σ": 2, "tag:a:": 1, "tag:ß": 1}  # the cases are real
    for query in QUERIES:
        restricted = field_index._restricted(col, query)
        assert (restricted is None) == (query in FALLBACKS), query


def _bulk_add(col: Collection) -> None:
    col.tags.bulk_add(list(col.find_notes("tag:skipper")), "Added::Here")


def _bulk_remove(col: Collection) -> None:
    col.tags.bulk_remove(list(col.find_notes("tag:skip")), "skip")


def _rename(col: Collection) -> None:
    col.tags.rename("Skip", "Renamed")


def _add_note(col: Collection) -> None:
    note = col.new_note(col.models.by_name("Basic"))  # type: ignore[arg-type]
    note["Front"] = "new"
    note.tags = ["skip::New", "ß"]
    col.add_note(note, 1)  # type: ignore[arg-type]


def _remove_note(col: Collection) -> None:
    col.remove_notes(list(col.find_notes("tag:ß")))


def _raw_sql(col: Collection) -> None:
    # As an add-on writes: a new modification time on the note, but nothing that changes col.mod.
    note_id = col.find_notes("tag:two")[0]
    execute(col, "update notes set tags = ' skip ', mod = ?, usn = -1 where id = ?", int(time.time()), note_id)


CHANGES: dict[str, Callable[[Collection], None]] = {
    "tag added": _bulk_add,
    "tag removed": _bulk_remove,
    "tag renamed": _rename,
    "note added": _add_note,
    "note removed": _remove_note,
    "raw SQL": _raw_sql,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_tag_searches_stay_right_after_a_change(col: Collection, change: Callable[[Collection], None]) -> None:
    _same_as_anki(col)  # builds the index
    change(col)
    _same_as_anki(col)


def test_many_candidates_fall_back_to_ankis_search_unless_few_of_all_notes(
    col: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming notes pays while they are a small part of the collection (``_NOTES_PER_CANDIDATE``)."""
    monkeypatch.setattr(field_index, "MAX_CANDIDATES", 1)
    assert len(NOTE_TAGS) // field_index._NOTES_PER_CANDIDATE == 1
    assert field_index._restricted(col, "tag:skipper") is not None  # one candidate
    assert field_index._restricted(col, "tag:skip") is None  # three
    monkeypatch.setattr(field_index, "_NOTES_PER_CANDIDATE", 5)
    assert field_index._restricted(col, "tag:skip") is not None  # 17 notes // 5
    _same_as_anki(col)
