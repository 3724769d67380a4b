"""The empty/duplicate check of many notes at once, with the same answers as Anki's per-note check.

Anki's ``note_fields_check`` costs a backend round trip per note, which made checking a 1000-note batch
cost more than adding it. This module answers a whole batch from one query on the notes table's first-field
checksum (``csum``), and falls back to Anki's own check only for what it does not reimplement (clozes).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha1
from typing import TYPE_CHECKING

from ..pacing import paced
from .lookup import database
from .note_spec import with_media_references

if TYPE_CHECKING:
    from anki.collection import Collection

    from .note_spec import PreparedNote

__all__ = ["DUPLICATE", "EMPTY", "NORMAL", "DuplicateChecker", "first_field_key"]

EMPTY_NOTE = "cannot create note because it is empty"
DUPLICATE_NOTE = "cannot create note because it is a duplicate"
UNKNOWN_REASON = "cannot create note for unknown reason"

DEFAULT_DECK = 1
"""Where Anki adds the cards meant for a filtered deck."""

NORMAL, EMPTY, DUPLICATE = 0, 1, 2
"""Anki's NoteFieldsCheckResponse states; 3-5 are cloze problems."""

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class _Existing:
    note_id: int
    model_id: int


def first_field_key(col: Collection, text: str, normalize: bool) -> str:
    """The first field as Anki compares it for duplicates: NFC, HTML stripped, media names kept."""
    if normalize:
        text = unicodedata.normalize("NFC", text)
    if "<" not in text and "&" not in text:
        return text  # nothing to strip: skip the backend round trip
    from anki.collection import StripHtmlMode

    return col._backend.strip_html(text=text, mode=StripHtmlMode.PRESERVE_MEDIA_FILENAMES)


def checksum(key: str) -> int:
    """Anki's ``csum`` column: the first 32 bits of the key's SHA-1."""
    return int(sha1(key.encode("utf-8")).hexdigest()[:8], 16)


class DuplicateChecker:
    """Checks notes against the collection and, for a batch add, against notes accepted before them."""

    def __init__(self, col: Collection) -> None:
        from anki.config import Config

        self._col = col
        self._normalize = col.get_config_bool(Config.Bool.NORMALIZE_NOTE_TEXT)
        self._accepted: dict[str, list[tuple[int, int]]] = defaultdict(list)  # key -> [(model id, deck id)]
        self._scopes: dict[tuple[int, str | None, bool], set[int] | None] = {}
        self._card_deck: dict[int, int] = {}

    def errors(self, notes: Sequence[PreparedNote], *, batch: bool) -> list[str | None]:
        """Upstream's error text for each note that cannot be added, None for the others.

        With ``batch``, each acceptable note counts as added for the notes after it, as when upstream adds
        them one by one.
        """
        keys = [first_field_key(self._col, p.first_field_as_stored(), self._normalize) for p in paced(notes)]
        existing = self._existing({checksum(k) for k in keys if k.strip()})
        card_decks = self._card_decks(notes, keys, existing)
        results: list[str | None] = []
        for prepared, key in paced(zip(notes, keys, strict=True)):
            error = _error_text(self._state(prepared, key, existing.get(key, []), card_decks), prepared)
            if batch and error is None:
                self._accepted[key].append((prepared.note.mid, self._deck_for_adding(int(prepared.deck_id))))
            results.append(error)
        return results

    def _state(
        self, prepared: PreparedNote, key: str, existing: list[_Existing], card_decks: dict[int, set[int]]
    ) -> int:
        note, options = prepared.note, prepared.options
        if not key.strip():
            return EMPTY
        if not options.custom and _may_have_cloze_issue(prepared):
            with with_media_references(prepared):
                state = int(note.fields_check())  # Anki's own check, which knows clozes
            if state != NORMAL:
                return state
        same_model = options.check_all_models is False
        if options.deck_scope:
            scope = self._scope(prepared)
            if scope is None:  # the named scope deck does not exist: never a duplicate
                return NORMAL
        else:
            scope = None
        for hit in existing:
            if hit.note_id == note.id or (same_model and hit.model_id != note.mid):
                continue
            if scope is None or card_decks.get(hit.note_id, set()) & scope:
                return DUPLICATE
        for model_id, deck_id in self._accepted.get(key, []):
            if same_model and model_id != note.mid:
                continue
            if scope is None or deck_id in scope:
                return DUPLICATE
        return NORMAL

    def _existing(self, checksums: set[int]) -> dict[str, list[_Existing]]:
        """Notes whose first field matches one of the keys, by key (the checksum alone may collide)."""
        found: dict[str, list[_Existing]] = defaultdict(list)
        wanted = sorted(checksums)
        db = database(self._col)
        for start in range(0, len(wanted), _CHUNK):
            chunk = ",".join(str(c) for c in wanted[start : start + _CHUNK])
            for note_id, model_id, fields in db.all(f"select id, mid, flds from notes where csum in ({chunk})"):
                key = first_field_key(self._col, fields.split("\x1f", 1)[0], self._normalize)
                found[key].append(_Existing(note_id, model_id))
        return found

    def _card_decks(
        self, notes: Sequence[PreparedNote], keys: list[str], existing: dict[str, list[_Existing]]
    ) -> dict[int, set[int]]:
        """The decks holding cards of the matching notes, for deck-scoped checks only."""
        note_ids = {
            hit.note_id for p, k in zip(notes, keys, strict=True) if p.options.deck_scope for hit in existing.get(k, [])
        }
        decks: dict[int, set[int]] = defaultdict(set)
        wanted = sorted(note_ids)
        db = database(self._col)
        for start in range(0, len(wanted), _CHUNK):
            chunk = ",".join(str(n) for n in wanted[start : start + _CHUNK])
            # Upstream looks at a card's current deck only (a card in a filtered deck counts there).
            for note_id, deck_id in db.all(f"select nid, did from cards where nid in ({chunk})"):
                decks[note_id].add(deck_id)
        return decks

    def _deck_for_adding(self, deck_id: int) -> int:
        """Where Anki puts the cards of a note added to this deck: there, unless it is a filtered deck (or gone),
        then in the Default deck."""
        if deck_id not in self._card_deck:
            from anki.decks import DeckId

            deck = self._col.decks.get(DeckId(deck_id), default=False)
            self._card_deck[deck_id] = deck_id if deck is not None and not deck["dyn"] else DEFAULT_DECK
        return self._card_deck[deck_id]

    def _scope(self, prepared: PreparedNote) -> set[int] | None:
        options = prepared.options
        cache_key = (int(prepared.deck_id), options.deck_name, options.check_children)
        if cache_key not in self._scopes:
            self._scopes[cache_key] = _scope_decks(self._col, prepared)
        return self._scopes[cache_key]


def _scope_decks(col: Collection, prepared: PreparedNote) -> set[int] | None:
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


def _error_text(state: int, prepared: PreparedNote) -> str | None:
    if state == NORMAL or (state == DUPLICATE and prepared.options.allow):
        return None
    if state == EMPTY:
        return EMPTY_NOTE
    if state == DUPLICATE:
        return DUPLICATE_NOTE
    return UNKNOWN_REASON


def _may_have_cloze_issue(prepared: PreparedNote) -> bool:
    # Anki flags cloze markup in a non-cloze note type, and cloze note types without a cloze.
    return prepared.is_cloze or any("{{c" in field for field in prepared.note.fields)
