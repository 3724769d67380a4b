"""Exact field searches answered from the field index give exactly Anki's own results."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from hypothesis import given, settings
from search_strategies import searches

from ankiconnect_live import local_changes, note_log
from ankiconnect_live.actions import field_index
from ankiconnect_live.actions.note_sets import Notes, file_note, gather
from ankiconnect_live.actions.search_query import Term, bounded_notes
from ankiconnect_live.pacing import pacing

VALUES = [
    "word",
    "WORD",
    "Word",
    "<b>word</b>",
    "word ",
    " word",
    "wörd",
    "WÖRD",
    "ß",
    "SS",
    "fi",
    "ﬁ",
    "",
    "w*rd",
    "a\tb",
    "a",
    "one word",
]
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
    # OR lists and groups of exact terms, alone or with other terms:
    "front:word OR front:ss",
    "front:word or front:ss or front:fi",
    '("front:word" Or "front:ß") "deck:Other"',
    "(front:word)",
    "note:Basic (front:word or back:word)",
    "(front:word or (front:ss tag:skip)) -tag:skip",
    "front:word AND front:ss",
    "front:word and front:WORD",
    "-(front:word or front:ss) front:word",
    "front:word -front:ss",
    'front:"one word"',
    '"front:one word"',
    "front:word\u3000front:WORD",
    "front:a\tb",
    # These fall back to Anki's own full search (wildcards, OR with a wider term, negation, regex, keywords):
    "front:wo*",
    "front:w_rd",
    "front:word or deck:Other",
    "-front:word",
    '"front:re:^w"',
    "front:",
    "word",
    "w:word",
    "re:word",
    "nc:word",
    "sc:word",
    "did:1",
    "W:word",
    "nosuchfield:word",
    '"-front:word"',
]


@pytest.fixture(params=["read", "logged"])
def col(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Collection]:
    """Changed notes found by reading the notes table, or from the connection's log of notes written."""
    yield from _collection(tmp_path_factory, logged=request.param == "logged")


