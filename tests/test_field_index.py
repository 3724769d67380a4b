"""Exact field searches answered from the field index give exactly Anki's own results."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from anki.collection import Collection

from ankiconnect_live.actions import field_index
from ankiconnect_live.actions.field_index import field_term

VALUES = ["word", "WORD", "Word", "<b>word</b>", "word ", " word", "wörd", "WÖRD", "ß", "SS", "fi", "ﬁ", "", "w*rd"]
QUERIES = [
    "front:word",
    "FRONT:word",
    '"front:word"',
    '"front:word "',
    "front:wörd",
    "front:WÖRD",
    "front:ss",
    "front:fi",
    "back:word",
    '"deck:Default" "front:word"',
    '"deck:Other" "front:word"',
    "front:word -tag:skip",
    "front:word tag:skip",
    "front:word is:new",
    "note:Basic front:word",
    # These fall back to Anki's own full search (wildcards, OR, groups, negation, regex):
    "front:wo*",
    "front:w_rd",
    "front:word OR front:ss",
    "(front:word)",
    "-front:word",
    '"front:re:^w"',
    "front:",
    "word",
]


@pytest.fixture
def col(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    path = os.path.join(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()), "collection.anki2")
    collection = Collection(path)
    other = collection.decks.id("Other")
    assert other is not None
    model = collection.models.by_name("Basic")
    assert model is not None
    for index, value in enumerate(VALUES):
        for deck in (1, other):
            note = collection.new_note(model)
            note["Front"], note["Back"] = value, VALUES[-index - 1]
            note.tags = ["skip"] if index % 3 == 0 else []
            collection.add_note(note, deck)  # type: ignore[arg-type]
    yield collection
    collection.close()


def _check_all(col: Collection) -> None:
    for query in QUERIES:
        assert field_index.find_notes(col, query) == [int(n) for n in col.find_notes(query)], query
        assert field_index.find_cards(col, query) == [int(c) for c in col.find_cards(query)], query


def test_results_match_ankis_search(col: Collection) -> None:
    _check_all(col)


def test_results_stay_right_after_adds_edits_and_deletes(col: Collection) -> None:
    _check_all(col)  # builds the index
    model = col.models.by_name("Basic")
    assert model is not None
    added = col.new_note(model)
    added["Front"] = "WoRd"
    col.add_note(added, 1)  # type: ignore[arg-type]
    edited = col.get_note(col.find_notes("front:ß")[0])
    edited["Front"] = "word"
    col.update_note(edited)
    changed_away = col.get_note(col.find_notes("front:Word")[0])
    changed_away["Front"] = "something else"
    col.update_note(changed_away)
    col.remove_notes([col.find_notes("front:SS")[0]])
    _check_all(col)


def test_only_plain_field_terms_take_the_shortcut() -> None:
    assert field_term('"deck:X" "Front:word"') == field_index.FieldTerm("Front", "word")
    for query in ("front:wo*", "front:w_rd", "a OR front:b", "(front:b)", "-front:b", "front:re:x", "deck:x", "x"):
        assert field_term(query) is None, query


def test_a_bad_query_still_gets_ankis_error(col: Collection) -> None:
    from anki.errors import SearchError

    with pytest.raises(SearchError):
        field_index.find_notes(col, 'front:word "unterminated')
