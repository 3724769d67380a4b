"""Note actions: adding (with duplicate checks), finding, reading and updating notes."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from ..pacing import paced
from . import field_index
from .context import Context, publish_event
from .duplicates import DuplicateChecker
from .errors import ActionError, InvalidParams, NotFound
from .lookup import database
from .note_spec import NoteBuilder, PreparedNote, fetch_note_media, set_fields, store_note_media
from .registry import OneByOne, Registry

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.notes import Note

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


@action("canAddNote")
def can_add_note(ctx: Context, *, note: Any) -> bool:
    """Whether one note could be added now (nothing is stored)."""
    return _addable_errors(ctx, [note])[0] is None


@action("canAddNoteWithErrorDetail")
def can_add_note_with_error_detail(ctx: Context, *, note: Any) -> dict[str, Any]:
    """Like canAddNote, with the reason when the note could not be added."""
    [error] = _addable_errors(ctx, [note])
    return {"canAdd": True} if error is None else {"canAdd": False, "error": error}


@action("canAddNotes")
def can_add_notes(ctx: Context, *, notes: list[Any]) -> list[bool]:
    """Whether each note could be added now (each judged alone; nothing is stored)."""
    return [error is None for error in _addable_errors(ctx, notes)]


@action("canAddNotesWithErrorDetail")
def can_add_notes_with_error_detail(ctx: Context, *, notes: list[Any]) -> list[dict[str, Any]]:
    """Like canAddNotes, with the reason for each note that could not be added."""
    return [
        {"canAdd": True} if error is None else {"canAdd": False, "error": error}
        for error in _addable_errors(ctx, notes)
    ]


@action("findNotes")
def find_notes(ctx: Context, *, query: str | None = None) -> list[int]:
    """Note ids matching an Anki search (``[]`` for a null query), from an index or memory where possible.

    A query bounded by exact field values (``"deck:X" "Front:word"``, ``"Front:a" or "Front:b"``) runs on the
    notes an index of field values names (``field_index.py``): Anki's ids, in milliseconds on 200k notes. A
    search asked again while no row of the collection changed is answered from memory, unless a term of it
    depends on the clock (``search_cache.py``).
    """
    if query is None:
        return []
    return field_index.find_notes(ctx.col, query)


@action("notesInfo")
def notes_info(ctx: Context, *, notes: list[int] | None = None, query: str | None = None) -> list[dict[str, Any]]:
    """Fields, tags, note type and cards of each note; ``{}`` where a note does not exist."""
    col = ctx.col
    if query is not None:
        note_ids = field_index.find_notes(col, query)
    elif notes is not None:
        note_ids = notes
    else:
        raise InvalidParams('Must provide either "notes" or a "query"')
    return _notes_info(col, note_ids, ctx.profile)


@action("updateNoteFields")
def update_note_fields(ctx: Context, *, note: dict[str, Any]) -> None:
    """Replace some fields of an existing note (exact field names), storing any media it brings."""
    ctx.col.update_note(_with_new_fields(ctx, note, {}))


@registry.batched("updateNoteFields")
def update_note_fields_each(ctx: Context, calls: list[dict[str, Any]]) -> list[Any]:
    """A run of updateNoteFields calls in one multi: each applied in turn (a note named twice gets both, the
    later winning), then every note they changed written at once."""
    col = ctx.col
    working: dict[int, Note] = {}
    created: list[str] = []
    results: list[Any] = []
    try:
        for call in paced(calls):
            try:
                _with_new_fields(ctx, call["note"], working, created)
            except ActionError as exc:
                results.append(exc)
            else:
                results.append(None)
        if working:
            col.update_notes(list(working.values()))
    except Exception:
        _remove_media(col, created)  # the calls then run one by one, storing their files again
        raise
    return results


def _with_new_fields(
    ctx: Context, note: dict[str, Any], working: dict[int, Note], created: list[str] | None = None
) -> Note:
    """The note (from ``working`` when an earlier call of the run changed it) with ``note``'s fields and media
    in place, not yet written; on an error it is left as it was."""
    if "id" not in note:
        raise InvalidParams('note has no "id" property')
    if "fields" not in note:
        raise InvalidParams('note has no "fields" property')
    fields = note["fields"]
    if not isinstance(fields, dict):
        raise InvalidParams("fields must be an object")
    col = ctx.col
    _check_note_id(note["id"])
    existing = working.get(note["id"])
    if existing is None:
        existing = _get_note(col, note["id"])
    before = list(existing.fields)
    try:
        set_fields(existing, fields, match_case=True)
        # Fetch every media file before storing any, so a bad one leaves nothing behind.
        pending = fetch_note_media(note, ctx.settings.webTimeout)
        store_note_media(col, existing, pending, created)
    except BaseException:
        existing.fields[:] = before
        raise
    working[int(existing.id)] = existing
    return existing


def _add_all(ctx: Context, specs: list[Any], *, single: bool) -> list[int]:
    slots = _checked(ctx, specs, single=single)
    failures = [item for item in slots if isinstance(item, str)]
    if failures:
        if single:
            raise ActionError(failures[0])
        # Upstream's text: the Python list of messages, one per failed note, in order.
        raise ActionError(str(failures))
    # Everything was checked before anything is written: a failing batch leaves no note and no file.
    ready = [item for item in slots if isinstance(item, PreparedNote)]
    _write_notes(ctx.col, ready)
    return [int(item.note.id) for item in ready]


@registry.batched("addNote")
def add_note_each(ctx: Context, calls: list[dict[str, Any]]) -> list[Any]:
    """A run of addNote calls in one multi, added in one write: each note's id or its error, as when added one
    after another (a note accepted counts for the duplicate checks of the notes after it)."""
    slots = _checked(ctx, [call["note"] for call in calls], single=False)
    accepted = [item for item in slots if isinstance(item, PreparedNote)]
    if _decks_unknown_before_adding(accepted):
        raise OneByOne()
    _write_notes(ctx.col, accepted)
    return [ActionError(item) if isinstance(item, str) else int(item.note.id) for item in slots]


def _decks_unknown_before_adding(notes: list[PreparedNote]) -> bool:
    """Whether a note is checked for duplicates in some decks while a card template (Deck Override) may send
    cards of a note accepted before it to a deck other than the note's own: which of them the note gets is
    known once it is added, so the checker, which counts such a note in its own deck only, could miss one."""
    if not any(note.options.deck_scope for note in notes):
        return False
    models = [note.note.note_type() for note in notes]
    return any(template.get("did") for model in models if model is not None for template in model["tmpls"])


def _checked(ctx: Context, specs: list[Any], *, single: bool) -> list[PreparedNote | str]:
    """Each note built and checked for duplicates (against the collection and the notes accepted before it), or
    the error text that stops it (the first raised at once when ``single``)."""
    slots = _prepare_all(ctx, specs, read_media=True, single=single)
    ready = [item for item in slots if isinstance(item, PreparedNote)]
    verdicts = iter(DuplicateChecker(ctx.col).errors(ready, batch=True))
    return [item if isinstance(item, str) else (next(verdicts) or item) for item in slots]


def _write_notes(col: Collection, ready: list[PreparedNote]) -> None:
    """Store the notes' media and add them in one write; on a failure, neither notes nor new files stay."""
    from anki.collection import AddNoteRequest

    if not ready:
        return
    created: list[str] = []
    try:
        for item in ready:
            store_note_media(col, item.note, item.media, created)
        col.add_notes([AddNoteRequest(item.note, item.deck_id) for item in ready])
    except Exception:
        # Only a storage failure gets here (a full disk): the files stored for notes that were never added go.
        _remove_media(col, created)
        raise


