"""Fast answers to searches for an exact field value (``"Front:word"``) or a tag, with Anki's own results.

Anki answers a field or tag search by reading every note, which on a 200k-note collection costs tens of
milliseconds per search: Yomitan sends ten field searches per word looked up. Here an index of field values
and one of tags (kept per collection, refreshed from what changed since) name the few notes that can match
(for a query that such terms bound, ``search_query.py``: also ``"deck:X" ("Front:a" or "Front:b")``), and
Anki then runs the client's whole query on just those notes (``nid:...``), so the result is exactly Anki's.
A query that no such term bounds may still be confined to a few decks (``deck_bound.py``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import note_log
from ..local_changes import every_note, few_pending, notes_by_usn, settled_second
from ..pacing import pacing_on
from . import deck_bound
from .lookup import database
from .note_sets import Notes, file_note, gather
from .search_cache import remembered, written_stamp
from .search_guard import checked_search
from .search_query import TagTerm, Term, bounded_notes, name_key
from .tag_index import add_tags, build_tags

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["find_cards", "find_notes"]

MAX_CANDIDATES = 2000
"""Possible matches always worth naming; beyond this many, only while they are at most a twelfth of the notes.

Anki searches named notes at about 1 µs each, and every note at about 0.1 µs (a tag) or more (a field)."""
_NOTES_PER_CANDIDATE = 12
BUILD_ROWS = 10_000
"""Notes read per query when a field's values are first read (about 0.6 MB of JSON, 4 ms to decode)."""

_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _key(text: str) -> str:
    # Anki compares a plain field search with SQL LIKE semantics: the whole value, ASCII letters in any case.
    return text.translate(_FOLD)


@dataclass
class _Index:
    built: tuple[Any, int] | None = None
    """``written_stamp`` at the last refresh: ``_refresh`` again when it differs."""
    note_mod: int = 0
    max_note: int = 0
    log: note_log.Reader = field(default_factory=note_log.Reader)
    """Where the refresh is in the connection's log of notes written: notes written since are the ones to file."""
    tally: tuple[int, int, int] = (0, 0, 0)
    """(notes, note graves, highest usn) at the last refresh: what tells an import or a sync (``_refresh``)."""
    values: dict[tuple[int, int], dict[str, Notes]] = field(default_factory=dict)
    tags: dict[str, Notes] | None = None
    """Each tag, and each of its parents (``a`` and ``a::b`` of ``a::b::c``), folded: its notes."""
    lock: threading.Lock = field(default_factory=threading.Lock)


