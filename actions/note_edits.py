"""Note actions that change or remove existing notes.

Each action is one backend operation (or, for updateNoteModel, two merged into one undo step), checked in
full before anything is written: a request that fails changes nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .context import Context
from .duplicates import first_field_key
from .errors import InvalidParams, NotFound
from .lookup import database
from .note_spec import PendingMedia, fetch_note_media, set_fields, store_note_media
from .notes import _get_note
from .registry import Registry

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.models import NotetypeDict
    from anki.notes import Note, NoteId

__all__ = ["NO_FIELDS_OR_TAGS", "TAGS_NOT_STRINGS", "registry", "tag_list"]

registry = Registry("note_edits")
action = registry.action

NO_FIELDS_OR_TAGS = 'Must provide a "fields" or "tags" property.'
TAGS_NOT_STRINGS = "Must provide tags as a list of strings"

_BLANK = re.compile(r"[\s\u200b]*")
"""What Anki's own check calls an empty field once HTML is stripped."""

_CHUNK = 999


@action("updateNote")
def update_note(ctx: Context, *, note: dict[str, Any]) -> None:
    """Change a note's fields (exact names, media too) and/or tags in one update; nothing changes on error."""
    has_fields, has_tags = "fields" in note, "tags" in note
    if not (has_fields or has_tags):
        raise InvalidParams(NO_FIELDS_OR_TAGS)
    if "id" not in note:
        raise InvalidParams('note has no "id" property')
    col = ctx.col
    # Upstream's order of checks: the fields (with their note lookup) first, then the tags.
    existing: Note | None = None
    if has_fields:
        existing = _get_note(col, note["id"])
        fields = note["fields"]
        if not isinstance(fields, dict):
            raise InvalidParams("fields must be an object")
        set_fields(existing, fields, match_case=True)  # in memory only, until update_note below
    tags = tag_list(col, note["tags"]) if has_tags else None
    if existing is None:
        existing = _get_note(col, note["id"])
    if tags is not None:
        existing.tags = tags
    # Media last: fetching may be slow, and only a fully valid request may store files.
    media: list[PendingMedia] = fetch_note_media(note, ctx.settings.webTimeout) if has_fields else []
    store_note_media(col, existing, media)
    col.update_note(existing)


@action("updateNoteModel")
def update_note_model(ctx: Context, *, note: dict[str, Any]) -> None:
    """Move a note to another note type (cards follow their templates by name); unnamed fields become empty."""
    note_id = note.get("id")
    if not note_id:
        raise InvalidParams("Note ID is required")
    model_name = note.get("modelName")
    if not model_name:
        raise InvalidParams("Model name is required")
    fields = note.get("fields")
    if not fields or not isinstance(fields, dict):
        raise InvalidParams("Fields must be provided as a dictionary")
    col = ctx.col
    existing = _get_note(col, note_id)
    model = col.models.by_name(model_name) if isinstance(model_name, str) else None
    if model is None:
        raise NotFound(f"Model '{model_name}' not found")
    # Upstream clears the tags when "tags" is omitted (D20); omitting them keeps them here.
    tags = list(existing.tags) if note.get("tags") is None else tag_list(col, note["tags"])
    values = _field_values(col, model, fields)
    undo_step: int | None = None
    if existing.mid != model["id"]:
        _change_notetype(col, existing, model)
        undo_step = col.undo_status().last_step
        existing = col.get_note(existing.id)
    existing.fields[:] = values
    existing.tags = tags
    col.update_note(existing)
    if undo_step is not None:
        col.merge_undo_entries(undo_step)  # one undo step for the whole action


@action("updateNoteTags")
def update_note_tags(ctx: Context, *, note: int, tags: Any) -> None:
    """Replace all tags of a note with a list of tags (or one string; spaces separate tags) in one update."""
    col = ctx.col
    new_tags = tag_list(col, tags)
    existing = _get_note(col, note)
    existing.tags = new_tags
    col.update_note(existing)


@action("getNoteTags")
def get_note_tags(ctx: Context, *, note: int) -> list[str]:
    """The tags of one note."""
    return list(_get_note(ctx.col, note).tags)


@action("notesModTime")
def notes_mod_time(ctx: Context, *, notes: list[int]) -> list[dict[str, Any]]:
    """Each note's modification time (epoch seconds); ``{}`` where a note does not exist."""
    db = database(ctx.col)
    mods: dict[int, int] = {}
    wanted = sorted(set(notes))
    for start in range(0, len(wanted), _CHUNK):
        chunk = ",".join(str(n) for n in wanted[start : start + _CHUNK])
        mods.update((nid, mod) for nid, mod in db.all(f"select id, mod from notes where id in ({chunk})"))
    return [{"noteId": nid, "mod": mods[nid]} if nid in mods else {} for nid in notes]


@action("deleteNotes")
def delete_notes(ctx: Context, *, notes: list[int]) -> None:
    """Delete notes with their cards; ids of notes that do not exist are ignored."""
    from anki.notes import NoteId

    ctx.col.remove_notes([NoteId(n) for n in notes])


@action("removeEmptyNotes")
def remove_empty_notes(ctx: Context) -> None:
    """Delete the notes whose fields are all empty once HTML is stripped (media references count as content)."""
    # Upstream deletes unused note types here (D1), which the name does not suggest and clients cannot undo.
    col = ctx.col
    empty = _empty_note_ids(col)
    if empty:
        col.remove_notes(empty)


def tag_list(col: Collection, value: Any) -> list[str]:
    """A note's new tags from a string or a list of strings, each split on spaces as Anki splits tags."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidParams(TAGS_NOT_STRINGS)
    # Upstream adds each entry with addTags, whose string Anki splits into several tags.
    return [tag for entry in value for tag in col.tags.split(entry)]


def _field_values(col: Collection, model: NotetypeDict, fields: dict[str, Any]) -> list[str]:
    """All fields of the new note type: the named ones (any case) filled, the others empty."""
    scratch = col.new_note(model)
    scratch.fields[:] = [""] * len(scratch.fields)
    set_fields(scratch, fields, match_case=False)
    return list(scratch.fields)


def _change_notetype(col: Collection, note: Note, model: NotetypeDict) -> None:
    """Anki's Change Notetype: fields and cards carried over by name, cards kept with their history."""
    info = col.models.change_notetype_info(old_notetype_id=note.mid, new_notetype_id=model["id"])
    request = info.input
    request.note_ids.append(note.id)
    col.models.change_notetype_of_notes(request)


def _empty_note_ids(col: Collection) -> list[NoteId]:
    from anki.notes import NoteId

    db = database(col)
    # The sort field is stored stripped the same way, so a blank one marks the few candidates.
    candidates = [nid for nid, sort_field in db.all("select id, sfld from notes") if _is_blank(str(sort_field))]
    empty: list[NoteId] = []
    for start in range(0, len(candidates), _CHUNK):
        chunk = ",".join(str(n) for n in candidates[start : start + _CHUNK])
        for note_id, flds in db.all(f"select id, flds from notes where id in ({chunk})"):
            if all(_is_blank(first_field_key(col, text, normalize=False)) for text in flds.split("\x1f")):
                empty.append(NoteId(note_id))
    return empty


def _is_blank(text: str) -> bool:
    return _BLANK.fullmatch(text) is not None
