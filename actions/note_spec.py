"""Turning a client's note object into an Anki note: fields, tags, media, and the duplicate check.

Shared by addNote(s), canAddNote(s)* and updateNoteFields. Nothing here writes to the collection; media
bytes are fetched when asked, and stored only by ``store_note_media``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from hashlib import sha1
from typing import TYPE_CHECKING, Any

from .errors import ActionError, Duplicate, InvalidParams
from .lookup import database, deck_id_by_name, model_by_name
from .media import MediaBytes, fetch_media, safe_media_name, store_media

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.decks import DeckId
    from anki.notes import Note

__all__ = [
    "BatchDuplicates",
    "PreparedNote",
    "check_addable",
    "fetch_note_media",
    "prepare_note",
    "set_fields",
    "store_note_media",
]

EMPTY, DUPLICATE = 1, 2
"""Anki's NoteFieldsCheckResponse states that have their own error text."""

MEDIA_KINDS = ("audio", "video", "picture")


@dataclass(frozen=True, slots=True)
class DuplicateOptions:
    allow: bool = False
    deck_scope: bool = False
    deck_name: str | None = None
    check_children: bool = False
    check_all_models: bool = False

    @property
    def custom(self) -> bool:
        """Upstream's own search replaces Anki's check when the scope is a deck or spans note types."""
        return self.deck_scope or self.check_all_models


@dataclass(slots=True)
class PendingMedia:
    media: MediaBytes
    kind: str
    fields: list[str]
    delete_existing: bool

    def reference(self, name: str) -> str:
        if self.kind == "picture":
            return f'<img src="{html.escape(name)}">'
        return f"[sound:{name}]"


@dataclass(slots=True)
class PreparedNote:
    note: Note
    deck_id: DeckId
    options: DuplicateOptions
    media: list[PendingMedia] = field(default_factory=list)


def prepare_note(col: Collection, spec: Any, *, with_media: bool, timeout_ms: float) -> PreparedNote:
    """Build the note a client describes, without adding it; raises the upstream error texts."""
    spec = _object(spec, "note")
    model = model_by_name(col, _required_str(spec, "modelName"))
    deck_id = deck_id_by_name(col, _required_str(spec, "deckName"))
    note = col.new_note(model)
    set_fields(note, _object(spec.get("fields", {}), "fields"), match_case=False)
    note.tags = _tags(spec.get("tags"))
    options = _options(spec.get("options"))
    media = fetch_note_media(spec, timeout_ms) if with_media else []
    return PreparedNote(note, deck_id, options, media)


def set_fields(note: Note, values: dict[str, Any], *, match_case: bool) -> None:
    """Fill fields by name; unknown names are ignored, as upstream does."""
    names = note.keys()
    index = {name if match_case else name.lower(): i for i, name in enumerate(names)}
    for name, value in values.items():
        if not isinstance(value, str):
            raise InvalidParams(f'field "{name}" must be a string')
        position = index.get(name if match_case else name.lower())
        if position is not None:
            note.fields[position] = value


def store_note_media(col: Collection, note: Note, media: list[PendingMedia]) -> list[str]:
    """Store fetched media and reference each stored file (by its final name) in the requested fields."""
    stored: list[str] = []
    names = note.keys()
    for pending in media:
        name = store_media(col, pending.media, delete_existing=pending.delete_existing)
        stored.append(name)
        for field_name in pending.fields:
            if field_name in names:
                note[field_name] += pending.reference(name)
    return stored


def check_addable(col: Collection, prepared: PreparedNote, batch: BatchDuplicates | None = None) -> None:
    """Raise the empty/duplicate errors upstream raises; ``batch`` also counts notes added before it."""
    state = _fields_state(col, prepared)
    if state == 0 and batch is not None and batch.clashes(col, prepared):
        state = DUPLICATE
    if state == EMPTY:
        raise ActionError("cannot create note because it is empty")
    if state == DUPLICATE:
        if prepared.options.allow:
            return
        raise Duplicate("cannot create note because it is a duplicate")
    if state != 0:
        raise ActionError("cannot create note for unknown reason")


class BatchDuplicates:
    """Notes accepted earlier in one addNotes call, which are duplicates for later ones as if added."""

    def __init__(self) -> None:
        self._seen: list[tuple[str, int, DeckId]] = []

    def clashes(self, col: Collection, prepared: PreparedNote) -> bool:
        key = _stripped(col, prepared.note.fields[0])
        mid = prepared.note.mid
        options = prepared.options
        scope = _scope_decks(col, prepared) if options.deck_scope else None
        for seen_key, seen_mid, seen_deck in self._seen:
            if seen_key != key or (seen_mid != mid and not options.check_all_models):
                continue
            if options.deck_scope and (scope is None or seen_deck not in scope):
                continue
            return True
        return False

    def add(self, col: Collection, prepared: PreparedNote) -> None:
        self._seen.append((_stripped(col, prepared.note.fields[0]), prepared.note.mid, prepared.deck_id))