_INDEXES: weakref.WeakKeyDictionary[Collection, _Index] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _restricted(col: Collection, query: str) -> str | None:
    """The query limited to the notes its exact terms allow (``nid:``), or None when they do not bound it."""
    with _GUARD:
        index = _INDEXES.setdefault(col, _Index())
    with index.lock:
        notes = bounded_notes(query, _Lookup(col, index).candidates)
    if notes is None or len(notes) > max(MAX_CANDIDATES, index.tally[0] // _NOTES_PER_CANDIDATE):
        return None
    # Anki still reads the whole query (so a bad one gets Anki's error) but only looks at these notes.
    return f"({query}) nid:{','.join(str(n) for n in sorted(notes)) or '0'}"


class _Lookup:
    """Candidates for the terms of one query, the index brought up to date at the first."""

    def __init__(self, col: Collection, index: _Index) -> None:
        self._col = col
        self._index = index
        self._slots: dict[str, list[tuple[int, int]]] = {}
        self._fresh = False

    def candidates(self, term: Term) -> set[int] | None:
        if not self._fresh:
            _refresh(self._col, self._index)
            self._fresh = True
        if isinstance(term, TagTerm):
            if self._index.tags is None:
                self._index.tags = build_tags(self._col, BUILD_ROWS)
            tagged: set[int] = set()
            gather(tagged, self._index.tags.get(name_key(term.value)))
            return tagged
        name = term.field.casefold()
        if name not in self._slots:
            self._slots[name] = _slots(self._col, name)
        if not self._slots[name]:
            return None  # no note type has this field: perhaps a search keyword newer than our list
        key = _key(term.value)
        found: set[int] = set()
        for slot in self._slots[name]:
            values = self._index.values.get(slot)
            if values is None:
                values = self._index.values[slot] = _build(self._col, slot)
            gather(found, values.get(key))
        return found


def _slots(col: Collection, name: str) -> list[tuple[int, int]]:
    """(note type id, field position) of every field with this name.

    Anki matches field names ignoring case, Unicode letters included (SQLite's nocase folds only ASCII);
    Python's casefold() makes at least as many names equal, and more slots only means more candidates.
    """
    wanted = name.casefold()
    rows = database(col).all("select ntid, ord, name from fields")
    return [(int(model_id), int(ord_)) for model_id, ord_, field in rows if field.casefold() == wanted]


def _build(col: Collection, slot: tuple[int, int]) -> dict[str, Notes]:
    model_id, ord_ = slot
    values: dict[str, Notes] = {}
    db, after = database(col), -(2**63)
    while True:
        # In pieces: Anki hands rows over as one JSON text, decoded with the GIL held. All 200k notes at once
        # were 11 MB, 80 ms in which Anki's window (this runs in a background operation there) could not
        # run; a piece takes a few ms.
        rows = db.all(
            "select id, flds from notes where mid = ? and id > ? order by id limit ?", model_id, after, BUILD_ROWS
        )
        for note_id, fields in rows:
            parts = fields.split("\x1f")
            if ord_ < len(parts):
                file_note(values, _key(parts[ord_]), note_id)
        if len(rows) < BUILD_ROWS:
            return values
        after = rows[-1][0]


def _refresh(col: Collection, index: _Index) -> None:
    """Bring the index up to date: new notes and notes edited since (deleted ones just stop matching)."""
    db = database(col)
    # Anki's operations write rows (col.mod too), and so does an add-on's raw SQL, which leaves col.mod alone.
    state = written_stamp(col)
    if index.built == state:
        return
    # Not the newest mod found: a deck imported at once has all its notes in one second, and each refresh
    # would read them all.
    settled = settled_second()
    # Counts SQLite answers from its indexes in microseconds, whatever the collection's size.
    notes, graves, top_usn = (
        db.scalar("select count() from notes"),
        db.scalar("select count() from graves where type = 1"),
        db.scalar("select coalesce(max(usn), 0) from notes"),
    )
    if index.built is not None and (index.values or index.tags is not None):
        # Every note written since (imported, synced, restored by an undo too), where the connection has a log.
        if (logged := index.log.read(db, "n.id, n.mid, n.flds, n.tags", in_steps=pacing_on())) is not None:
            _add(index, logged.rows)
            index.note_mod = max(index.note_mod, settled)
            index.built, index.tally = state, (notes, graves, top_usn)
            return
        # New notes come by id (the primary key). Edited ones: on a synced collection by the mark Anki leaves
        # on local changes (indexed), else by their modification times (one pass over every note).
        columns, by_usn = "id, mid, flds, tags", notes_by_usn(db)
        if few_pending(db, notes):
            rows = db.all(f"select {columns} from notes where id > ?", index.max_note)
            rows += db.all(
                f"select {columns} from {by_usn} where usn = -1 and mod >= ? and id <= ?",
                index.note_mod,
                index.max_note,
            )
        else:  # in steps inside Anki, whose window waits for the collection while a statement runs
            rows = every_note(db, columns, "id > ? or mod >= ?", index.max_note, index.note_mod, in_steps=pacing_on())
        if top_usn > index.tally[2]:  # a sync: its notes are dated elsewhere, but carry its usn (indexed)
            rows += db.all(f"select {columns} from {by_usn} where usn > ?", index.tally[2])
        added = len({row[0] for row in rows if row[0] > index.max_note})
        if notes == index.tally[0] + added - (graves - index.tally[1]):
            _add(index, rows)
            index.note_mod = max(index.note_mod, settled)
            index.built, index.tally = state, (notes, graves, top_usn)
            return
    # Built anew (the first time, or when notes came or went that neither their ids nor their dates show:
    # an imported deck keeps its notes' own ids and dates). Each field's values are read at its first search.
    index.values.clear()
    index.tags = None
    index.log.restart(db)
    index.note_mod = settled
    index.max_note = db.scalar("select coalesce(max(id), 0) from notes")
    index.built, index.tally = state, (notes, graves, top_usn)


def _add(index: _Index, rows: list[Sequence[Any]]) -> None:
    for note_id, model_id, fields, _tags in rows:
        parts = fields.split("\x1f")
        for (slot_model, ord_), values in index.values.items():
            if slot_model == model_id and ord_ < len(parts):
                file_note(values, _key(parts[ord_]), note_id)
        index.max_note = max(index.max_note, note_id)
    if index.tags is not None:
        add_tags(index.tags, ((row[0], row[3]) for row in rows))


def find_notes(col: Collection, query: str) -> list[int]:
    """``col.find_notes``, answered from the index when the query allows it (and from memory when repeated)."""
    return _search(col, "notes", query, col.find_notes)


def find_cards(col: Collection, query: str) -> list[int]:
    """``col.find_cards``, answered from the index when the query allows it (and from memory when repeated)."""
    return _search(col, "cards", query, col.find_cards)


def _search(col: Collection, kind: str, query: str, find: Callable[[str], Sequence[int]]) -> list[int]:
    checked_search(query)  # before Anki parses it: a deep one would crash the process

    def search() -> Sequence[int]:
        # Confined to some notes (those the index names) or decks, Anki's order follows the confining plan (cards
        # note by note, deck by deck): by id they come as from its pass over the whole table.
        restricted = _restricted(col, query)
        if restricted is None:
            restricted = deck_bound.restricted(col, query)
        return find(query) if restricted is None else sorted(find(restricted))

    return remembered(col, kind, query, search)
