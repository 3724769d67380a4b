"""Card actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import field_index
from .context import Context
from .registry import Registry

if TYPE_CHECKING:
    from anki.cards import Card
    from anki.collection import Collection

__all__ = ["registry"]

registry = Registry("cards")
action = registry.action


@action("findCards")
def find_cards(ctx: Context, *, query: str | None = None) -> list[int]:
    """Card ids matching an Anki search (``[]`` for a null query)."""
    if query is None:
        return []
    return field_index.find_cards(ctx.col, query)


@action("cardsInfo")
def cards_info(ctx: Context, *, cards: list[int]) -> list[dict[str, Any]]:
    """Details of each card, rendered question and answer included; ``{}`` where a card does not exist."""
    from anki.cards import CardId
    from anki.errors import NotFoundError

    col = ctx.col
    deck_names = {deck.id: deck.name for deck in col.decks.all_names_and_ids()}
    infos: list[dict[str, Any]] = []
    for card_id in cards:
        try:
            card = col.get_card(CardId(card_id))
        except NotFoundError:
            infos.append({})
            continue
        infos.append(_card_info(col, card, deck_names))
    return infos


def _card_info(col: Collection, card: Card, deck_names: dict[int, str]) -> dict[str, Any]:
    note = card.note()
    model = note.note_type()
    assert model is not None
    fields = {field["name"]: {"value": note.fields[field["ord"]], "order": field["ord"]} for field in model["flds"]}
    return {
        "cardId": card.id,
        "fields": fields,
        "fieldOrder": card.ord,
        "question": card.question(),
        "answer": card.answer(),
        "modelName": model["name"],
        "ord": card.ord,
        "deckName": deck_names.get(card.did) or col.decks.name(card.did),
        "css": model["css"],
        "factor": card.factor,
        "interval": card.ivl,
        "note": card.nid,
        "type": card.type,
        "queue": card.queue,
        "due": card.due,
        "reps": card.reps,
        "lapses": card.lapses,
        "left": card.left,
        "mod": card.mod,
        "nextReviews": _next_reviews(col, card),
        "flags": card.flags,
    }


def _next_reviews(col: Collection, card: Card) -> list[str]:
    # The labels the answer buttons would show (e.g. "<1m", "4d"), as Anki's reviewer computes them.
    states = col._backend.get_scheduling_states(card.id)
    return list(col._backend.describe_next_states(states))
