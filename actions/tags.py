"""Tag actions."""

from __future__ import annotations

from .context import Context
from .registry import Registry

__all__ = ["registry"]

registry = Registry("tags")
action = registry.action


@action("getTags")
def get_tags(ctx: Context) -> list[str]:
    """Every tag used in the collection."""
    return list(ctx.col.tags.all())


@action("addTags")
def add_tags(ctx: Context, *, notes: list[int], tags: str, add: bool = True) -> None:
    """Add space-separated tags to notes (``add: false`` removes them, a hidden upstream switch)."""
    from anki.notes import NoteId

    note_ids = [NoteId(n) for n in notes]
    if add:
        ctx.col.tags.bulk_add(note_ids, tags)
    else:
        ctx.col.tags.bulk_remove(note_ids, tags)
