"""Statistics actions: review counts, review logs and the collection report.

Ids travel to SQLite as one JSON array parameter (``json_each``), so a list of any length is one
parameterized query: no SQL is ever built from client values.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import InvalidParams, NotFound
from .lookup import database
from .registry import Registry

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.decks import DeckId

__all__ = ["REVIEW_COLUMNS", "registry"]

registry = Registry("stats")
action = registry.action

REVIEW_COLUMNS = ("id", "cid", "usn", "ease", "ivl", "lastIvl", "factor", "time", "type")
"""The revlog columns AnkiConnect exchanges, in its order."""

_COLUMN_LIST = ", ".join(REVIEW_COLUMNS)
_INSERT = f"insert into revlog ({_COLUMN_LIST}) values ({', '.join('?' * len(REVIEW_COLUMNS))})"
_INT64 = range(-(2**63), 2**63)
_DAY = 86400


def _day_start_ms(col: Collection) -> int:
    """The first millisecond of today's study day (the day rolls over at the configured hour)."""
    return (col.sched.day_cutoff - _DAY) * 1000


def _existing_deck(col: Collection, deck: str) -> DeckId | None:
    # Not decks.id(): upstream's lookup created a missing deck as a side effect of a read.
    return col.decks.id_for_name(deck)


@action("getNumCardsReviewedToday")
def get_num_cards_reviewed_today(ctx: Context) -> int:
    """How many reviews were logged today (since the day rollover); a card answered twice counts twice."""
    col = ctx.col
    return int(database(col).scalar("select count() from revlog where id > ?", _day_start_ms(col)))


@action("getNumCardsReviewedByDay")
def get_num_cards_reviewed_by_day(ctx: Context) -> list[list[Any]]:
    """``[["YYYY-MM-DD", reviews]]`` for every day with reviews, newest first; days start at the rollover hour."""
    col = ctx.col
    # A review before the rollover hour belongs to the previous day, as in Anki's own statistics.
    rollover = time.localtime(col.sched.day_cutoff).tm_hour * 3600
    rows = database(col).all(
        "select date(id / 1000 - ?, 'unixepoch', 'localtime') as day, count() from revlog"
        " group by day order by day desc",
        rollover,
    )
    return [[day, count] for day, count in rows]


@action("getCollectionStatsHTML")
def get_collection_stats_html(ctx: Context, *, wholeCollection: bool = True) -> str:
    """Anki's legacy statistics report as HTML, for the whole collection or the current deck."""
    stats = ctx.col.stats()
    stats.wholeCollection = wholeCollection
    report: str = stats.report()
    return report


@action("cardReviews")
def card_reviews(ctx: Context, *, deck: str, startID: int) -> list[list[int]]:
    """Review log rows newer than ``startID`` of the cards now in ``deck`` (not subdecks); ``[]`` for no such deck."""
    col = ctx.col
    deck_id = _existing_deck(col, deck)
    if deck_id is None:
        return []
    rows = database(col).all(
        f"select {_COLUMN_LIST} from revlog where id > ? and cid in (select id from cards where did = ?) order by id",
        startID,
        deck_id,
    )
    return [list(row) for row in rows]


@action("getLatestReviewID")
def get_latest_review_id(ctx: Context, *, deck: str) -> int:
    """The newest review log id of the cards now in ``deck``, or 0 when there is none (or no such deck)."""
    col = ctx.col
    deck_id = _existing_deck(col, deck)
    if deck_id is None:
        return 0
    latest = database(col).scalar(
        "select max(id) from revlog where cid in (select id from cards where did = ?)", deck_id
    )
    return int(latest or 0)


@action("getReviewsOfCards")
def get_reviews_of_cards(ctx: Context, *, cards: list[int]) -> dict[str, list[dict[str, int]]]:
    """Each card's review log, oldest first, keyed by card id; ``[]`` for a card without reviews."""
    # Ids sent as strings were converted by the param check, so they find their reviews (upstream gave []).
    result: dict[str, list[dict[str, int]]] = {str(card_id): [] for card_id in cards}
    if not cards:
        return result
    rows = database(ctx.col).all(
        f"select {_COLUMN_LIST} from revlog where cid in (select value from json_each(?)) order by id",
        json.dumps(cards),
    )
    for row in rows:
        review = dict(zip(REVIEW_COLUMNS, row, strict=True))
        card_id = review.pop("cid")  # the key of the map
        result[str(card_id)].append(review)
    return result


@action("insertReviews")
def insert_reviews(ctx: Context, *, reviews: list[Any]) -> None:
    """Add review log rows ``[id, cid, usn, ease, ivl, lastIvl, factor, time, type]``: all of them or none."""
    rows = [_review_row(index, row) for index, row in enumerate(reviews)]
    if not rows:
        return None
    col = ctx.col
    db = database(col)
    _check_review_ids(col, rows)
    _check_card_ids(col, rows)
    # One transaction: should the insert still fail (e.g. a concurrent writer), nothing is kept.
    db.transact(lambda: db.executemany(_INSERT, rows))
    return None


def _review_row(index: int, row: Any) -> list[int]:
    where = f"reviews[{index}]"
    if not isinstance(row, list) or len(row) != len(REVIEW_COLUMNS):
        raise InvalidParams(f"{where} must be a list of {len(REVIEW_COLUMNS)} integers [{_COLUMN_LIST}]")
    return [_review_value(f"{where}[{i}] ({name})", row[i]) for i, name in enumerate(REVIEW_COLUMNS)]


def _review_value(where: str, value: Any) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)  # as integer params accept digit strings
    if number is None:
        raise InvalidParams(f"{where} must be an integer, not {_describe(value)}")
    if number not in _INT64:
        raise InvalidParams(f"{where} must fit in 64 bits, not {number}")
    return number


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object"


def _check_review_ids(col: Collection, rows: Sequence[list[int]]) -> None:
    """Review ids are the revlog's primary key: unique in the batch and not logged yet."""
    first_index: dict[int, int] = {}
    for index, row in enumerate(rows):
        earlier = first_index.setdefault(row[0], index)
        if earlier != index:
            raise InvalidParams(f"reviews[{index}][0] (id): review id {row[0]} is also in reviews[{earlier}]")
    taken = database(col).list(
        "select id from revlog where id in (select value from json_each(?)) order by id limit 1",
        json.dumps(list(first_index)),
    )
    if taken:
        raise InvalidParams(f"reviews[{first_index[taken[0]]}][0] (id): a review with id {taken[0]} already exists")


def _check_card_ids(col: Collection, rows: Sequence[list[int]]) -> None:
    card_ids = {row[1] for row in rows}
    found = set(
        database(col).list(
            "select id from cards where id in (select value from json_each(?))", json.dumps(sorted(card_ids))
        )
    )
    for index, row in enumerate(rows):
        if row[1] not in found:
            raise NotFound(f"reviews[{index}][1] (cid): Card was not found: {row[1]}")
