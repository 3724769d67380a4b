"""Card actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import field_index
from .context import Context
from .registry import Registry

if TYPE_CHECKING:
    from anki.cards import Card
    from anki.collection import Collection
    from anki.models import NotetypeDict
    from anki.notes import Note

__all__ = ["registry"]

registry = Registry("cards")
action = registry.action


@action("findCards")
def find_cards(ctx: Context, *, query: str | None = None) -> list[int]:
    """Card ids matching an Anki search (``[]`` for a null query), from an index or memory where possible.

    As ``findNotes``: Anki's own ids, also when an index of field values or memory answers.
    """
    if query is None:
        return []
    return field_index.find_cards(ctx.col, query)


@action("cardsInfo")
def cards_info(ctx: Context, *, cards: list[int]) -> list[dict[str, Any]]:
    """Details of each card, rendered question and answer included; ``{}`` where a card does not exist."""
    return _CardsInfo(ctx.col).infos(cards)


@dataclass(frozen=True, slots=True)
class _Layout:
    """What every card of one note type shares: looked up once per request, not once per card."""

    notetype: NotetypeDict
    name: str
    css: str
    fields: tuple[tuple[str, int], ...]


class _CardsInfo:
    """One cardsInfo request.

    Per card, only what Anki must do per card is done: load the card and render it (through Anki's own render
    context, so add-ons' render hooks still apply), and work out its next intervals. Deck names, note types
    (field names, CSS) and the notes of cards that share one are looked up once; cards with the same next
    states share one description of them.
    """

    def __init__(self, col: Collection) -> None:
        self._col = col
        self._deck_names = {deck.id: deck.name for deck in col.decks.all_names_and_ids()}
        self._layouts: dict[int, _Layout] = {}
        self._notes: dict[int, Note] = {}
        self._descriptions: dict[tuple[bytes, ...], list[str]] = {}

    def infos(self, card_ids: list[int]) -> list[dict[str, Any]]:
        from anki.cards import CardId
        from anki.errors import NotFoundError

        col = self._col
        infos: list[dict[str, Any]] = []
        for card_id in card_ids:
            try:
                card = col.get_card(CardId(card_id))
            except NotFoundError:
                infos.append({})
                continue
            infos.append(self._info(card))
        return infos

    def _info(self, card: Card) -> dict[str, Any]:
        from anki.template import TemplateRenderContext

        note = self._notes.get(card.nid)
        if note is None:
            note = self._notes[card.nid] = card.note()
        layout = self._layout(note)
        # What card.question() and card.answer() do, with the note and note type already at hand.
        rendered = TemplateRenderContext(self._col, card, note, browser=False, notetype=layout.notetype).render()
        values = note.fields
        return {
            "cardId": card.id,
            "fields": {name: {"value": values[ord_], "order": ord_} for name, ord_ in layout.fields},
            "fieldOrder": card.ord,
            "question": rendered.question_and_style(),
            "answer": rendered.answer_and_style(),
            "modelName": layout.name,
            "ord": card.ord,
            "deckName": self._deck_name(card.did),
            "css": layout.css,
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
            "nextReviews": self._next_reviews(card),
            "flags": card.flags,
        }

    def _layout(self, note: Note) -> _Layout:
        layout = self._layouts.get(note.mid)
        if layout is None:
            notetype = note.note_type()
            assert notetype is not None
            fields = tuple((field["name"], field["ord"]) for field in notetype["flds"])
            layout = self._layouts[note.mid] = _Layout(notetype, notetype["name"], notetype["css"], fields)
        return layout

    def _deck_name(self, deck_id: int) -> str:
        name = self._deck_names.get(deck_id)
        if name is None:
            from anki.decks import DeckId

            name = self._deck_names[deck_id] = self._col.decks.name(DeckId(deck_id))
        return name

    def _next_reviews(self, card: Card) -> list[str]:
        # The labels the answer buttons would show (e.g. "<1m", "4d"), as Anki's reviewer computes them. The
        # description depends only on the four next states (and the clock, which a request does not outlast
        # meaningfully), so cards with the same ones (new cards of one preset, mostly) share one.
        backend = self._col._backend
        states = backend.get_scheduling_states(card.id)
        key = tuple(state.SerializeToString() for state in (states.again, states.hard, states.good, states.easy))
        labels = self._descriptions.get(key)
        if labels is None:
            labels = self._descriptions[key] = list(backend.describe_next_states(states))
        return list(labels)
