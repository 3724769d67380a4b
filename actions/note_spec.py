"""Turning a client's note object into an Anki note: fields, tags, media, and the duplicate check.

Shared by addNote(s), canAddNote(s)* and updateNoteFields. Nothing here writes to the collection; media
bytes are fetched when asked, and stored only by ``store_note_media``.
"""

from __future__ import annotations

import html
import os
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import InvalidParams
from .lookup import deck_id_by_name, model_by_name
from .media import NO_SOURCE, MediaBytes, fetch_media, store_media, stored_media_name

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.decks import DeckId
    from anki.models import NotetypeDict
    from anki.notes import Note

__all__ = [
    "DuplicateOptions",
    "NoteBuilder",
    "PreparedNote",
    "fetch_note_media",
    "set_fields",
    "store_note_media",
    "with_media_references",
]

MEDIA_KINDS = ("audio", "video", "picture")
MODEL_CLOZE = 1


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


_NO_OPTIONS = DuplicateOptions()
"""Shared by every note that sets no options (it is frozen)."""


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
    is_cloze: bool = False

    def first_field_as_stored(self) -> str:
        """The first field with the media references it will get (by the name Anki will store)."""
        text: str = self.note.fields[0]
        if not self.media:  # the usual case: no need to ask the note type for field names
            return text
        first: str = self.note.keys()[0]
        return text + "".join(
            pending.reference(stored_media_name(pending.media.filename))
            for pending in self.media
            if first in pending.fields
        )


class NoteBuilder:
    """Builds notes from client note objects; note types and decks are looked up once per request."""

    def __init__(self, col: Collection, timeout_ms: float) -> None:
        self._col = col
        self._timeout_ms = timeout_ms
        self._models: dict[str, NotetypeDict] = {}
        self._decks: dict[str, DeckId] = {}
        self._templates: dict[int, Note] = {}
        self._indexes: dict[int, dict[str, int]] = {}  # note type id -> lower-case field name -> position

    def prepare(self, spec: Any, *, read_media: bool) -> PreparedNote:
        """Build the note a client describes, without adding it; raises the upstream error texts.

        With ``read_media`` false (the canAdd* checks) media files are not read or downloaded, but their
        references still count for the empty/duplicate check, as they will when the note is added.
        """
        spec = _object(spec, "note")
        model = self._model(_required_str(spec, "modelName"))
        deck_id = self._deck(_required_str(spec, "deckName"))
        note = self._new_note(model)
        set_fields(note, _object(spec.get("fields", {}), "fields"), match_case=False, index=self._index(model))
        note.tags = _tags(spec.get("tags"))
        options = _options(spec.get("options"))
        media = fetch_note_media(spec, self._timeout_ms, read=read_media)
        return PreparedNote(note, deck_id, options, media, is_cloze=model["type"] == MODEL_CLOZE)

    def _new_note(self, model: NotetypeDict) -> Note:
        # Asking the backend for each new note cost as much as adding it. A new note differs from
        # another new note of its type only by its random guid, so clone one per type.
        template = self._templates.get(model["id"])
        if template is None:
            template = self._templates[model["id"]] = self._col.new_note(model)
        note = object.__new__(type(template))
        note.__dict__.update(template.__dict__)
        note.guid = _guid()
        note.fields = list(template.fields)
        note.tags = []
        return note

    def _index(self, model: NotetypeDict) -> dict[str, int]:
        index = self._indexes.get(model["id"])
        if index is None:
            index = self._indexes[model["id"]] = {f["name"].lower(): f["ord"] for f in model["flds"]}
        return index

    def _model(self, name: str) -> NotetypeDict:
        if name not in self._models:
            self._models[name] = model_by_name(self._col, name)
        return self._models[name]

    def _deck(self, name: str) -> DeckId:
        if name not in self._decks:
            self._decks[name] = deck_id_by_name(self._col, name)
        return self._decks[name]


def set_fields(note: Note, values: dict[str, Any], *, match_case: bool, index: dict[str, int] | None = None) -> None:
    """Fill fields by name; unknown names are ignored, as upstream does. ``index``: name -> position, as
    matched (lower-case unless ``match_case``), when the caller has it for the note type already."""
    if index is None:
        index = {name if match_case else name.lower(): i for i, name in enumerate(note.keys())}
    for name, value in values.items():
        if not isinstance(value, str):
            raise InvalidParams(f'field "{name}" must be a string')
        position = index.get(name if match_case else name.lower())
        if position is not None:
            note.fields[position] = value


def store_note_media(
    col: Collection, note: Note, media: list[PendingMedia], created: list[str] | None = None
) -> list[str]:
    """Store fetched media and reference each stored file (by its final name) in the requested fields.

    ``created`` receives the names of the files that did not exist before (so a failure after this can
    remove them again); a file Anki renamed or that replaced another one is never listed.
    """
    stored: list[str] = []
    names = note.keys()
    for pending in media:
        wanted = stored_media_name(pending.media.filename)
        existed = not wanted or os.path.lexists(os.path.join(col.media.dir(), wanted))
        name = store_media(col, pending.media, delete_existing=pending.delete_existing)
        if created is not None and name == wanted and not existed:
            created.append(name)
        stored.append(name)
        for field_name in pending.fields:
            if field_name in names:
                note[field_name] += pending.reference(name)
    return stored


_GUID_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_`{|}~"
_GUID_PAIRS = [a + b for a in _GUID_ALPHABET for b in _GUID_ALPHABET]
"""Two base-91 digits at a time: half the divisions."""
_random_pool: list[int] = []


def _guid() -> str:
    """A random 64-bit number in Anki's base-91 guid alphabet (what the backend's new_note gives)."""
    try:
        number = _random_pool.pop()
    except IndexError:  # one system call for 512 guids rather than one each
        data = secrets.token_bytes(8 * 512)
        _random_pool.extend(int.from_bytes(data[i : i + 8], "little") for i in range(8, len(data), 8))
        number = int.from_bytes(data[:8], "little")
    text = ""
    while number >= 91:
        number, pair = divmod(number, 91 * 91)
        text = _GUID_PAIRS[pair] + text
    if number:
        text = _GUID_ALPHABET[number] + text
    return text


@contextmanager
def with_media_references(prepared: PreparedNote) -> Iterator[None]:
    """Temporarily append the media references the note will get, for Anki's own field check."""
    note = prepared.note
    saved = list(note.fields)
    names = note.keys()
    for pending in prepared.media:
        reference = pending.reference(stored_media_name(pending.media.filename))
        for field_name in pending.fields:
            if field_name in names:
                note[field_name] += reference
    try:
        yield
    finally:
        note.fields[:] = saved


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
        return _NO_OPTIONS
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


def fetch_note_media(spec: dict[str, Any], timeout_ms: float, *, read: bool = True) -> list[PendingMedia]:
    """Fetch the bytes of a note object's ``audio``/``video``/``picture`` entries, storing nothing.

    With ``read`` false, base64 ``data`` is still decoded (no I/O) but paths and URLs are not touched.
    """
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
            if read or item.get("data"):
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
            elif item.get("path") or item.get("url"):
                media = MediaBytes(filename, b"")  # never stored: only its name is referenced
            else:
                raise InvalidParams(NO_SOURCE)
            fields = item.get("fields") or []
            fields = [fields] if isinstance(fields, str) else fields
            pending.append(PendingMedia(media, kind, list(fields), bool(item.get("deleteExisting"))))
    return pending
