"""Graphical actions around Anki's Add dialog: guiAddCards and guiAddNoteSetData.

Both drive Anki 26.9's default Add dialog (``aqt.addcards.AddCards``, with the classic editor whose note
lives in Python) through its public methods, as Anki's own "Create Copy" does. The Svelte Add dialog of
Anki's experimental editor keeps its note in the page, where nothing can fill it in; a request always
uses the classic dialog.

* guiAddCards fills the dialog in from a note object (deck, note type, fields by exact name, tags, media
  stored and referenced), replacing what an open dialog showed, without Anki's modal "discard?" question
  that closing the dialog asks. It answers 0, the id of the note not added yet (AnkiConnect's answer).
* guiAddNoteSetData changes the open dialog. Everything that can fail (names, values, media) is checked and
  media stored before the reply; the change itself is applied once the editor has saved what the user was
  typing, so neither overwrites the other.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aqt
from aqt.addcards import AddCards
from aqt.qt import Qt

from ..actions.errors import ActionError, InvalidParams, NotFound
from ..actions.lookup import deck_id_by_name, model_by_name
from ..actions.media import store_media
from ..actions.note_spec import fetch_note_media, set_fields, store_note_media
from .gui_host import gui_action
from .gui_review import require_collection

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.decks import DeckId
    from anki.models import NotetypeDict
    from aqt.main import AnkiQt

__all__ = ["ADD_CARDS", "NOT_OPEN", "open_add_dialog"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

ADD_CARDS = "AddCards"
"""The classic Add dialog's name in Anki's dialog manager (``aqt.dialogs``)."""
NOT_OPEN = "Add Note dialog is not open"
"""guiAddNoteSetData's error without an Add dialog (AnkiConnect answers it as a success result)."""


def open_add_dialog() -> AddCards | None:
    """The open classic Add dialog, if any."""
    dialog = aqt.dialogs.getInstance(ADD_CARDS)
    return dialog if isinstance(dialog, AddCards) and dialog.editor.note is not None else None


# guiAddCards


@gui_action("guiAddCards")
def add_cards(mw: AnkiQt, note: Any = None) -> int:
    col = require_collection(mw)
    if note is None:
        dialog: AddCards = aqt.dialogs.open(ADD_CARDS, mw)  # as Tools > Add does
        dialog.activateWindow()
        return 0
    spec = _object(note, "note")
    deck_id = deck_id_by_name(col, _required_str(spec, "deckName"))
    model = model_by_name(col, _required_str(spec, "modelName"))
    new = col.new_note(model)
    set_fields(new, _object(spec.get("fields") or {}, "fields"), match_case=True)
    new.tags = _tags(spec.get("tags"))
    media = fetch_note_media(spec, _web_timeout_ms())
    store_note_media(col, new, media)
    existing = open_add_dialog()
    if existing is None:
        dialog = aqt.dialogs.open(ADD_CARDS, mw)
    else:
        dialog = existing
        if dialog.windowState() & Qt.WindowState.WindowMinimized:
            dialog.setWindowState(dialog.windowState() & ~Qt.WindowState.WindowMinimized)
        dialog.raise_()
    # What Anki's Create Copy does: note type, deck, then a new note with these fields and tags.
    dialog.set_note(new, deck_id)
    dialog.activateWindow()
    return 0  # the id of a note not added yet, which is what AnkiConnect answers


# guiAddNoteSetData


@gui_action("guiAddNoteSetData")
def add_note_set_data(mw: AnkiQt, note: Any, append: bool = False) -> bool:
    col = require_collection(mw)
    dialog = open_add_dialog()
    if dialog is None:
        raise ActionError(NOT_OPEN)
    spec = _object(note, "note")
    deck_id = _deck(col, spec["deckName"]) if "deckName" in spec else None
    model = _model(col, spec["modelName"]) if "modelName" in spec else None
    current = dialog.editor.note
    assert current is not None
    names: list[str] = [field["name"] for field in model["flds"]] if model is not None else current.keys()
    fields = _object(spec.get("fields") or {}, "fields")
    for name, value in fields.items():
        if name not in names:
            raise InvalidParams(f'Field "{name}" not found in current note')
        if not isinstance(value, str):
            raise InvalidParams(f'field "{name}" must be a string')
    tags = _tags(spec["tags"]) if spec.get("tags") is not None else None
    references: list[tuple[list[str], str]] = []
    for pending in fetch_note_media(spec, _web_timeout_ms()):
        stored = store_media(col, pending.media, delete_existing=pending.delete_existing)
        references.append((pending.fields, pending.reference(stored)))
    change = _Change(dialog, model, deck_id, fields, tags, references, append)
    # Apply after the editor saved what is being typed (as Anki does before changing the note type).
    dialog.editor.call_after_note_saved(change.apply, keepFocus=True)
    return True


class _Change:
    """A guiAddNoteSetData request, checked, to apply to the dialog's note once the editor has saved."""

    def __init__(
        self,
        dialog: AddCards,
        model: NotetypeDict | None,
        deck_id: DeckId | None,
        fields: dict[str, str],
        tags: list[str] | None,
        references: list[tuple[list[str], str]],
        append: bool,
    ) -> None:
        self.dialog = dialog
        self.model = model
        self.deck_id = deck_id
        self.fields = fields
        self.tags = tags
        self.references = references
        self.append = append

    def apply(self) -> None:
        try:
            self._apply()
        except Exception:  # runs from a Qt callback: log, never raise into Anki
            log.exception("changing the Add dialog's note failed")

    def _apply(self) -> None:
        dialog = self.dialog
        if open_add_dialog() is not dialog:
            return  # closed meanwhile
        if self.model is not None:
            dialog.set_note_type(self.model["id"])  # copies the fields over, as choosing the type does
        if self.deck_id is not None:
            dialog.set_deck(self.deck_id)  # after the type, which would pick its own deck
        note = dialog.editor.note
        assert note is not None
        names = note.keys()
        for name, value in self.fields.items():
            if name in names:
                note[name] = note[name] + value if self.append else value
        if self.tags is not None:
            note.tags = _union(note.tags, self.tags) if self.append else list(self.tags)
        for field_names, reference in self.references:
            for name in field_names:
                if name in names:
                    note[name] += reference
        dialog.editor.loadNoteKeepingFocus()


def _union(old: list[str], new: list[str]) -> list[str]:
    """The tags of both, each once (Anki's tags ignore case), in their order."""
    seen = {tag.lower() for tag in old}
    merged = list(old)
    for tag in new:
        if tag.lower() not in seen:
            seen.add(tag.lower())
            merged.append(tag)
    return merged


def _model(col: Collection, name: Any) -> NotetypeDict:
    model = col.models.by_name(name) if isinstance(name, str) else None
    if model is None:
        raise NotFound(f'Model "{name}" not found')
    return model


def _deck(col: Collection, name: Any) -> DeckId:
    deck_id = col.decks.id_for_name(name) if isinstance(name, str) else None
    if deck_id is None:
        raise NotFound(f'Deck "{name}" not found')
    return deck_id


# Note objects (the texts addNote uses)


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
    if isinstance(value, str):  # a space-separated string, as addNote accepts
        return value.split()
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidParams("Must provide tags as a list of strings")
    return [tag for tag in value if tag.strip()]


def _web_timeout_ms() -> float:
    """``webTimeout`` from the add-on's config: how long a media download may take."""
    from ..settings import Settings
    from . import current

    addon = current()
    settings = addon.runtime.settings() if addon is not None else Settings()
    return settings.webTimeout
