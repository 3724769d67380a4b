"""The log of notes written (``note_log.py``): what it records, that it stays out of the collection file and
never costs an undo step, and that the change scan and the field index find changed notes through it without
reading every note of a collection never synced."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from anki.notes import NoteId
from note_log_support import add, edit
from query_plans import RecordingQueries
from support import HttpApiClient, basic_note

from ankiconnect_live import note_log
from ankiconnect_live.actions import field_index
from ankiconnect_live.events.changes import ChangeDetector


def _objects(db: Any, table: str) -> list[str]:
    return sorted(db.list(f"select name from {table} where name like 'ankiconnect_live%'"))


def test_the_log_lives_in_the_connection_not_in_the_file(opened: Collection, collection_path: Path) -> None:
    assert note_log.install(opened)
    assert _objects(opened.db, "sqlite_temp_master") == [
        note_log.TABLE,
        f"{note_log.TABLE}_delete",
        f"{note_log.TABLE}_insert",
        f"{note_log.TABLE}_replace",
        f"{note_log.TABLE}_trim",
        f"{note_log.TABLE}_update",
    ]
    assert _objects(opened.db, "sqlite_master") == []
    opened.close()
    with sqlite3.connect(collection_path) as raw:
        assert raw.execute("select count() from sqlite_master where name like 'ankiconnect_live%'").fetchone() == (0,)
    opened.reopen()
    assert not note_log.installed(opened.db)
    assert note_log.written_since(opened.db, "n.id", 0) is None
    assert _objects(opened.db, "sqlite_temp_master") == []


def test_it_is_set_up_only_while_nothing_could_be_undone_or_redone(opened: Collection) -> None:
    add(opened, "to undo")
    assert not note_log.install(opened)
    assert opened.undo_status().undo  # still there
    opened.undo()
    assert not note_log.install(opened)
    assert opened.undo_status().redo
    assert not note_log.installed(opened.db)


def test_each_note_written_is_named_once_in_the_order_of_its_latest_write(opened: Collection) -> None:
    assert note_log.install(opened)
    db: Any = opened.db
    start = note_log.newest(db)
    first, second = add(opened, "first"), add(opened, "second")
    edit(opened, first, "first, edited")
    tagged, synced, gone = (int(i) for i in opened.find_notes("front:word1*")[:3])
    opened.tags.bulk_add([NoteId(tagged)], "a-tag")
    edit(opened, gone, "edited, then deleted")
    opened.remove_notes([NoteId(gone)])
    db.execute("update notes set usn = 5 where id = ?", synced)  # as a sync marks a note synced: no entry
    db.execute("update notes set flds = flds, mod = mod where id = ?", synced)  # nothing changed: no entry
    found = note_log.written_since(db, "n.id, n.tags", start)
    assert found is not None
    rows, added, deleted, newest = found
    assert [row[0] for row in rows] == [second, first, tagged]
    assert rows[2][1].split() == ["a-tag"]
    assert added == {first, second}
    assert deleted == [gone]
    assert newest == note_log.newest(db) == start + 6  # the deleted note's entries count, and are passed
    assert note_log.written_since(db, "n.id", newest) == ([], set(), [], newest)


def test_a_change_rolled_back_leaves_no_entry(opened: Collection) -> None:
    assert note_log.install(opened)
    db: Any = opened.db
    start = note_log.newest(db)

    def failing() -> None:
        db.execute("update notes set flds = 'x', mod = mod + 1")
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        db.transact(failing)
    assert note_log.written_since(db, "n.id", start) == ([], set(), [], start)
    assert opened.find_notes("front:x") == []


def test_the_change_scan_reads_only_the_notes_written(opened: Collection) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(opened)
    assert note_log.installed(opened.db)
    recording = RecordingQueries(opened)
    edited = int(opened.find_notes("front:word7")[0])
    changes = edit(opened, edited, "edited")
    assert not detector.reads_many_notes(opened, changes, "api")
    detector.scan(opened, changes)
    added = add(opened, "added")
    detector.scan(opened)
    assert [(name, data["noteId"], data["sortField"]) for name, data in events if name.startswith("note.")] == [
        ("note.updated", edited, "edited"),
        ("note.added", added, "added"),
    ]
    assert recording.queries and recording.whole_table_reads() == []


def test_the_change_scan_still_tells_a_second_edit_within_one_second(opened: Collection) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(opened)
    note_id = int(opened.find_notes("front:word3")[0])
    for front in ("once", "twice"):
        detector.scan(opened, edit(opened, note_id, front))
    detector.scan(opened)  # nothing new
    assert [data["sortField"] for name, data in events if name == "note.updated"] == ["once", "twice"]


def _reopened_with_a_detector(col: Collection) -> tuple[list[tuple[str, dict[str, Any]]], ChangeDetector]:
    """A detector that saw the collection open, then the collection opened again (a new connection)."""
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(col)
    col.close_for_full_sync()
    col.reopen(after_full_sync=True)
    return events, detector


def test_a_collection_opened_again_is_read_whole_once_then_through_a_new_log(opened: Collection) -> None:
    # A full sync replaces the collection file: its connection, and the log with it, are new. The scan after
    # the sync reads every note, and starts a log on the new connection (nothing to undo yet).
    events, detector = _reopened_with_a_detector(opened)
    recording = RecordingQueries(opened)
    detector.scan(opened, source="sync")
    assert len(recording.whole_table_reads()) == 1
    assert note_log.installed(opened.db)
    recording.queries.clear()
    edited = int(opened.find_notes("front:word2")[0])
    detector.scan(opened, edit(opened, edited, "through the new log"))
    assert recording.queries and recording.whole_table_reads() == []
    assert [(data["noteId"], data["sortField"]) for name, data in events if name == "note.updated"] == [
        (edited, "through the new log")
    ]


def test_without_a_log_edits_are_still_found(opened: Collection) -> None:
    # Opened again with a step to undo already (the log would cost it): notes are read as before.
    events, detector = _reopened_with_a_detector(opened)
    edited = int(opened.find_notes("front:word2")[0])
    changes = edit(opened, edited, "without a log")
    assert detector.reads_many_notes(opened, changes, "api")
    detector.scan(opened, changes)
    assert not note_log.installed(opened.db)
    assert opened.undo_status().undo
    assert [(data["noteId"], data["sortField"]) for name, data in events if name == "note.updated"] == [
        (edited, "without a log")
    ]


def test_the_field_index_files_what_the_log_names(opened: Collection) -> None:
    def same_as_anki(query: str) -> list[int]:
        found = sorted(field_index.find_notes(opened, query))
        assert found == sorted(int(i) for i in opened.find_notes(query)), query
        return found

    assert note_log.install(opened)
    same_as_anki("front:word3")  # builds the index
    recording = RecordingQueries(opened)
    edited = int(opened.find_notes("front:word5")[0])
    edit(opened, edited, "word3")
    added = add(opened, "word3")
    # Written as a sync or an import writes notes: dated long ago, with the server's usn.
    old = int(opened.find_notes("front:word9")[0])
    opened.db.execute("update notes set flds = ?, mod = 1000, usn = 7 where id = ?", "word3\x1fb", old)  # type: ignore[union-attr]
    assert {edited, added, old} <= set(same_as_anki("front:word3"))
    assert same_as_anki("front:word5") == []
    assert recording.queries and recording.whole_table_reads() == []


def test_the_server_starts_the_log_as_it_opens_the_collection(start_server: Any) -> None:
    server = start_server()
    assert server.on_collection(lambda col: note_log.installed(col.db))
    client = HttpApiClient(server.port)
    added = client.invoke("addNote", note=basic_note("logged"))
    client.close()
    assert server.on_collection(lambda col: note_log.written_since(col.db, "n.id", 0)) == ([[added]], {added}, [], 1)


def test_in_steps_the_log_gives_what_one_statement_gives(opened: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(note_log, "PASS_ROWS", 3)
    assert note_log.install(opened)
    db: Any = opened.db
    start = note_log.newest(db)
    ids = [int(i) for i in opened.find_notes("front:word1*")]
    for note_id in ids:
        edit(opened, note_id, f"edited {note_id}")
    edit(opened, ids[4], "edited again")  # its entry moves to the end
    opened.remove_notes([NoteId(ids[7])])
    statements: list[str] = []
    all_rows = db.all

    def counting(sql: str, *args: Any) -> Any:
        statements.append(sql)
        return all_rows(sql, *args)

    monkeypatch.setattr(db, "all", counting)
    in_steps = note_log.written_since(db, "n.id, n.sfld", start, in_steps=True)
    assert len(statements) == -(-(len(ids) + 1) // 3)
    assert in_steps == note_log.written_since(db, "n.id, n.sfld", start)
    assert in_steps is not None
    expected = [i for i in ids if i not in (ids[4], ids[7])] + [ids[4]]
    assert [row[0] for row in in_steps[0]] == expected


def test_a_scan_of_many_notes_written_counts_as_many(opened: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Inside Anki such a scan runs on the collection thread, in steps (addon/gui_events.py).
    monkeypatch.setattr("ankiconnect_live.events.changes.PASS_ROWS", 10)
    detector = ChangeDetector(lambda name, data: None)
    detector.baseline(opened)
    ids = [int(i) for i in opened.find_notes("")]
    for count, note_id in enumerate(ids[:11], start=1):
        changes = edit(opened, note_id, "edited")
        assert detector.reads_many_notes(opened, changes, "api") == (count > 10)
    detector.scan(opened, changes)
    assert not detector.reads_many_notes(opened, changes, "api")
    # Deleting a deck deletes its notes, and an Anki may say only that decks changed.
    from anki.collection import OpChanges

    deck = opened.decks.id("Doomed")
    assert deck is not None
    opened.set_deck([card for note_id in ids[:11] for card in opened.card_ids_of_note(note_id)], deck)  # type: ignore[arg-type]
    opened.decks.remove([deck])
    changes = OpChanges(deck=True)
    assert detector.reads_many_notes(opened, changes, "api")
    detector.scan(opened, changes)
    assert not detector.reads_many_notes(opened, changes, "api")


def test_a_reader_that_fell_too_far_behind_is_told(opened: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ten entries kept at least, the oldest going at every fifth: a reader after them must read another way.
    monkeypatch.setattr(note_log, "KEEP", 10)
    assert note_log.install(opened)
    db: Any = opened.db
    ids = [int(i) for i in opened.find_notes("")][:36]
    for note_id in ids[:20]:
        edit(opened, note_id, "edited")
    assert db.list(f"select rowid from temp.{note_log.TABLE}") == list(range(11, 21))
    found = note_log.written_since(db, "n.id", 10)
    assert found is not None and [row[0] for row in found[0]] == ids[10:20]
    assert note_log.written_since(db, "n.id", 9) is None  # entry 10 is gone
    # The change scan then reads every note, once.
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(opened)
    for note_id in ids[20:36]:
        edit(opened, note_id, "edited later")
    recording = RecordingQueries(opened)
    detector.scan(opened)
    assert len(recording.whole_table_reads()) == 1
    assert sorted(data["noteId"] for name, data in events if name == "note.updated") == sorted(ids[20:36])


def test_the_field_index_reads_another_way_once_when_the_log_is_too_short(
    opened: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(note_log, "KEEP", 10)
    assert note_log.install(opened)
    assert sorted(field_index.find_notes(opened, "front:word3")) == [int(i) for i in opened.find_notes("front:word3")]
    ids = [int(i) for i in opened.find_notes("front:word1*")]
    for note_id in ids[:16]:
        edit(opened, note_id, "word3")
    recording = RecordingQueries(opened)
    assert sorted(field_index.find_notes(opened, "front:word3")) == sorted(
        int(i) for i in opened.find_notes("front:word3")
    )
    assert len(recording.whole_table_reads()) == 1
    recording.queries.clear()
    edit(opened, ids[16], "word3")
    assert ids[16] in field_index.find_notes(opened, "front:word3")
    assert recording.queries and recording.whole_table_reads() == []


def test_notes_inserted_over_a_note_of_their_id_are_not_new(opened: Collection) -> None:
    # How a sync writes notes (insert or replace), and how an import skips a note it already has (or ignore).
    assert note_log.install(opened)
    db: Any = opened.db
    start = note_log.newest(db)
    replaced, copied, ignored = (int(i) for i in opened.find_notes("front:word2*")[:3])
    new_id = db.scalar("select max(id) + 1000 from notes")
    columns = "guid, mid, mod, usn, tags, flds, sfld, csum, flags, data"
    db.execute(f"insert or replace into notes select id, {columns} from notes where id = ?", replaced)
    db.execute(f"insert or replace into notes select ?, {columns} from notes where id = ?", new_id, copied)
    db.execute(f"insert or ignore into notes select id, {columns} from notes where id = ?", ignored)
    added = add(opened, "added, then edited")
    edit(opened, added, "edited after being added")
    found = note_log.written_since(db, "n.id", start)
    assert found is not None
    assert [row[0] for row in found.rows] == [replaced, new_id, added]
    assert found.added == {new_id, added}


def test_triggers_gone_are_noticed_and_set_up_again(opened: Collection) -> None:
    # Were the notes table ever dropped and rebuilt, its triggers would go with it.
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(opened)
    db: Any = opened.db
    db.execute(f"drop trigger temp.{note_log.TABLE}_update")
    first, second = (int(i) for i in opened.find_notes("front:word8*")[:2])
    db.execute("update notes set flds = 'unlogged' || char(31), sfld = 'unlogged', mod = mod + 1 where id = ?", first)
    assert note_log.written_since(db, "n.id", 0) is None
    recording = RecordingQueries(opened)
    detector.scan(opened)  # found by date, and the triggers are set up again (nothing to undo)
    assert len(recording.whole_table_reads()) == 1
    recording.queries.clear()
    detector.scan(opened, edit(opened, second, "logged again"))
    assert recording.queries and recording.whole_table_reads() == []
    assert [(data["noteId"], data["sortField"]) for name, data in events if name == "note.updated"] == [
        (first, "unlogged"),
        (second, "logged again"),
    ]


def test_check_database_leaves_the_log_working(opened: Collection) -> None:
    # Check Database rewrites what it must fix, and vacuums and analyses the file.
    assert note_log.install(opened)
    db: Any = opened.db
    start = note_log.newest(db)
    _, ok = opened.fix_integrity()
    assert ok
    note_id = int(opened.find_notes("front:word9")[0])
    edit(opened, note_id, "after the check")
    found = note_log.written_since(db, "n.id, n.sfld", start)
    assert found is not None and found.rows[-1] == [note_id, "after the check"]
