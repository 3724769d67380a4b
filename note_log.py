"""Which notes were written lately, as SQLite itself saw them: temporary triggers on the notes table append the
id of every note inserted, changed or deleted to a temporary table, each write under the next number, so
whoever remembers the number it read up to finds the notes written since through that table's key.

Without it, finding the notes a change touched means reading every note (no index on modification time), or, on
a collection synced with AnkiWeb, the few Anki marks as changed locally (``local_changes.py``): 9 ms on 200k
short notes and 92 ms on 200k notes of 1 KB for each change on a collection never synced, or after a sync.

Temporary objects belong to the connection alone: never written to the collection file, gone when it closes,
unseen by Anki's sync and Check Database. The triggers write inside Anki's own statements, so a change rolled
back takes its entries with it; appending costs about 1 µs per note written (keeping one entry per note, by a
unique index, cost 3). Creating them goes through Anki's DB proxy, which then discards the undo queue and the
study queues (as after any SQL an add-on writes): they are created only while there is nothing to undo or
redo, as when a collection has just opened. The oldest entries go once there are ``KEEP`` more: a reader that
fell that far behind is told so (``written_since`` gives None) and reads the notes some other way.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

from .local_changes import PASS_ROWS

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["KEEP", "TABLE", "Reader", "Written", "install", "installed", "newest", "written_since"]

TABLE = "ankiconnect_live_notes_written"
KEEP = 100_000
"""Entries kept at least (at most half as many again): readers read after every change, so far fewer wait."""
_UPDATED, _INSERTED, _REPLACING, _DELETED = 0, 1, 2, 3
"""What each entry records: a note changed; a row inserted; an insert about to replace (or, told to ignore a
row already there, to leave) the row of a note that exists, as a sync writes notes new or changed elsewhere;
a row deleted (by Anki, which leaves a grave until the next sync, or by a sync, which leaves none)."""


def _schema() -> tuple[str, ...]:
    return (
        # Entries are numbered by rowid: only the oldest are ever deleted, so SQLite never gives a number twice.
        f"create temp table if not exists {TABLE} (nid integer not null, kind integer not null)",
        f"create temp trigger if not exists {TABLE}_replace before insert on main.notes"
        " when exists (select 1 from main.notes where id = new.id)"
        f" begin insert into {TABLE} values (new.id, {_REPLACING}); end",
        f"create temp trigger if not exists {TABLE}_insert after insert on main.notes"
        f" begin insert into {TABLE} values (new.id, {_INSERTED}); end",
        # Not for writes that leave a note's content, type and date alone (a sync marking it synced sets usn).
        f"create temp trigger if not exists {TABLE}_update after update of mid, mod, tags, flds on main.notes"
        " when old.mid is not new.mid or old.mod is not new.mod or old.tags is not new.tags"
        f" or old.flds is not new.flds begin insert into {TABLE} values (new.id, {_UPDATED}); end",
        f"create temp trigger if not exists {TABLE}_delete after delete on main.notes"
        f" begin insert into {TABLE} values (old.id, {_DELETED}); end",
        f"create temp trigger if not exists {TABLE}_trim after insert on {TABLE} when new.rowid % {KEEP // 2} = 0"
        f" begin delete from {TABLE} where rowid <= new.rowid - {KEEP}; end",
    )


_TRIGGERS = (
    f"select count() from sqlite_temp_master where type = 'trigger' and name like '{TABLE}%' and tbl_name = 'notes'"
)
_ON_NOTES = sum(" on main.notes" in statement for statement in _schema())
"""How many of the triggers are on the notes table."""


class Written(NamedTuple):
    rows: list[Any]
    """The notes' columns, each note once, in the order of their latest writes."""
    added: set[int]
    """Which of them did not exist before (inserted, not over a note of the same id)."""
    deleted: list[int]
    """Notes that existed before and no longer do, in the order they went."""
    newest: int
    """The entry to read after next time."""


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
    for statement in _schema():
        db.execute(statement)
    _LOGGED[db] = True
    return True


def newest(db: Any) -> int:
    """The number of the latest entry (0 before any): notes written from now on come after it."""
    return int(db.scalar(f"select coalesce(max(rowid), 0) from temp.{TABLE}"))


def written_since(db: Any, columns: str, after: int, *, in_steps: bool = False) -> Written | None:
    """``columns`` of the notes (``n.``, starting with ``n.id``) written after entry ``after``, and the notes
    deleted since. None when this connection has no log (it was opened again) or its entries from ``after`` on
    are gone (``KEEP``). In one statement, or ``in_steps`` of ``PASS_ROWS`` entries (inside Anki, whose window
    waits for the collection while one runs)."""
    if db not in _LOGGED:
        return None
    if db.scalar(_TRIGGERS) != _ON_NOTES:
        # Gone with the table they watch (should anything in Anki ever drop and rebuild it): set up again,
        # where nothing would be lost, at the reader's next ``install``.
        del _LOGGED[db]
        return None
    # A note deleted since has no row any more: its columns read null.
    read = (
        f"select w.nid, w.kind, {columns} from temp.{TABLE} w left join notes n on n.id = w.nid"
        " where w.rowid > ? and w.rowid <= ? order by w.rowid"
    )
    rows: list[Any] = []
    low, high = after, newest(db)
    while low < high:
        step = min(high, low + PASS_ROWS) if in_steps else high
        rows += db.all(read, low, step)
        low = step
    # Asked after reading: entries go oldest first, so none read was gone before if the next one is still here.
    if high > after and db.scalar(f"select min(rowid) from temp.{TABLE}") > after + 1:
        return None
    first: dict[int, int] = {}
    latest: dict[int, Any] = {}
    gone: dict[int, None] = {}
    for note_id, kind, *row in rows:
        first.setdefault(note_id, kind)
        if row[0] is None:  # deleted since
            gone.pop(note_id, None)
            gone[note_id] = None
        elif kind != _REPLACING:  # alone, an insert that left the row as it was
            latest.pop(note_id, None)
            latest[note_id] = row
    added = {note_id for note_id in latest if first[note_id] == _INSERTED}
    # A note inserted after ``after`` and gone again was never there for the reader.
    deleted = [note_id for note_id in gone if first[note_id] != _INSERTED]
    return Written(list(latest.values()), added, deleted, high)


class Reader:
    """One reader's place in a connection's log: the connection (a weak reference; each opening has its own
    log, numbered from 1) and the last entry read."""

    def __init__(self) -> None:
        self._db: Any = None
        self._after = 0

    def restart(self, db: Any) -> None:
        """Read from the newest entry on, where the connection has a log (else nothing, until the next restart)."""
        self._db, self._after = (weakref.ref(db), newest(db)) if installed(db) else (None, 0)

    def reading(self, db: Any) -> bool:
        """Whether this reader follows the log of this connection."""
        return self._db is not None and self._db() is db and installed(db)

    def unread(self, db: Any) -> int:
        """How many writes of notes came after the last one read (a note written twice counts twice)."""
        return newest(db) - self._after

    def read(self, db: Any, columns: str, *, in_steps: bool = False) -> Written | None:
        """``written_since`` the last entry read; None when this reader does not follow this connection's log
        or fell behind it: then it restarts from the newest entry, and the caller reads another way once."""
        if self._db is not None and self._db() is db:
            found = written_since(db, columns, self._after, in_steps=in_steps)
            if found is not None:
                self._after = found.newest
                return found
        self.restart(db)
        return None
