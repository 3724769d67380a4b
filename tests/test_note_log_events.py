"""Events from the log of notes written (``note_log.py``): every note written or gone gets its event, whatever
its date and whoever wrote it (an import, a sync, an undo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anki.collection import Collection
from anki.notes import NoteId
from event_helpers import Subscriber
from note_log_support import add, edit
from support import HttpApiClient

from ankiconnect_live import note_log
from ankiconnect_live.events.changes import ChangeDetector


def _watching(col: Collection) -> tuple[list[tuple[str, dict[str, Any]]], ChangeDetector]:
    events: list[tuple[str, dict[str, Any]]] = []
    detector = ChangeDetector(lambda name, data: events.append((name, data)))
    detector.baseline(col)
    assert note_log.installed(col.db)
    return events, detector


def _notes(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, int, str]]:
    return [(name, data["noteId"], data["sortField"]) for name, data in events if name.startswith("note.")]


def test_an_imported_deck_brings_one_note_added_each(opened: Collection, tmp_path: Path) -> None:
    # An imported deck keeps its notes' own ids and dates, older than every note of the collection.
    from anki.collection import ExportAnkiPackageOptions, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    source = Collection(str(tmp_path / "source.anki2"))
    ids = [add(source, f"imported {i}") for i in range(3)]
    for position, note_id in enumerate(ids):
        source.db.execute("update notes set mod = ? where id = ?", 1000 + position, note_id)  # type: ignore[union-attr]
    package = str(tmp_path / "older.apkg")
    options = ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, with_media=False, legacy=False)
    source.export_anki_package(out_path=package, options=options, limit=None)
    source.close()
    events, detector = _watching(opened)
    request = ImportAnkiPackageRequest(package_path=package, options=ImportAnkiPackageOptions())
    detector.scan(opened, opened.import_anki_package(request).changes)
    # (Anki gives an imported note a new id where its own is taken.)
    assert [(name, front) for name, _, front in _notes(events)] == [("note.added", f"imported {i}") for i in range(3)]


def test_an_undone_edit_is_an_update(opened: Collection) -> None:
    # Undo puts the note back as it was, modification date included.
    events, detector = _watching(opened)
    note_id = int(opened.find_notes("front:word4")[0])
    detector.scan(opened, edit(opened, note_id, "edited"))
    detector.scan(opened, opened.undo().changes)
    assert _notes(events) == [("note.updated", note_id, "edited"), ("note.updated", note_id, "word4")]


def test_notes_a_sync_brings_are_reported_whatever_their_date(opened: Collection) -> None:
    # Written as a sync writes them: edited elsewhere long ago (an existing note), or new there.
    events, detector = _watching(opened)
    db: Any = opened.db
    edited, copied = (int(i) for i in opened.find_notes("front:word5*")[:2])
    new_id = db.scalar("select max(id) + 1000 from notes")
    db.execute("update notes set flds = 'from elsewhere' || char(31), sfld = 'from elsewhere' where id = ?", edited)
    db.execute("update notes set mod = 1000, usn = 7 where id = ?", edited)
    columns = "guid || 'new', mid, 1000, 7, tags, 'new elsewhere' || char(31), 'new elsewhere', csum, flags, data"
    db.execute(f"insert or replace into notes select ?, {columns} from notes where id = ?", new_id, copied)
    detector.scan(opened, source="sync")
    assert _notes(events) == [("note.updated", edited, "from elsewhere"), ("note.added", new_id, "new elsewhere")]


def test_notes_gone_are_deletions_with_or_without_a_grave(opened: Collection) -> None:
    # Anki leaves a grave for a note it deletes (until the next sync); a sync deleting a note leaves none.

    events, detector = _watching(opened)
    with_grave, by_sync = (int(i) for i in opened.find_notes("front:word6*")[:2])
    detector.scan(opened, opened.remove_notes([NoteId(with_grave)]))
    opened.db.execute("delete from notes where id = ?", by_sync)  # type: ignore[union-attr]
    passing = add(opened, "added, then deleted before any scan")
    opened.remove_notes([NoteId(passing)])
    detector.scan(opened)
    undone = add(opened, "added, then undone")
    detector.scan(opened)
    detector.scan(opened, opened.undo().changes)
    assert [(name, data["noteId"]) for name, data in events if name.startswith("note.")] == [
        ("note.deleted", with_grave),
        ("note.deleted", by_sync),
        ("note.added", undone),
        ("note.deleted", undone),
    ]


def test_a_client_importing_a_deck_hears_of_each_note_once(start_server: Any, tmp_path: Path) -> None:
    from anki.collection import ExportAnkiPackageOptions

    source = Collection(str(tmp_path / "source.anki2"))
    fronts = [f"from a shared deck {i}" for i in range(3)]
    for front in fronts:
        add(source, front)
    source.db.execute("update notes set mod = 1000")  # type: ignore[union-attr]
    package = str(tmp_path / "shared.apkg")
    options = ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, with_media=False, legacy=False)
    source.export_anki_package(out_path=package, options=options, limit=None)
    source.close()
    server = start_server()
    watcher = Subscriber(server)
    client = HttpApiClient(server.port)
    try:
        watcher.subscribe(["note.*"])
        assert client.invoke("importPackage", path=package) is True
        got = watcher.settle()
        assert [(e["event"], e["data"]["sortField"]) for e in got] == [("note.added", front) for front in fronts]
        assert client.invoke("importPackage", path=package) is True  # the same notes: nothing changes
        assert watcher.settle() == []
    finally:
        client.close()
        watcher.close()
