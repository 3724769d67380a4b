"""The tag side of the field index (``field_index.py``): which notes carry a tag or one of its children.

Anki finds ``tag:a::b`` with a case-insensitive regular expression over each note's space-separated tags: a
note matches when one of its tags is ``a::b`` or begins with ``a::b::``. So each tag is filed under itself
and under every part of it that ends before a ``::`` (``a`` and ``a::b`` for ``a::b::c``). Keys are
NFC-normalised and case-folded: whatever Anki's case-insensitive match finds, folding finds too (and perhaps
a little more, which Anki's own search of the candidates then drops).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .lookup import database
from .note_sets import Notes, file_note
from .search_query import name_key

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["add_tags", "build_tags"]


def _keys(tags: str) -> set[str]:
    """The keys of every tag in a note's tags text (tags are split at ASCII spaces only, as Anki matches)."""
    keys: set[str] = set()
    for tag in tags.split(" "):
        if not tag:
            continue
        keys.add(name_key(tag))
        at = tag.find("::")
        while at >= 0:
            keys.add(name_key(tag[:at]))
            at = tag.find("::", at + 1)  # overlapping: "a:::b" is a child of "a" and of "a:"
    return keys


def add_tags(index: dict[str, Notes], rows: Iterable[Sequence[Any]]) -> None:
    """File each (note id, tags text); a tag a note no longer has stays filed (Anki's search drops it)."""
    keys_of: dict[str, set[str]] = {}  # notes share their tags: each text's keys are worked out once
    for note_id, tags in rows:
        keys = keys_of.get(tags)
        if keys is None:
            keys = keys_of[tags] = _keys(tags)
        for key in keys:
            file_note(index, key, note_id)


def build_tags(col: Collection, rows_per_read: int) -> dict[str, Notes]:
    """Every note's tags, read in pieces (each query's rows are decoded with the GIL held: see field_index)."""
    index: dict[str, Notes] = {}
    db, after = database(col), -(2**63)
    while True:
        rows = db.all("select id, tags from notes where id > ? order by id limit ?", after, rows_per_read)
        add_tags(index, rows)
        if len(rows) < rows_per_read:
            return index
        after = rows[-1][0]