def _fields_state(col: Collection, prepared: PreparedNote) -> int:
    note, options = prepared.note, prepared.options
    with _MediaReferences(prepared):
        if not options.custom:
            return int(note.fields_check())
        first = note.fields[0]
        if not first.strip():
            return EMPTY
        key = _stripped(col, first)
        sql = "select id, flds from notes where csum = ? and id != ?"
        args: list[Any] = [int(sha1(key.encode("utf-8")).hexdigest()[:8], 16), note.id]
        if not options.check_all_models:
            sql += " and mid = ?"
            args.append(note.mid)
        # The checksum has 32 bits, so compare the text too (upstream trusts the checksum alone).
        rows = database(col).all(sql, *args)
        matches = [nid for nid, flds in rows if _stripped(col, flds.split("\x1f", 1)[0]) == key]
    if not matches:
        return 0
    if not options.deck_scope:
        return DUPLICATE
    scope = _scope_decks(col, prepared)
    if scope is None:
        return 0
    found = database(col).scalar(
        f"select 1 from cards where nid in ({_ints(matches)}) and did in ({_ints(scope)}) limit 1"
    )
    return DUPLICATE if found else 0


class _MediaReferences:
    """Temporarily append media references (by requested name) so the check sees what will be stored."""

    def __init__(self, prepared: PreparedNote) -> None:
        self._prepared = prepared
        self._saved: list[str] = []

    def __enter__(self) -> None:
        note = self._prepared.note
        self._saved = list(note.fields)
        names = note.keys()
        for pending in self._prepared.media:
            reference = pending.reference(safe_media_name(pending.media.filename))
            for field_name in pending.fields:
                if field_name in names:
                    note[field_name] += reference

    def __exit__(self, *exc: object) -> None:
        self._prepared.note.fields[:] = self._saved


def _scope_decks(col: Collection, prepared: PreparedNote) -> set[int] | None:
    """The decks a deck-scoped check looks in; None when the named scope deck does not exist."""
    options = prepared.options
    if options.deck_name is not None:
        deck_id = col.decks.id_for_name(options.deck_name)
        if deck_id is None:
            return None
    else:
        deck_id = prepared.deck_id
    if options.check_children:
        return {int(d) for d in col.decks.deck_and_child_ids(deck_id)}
    return {int(deck_id)}


def _stripped(col: Collection, text: str) -> str:
    from anki.collection import StripHtmlMode

    return col._backend.strip_html(text=text, mode=StripHtmlMode.PRESERVE_MEDIA_FILENAMES)


def _ints(values: Any) -> str:
    return ",".join(str(int(v)) for v in values)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidParams(f"{what} must be an object")
    return value


def _required_str(spec: dict[str, Any], key: str) -> str:
    if key not in spec:
        raise InvalidParams(f'note has no "{key}" property')
    value = spec[key]
    if not isinstance(value, str):
        raise InvalidParams(f'note property "{key}" must be a string')
    return value


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # tolerated: a space-separated string, as addTags takes
        return value.split()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidParams("Must provide tags as a list of strings")
    return [t for t in value if t.strip()]


def _options(value: Any) -> DuplicateOptions:
    if value is None:
        return DuplicateOptions()
    options = _object(value, "options")
    allow = options.get("allowDuplicate", False)
    if not isinstance(allow, bool):
        raise InvalidParams('option parameter "allowDuplicate" must be boolean')
    scope_options = options.get("duplicateScopeOptions") or {}
    scope_options = _object(scope_options, "duplicateScopeOptions")
    children = scope_options.get("checkChildren", False)
    if not isinstance(children, bool):
        raise InvalidParams('option parameter "duplicateScopeOptions.checkChildren" must be boolean')
    all_models = scope_options.get("checkAllModels", False)
    if not isinstance(all_models, bool):
        raise InvalidParams('option parameter "duplicateScopeOptions.checkAllModels" must be boolean')
    deck_name = scope_options.get("deckName")
    return DuplicateOptions(
        allow=allow,
        deck_scope=options.get("duplicateScope") == "deck",
        deck_name=deck_name if isinstance(deck_name, str) else None,
        check_children=children,
        check_all_models=all_models,
    )


def fetch_note_media(spec: dict[str, Any], timeout_ms: float) -> list[PendingMedia]:
    """Fetch the bytes of a note object's ``audio``/``video``/``picture`` entries, storing nothing."""
    pending: list[PendingMedia] = []
    for kind in MEDIA_KINDS:
        items = spec.get(kind)
        if items is None:
            continue
        for item in items if isinstance(items, list) else [items]:
            item = _object(item, kind)
            filename = item.get("filename")
            if not isinstance(filename, str) or not filename:
                raise InvalidParams(f'{kind} has no "filename" property')
            media = fetch_media(
                filename,
                data=item.get("data"),
                path=item.get("path"),
                url=item.get("url"),
                timeout_ms=timeout_ms,
            )
            skip = item.get("skipHash")
            if skip is not None and media.md5() == skip:
                continue
            fields = item.get("fields") or []
            fields = [fields] if isinstance(fields, str) else fields
            pending.append(PendingMedia(media, kind, list(fields), bool(item.get("deleteExisting"))))
    return pending