def _remove_media(col: Collection, names: list[str]) -> None:
    folder = col.media.dir()
    for name in names:
        with contextlib.suppress(OSError):
            os.remove(os.path.join(folder, name))
            publish_event("media.deleted", {"filename": name})  # its media.stored event was already sent


def _addable_errors(ctx: Context, specs: list[Any]) -> list[str | None]:
    """Each note judged alone against the collection; media is neither read nor stored."""
    slots = _prepare_all(ctx, specs, read_media=False, single=False)
    ready = [item for item in slots if isinstance(item, PreparedNote)]
    verdicts = iter(DuplicateChecker(ctx.col).errors(ready, batch=False))
    return [item if isinstance(item, str) else next(verdicts) for item in slots]


def _prepare_all(ctx: Context, specs: list[Any], *, read_media: bool, single: bool) -> list[PreparedNote | str]:
    """Each note built, or the error text that stopped it (raised at once when ``single``)."""
    builder = NoteBuilder(ctx.col, ctx.settings.webTimeout)
    slots: list[PreparedNote | str] = []
    for spec in paced(specs):
        try:
            slots.append(builder.prepare(spec, read_media=read_media))
        except ActionError as exc:
            if single:
                raise
            slots.append(exc.message)
    return slots


def _check_note_id(note_id: Any) -> None:
    if isinstance(note_id, bool) or not isinstance(note_id, int):
        raise InvalidParams('note property "id" must be an integer')


def _get_note(col: Collection, note_id: Any) -> Note:
    from anki.errors import NotFoundError
    from anki.notes import NoteId

    _check_note_id(note_id)
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
