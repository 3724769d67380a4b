"""Searches within a few decks, run by Anki on just those decks' cards.

Anki's ``deck:X`` picks decks by a regular expression on their names inside its SQL, and on a collection
with statistics (which Check Database leaves) SQLite then reads every card: a deck of 10,000 cards in a
collection of 200,000 costs as much as all of them, 13 ms for its cards and 63 ms for its notes. Restricted
with ``did:`` (the ids of the decks the term names; Anki finds those cards through the index of cards by
deck, and also the cards of a filtered deck whose home deck is one of them) the same search takes 2 and 15
ms. The client's whole query still runs, so the ids are Anki's own.

Their order is SQLite's: Anki's search has none (it follows the query plan, which depends on those
statistics). Where Anki reads the whole table its ids come in the order of the cards' ids; the restricted
search goes deck by deck. The caller sorts them: cards by card id, notes by note id.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .lookup import database
from .search_cache import written_stamp
from .search_query import name_key, required_decks

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.dbproxy import DBProxy

__all__ = ["MAX_SHARE", "PROBE", "restricted"]

MAX_SHARE = 4
"""Restricted only while the decks hold at most a quarter of all cards: reading most of the table through
the index is slower than Anki's own pass over it (all of 200k cards: 43 ms against 25)."""
PROBE = 256
"""Cards of the other decks counted first when a term names most decks: few of them settle it at once."""
MAX_KNOWN = 256
"""Sets of decks whose share is remembered until the next write."""


def restricted(col: Collection, query: str) -> str | None:
    """The query restricted to the decks it requires; None when it requires no deck this can read, or when
    those decks hold too much of the collection to gain anything."""
    patterns = [pattern for term in required_decks(query) if (pattern := _pattern(term.value)) is not None]
    if not patterns:
        return None
    known = _known_now(col)
    decks = frozenset(deck_id for deck_id, name in known.names if all(pattern.fullmatch(name) for pattern in patterns))
    if not decks:
        return None  # Anki says what it makes of a deck that does not exist (no cards)
    few = known.few.get(decks)
    if few is None:
        if len(known.few) >= MAX_KNOWN:
            known.few.clear()
        few = known.few[decks] = _few_cards(database(col), decks, known.ids - decks)
    return f"({query}) did:{_listed(decks)}" if few else None


class _Known:
    """The decks' folded names, and which sets of decks hold few cards, as of one state of the collection."""

    def __init__(self, stamp: tuple[DBProxy, int], names: list[tuple[int, str]]) -> None:
        self.stamp = stamp
        self.names = names
        self.ids = frozenset(deck_id for deck_id, _ in names)
        self.few: dict[frozenset[int], bool] = {}


_known: _Known | None = None


def _known_now(col: Collection) -> _Known:
    """What is known of the decks, read anew once any row was written (a deck renamed, a card moved): names
    and counts cost 0.1-0.15 ms a search otherwise, a tenth of a search within a deck."""
    global _known
    stamp = written_stamp(col)
    known = _known
    if known is None or known.stamp != stamp:
        names = [(deck.id, name_key(deck.name)) for deck in col.decks.all_names_and_ids()]
        known = _known = _Known(stamp, names)
    return known


def _few_cards(db: DBProxy, decks: frozenset[int], others: frozenset[int]) -> bool:
    """Whether ``decks`` hold at most a quarter of all cards.

    Each count goes through the index of cards by deck and stops at its limit. A term naming most decks
    (``deck:Lang*`` in a collection of languages) is told first by the few cards of the others: counting
    its own up to the quarter took 0.35 ms of 20k cards, 1.7 ms of 200k.
    """
    total = int(db.scalar("select count() from cards"))  # SQLite counts a table in microseconds
    most = total // MAX_SHARE
    if len(decks) > len(others):
        # Cards of decks Anki no longer lists (until Check Database mends them) count as the decks' own here:
        # at worst the search goes to Anki whole.
        outside = _count(db, others, PROBE)
        if outside < PROBE:
            return total - outside <= most
    return _count(db, decks, most + 1) <= most


def _count(db: DBProxy, decks: frozenset[int], limit: int) -> int:
    if not decks:
        return 0
    return int(db.scalar(f"select count() from (select 1 from cards where did in ({_listed(decks)}) limit ?)", limit))


def _listed(decks: frozenset[int]) -> str:
    return ",".join(str(deck_id) for deck_id in sorted(decks))


def _pattern(value: str) -> re.Pattern[str] | None:
    """What matches every deck name Anki matches with ``deck:value`` (and perhaps more), children included.

    Anki compares names in any case: folding both sides makes at least as many names equal. ``*`` is any
    text; ``_`` is one character to Anki, any text here, as folding may turn one character into several
    (ß into ss). None for a value Anki reads in its own way (it drops a stray colon and the spaces around
    a level: "deck:A:" finds deck A), so that the search goes to Anki whole.
    """
    levels = value.split("::")
    if any(not level or ":" in level or level != level.strip() for level in levels):
        return None
    body = "".join(".*" if char in "*_" else re.escape(char) for char in name_key(value))
    return re.compile(f"{body}(?:::.*)?", re.DOTALL)
