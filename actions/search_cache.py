"""Repeated searches answered from memory while the collection has not changed.

Clients ask the same searches again and again (a reading assistant re-checks the words on a page, a plugin
re-reads its tag on every sync, a dashboard polls its deck). A search's result depends only on the
collection's rows, except for terms that compare with the clock (``is:due``, ``rated:``, ``added:``,
``prop:due``...), which are never remembered. Whether any row changed is asked of SQLite itself:
``total_changes()`` counts every row inserted, updated or deleted through the collection's connection
(Anki's own operations, add-ons writing through ``col.db``, our actions alike), and Anki holds that
connection exclusively. A reopened collection (a full sync, another profile) has a new connection, told by
its new ``col.db``. The scheduler's day is part of the state too, in case a newer Anki has a day-based term
not listed here.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .lookup import database

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.dbproxy import DBProxy

__all__ = [
    "MAX_ENTRIES",
    "MAX_IDS",
    "MAX_SEEN",
    "collection_state",
    "remembered",
    "rows_written",
    "timeless",
    "written_stamp",
]

MAX_ENTRIES = 64
MAX_IDS = 500_000
"""At most this many ids kept in all (about 20 MB); a bigger result is not kept."""
MAX_SEEN = 1024
"""Searches remembered as asked once (their query only), the oldest forgotten first."""

_CLOCK_KEYS = frozenset({"added", "edited", "introduced", "rated", "resched", "prop"})
"""Search keys whose results move with the clock (``prop:`` as a whole: due, rated and retrievability do)."""
_TIMELESS_STATES = frozenset({"new", "review", "learn", "suspended", "buried", "buried-manually", "buried-sibling"})
"""``is:`` states read from the card alone; ``is:due`` compares with the time of day."""
# Every "key:value" in the query, quoted or not, split at its first colon as Anki splits a term; one inside a
# quoted term's text (Anki reads "front:a is:due" as a field search) only makes the check stricter.
_TERM = re.compile(r'([^\s\u3000"():]+):([^\s\u3000")]*)')


def timeless(query: str) -> bool:
    """Whether the query's result depends on the collection alone (never on the clock)."""
    for key, value in _TERM.findall(query.replace("\\", "")):
        key = key.lstrip("-").lower()
        if key in _CLOCK_KEYS or (key == "is" and value.strip('"').lower() not in _TIMELESS_STATES):
            return False
    return True


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: Any = None
        self._state: tuple[int, int] | None = None
        self._results: OrderedDict[tuple[str, str], tuple[int, ...]] = OrderedDict()
        self._ids = 0
        # Searches asked once since the last change: a result is kept when asked again, so a client sending
        # many different searches does not churn the memory of the ones that repeat (big results are held
        # as ints, and replacing them made such searches 5-10% slower).
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def lookup(self, db: Any, state: tuple[int, int], key: tuple[str, str]) -> tuple[int, ...] | None:
        with self._lock:
            if db is not self._db or state != self._state:
                self._db, self._state = db, state
                self._results.clear()
                self._seen.clear()
                self._ids = 0
                return None
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
            return found

    def keep(self, db: Any, state: tuple[int, int], key: tuple[str, str], ids: list[int]) -> None:
        if len(ids) > MAX_IDS:
            return
        with self._lock:
            if db is not self._db or state != self._state:
                return  # the collection changed while this search ran
            if key not in self._seen:
                self._seen[key] = None
                if len(self._seen) > MAX_SEEN:
                    self._seen.popitem(last=False)
                return
            self._ids += len(ids) - len(self._results.pop(key, ()))
            self._results[key] = tuple(ids)
            while len(self._results) > MAX_ENTRIES or self._ids > MAX_IDS:
                self._ids -= len(self._results.popitem(last=False)[1])


_CACHE = _Cache()


def rows_written(col: Collection) -> int:
    """Rows inserted, updated or deleted through the collection's connection so far (col.mod included)."""
    # Asked of the backend directly (as the change marks are): this is no query of the action's own.
    rows = col._backend.db_query("select total_changes()", [], True)
    return int(rows[0][0])


def written_stamp(col: Collection) -> tuple[DBProxy, int]:
    """The collection's connection and the rows written on it so far: two equal stamps mean no row changed in
    between (a reopened collection has a new connection, which compares unequal)."""
    return database(col), rows_written(col)


def collection_state(col: Collection) -> tuple[int, int]:
    """Rows written on this connection, and the scheduler's day."""
    return rows_written(col), col.sched.today


def remembered(col: Collection, kind: str, query: str, search: Callable[[], Sequence[int]]) -> list[int]:
    """``search()``'s ids, from memory when the same search ran on the collection as it is now."""
    if not timeless(query):
        return _as_list(search())
    db = database(col)
    before = collection_state(col)
    found = _CACHE.lookup(db, before, (kind, query))
    if found is not None:
        return list(found)
    ids = _as_list(search())
    # A search that wrote (Anki tidies a few things on a first search) is kept next time, not this one.
    if collection_state(col) == before:
        _CACHE.keep(db, before, (kind, query), ids)
    return ids


def _as_list(ids: Sequence[int]) -> list[int]:
    """The ids as a list: a slice of Anki's protobuf list is one, made in 0.38 ms for 20k ids where ``list()``
    of it takes 0.52 ms."""
    if isinstance(ids, list):
        return ids
    copied = ids[:]
    return copied if isinstance(copied, list) else list(copied)
