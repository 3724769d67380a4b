"""Note ids filed under a key (a field value, a tag), kept small: one note as its id, several as a set.

Most field values are in one note. A set for each took 40 MB more on 200k notes, and a third of building
the index went to the garbage collector walking them (ints are not tracked; sets are).
"""

from __future__ import annotations

__all__ = ["Notes", "file_note", "gather"]

Notes = int | set[int]


def file_note(index: dict[str, Notes], key: str, note_id: int) -> None:
    found = index.get(key)
    if found is None:
        index[key] = note_id
    elif isinstance(found, int):
        if found != note_id:
            index[key] = {found, note_id}
    else:
        found.add(note_id)


def gather(into: set[int], found: Notes | None) -> None:
    """Add the notes filed under a key (None: no note) to ``into``."""
    if isinstance(found, int):
        into.add(found)
    elif found is not None:
        into |= found
