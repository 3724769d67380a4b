"""The scheduler's deck tree (every deck's due counts), kept while nothing that moves it has changed.

Dashboards and overlays poll ``getDeckStats`` every few seconds, and Anki builds the whole tree for each
call (39 ms on 200k cards). The tree depends on the collection's rows, on the scheduler's day and, through
intraday learning, on the time: a learning card counts once its due time is within the learn-ahead limit
("learn ahead", 20 minutes by default) of now. So a kept tree holds until a row changes (SQLite's
``total_changes()``, as for searches: see ``search_cache``), the day rolls over, or the clock reaches the
next learning card not yet counted; a clock set back discards it too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .lookup import database
from .search_cache import collection_state

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.decks import DeckTreeNode

__all__ = ["deck_due_tree"]

# The learning queues whose cards Anki counts by their due time in seconds (1: learning, 4: preview); the
# deck filter lets SQLite search Anki's (did, queue, due) index instead of reading every card.
_NEXT_LEARNING_DUE = "select min(due) from cards where did in (select id from decks) and queue in (1, 4) and due >= ?"


@dataclass(frozen=True, slots=True)
class _Kept:
    db: Any
    state: tuple[int, int]
    built_by: int
    """The clock (whole seconds) when the tree was read: an earlier time means the clock was set back."""
    learn_ahead: int
    next_due: float
    """The earliest due time of a learning card the tree does not count yet (infinity when none)."""
    tree: DeckTreeNode

    def holds(self, db: Any, state: tuple[int, int], now: int) -> bool:
        return db is self.db and state == self.state and self.built_by <= now and now + self.learn_ahead < self.next_due


_lock = threading.Lock()
_kept: _Kept | None = None


def deck_due_tree(col: Collection) -> DeckTreeNode:
    """``col.sched.deck_due_tree()``, from memory when it could not have changed since it was last built."""
    global _kept
    db = database(col)
    state = collection_state(col)
    with _lock:
        kept = _kept
    if kept is not None and kept.holds(db, state, int(time.time())):
        return kept.tree
    learn_ahead = col.get_preferences().scheduling.learn_ahead_secs
    # Anki counts a learning card due before now + learn_ahead (a preview card: up to it); every card due
    # from this cutoff on may be counted later, so the earliest of them ends the tree's time.
    first_cutoff = int(time.time()) + learn_ahead
    tree = col.sched.deck_due_tree()
    built_by = int(time.time())
    if collection_state(col) != state:  # it wrote (or the day rolled over) meanwhile: build it again next time
        return tree
    next_due = db.scalar(_NEXT_LEARNING_DUE, first_cutoff)
    with _lock:
        _kept = _Kept(db, state, built_by, learn_ahead, float("inf") if next_due is None else next_due, tree)
    return tree