@pytest.fixture(scope="module")
def shared_col(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    """The same notes, for tests that only search (Hypothesis runs many examples on one collection)."""
    yield from _collection(tmp_path_factory)


def _collection(tmp_path_factory: pytest.TempPathFactory, *, logged: bool = False) -> Iterator[Collection]:
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
    # A note type whose fields are named like search keywords: "w:word" must still mean Anki's word search.
    keyed = collection.models.new("Keyed")
    for name in ("W", "Did", "Front"):
        collection.models.add_field(keyed, collection.models.new_field(name))
    template = collection.models.new_template("Card 1")
    template["qfmt"], template["afmt"] = "{{W}}", "{{Front}}"
    collection.models.add_template(keyed, template)
    collection.models.add(keyed)
    note = collection.new_note(keyed)
    note["W"], note["Did"], note["Front"] = "word", "1", "one word"
    collection.add_note(note, 1)  # type: ignore[arg-type]
    if logged:  # opened again, as a server starts: nothing to undo, so the log can begin
        collection.close()
        collection = Collection(path)
        assert note_log.install(collection)
    yield collection
    collection.close()


def _same_as_anki(col: Collection, query: str) -> None:
    """The same ids as Anki's own search; in the same order too, unless the query has an OR or its notes are of
    several note types (Anki's order then follows its query plan: one branch after another, one note type
    after another; answered from the index, they come in id order)."""
    notes, cards = field_index.find_notes(col, query), field_index.find_cards(col, query)
    anki_notes, anki_cards = [int(n) for n in col.find_notes(query)], [int(c) for c in col.find_cards(query)]
    types = {col.get_note(n).mid for n in anki_notes}  # type: ignore[arg-type]
    if " or " in query.lower() or len(types) > 1:
        notes, cards, anki_notes, anki_cards = sorted(notes), sorted(cards), sorted(anki_notes), sorted(anki_cards)
    assert (notes, cards) == (anki_notes, anki_cards), query


def _check_all(col: Collection) -> None:
    for query in QUERIES:
        _same_as_anki(col, query)
    # ... and the bounded ones really run on the index's candidates only.
    for query in (
        "front:word",
        '"deck:Other" "front:word"',
        "front:word or front:ss",
        "(front:word or front:fi) -tag:x",
    ):
        assert field_index._restricted(col, query) is not None, query
    for query in ("w:word", "front:word or deck:Other", "nosuchfield:word", "front:wo*"):
        assert field_index._restricted(col, query) is None, query


def test_results_match_ankis_search(col: Collection) -> None:
    _check_all(col)


def test_results_match_when_the_index_reads_notes_a_few_at_a_time(
    col: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(field_index, "BUILD_ROWS", 3)  # its 34 Basic notes take 12 reads
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


def test_results_stay_right_after_an_import_of_older_notes(col: Collection, tmp_path: Path) -> None:
    # An imported deck keeps its notes' own ids and dates: older than every note the index has seen.
    from anki.collection import ExportAnkiPackageOptions, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    source = Collection(str(tmp_path / "source.anki2"))
    note = source.new_note(source.models.by_name("Basic"))  # type: ignore[arg-type]
    note["Front"] = "word"
    source.add_note(note, 1)  # type: ignore[arg-type]
    for sql in ("update notes set id = 1000, mod = 1000", "update cards set id = 1001, nid = 1000, mod = 1000"):
        source.db.execute(sql)  # type: ignore[union-attr]
    package = str(tmp_path / "older.apkg")
    options = ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, with_media=False, legacy=False)
    source.export_anki_package(out_path=package, options=options, limit=None)
    source.close()
    _check_all(col)  # builds the index
    col.import_anki_package(ImportAnkiPackageRequest(package_path=package, options=ImportAnkiPackageOptions()))
    assert 1000 in col.find_notes("front:word")
    _check_all(col)


def test_results_stay_right_after_a_sync_brings_older_edits(col: Collection) -> None:
    # A sync writes notes as edited elsewhere: dated then, and marked with the sync's usn.
    _check_all(col)  # builds the index
    synced = int(col.find_notes("front:fi")[0])
    col.db.execute("update notes set flds = ?, mod = 1000, usn = 7 where id = ?", "word\x1f", synced)  # type: ignore[union-attr]
    col.set_config("bump", 1)  # what a sync does to the collection's modification time
    assert synced in col.find_notes("front:word")
    _check_all(col)


def test_results_stay_right_after_an_add_on_writes_with_raw_sql(col: Collection) -> None:
    """An add-on's raw SQL dates the note but leaves col.mod alone: SQLite's change count tells the index."""
    _check_all(col)  # builds the index
    edited = int(col.find_notes("front:fi")[0])
    mod = col.mod
    sql = "update notes set flds = ?, mod = ?, usn = -1 where id = ?"
    col.db.execute(sql, "word\x1f", int(time.time()), edited)  # type: ignore[union-attr]
    assert col.mod == mod and edited in col.find_notes("front:word")
    _check_all(col)


def test_only_queries_bounded_by_exact_field_terms_take_the_shortcut() -> None:
    def bound(query: str) -> set[int] | None:
        return bounded_notes(query, lambda term: {1} if term.value == "a" else {2})

    for query in ('"deck:X" "Front:a"', "front:a or front:b", "(front:a or front:b) tag:x", "front:a -front:b"):
        assert bound(query) is not None, query
    assert bound("front:a or front:b") == {1, 2} and bound("front:a front:b") == set()
    looked_up: list[str] = []

    def recording(term: Term) -> set[int]:
        looked_up.append(term.value)
        return {1}

    assert bounded_notes("front:a or deck:x", recording) is None
    assert looked_up == []  # an unbounded shape costs no lookup
    for query in (
        "front:wo*",
        "front:w_rd",
        "a OR front:b",
        "-front:b",
        "front:re:x",
        "deck:x",
        "x",
        "w:a",
        "front:a\\",
        "(front:a",
        "front:a or",
        "or front:a",
        "front:a - x",
        "()",
    ):
        assert bound(query) is None, query


_QUERY = searches(
    [
        "front:word",
        "front:ss",
        '"front:one word"',
        "back:word",
        "front:a\tb",
        "w:word",
        "tag:skip",
        "tag:SKIP",
        "tag:skip::x",
        "tag:sk*",
        "deck:Other",
        "word",
        "front:wo*",
        "-front:word",
        "front:",
        "FRONT:Word",
        "front:ß",
        "is:new",
    ]
)


@settings(max_examples=150, deadline=None)
@given(query=_QUERY)
def test_any_combination_gets_exactly_ankis_results(shared_col: Collection, query: str) -> None:
    _same_as_anki(shared_col, query)


def test_field_names_match_in_any_case_unicode_letters_too(col: Collection) -> None:
    for model_name, field_name in (("Lower", "fröbel"), ("Upper", "FRÖBEL")):
        model = col.models.new(model_name)
        col.models.add_field(model, col.models.new_field(field_name))
        template = col.models.new_template("Card 1")
        template["qfmt"], template["afmt"] = f"{{{{{field_name}}}}}", "-"
        col.models.add_template(model, template)
        col.models.add(model)
        note = col.new_note(col.models.by_name(model_name))  # type: ignore[arg-type]
        note[field_name] = "word"
        col.add_note(note, 1)  # type: ignore[arg-type]
    for query in ("fröbel:word", "Fröbel:WORD", "fröbel:word or front:word"):
        _same_as_anki(col, query)
    assert len(field_index.find_notes(col, "fröbel:word")) == 2


def test_a_bad_query_still_gets_ankis_error(col: Collection) -> None:
    from anki.errors import SearchError

    with pytest.raises(SearchError):
        field_index.find_notes(col, 'front:word "unterminated')


def test_a_value_in_one_note_is_kept_as_its_id() -> None:
    """``note_sets``: sets only where a value is in several notes (200k one-note sets: 40 MB more)."""
    index: dict[str, Notes] = {}
    file_note(index, "a", 1)
    file_note(index, "a", 1)  # the same note filed again (an edit that kept the value)
    assert index == {"a": 1}
    file_note(index, "a", 2)
    file_note(index, "b", 3)
    assert index == {"a": {1, 2}, "b": 3}
    found: set[int] = set()
    for key in ("a", "b", "missing"):
        gather(found, index.get(key))
    assert found == {1, 2, 3}


def test_runs_of_spaces_of_either_kind_separate_terms_as_one_space_does() -> None:
    def bound(query: str) -> set[int] | None:
        return bounded_notes(query, lambda term: {1} if term.value == "a" else {2})

    wide = " \u3000 \u3000\u3000 " * 1000
    for query in ("front:a front:b", "front:a or front:b", "(front:a or front:b) -front:a", "front:a -(front:b)"):
        assert bound(query.replace(" ", wide)) == bound(query), query
        assert bound(wide + query + wide) == bound(query), query


def test_results_stay_right_when_the_refresh_reads_every_note_in_steps(
    col: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inside Anki (pacing on) a pass over every note goes a few notes per statement.
    monkeypatch.setattr(local_changes, "PASS_ROWS", 3)
    _check_all(col)  # builds the index
    ids = sorted(int(note_id) for note_id in col.find_notes(""))
    for position in (0, 2, 3, len(ids) // 2, len(ids) - 1):
        note = col.get_note(ids[position])  # type: ignore[arg-type]
        note["Front"] = "word"
        col.update_note(note)
    steps: list[str] = []
    scalar = col.db.scalar  # type: ignore[union-attr]

    def recording(sql: str, *args: Any) -> Any:
        if sql.startswith("select max(id) from (select id from notes"):
            steps.append(sql)
        return scalar(sql, *args)

    monkeypatch.setattr(col.db, "scalar", recording)
    with pacing():
        _check_all(col)
    if note_log.installed(col.db):
        assert steps == []  # the log names the notes written: no pass at all
    else:
        assert len(steps) == -(-len(ids) // 3) + 1  # every note, three at a time, then the end
