"""The edits the tests of the log of notes written make (on the ``opened`` collection, conftest.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anki.collection import Collection

NOTES = 300


def add(col: Collection, front: str) -> int:
    note = col.new_note(col.models.by_name("Basic"))  # type: ignore[arg-type]
    note["Front"] = front
    col.add_note(note, 1)  # type: ignore[arg-type]
    return int(note.id)


def edit(col: Collection, note_id: int, front: str) -> Any:
    note = col.get_note(note_id)  # type: ignore[arg-type]
    note["Front"] = front
    return col.update_note(note)
