"""Deck actions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from .context import Context
from .due_tree import deck_due_tree
from .errors import ActionError, InvalidParams, NotFound
from .lookup import database
from .registry import OneByOne, Registry
from .undo_steps import UndoFolder

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.decks import DeckTreeNode

__all__ = ["registry"]

registry = Registry("decks")
action = registry.action

CARDS_TOO_REQUIRED = "Since Anki 2.1.28 it's not possible to delete decks without deleting cards as well"


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
    return _deck_id_creating(ctx.col, deck)


@action("getDecks")
def get_decks(ctx: Context, *, cards: list[int]) -> dict[str, list[int]]:
    """The given cards grouped by the name of the deck each is in now; cards that do not exist are left out."""
    from anki.decks import DeckId

    col = ctx.col
    names = {deck.id: deck.name for deck in col.decks.all_names_and_ids()}
    decks: dict[str, list[int]] = {}
    # Missing cards match no row, so they are left out; upstream lists them under "Default" (D8).
    for deck_id, deck_cards in _cards_by_deck(col, cards):
        # A card whose deck is gone (until Check Database fixes it) gets Anki's "no deck" name.
        name = names.get(deck_id) or col.decks.name(DeckId(deck_id))
        decks.setdefault(name, []).extend(deck_cards)
    return decks


@action("changeDeck")
def change_deck(ctx: Context, *, cards: list[int], deck: str) -> None:
    """Move cards to a deck, creating it if missing; cards in a filtered deck leave it first."""
    from anki.cards import CardId

    col = ctx.col
    deck_id = _deck_id_creating(col, deck)
    # Anki's own op, not upstream's raw SQL: it returns cards from filtered decks to their home deck first,
    # marks the moved cards modified (usn -1, mod now) so the move syncs, and records one undo step.
    # Each card once: Anki's op fails on an id given twice (a UNIQUE constraint of its own id table).
    col.set_deck([CardId(card_id) for card_id in dict.fromkeys(cards)], deck_id)


@registry.batched("changeDeck")
def change_deck_each(ctx: Context, calls: list[dict[str, Any]]) -> list[Any]:
    """A run of changeDeck calls in one multi: each call's deck created in turn, then each card moved once, to
    the deck of the last call naming it, one write per deck. Should a write fail, the calls then run one by
    one, and moving a card again to where it went already changes nothing; so do they when one names a
    filtered deck, as Anki's refusal is the reply."""
    from anki.cards import CardId
    from anki.decks import DeckId

    col = ctx.col
    steps = UndoFolder(col)  # a run naming many new decks makes more steps than Anki keeps
    results: list[Any] = []
    final: dict[int, int] = {}
    checked: set[int] = set()
    for call in calls:
        try:
            deck_id = _deck_id_creating(col, call["deck"])
            steps.fold()
        except ActionError as exc:
            results.append(exc)
            continue
        if deck_id not in checked:
            if col.decks.is_filtered(DeckId(deck_id)):
                raise OneByOne()  # Anki refuses the move, with its own words, even of no card
            checked.add(deck_id)
        final.update(dict.fromkeys(call["cards"], deck_id))
        results.append(None)
    by_deck: dict[int, list[CardId]] = {}
    for card_id, deck_id in final.items():
        by_deck.setdefault(deck_id, []).append(CardId(card_id))
    for deck_id, card_ids in by_deck.items():
        col.set_deck(card_ids, DeckId(deck_id))
        steps.fold()
    return results


@action("deleteDecks")
def delete_decks(ctx: Context, *, decks: list[str], cardsToo: bool | None = False) -> None:
    """Delete decks with their child decks and cards (``cardsToo`` must be true); unknown names are skipped."""
    if not cardsToo:
        raise InvalidParams(CARDS_TOO_REQUIRED)
    col = ctx.col
    deck_ids = {deck_id for name in decks if (deck_id := col.decks.id_for_name(name)) is not None}
    if deck_ids:
        col.decks.remove(sorted(deck_ids))


@action("getDeckStats")
def get_deck_stats(ctx: Context, *, decks: list[str]) -> dict[str, dict[str, Any]]:
    """Due counts by deck id from Anki's deck tree, kept while it cannot change; unknown names are left out."""
    col = ctx.col
    wanted = _deck_ids(col, decks)
    if not wanted:
        return {}
    nodes = _tree_nodes(deck_due_tree(col))
    stats = {str(node.deck_id): _deck_stats(node) for node in nodes if node.deck_id in wanted}
    # Anki leaves an empty Default deck out of the tree (upstream then omits it); its counts are all zero.
    for deck_id in sorted(wanted - {int(key) for key in stats}):
        stats[str(deck_id)] = _empty_deck_stats(col, deck_id)
    return stats


