"""On a synced collection, changed notes are found through Anki's usn index, even where SQLite would not use it.

Check Database leaves statistics; taken when every note had one usn (a collection synced once), they make
SQLite read every note for ``usn = -1``. The tests run on such a collection and check the plan SQLite made for
each query the code ran: whether it reads the whole notes table.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from anki.collection import AddNoteRequest, Collection
from query_plans import RecordingQueries

from ankiconnect_live import note_log
from ankiconnect_live.actions import field_index
from ankiconnect_live.events.changes import ChangeDetector
from ankiconnect_live.local_changes import few_pending, notes_by_usn

NOTES = 400
"""Enough for SQLite to prefer reading every note over an index it believes matches all of them."""


@pytest.fixture
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    """Notes all marked synced (usn 0), with statistics taken then."""
    col = Collection(os.path.join(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()), "collection.anki2"))
    model = col.models.by_name("Basic")
    assert model is not None and col.db is not None
    requests = []
    for i in range(NOTES):
        note = col.new_note(model)
        note["Front"], note["Back"] = f"word{i}", "back"
        requests.append(AddNoteRequest(note, 1))  # type: ignore[arg-type]
    col.add_notes(requests)
    col.db.execute("update notes set usn = 0")
    col.db.execute("update cards set usn = 0")
    col.db.execute("analyze")
    try:
        yield col
    finally:
        col.close()


def test_the_statistics_would_have_sqlite_read_every_note(synced: Collection) -> None:
    db = synced.db
    plan = db.all("explain query plan select flds from notes where usn = -1")  # type: ignore[union-attr]
    assert [row[3] for row in plan] == ["SCAN notes"]
    forced = db.all(f"explain query plan select flds from {notes_by_usn(db)} where usn = -1")  # type: ignore[union-attr]
    assert [row[3] for row in forced] == ["SEARCH notes USING INDEX ix_notes_usn (usn=?)"]


def test_few_pending_counts_the_notes_changed_since_the_sync(synced: Collection) -> None:
    db = synced.db
    assert few_pending(db, NOTES)
    db.execute("update notes set usn = -1 where id in (select id from notes limit ?)", NOTES // 10)  # type: ignore[union-attr]
    assert not few_pending(db, NOTES)


def test_the_field_index_finds_edits_through_the_usn_index(synced: Collection) -> None:
    def same_as_anki(query: str) -> None:
        assert sorted(field_index.find_notes(synced, query)) == sorted(synced.find_notes(query)), query

    same_as_anki("front:word3")  # builds the index
    recording = RecordingQueries(synced)
    edited = synced.get_note(synced.find_notes("front:word5")[0])
    edited["Front"] = "word3"
    synced.update_note(edited)  # Anki marks it usn -1
    added = synced.new_note(synced.models.by_name("Basic"))  # type: ignore[arg-type]
    added["Front"] = "word3"
    synced.add_note(added, 1)  # type: ignore[arg-type]
    for query in ("front:word3", "front:word5", "front:word7"):
        same_as_anki(query)
    assert {edited.id, added.id} <= set(field_index.find_notes(synced, "front:word3"))
    # A sync writes notes as edited elsewhere: with the server's usn, dated then.
    from_server = int(synced.find_notes("front:word7")[0])
    synced.db.execute("update notes set flds = ?, mod = 1000, usn = 7 where id = ?", "word3\x1fb", from_server)  # type: ignore[union-attr]
    same_as_anki("front:word3")
    assert from_server in field_index.find_notes(synced, "front:word3")
    assert recording.queries and recording.whole_table_reads() == []


def test_the_change_scan_finds_edits_through_the_usn_index(synced: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(note_log, "install", lambda col: False)  # as on a connection without the log
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(synced)
    recording = RecordingQueries(synced)
    note = synced.get_note(synced.find_notes("front:word2")[0])
    note["Front"] = "edited"
    changes = synced.update_note(note)
    detector.scan(synced, changes)
    assert [(name, data["noteId"], data["sortField"]) for name, data in events if name.startswith("note.")] == [
        ("note.updated", note.id, "edited")
    ]
    assert recording.queries and recording.whole_table_reads() == []


def test_the_change_scan_reads_every_note_once_most_carry_local_changes(
    synced: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A big import before the next sync: the index would find most notes, one by one. (Where the connection
    # has no log of the notes written, note_log.py.)
    monkeypatch.setattr(note_log, "install", lambda col: False)
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(synced)
    synced.db.execute("update notes set usn = -1 where id in (select id from notes limit ?)", NOTES // 2)  # type: ignore[union-attr]
    recording = RecordingQueries(synced)
    note = synced.get_note(synced.find_notes("front:word2")[0])
    note["Front"] = "edited"
    detector.scan(synced, synced.update_note(note))
    assert [data["noteId"] for name, data in events if name == "note.updated"] == [note.id]
    assert len(recording.whole_table_reads()) == 1


def test_the_schema_is_asked_once_per_connection(synced: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    db = synced.db
    asked: list[str] = []
    scalar = db.scalar  # type: ignore[union-attr]

    def recording(sql: str, *args: Any) -> Any:
        if "sqlite_master" in sql:
            asked.append(sql)
        return scalar(sql, *args)

    monkeypatch.setattr(db, "scalar", recording)
    assert [notes_by_usn(db) for _ in range(3)] == ["notes indexed by ix_notes_usn"] * 3
    assert few_pending(db, NOTES)
    assert len(asked) == 1


def test_without_the_usn_index_the_table_is_read_as_it_is(tmp_path_factory: pytest.TempPathFactory) -> None:
    col = Collection(os.path.join(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()), "collection.anki2"))
    try:
        col.db.execute("drop index ix_notes_usn")  # type: ignore[union-attr]
        assert notes_by_usn(col.db) == "notes"
        assert few_pending(col.db, 0)
    finally:
        col.close()
