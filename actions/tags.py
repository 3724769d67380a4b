"""Tag actions: each is one backend operation, so a tag change applies to every note or to none."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import InvalidParams
from .registry import Registry
from .undo_steps import UndoFolder

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.notes import NoteId

__all__ = ["registry"]

registry = Registry("tags")
action = registry.action

_REGEX_META = set("\\.+*?()|[]{}^$#&-~")
"""The characters Anki's (Rust) regex syntax needs escaped; Python's re.escape differs."""


@action("getTags")
def get_tags(ctx: Context) -> list[str]:
    """Every tag used in the collection."""
    return list(ctx.col.tags.all())


@action("addTags")
def add_tags(ctx: Context, *, notes: list[int], tags: str, add: bool = True) -> None:
    """Add space-separated tags to notes (``add: false`` removes them, a hidden upstream switch)."""
    _tag_in_runs(ctx.col, [(notes, tags, add)])


@action("removeTags")
def remove_tags(ctx: Context, *, notes: list[int], tags: str) -> None:
    """Remove space-separated tags (and their child tags) from notes."""
    _tag_in_runs(ctx.col, [(notes, tags, False)])


@registry.batched("addTags")
def add_tags_each(ctx: Context, calls: list[dict[str, Any]]) -> list[None]:
    """A run of addTags calls in one multi: consecutive calls with the same tags (and ``add``) in one write.

    Only identical tags are merged: ``Foo`` and ``FOO`` are one tag, and whichever comes first stays, so calls
    with different tags keep their order. Should a write fail, the calls then run one by one, and writing
    again what was written already changes nothing.
    """
    _tag_in_runs(ctx.col, [(call["notes"], call["tags"], call.get("add", True)) for call in calls])
    return [None] * len(calls)


@registry.batched("removeTags")
def remove_tags_each(ctx: Context, calls: list[dict[str, Any]]) -> list[None]:
    """A run of removeTags calls in one multi: consecutive calls with the same tags in one write."""
    _tag_in_runs(ctx.col, [(call["notes"], call["tags"], False) for call in calls])
    return [None] * len(calls)


def _tag_in_runs(col: Collection, calls: list[tuple[list[int], str, bool]]) -> None:
    """``(notes, tags, add)`` calls written in order, one write per run of consecutive identical ones."""
    steps = UndoFolder(col)  # one write per run of identical tags: calls alternating tags make many
    for (tags, add), run in groupby(calls, key=lambda call: (call[1], call[2])):
        note_ids = _note_ids([n for notes, _, _ in run for n in notes])
        if add:
            col.tags.bulk_add(note_ids, tags)
        else:
            col.tags.bulk_remove(note_ids, tags)
        steps.fold()


@action("clearUnusedTags")
def clear_unused_tags(ctx: Context) -> None:
    """Forget the tags no note uses any more."""
    ctx.col.tags.clear_unused_tags()


@action("replaceTags")
def replace_tags(ctx: Context, *, notes: list[int], tag_to_replace: str, replace_with_tag: str) -> None:
    """In the given notes, replace a tag (whole tag, any case) by another; notes that do not exist are skipped."""
    _check_replacement(replace_with_tag)
    if notes:  # Anki reads an empty id list as "every note"
        _replace_tag(ctx.col, notes, tag_to_replace, replace_with_tag)


@action("replaceTagsInAllNotes")
def replace_tags_in_all_notes(ctx: Context, *, tag_to_replace: str, replace_with_tag: str) -> None:
    """In every note, replace a tag (whole tag, any case) by another."""
    _check_replacement(replace_with_tag)
    _replace_tag(ctx.col, [], tag_to_replace, replace_with_tag)


def _check_replacement(tag: str) -> None:
    # Upstream adds such a "tag" as several tags; Anki's find-and-replace refuses it, and so do we.
    if len(tag.split()) > 1:
        raise InvalidParams("replace_with_tag must be a single tag, without spaces")


def _replace_tag(col: Collection, notes: list[int], old: str, new: str) -> None:
    """Anki's tag find-and-replace (one transaction, done in the backend), anchored to match whole tags."""
    if not old.strip():
        return  # no tag is empty: nothing to replace
    pattern = "^" + "".join("\\" + c if c in _REGEX_META else c for c in old) + "$"
    # "$" in a replacement names a capture group; "$$" is a literal "$". An empty result removes the tag.
    col.tags.find_and_replace(_note_ids(notes), pattern, new.strip().replace("$", "$$"), regex=True, match_case=False)


def _note_ids(notes: list[int]) -> list[NoteId]:
    """The ids for Anki's tag ops, each once: they fail on an id given twice (a UNIQUE constraint of theirs)."""
    from anki.notes import NoteId

    return [NoteId(n) for n in dict.fromkeys(notes)]
