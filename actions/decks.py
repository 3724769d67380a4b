"""Deck actions."""

from __future__ import annotations

from .context import Context
from .errors import InvalidParams
from .registry import Registry

__all__ = ["registry"]

registry = Registry("decks")
action = registry.action


@action("deckNames")
def deck_names(ctx: Context) -> list[str]:
    """Every deck's full name, including filtered decks and ``::`` children."""
    return [deck.name for deck in ctx.col.decks.all_names_and_ids()]


@action("deckNamesAndIds")
def deck_names_and_ids(ctx: Context) -> dict[str, int]:
    """Every deck's name mapped to its id."""
    return {deck.name: deck.id for deck in ctx.col.decks.all_names_and_ids()}


@action("createDeck")
def create_deck(ctx: Context, *, deck: str) -> int:
    """Create a deck (and its missing parents); an existing deck's id is returned unchanged."""
    if not deck.strip():
        raise InvalidParams("deck name must not be empty")
    deck_id = ctx.col.decks.id(deck, create=True)
    assert deck_id is not None
    return int(deck_id)