def _deck_ids(col: Collection, names: list[str]) -> set[int]:
    """The ids of the decks with these names, as ``id_for_name`` finds them (any case, spacing around ``::``).

    ``id_for_name``, not upstream's ``decks.id()``, which creates a deck for every unknown name (D7). It costs a
    backend call per name (inside the server, where each runs cold, 0.4 ms of a 22-deck poll): names spelt as
    Anki spells them are found instead in the list of every deck, one call. Anki's names are unique in any case,
    so a name found as spelt is the deck ``id_for_name`` finds; any other spelling goes to Anki.
    """
    listed = {deck.name: deck.id for deck in col.decks.all_names_and_ids()} if len(names) > 1 else {}
    found: set[int] = set()
    for name in names:
        deck_id = listed.get(name)
        if deck_id is None:
            deck_id = col.decks.id_for_name(name)
        if deck_id is not None:
            found.add(int(deck_id))
    return found


@action("deckNameFromId")
def deck_name_from_id(ctx: Context, *, deckId: int) -> str:
    """The full name of the deck with this id."""
    from anki.decks import DeckId

    # name_if_exists, not upstream's decks.get(), which falls back to "Default" for an unknown id (D6).
    name = ctx.col.decks.name_if_exists(DeckId(deckId))
    if name is None:
        raise NotFound(f"deck was not found: {deckId}")
    return name


def _deck_id_creating(col: Collection, name: str) -> int:
    """The id of the deck with this name (ignoring case), created with its missing parents if needed."""
    if not name.strip():
        raise InvalidParams("deck name must not be empty")
    return col.decks.add_normal_deck_with_name(name).id


def _cards_by_deck(col: Collection, card_ids: list[int]) -> list[tuple[int, list[int]]]:
    """(deck id, its cards in the order given) for the decks holding any of the cards, in order of first mention.

    One query however many cards, answering one JSON text: the deck of each id given, in the order given
    (null for a missing card). Grouping in SQLite instead (an ordered json_group_array per deck) took twice
    as long on 10k cards, and returning a row per card three times as long.
    """
    if not card_ids:
        return []
    # A LEFT JOIN's left table is always SQLite's outer loop, and json_each walks the array in order, so the
    # aggregate (with no GROUP BY) sees the rows in the order given; card ids are unique, so one row each.
    # orjson (Anki's own dependency): the ids passed the 64-bit check, so orjson writes each exactly.
    sql = "select json_group_array(c.did) from json_each(?) as j left join cards as c on c.id = j.value"
    deck_of_each = orjson.loads(database(col).scalar(sql, orjson.dumps(card_ids).decode()))
    decks: dict[int | None, list[int]] = {}
    for card_id, deck_id in zip(card_ids, deck_of_each, strict=True):
        try:  # twice as fast as setdefault, which builds a list for every card
            decks[deck_id].append(card_id)
        except KeyError:
            decks[deck_id] = [card_id]
    return [(deck_id, ids) for deck_id, ids in decks.items() if deck_id is not None]  # None: the missing cards


def _tree_nodes(root: DeckTreeNode) -> Iterator[DeckTreeNode]:
    """Every node of a deck tree, parents before their children, siblings in Anki's order."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _deck_stats(node: DeckTreeNode) -> dict[str, Any]:
    # "name" is the node's own name (the last "::" component), as upstream sends it.
    return _stats(node.deck_id, node.name, node.new_count, node.learn_count, node.review_count, node.total_in_deck)


def _empty_deck_stats(col: Collection, deck_id: int) -> dict[str, Any]:
    from anki.decks import DeckId

    return _stats(deck_id, col.decks.basename(col.decks.name(DeckId(deck_id))), 0, 0, 0, 0)


def _stats(deck_id: int, name: str, new: int, learn: int, review: int, total: int) -> dict[str, Any]:
    return {
        "deck_id": deck_id,
        "name": name,
        "new_count": new,
        "learn_count": learn,
        "review_count": review,
        "total_in_deck": total,
    }
