"""Fetch-or-fail helpers that raise AnkiConnect's not-found errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CollectionUnavailable, NotFound

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.dbproxy import DBProxy
    from anki.decks import DeckId
    from anki.models import NotetypeDict

__all__ = ["database", "deck_id_by_name", "model_by_name"]


def model_by_name(col: Collection, name: str) -> NotetypeDict:
    model = col.models.by_name(name)
    if model is None:
        raise NotFound(f"model was not found: {name}")
    return model


def deck_id_by_name(col: Collection, name: str) -> DeckId:
    """An existing deck's id (names match case-insensitively, as in Anki); never creates a deck."""
    deck_id = col.decks.id_for_name(name)
    if deck_id is None:
        raise NotFound(f"deck was not found: {name}")
    return deck_id


def database(col: Collection) -> DBProxy:
    """The collection's database handle (None only after the collection was closed)."""
    if col.db is None:
        raise CollectionUnavailable()
    return col.db
