"""Note actions: adding (with duplicate checks), finding, reading and updating notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import ActionError, InvalidParams, NotFound
from .lookup import database
from .note_spec import (
    BatchDuplicates,
    PreparedNote,
    check_addable,
    fetch_note_media,
    prepare_note,
    set_fields,
    store_note_media,
)
from .registry import Registry

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["registry"]

registry = Registry("notes")
action = registry.action


@action("addNote")
def add_note(ctx: Context, *, note: dict[str, Any]) -> int:
    """Add one note and return its id."""
    return _add_all(ctx, [note], single=True)[0]


@action("addNotes")
def add_notes(ctx: Context, *, notes: list[Any]) -> list[int]:
    """Add notes all-or-nothing: if any note fails, none is added and every failure is reported."""
    return _add_all(ctx, notes, single=False)


@action("canAddNotes")
def can_add_notes(ctx: Context, *, notes: list[Any]) -> list[bool]:
    """Whether each note could be added now (each judged alone; nothing is stored)."""
    return [_addable_error(ctx, spec) is None for spec in notes]


@action("canAddNotesWithErrorDetail")
def can_add_notes_with_error_detail(ctx: Context, *, notes: list[Any]) -> list[dict[str, Any]]:
    """Like canAddNotes, with the reason for each note that could not be added."""
    results: list[dict[str, Any]] = []
    for spec in notes:
        error = _addable_error(ctx, spec)
        results.append({"canAdd": True} if error is None else {"canAdd": False, "error": error})
    return results


@action("findNotes")
def find_notes(ctx: Context, *, query: str | None = None) -> list[int]:
    """Note ids matching an Anki search (``[]`` for a null query)."""
    if query is None:
        return []
    return [int(nid) for nid in ctx.col.find_notes(query)]


@action("notesInfo")
def notes_info(ctx: Context, *, notes: list[int] | None = None, query: str | None = None) -> list[dict[str, Any]]:
    """Fields, tags, note type and cards of each note; ``{}`` where a note does not exist."""
    col = ctx.col
    if query is not None:
        note_ids = [int(nid) for nid in col.find_notes(query)]
    elif notes is not None:
        note_ids = notes
    else:
        raise InvalidParams('Must provide either "notes" or a "query"')
    return _notes_info(col, note_ids, ctx.profile)


@action("updateNoteFields")
def update_note_fields(ctx: Context, *, note: dict[str, Any]) -> None:
    """Replace some fields of an existing note (exact field names), storing any media it brings."""
    if "id" not in note:
        raise InvalidParams('note has no "id" property')
    if "fields" not in note:
        raise InvalidParams('note has no "fields" property')
    fields = note["fields"]
    if not isinstance(fields, dict):
        raise InvalidParams("fields must be an object")
    col = ctx.col
    existing = _get_note(col, note["id"])
    set_fields(existing, fields, match_case=True)
    # Fetch every media file before storing any, so a bad one leaves nothing behind.
    pending = fetch_note_media(note, ctx.settings.webTimeout)
    store_note_media(col, existing, pending)
    col.update_note(existing)


def _add_all(ctx: Context, specs: list[Any], *, single: bool) -> list[int]:
    from anki.collection import AddNoteRequest

    col = ctx.col
    prepared: list[PreparedNote] = []
    errors: list[str] = []
    batch = BatchDuplicates()
    for spec in specs:
        try:
            item = prepare_note(col, spec, with_media=True, timeout_ms=ctx.settings.webTimeout)
            check_addable(col, item, batch)
        except ActionError as exc:
            if single:
                raise
            errors.append(exc.message)
            continue
        batch.add(col, item)
        prepared.append(item)
    if errors:
        # Upstream's text: the Python list of messages, one per failed note.
        raise ActionError(str(errors))
    for item in prepared:
        store_note_media(col, item.note, item.media)
    col.add_notes([AddNoteRequest(item.note, item.deck_id) for item in prepared])
    return [int(item.note.id) for item in prepared]


def _addable_error(ctx: Context, spec: Any) -> str | None:
    col = ctx.col
    try:
        item = prepare_note(col, spec, with_media=False, timeout_ms=ctx.settings.webTimeout)
        check_addable(col, item)
    except ActionError as exc:
        return exc.message
    return None


def _get_note(col: Collection, note_id: Any) -> Any:
    from anki.errors import NotFoundError
    from anki.notes import NoteId

    if isinstance(note_id, bool) or not isinstance(note_id, int):
        raise InvalidParams('note property "id" must be an integer')
    try:
        return col.get_note(NoteId(note_id))
    except NotFoundError:
        raise NotFound(f"Note was not found: {note_id}") from None


def _notes_info(col: Collection, note_ids: list[int], profile: str | None) -> list[dict[str, Any]]:
    from anki.errors import NotFoundError
    from anki.notes import NoteId

    cards_by_note: dict[int, list[int]] = {}
    wanted = sorted(set(note_ids))
    for start in range(0, len(wanted), 999):
        chunk = ",".join(str(n) for n in wanted[start : start + 999])
        for nid, cid in database(col).all(f"select nid, id from cards where nid in ({chunk}) order by nid, ord"):
            cards_by_note.setdefault(nid, []).append(cid)
    infos: list[dict[str, Any]] = []
    for note_id in note_ids:
        try:
            note = col.get_note(NoteId(note_id))
        except NotFoundError:
            infos.append({})
            continue
        model = note.note_type()
        assert model is not None
        infos.append(
            {
                "noteId": note.id,
                "profile": profile,
                "tags": list(note.tags),
                "fields": {f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]} for f in model["flds"]},
                "modelName": model["name"],
                "mod": note.mod,
                "cards": cards_by_note.get(note.id, []),
            }
        )
    return infos
