"""Finding the notes changed lately where the connection has no log of the notes written (``note_log.py``,
which names them at once): from which second to look (``settled_second``), on a synced collection through
Anki's index on ``usn`` rather than by reading every note, and otherwise by one pass over the notes table
(``every_note``), in steps inside Anki.

Anki marks each note it changes locally with usn -1 until the next sync, and indexes that column
(``ix_notes_usn``). On a collection synced with AnkiWeb few notes carry -1, so the index finds them at once where
a search by modification time (no index) reads the whole notes table: 85-100 ms on 200k notes of 1 KB, for
each change. SQLite must be told to use it: Check Database leaves statistics saying how many notes share a usn,
and statistics taken when every note had one (a collection synced once, or never) make SQLite read every note
instead, even for the few with -1 (measured: 93 ms against under 0.1 ms).
"""

from __future__ import annotations

import time
import weakref
from typing import Any

__all__ = ["PASS_ROWS", "USN_INDEX", "every_note", "few_pending", "notes_by_usn", "settled_second"]

USN_INDEX = "ix_notes_usn"
PASS_ROWS = 5000
"""Notes per statement when a pass over the whole notes table goes in steps (inside Anki): Anki's window waits
for the collection while a statement runs, 2.7 ms per step on 200k notes of 1 KB against 92 ms in one."""


_SOURCES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
"""``notes_by_usn`` per connection: it asks the schema once, not at every scan and refresh."""


def notes_by_usn(db: Any) -> str:
    """What to read notes from in a query on ``usn``: the notes table through Anki's usn index (or as it is,
    should an Anki without that index ever open the collection)."""
    source = _SOURCES.get(db)
    if source is None:
        found = db.scalar("select count() from sqlite_master where type = 'index' and name = ?", USN_INDEX)
        source = _SOURCES[db] = f"notes indexed by {USN_INDEX}" if found else "notes"
    return source


def few_pending(db: Any, notes: int) -> bool:
    """Whether few of the collection's ``notes`` carry local changes not yet synced (under a tenth): then
    reading those through the index beats reading every note. Counts no further than that tenth."""
    limit = max(1, notes // 10)
    pending: int = db.scalar(f"select count() from (select 1 from {notes_by_usn(db)} where usn = -1 limit ?)", limit)
    return pending < limit


def settled_second() -> int:
    """A second no note modified from now on can be dated before: Anki dates a change by the clock (whole
    seconds) when it makes it. One second earlier than now, so a change being made as this is read counts."""
    return int(time.time()) - 1


def every_note(db: Any, columns: str, condition: str, *args: Any, in_steps: bool) -> list[Any]:
    """``select {columns} from notes where {condition}``: one pass over the notes table, in one statement or,
    ``in_steps``, one statement per ``PASS_ROWS`` notes in id order (up to twice as long in all)."""
    if not in_steps:
        return db.all(f"select {columns} from notes where {condition}", *args)  # type: ignore[no-any-return]
    rows: list[Any] = []
    low = -(1 << 63)
    step = "select max(id) from (select id from notes where id > ? order by id limit ?)"
    while (high := db.scalar(step, low, PASS_ROWS)) is not None:
        rows += db.all(f"select {columns} from notes where id > ? and id <= ? and ({condition})", low, high, *args)
        low = high
    return rows
