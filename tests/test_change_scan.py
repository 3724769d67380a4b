"""What the change scan and the field index read after a change, on a collection imported all at once.

A deck imported in one go has all its notes modified in the same second. Both the event scan and the
field index used to take "the newest mod seen" as where to read from, and so re-read every such note after
any change: on 200k notes, 4 MB decoded while holding the GIL (Anki's window frozen for 100 ms). They now
read only what changed, and still tell apart two edits of one note within one second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ankiconnect_live import local_changes, note_log
from ankiconnect_live.actions import field_index
from ankiconnect_live.events.changes import ChangeDetector

IMPORTED = 300


class CountingRows:
    """Wraps ``col.db.all`` to record how many rows each query returned."""

    def __init__(self, col: Any) -> None:
        self.queries: list[tuple[str, int]] = []
        self._all = col.db.all
        col.db.all = self

    def __call__(self, sql: str, *args: Any) -> Any:
        rows = self._all(sql, *args)
        self.queries.append((sql, len(rows)))
        return rows

    def rows_from_notes(self) -> int:
        return sum(count for sql, count in self.queries if " from notes" in sql or note_log.TABLE in sql)


@pytest.fixture
def imported(collection_path: Path) -> Iterator[Any]:
    """A collection of notes that all carry one modification time, a minute ago (a deck imported at once)."""
    from anki.collection import AddNoteRequest, Collection

    col = Collection(str(collection_path))
    model = col.models.by_name("Basic")
    deck_id = col.decks.id_for_name("Default")
    assert model is not None and deck_id is not None and col.db is not None
    requests = []
    for i in range(IMPORTED):
        note = col.new_note(model)
        note["Front"] = f"imported {i}"
        requests.append(AddNoteRequest(note, deck_id))
    col.add_notes(requests)
    col.db.execute("update notes set mod = ?", int(time.time()) - 60)
    try:
        yield col
    finally:
        col.close()


def add_note(col: Any, front: str) -> int:
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"] = front
    col.add_note(note, col.decks.id_for_name("Default") or 1)
    return int(note.id)


def test_a_change_after_an_import_reads_only_what_changed(imported: Any) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(imported)
    counting = CountingRows(imported)
    new_id = add_note(imported, "new")
    detector.scan(imported)
    assert [(name, data["noteId"]) for name, data in events if name.startswith("note.")] == [("note.added", new_id)]
    assert counting.rows_from_notes() == 1


def test_two_edits_of_one_note_in_one_second_are_two_events(imported: Any) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(imported)
    note_id = add_note(imported, "first")
    detector.scan(imported)
    note = imported.get_note(note_id)
    note["Front"] = "second"
    imported.update_note(note)
    detector.scan(imported)
    detector.scan(imported)  # nothing new: nothing published
    notes = [(name, data["noteId"], data["sortField"]) for name, data in events if name.startswith("note.")]
    assert notes == [("note.added", note_id, "first"), ("note.updated", note_id, "second")]


def test_an_edit_of_an_imported_note_is_reported(imported: Any) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(imported)
    note_id = int(imported.find_notes("")[0])
    note = imported.get_note(note_id)
    note["Front"] = "edited"
    imported.update_note(note)
    detector.scan(imported)
    assert [(name, data["noteId"]) for name, data in events if name.startswith("note.")] == [("note.updated", note_id)]


def test_the_field_index_refresh_reads_only_what_changed(imported: Any) -> None:
    assert field_index.find_notes(imported, '"Front:imported 7"') == list(imported.find_notes('"Front:imported 7"'))
    counting = CountingRows(imported)
    new_id = add_note(imported, "imported 7")
    found = field_index.find_notes(imported, '"Front:imported 7"')
    assert sorted(found) == sorted(imported.find_notes('"Front:imported 7"'))
    assert new_id in found
    assert counting.rows_from_notes() == 1


def test_a_sync_reports_notes_edited_elsewhere_before_the_last_scan(imported: Any) -> None:
    # A sync writes notes as they were edited on another device: dated then, not now. Its scan reads from
    # the newest mod before the sync, as local scans (which read from the last second scanned) cannot.
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(imported)
    detector.scan(imported)  # a scan now: local scans read from here on
    detector.sync_starting(imported)
    remote = int(imported.find_notes("")[3])
    imported.db.execute(
        "update notes set flds = ?, sfld = ?, mod = ?, usn = 5 where id = ?",
        "from elsewhere\x1f",
        "from elsewhere",
        int(time.time()) - 30,
        remote,
    )
    detector.scan(imported, source="sync")
    assert [(name, data["noteId"], data["sortField"]) for name, data in events if name.startswith("note.")] == [
        ("note.updated", remote, "from elsewhere")
    ]
    counting = CountingRows(imported)
    detector.scan(imported)  # after the sync, scans read only what changes from now on again
    assert counting.rows_from_notes() == 0


def test_changed_notes_are_described_in_the_order_they_were_modified(imported: Any) -> None:
    # A note's deck is its first card's (by template order), its events come in the order of modification.
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(imported)
    reversed_model = imported.models.by_name("Basic (and reversed card)")
    first_deck, second_deck = imported.decks.id("First"), imported.decks.id("Second")
    note = imported.new_note(reversed_model)
    note["Front"], note["Back"] = "two cards", "back"
    imported.add_note(note, first_deck)
    later = add_note(imported, "modified earlier")
    by_template = dict(imported.db.all("select ord, id from cards where nid = ?", note.id))
    imported.db.execute("update cards set did = ? where id = ?", second_deck, by_template[0])
    imported.db.execute("update cards set did = ? where id = ?", first_deck, by_template[1])
    now = int(time.time())
    imported.db.execute("update notes set mod = ? where id = ?", now, note.id)
    imported.db.execute("update notes set mod = ? where id = ?", now - 1, later)
    detector.scan(imported)
    described = [
        (name, data["noteId"], data["modelName"], data["deck"]) for name, data in events if name.startswith("note.")
    ]
    assert described == [
        ("note.added", later, "Basic", "Default"),
        ("note.added", note.id, "Basic (and reversed card)", "Second"),
    ]


def test_changed_notes_are_published_as_one_batch(imported: Any) -> None:
    batches: list[list[tuple[str, dict[str, Any]]]] = []
    singles: list[str] = []
    detector = ChangeDetector(lambda name, data: singles.append(name), publish_all=batches.append)
    detector.baseline(imported)
    added = [add_note(imported, f"batch {i}") for i in range(3)]
    detector.scan(imported)
    assert [[(name, data["noteId"]) for name, data in events] for events in batches] == [
        [("note.added", note_id) for note_id in added]
    ]
    assert "note.added" not in singles


def test_a_pass_in_steps_finds_what_one_pass_finds(imported: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_changes, "PASS_ROWS", 7)
    monkeypatch.setattr(note_log, "install", lambda col: False)  # as on a connection without the log
    one: list[tuple[str, dict[str, Any]]] = []
    steps: list[tuple[str, dict[str, Any]]] = []
    in_one = ChangeDetector(lambda name, data: one.append((name, data)))
    in_steps = ChangeDetector(lambda name, data: steps.append((name, data)), pass_in_steps=True)
    in_one.baseline(imported)
    in_steps.baseline(imported)
    ids = sorted(int(note_id) for note_id in imported.find_notes(""))
    edited = [ids[i] for i in (0, 6, 7, 13, 150, len(ids) - 1)]  # the first, steps' last and first, the last
    for note_id in edited:
        note = imported.get_note(note_id)
        note["Back"] = "edited"
        imported.update_note(note)
    added = add_note(imported, "added")
    counting = CountingRows(imported)
    in_one.scan(imported)
    in_steps.scan(imported)
    assert one == steps
    assert sorted(data["noteId"] for name, data in steps if name == "note.updated") == edited
    assert [data["noteId"] for name, data in steps if name == "note.added"] == [added]
    steps_read = [count for sql, count in counting.queries if " from notes where id > ? and id <= ?" in sql]
    assert len(steps_read) == -(-(len(ids) + 1) // 7)  # every note read, seven at a time


def test_a_scan_of_another_collection_than_the_one_described_finds_nothing(imported: Any, tmp_path: Path) -> None:
    from anki.collection import Collection

    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(imported)
    other_path = tmp_path / "other.anki2"
    other = Collection(str(other_path))
    try:
        add_note(other, "in another collection")
        detector.scan(other)  # queued before a profile switch, say
        assert events == []
        add_note(imported, "here")
        detector.scan(imported)
        assert [name for name, _ in events if name.startswith("note.")] == ["note.added"]
    finally:
        other.close()
