"""Which notes were written lately, as SQLite itself saw them: temporary triggers on the notes table put the id
of every note inserted or edited into a temporary table, each under a new number, so whoever remembers the
number it read up to finds the notes written since through that table's key.

Without it, finding the notes a change touched means reading every note (no index on modification time), or, on
a collection synced with AnkiWeb, the few Anki marks as changed locally (``local_changes.py``): 9 ms on 200k
short notes and 92 ms on 200k notes of 1 KB for each change on a collection never synced, or after a sync.

Temporary objects belong to the connection alone: never written to the collection file, gone when it closes,
unseen by Anki's sync and Check Database. The triggers write inside Anki's own statements, so a change rolled
back takes its entries with it. Creating them goes through Anki's DB proxy, which then discards the undo queue
and the study queues (as after any SQL an add-on writes): they are created only while there is nothing to undo
or redo, as when a collection has just opened. A note has one entry, its latest, so the table holds at most one
row per note written in this session.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from .local_changes import PASS_ROWS

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["TABLE", "install", "installed", "newest", "unread", "written_since"]

TABLE = "ankiconnect_live_notes_written"
# Edits that leave a note's content and date alone (a sync marking it synced sets usn only) are not entries.
_SCHEMA = (
    f"create temp table if not exists {TABLE} (seq integer primary key autoincrement, nid integer not null unique)",
    f"create temp trigger if not exists {TABLE}_insert after insert on main.notes"
    f" begin insert or replace into {TABLE} (nid) values (new.id); end",
    f"create temp trigger if not exists {TABLE}_update after update of mid, mod, tags, flds on main.notes"
    f" begin insert or replace into {TABLE} (nid) values (new.id); end",
)

_LOGGED: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
"""Connections (Anki's ``col.db``, new for each opening) with the triggers in place."""


def installed(db: Any) -> bool:
    return db in _LOGGED


def install(col: Collection) -> bool:
    """Put the triggers in place on the collection's connection unless that would discard an undo or redo step;
    whether they are in place."""
    db = col.db
    if db is None:
        return False
    if db in _LOGGED:
        return True
    status = col.undo_status()
    if status.undo or status.redo:
        return False
    for statement in _SCHEMA:
        db.execute(statement)
    _LOGGED[db] = True
    return True


def newest(db: Any) -> int:
    """The number of the latest entry (0 before any): notes written from now on come after it."""
    return int(db.scalar(f"select coalesce(max(seq), 0) from temp.{TABLE}"))


def unread(db: Any, after: int) -> int:
    """At most how many notes were written after entry ``after`` (one entry per write of a note, until a
    later write of it replaces that entry)."""
    return newest(db) - after


def written_since(db: Any, columns: str, after: int, *, in_steps: bool = False) -> tuple[list[Any], int] | None:
    """``columns`` of the notes (``n.``) written after entry ``after``, in the order of their latest writes, and
    the number to ask from next time; None when this connection has no log (it was opened again). In one
    statement, or ``in_steps`` of ``PASS_ROWS`` entries (inside Anki, whose window waits while one runs)."""
    if db not in _LOGGED:
        return None
    read = (
        f"select n.id is null, {columns} from temp.{TABLE} w left join notes n on n.id = w.nid"
        " where w.seq > ? and w.seq <= ? order by w.seq"
    )
    rows: list[Any] = []
    low, high = after, newest(db)  # a note written again meanwhile moves past ``high``: read next time
    while low < high:
        step = min(high, low + PASS_ROWS) if in_steps else high
        rows += db.all(read, low, step)
        low = step
    # A note deleted since it was written has no row any more.
    return [row[1:] for row in rows if not row[0]], high
