"""Statistics actions: review counts, review logs (read and insert) and the collection report.

Reviews come from answering cards through Anki's scheduler, or are written straight into the review log
when a test needs them on a given day; either way the checks read the collection back directly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import pytest
from dump import collection_dump
from note_helpers import add_direct
from support import ApiClient, RunningServer

if TYPE_CHECKING:
    from anki.collection import Collection

Review = list[int]
"""One review log row as AnkiConnect exchanges it: id, cid, usn, ease, ivl, lastIvl, factor, time, type."""

COLUMNS = "id, cid, usn, ease, ivl, lastIvl, factor, time, type"
DAY_MS = 86400 * 1000


def new_card(server: RunningServer, front: str, deck: str = "Default") -> int:
    """Add a Basic note (its deck created if missing) and return its one card's id."""
    note_id = add_direct(server, front, deck=deck)
    card_id: int = server.on_collection(lambda col: int(col.get_note(note_id).card_ids()[0]))
    return card_id


def answer(server: RunningServer, card_id: int, ease: Literal[1, 2, 3, 4]) -> None:
    """Answer a card through Anki's scheduler, as the reviewer does (ease 1 = Again ... 4 = Easy)."""

    def run(col: Collection) -> None:
        from anki.cards import CardId

        card = col.get_card(CardId(card_id))
        card.start_timer()
        col.sched.answerCard(card, ease)

    server.on_collection(run)


def log_review(server: RunningServer, review_id: int, card_id: int, ease: int = 3) -> Review:
    """Write one review log row directly (to place a review on a chosen day)."""
    row = [review_id, card_id, -1, ease, 1, 0, 2500, 4000, 1]
    server.on_collection(lambda col: col.db.execute(f"insert into revlog ({COLUMNS}) values (?,?,?,?,?,?,?,?,?)", *row))
    return row


def revlog(server: RunningServer) -> list[Review]:
    rows: list[Review] = server.on_collection(
        lambda col: [list(r) for r in col.db.all(f"select {COLUMNS} from revlog order by id")]
    )
    return rows


def day_cutoff(server: RunningServer) -> int:
    """The end of today's study day, in seconds."""
    cutoff: int = server.on_collection(lambda col: col.sched.day_cutoff)
    return cutoff


def study_day(cutoff: int, days_ago: int) -> str:
    """The date that names a study day: the calendar day its first second (the rollover) falls on."""
    return time.strftime("%Y-%m-%d", time.localtime(cutoff - 86400 * (days_ago + 1)))


def deck_names(server: RunningServer) -> list[str]:
    names: list[str] = server.on_collection(lambda col: sorted(d.name for d in col.decks.all_names_and_ids()))
    return names


# getNumCardsReviewedToday


def test_num_cards_reviewed_today_counts_reviews(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("getNumCardsReviewedToday") == 0
    first, second = new_card(server, "a"), new_card(server, "b", deck="Other")
    answer(server, first, 1)
    answer(server, first, 3)
    answer(server, second, 3)
    # Reviews, not distinct cards, and from every deck.
    assert client.invoke("getNumCardsReviewedToday") == 3


def test_num_cards_reviewed_today_starts_at_the_rollover(client: ApiClient, server: RunningServer) -> None:
    card = new_card(server, "a")
    start = (day_cutoff(server) * 1000) - DAY_MS
    log_review(server, start - 1000, card)  # the evening before: yesterday
    log_review(server, start, card)  # the rollover instant itself still closes yesterday, as upstream counts
    log_review(server, start + 1000, card)
    log_review(server, start + DAY_MS - 1000, card)
    assert client.invoke("getNumCardsReviewedToday") == 2


# getNumCardsReviewedByDay


def test_num_cards_reviewed_by_day(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("getNumCardsReviewedByDay") == []
    card = new_card(server, "a")
    cutoff = day_cutoff(server)
    today_start = cutoff * 1000 - DAY_MS
    log_review(server, today_start + 1000, card)
    log_review(server, cutoff * 1000 - 1000, card)  # after midnight but before the rollover: still today
    log_review(server, today_start - 1000, card)  # just before the rollover: yesterday
    log_review(server, today_start - 3 * DAY_MS + 5000, card)
    answer(server, card, 3)
    assert client.invoke("getNumCardsReviewedByDay") == [
        [study_day(cutoff, 0), 3],
        [study_day(cutoff, 1), 1],
        [study_day(cutoff, 3), 1],
    ]


# getCollectionStatsHTML


def without_clock(report: str) -> str:
    return re.sub(r"Generated on [^<]*", "", report)


def test_collection_stats_html(client: ApiClient, server: RunningServer) -> None:
    card = new_card(server, "a", deck="Other")
    answer(server, card, 1)
    answer(server, card, 3)
    whole = client.invoke("getCollectionStatsHTML", wholeCollection=True)
    assert whole.startswith("<center>") and whole.endswith("</center>")
    assert re.search(r"Studied\W*2\W*cards", whole), whole[:2000]
    # wholeCollection defaults to true (the report ends with the time it was made, to the second).
    assert without_clock(client.invoke("getCollectionStatsHTML")) == without_clock(whole)
    # The current deck (Default) has no reviews: the review in "Other" does not count.
    current = client.invoke("getCollectionStatsHTML", wholeCollection=False)
    assert current.startswith("<center>") and not re.search(r"Studied\W*2\W*cards", current)


def test_collection_stats_html_errors(client: ApiClient) -> None:
    wrong = client.error("getCollectionStatsHTML", wholeCollection="yes")
    assert (
        wrong
        == "AnkiConnect.getCollectionStatsHTML() argument 'wholeCollection' must be a boolean, not the string 'yes'"
    )
    unexpected = client.error("getCollectionStatsHTML", deck="Default")
    assert unexpected == "AnkiConnect.getCollectionStatsHTML() got an unexpected keyword argument 'deck'"


# cardReviews and getLatestReviewID


def reviews_in_decks(server: RunningServer) -> tuple[list[Review], list[Review]]:
    """Reviews of a card in "Lang" and of one in its subdeck "Lang::JP" (and one in Default)."""
    parent, child, other = (
        new_card(server, "p", deck="Lang"),
        new_card(server, "c", deck="Lang::JP"),
        new_card(server, "o"),
    )
    base = int(time.time() * 1000) - 10 * DAY_MS
    in_parent = [log_review(server, base + 1, parent, ease=1), log_review(server, base + 3, parent)]
    in_child = [log_review(server, base + 2, child), log_review(server, base + 4, child)]
    log_review(server, base + 5, other)
    return in_parent, in_child


def test_card_reviews(client: ApiClient, server: RunningServer) -> None:
    in_parent, in_child = reviews_in_decks(server)
    # The deck's own cards only: not its subdecks', not other decks'.
    assert client.invoke("cardReviews", deck="Lang", startID=0) == in_parent
    assert client.invoke("cardReviews", deck="Lang::JP", startID=0) == in_child
    # Only reviews newer than startID (the id itself excluded); deck names match ignoring case.
    assert client.invoke("cardReviews", deck="lang", startID=in_parent[0][0]) == in_parent[1:]
    assert client.invoke("cardReviews", deck="Lang", startID=str(in_parent[0][0])) == in_parent[1:]
    assert client.invoke("cardReviews", deck="Lang", startID=in_parent[1][0]) == []
    # Scheduler reviews show up as well.
    answer(server, in_parent[0][1], 3)
    [*older, latest] = client.invoke("cardReviews", deck="Lang", startID=0)
    assert older == in_parent and latest == revlog(server)[-1]


def test_card_reviews_of_a_missing_deck_creates_no_deck(client: ApiClient, server: RunningServer) -> None:
    reviews_in_decks(server)
    decks = deck_names(server)
    assert client.invoke("cardReviews", deck="No Such Deck", startID=0) == []
    assert client.invoke("getLatestReviewID", deck="No Such Deck") == 0
    assert deck_names(server) == decks


def test_card_reviews_errors(client: ApiClient) -> None:
    missing = client.error("cardReviews", deck="Default")
    assert missing == "AnkiConnect.cardReviews() missing 1 required positional argument: 'startID'"
    both = client.error("cardReviews")
    assert both == "AnkiConnect.cardReviews() missing 2 required positional arguments: 'deck' and 'startID'"
    wrong = client.error("cardReviews", deck="Default", startID="latest")
    assert wrong == "AnkiConnect.cardReviews() argument 'startID' must be an integer, not the string 'latest'"
    assert client.error("cardReviews", deck=1, startID=0) == (
        "AnkiConnect.cardReviews() argument 'deck' must be a string, not the number 1"
    )


def test_latest_review_id(client: ApiClient, server: RunningServer) -> None:
    assert client.invoke("getLatestReviewID", deck="Default") == 0
    in_parent, in_child = reviews_in_decks(server)
    assert client.invoke("getLatestReviewID", deck="Lang") == in_parent[-1][0]
    assert client.invoke("getLatestReviewID", deck="LANG::jp") == in_child[-1][0]
    new_card(server, "empty", deck="Empty")
    assert client.invoke("getLatestReviewID", deck="Empty") == 0


def test_latest_review_id_errors(client: ApiClient) -> None:
    missing = client.error("getLatestReviewID")
    assert missing == "AnkiConnect.getLatestReviewID() missing 1 required positional argument: 'deck'"
    wrong = client.error("getLatestReviewID", deck=["Default"])
    assert wrong == "AnkiConnect.getLatestReviewID() argument 'deck' must be a string, not a list"


# getReviewsOfCards


def as_entry(row: Review) -> dict[str, int]:
    review_id, _, usn, ease, ivl, last_ivl, factor, taken, kind = row
    return {
        "id": review_id,
        "usn": usn,
        "ease": ease,
        "ivl": ivl,
        "lastIvl": last_ivl,
        "factor": factor,
        "time": taken,
        "type": kind,
    }


def test_reviews_of_cards(client: ApiClient, server: RunningServer) -> None:
    in_parent, in_child = reviews_in_decks(server)
    parent, child = in_parent[0][1], in_child[0][1]
    unreviewed = new_card(server, "never reviewed")
    expected = {
        str(parent): [as_entry(r) for r in in_parent],
        str(child): [as_entry(r) for r in in_child],
        str(unreviewed): [],
        "1": [],  # no such card
    }
    assert client.invoke("getReviewsOfCards", cards=[parent, child, unreviewed, 1]) == expected
    # Ids sent as strings, as in AnkiConnect's README, find the same reviews.
    as_strings = client.invoke("getReviewsOfCards", cards=[str(parent), str(child), str(unreviewed), "1"])
    assert as_strings == expected
    assert list(as_strings) == [str(parent), str(child), str(unreviewed), "1"]  # in request order
    assert client.invoke("getReviewsOfCards", cards=[]) == {}
    # Scheduler reviews, in the order they were made.
    answer(server, unreviewed, 1)
    answer(server, unreviewed, 3)
    rows = [r for r in revlog(server) if r[1] == unreviewed]
    result = client.invoke("getReviewsOfCards", cards=[unreviewed])
    assert result == {str(unreviewed): [as_entry(r) for r in rows]}
    assert [entry["ease"] for entry in result[str(unreviewed)]] == [1, 3]


def test_reviews_of_many_cards_in_one_call(client: ApiClient, server: RunningServer) -> None:
    card = new_card(server, "a")
    row = log_review(server, 1_600_000_000_000, card)
    ids = [*range(1, 3000), card]
    result = client.invoke("getReviewsOfCards", cards=ids)
    assert len(result) == len(ids) and result[str(card)] == [as_entry(row)]


def test_reviews_of_cards_errors(client: ApiClient) -> None:
    missing = client.error("getReviewsOfCards")
    assert missing == "AnkiConnect.getReviewsOfCards() missing 1 required positional argument: 'cards'"
    wrong = client.error("getReviewsOfCards", cards=["12", "twelve"])
    assert wrong == "AnkiConnect.getReviewsOfCards() argument 'cards[1]' must be an integer, not the string 'twelve'"
    assert client.error("getReviewsOfCards", cards=12) == (
        "AnkiConnect.getReviewsOfCards() argument 'cards' must be a list of integers, not the number 12"
    )


# insertReviews


def test_insert_reviews(client: ApiClient, server: RunningServer) -> None:
    first, second = new_card(server, "a"), new_card(server, "b", deck="Other")
    reviews: list[Review] = [
        [1594194095746, first, -1, 3, 4, -60, 2500, 6157, 0],
        [1594201393292, second, -1, 1, -60, -60, 0, 4846, 0],
        [1594201393293, first, 12, 4, 21, 4, 2650, 60000, 1],
    ]
    assert client.invoke("insertReviews", reviews=reviews) is None
    assert revlog(server) == sorted(reviews)
    assert client.invoke("cardReviews", deck="Default", startID=0) == [reviews[0], reviews[2]]
    assert client.invoke("getLatestReviewID", deck="Other") == reviews[1][0]


def test_insert_reviews_accepts_integral_numbers_and_digit_strings(client: ApiClient, server: RunningServer) -> None:
    card = new_card(server, "a")
    assert (
        client.invoke("insertReviews", reviews=[["1594194095746", str(card), "-1", 3, 4.0, -60, 2500, 10, 0]]) is None
    )
    assert revlog(server) == [[1594194095746, card, -1, 3, 4, -60, 2500, 10, 0]]


def test_insert_no_reviews(client: ApiClient, server: RunningServer) -> None:
    before = collection_dump(server)
    assert client.invoke("insertReviews", reviews=[]) is None
    assert collection_dump(server) == before


def replaced(column: int, value: Any) -> Callable[[Review], list[Any]]:
    return lambda row: [*row[:column], value, *row[column + 1 :]]


FIRST_ID = 1594194095746
BAD_ROWS: dict[str, tuple[Callable[[Review], Any], str]] = {
    # Upstream pasted the values into its SQL text.
    "sql in a value": (
        replaced(3, "3); delete from revlog; --"),
        "reviews[1][3] (ease) must be an integer, not the string '3); delete from revlog; --'",
    ),
    "extra rows in an id": (
        replaced(0, "1,1,1,1,1,1,1,1,1),(2"),
        "reviews[1][0] (id) must be an integer, not the string '1,1,1,1,1,1,1,1,1),(2'",
    ),
    "boolean": (replaced(4, True), "reviews[1][4] (ivl) must be an integer, not a boolean"),
    "fraction": (replaced(6, 2.5), "reviews[1][6] (factor) must be an integer, not the number 2.5"),
    "null": (replaced(7, None), "reviews[1][7] (time) must be an integer, not null"),
    "list": (replaced(8, [0]), "reviews[1][8] (type) must be an integer, not a list"),
    "object": (replaced(2, {"usn": -1}), "reviews[1][2] (usn) must be an integer, not an object"),
    "too large": (replaced(5, 2**63), f"reviews[1][5] (lastIvl) must fit in 64 bits, not {2**63}"),
    "too short": (lambda row: row[:8], f"reviews[1] must be a list of 9 integers [{COLUMNS}]"),
    "too long": (lambda row: [*row, 0], f"reviews[1] must be a list of 9 integers [{COLUMNS}]"),
    "not a list": (lambda row: {"id": row[0]}, f"reviews[1] must be a list of 9 integers [{COLUMNS}]"),
    "missing card": (replaced(1, 424242), "reviews[1][1] (cid): Card was not found: 424242"),
    "repeated id": (replaced(0, FIRST_ID), f"reviews[1][0] (id): review id {FIRST_ID} is also in reviews[0]"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_insert_reviews_rejects_a_bad_row_and_inserts_nothing(
    client: ApiClient, server: RunningServer, case: str
) -> None:
    card = new_card(server, "a")
    good = [FIRST_ID, card, -1, 3, 4, -60, 2500, 6157, 0]
    spoil, message = BAD_ROWS[case]
    before = collection_dump(server)
    # The good row comes first: it must not be kept when the second one is refused.
    assert client.error("insertReviews", reviews=[good, spoil([FIRST_ID + 1, *good[1:]])]) == message
    assert collection_dump(server) == before


def test_insert_reviews_refuses_an_id_already_logged(client: ApiClient, server: RunningServer) -> None:
    card = new_card(server, "a")
    existing = log_review(server, 1594194095746, card)
    fresh = [1594194095000, card, -1, 3, 4, -60, 2500, 6157, 0]
    before = collection_dump(server)
    error = client.error("insertReviews", reviews=[fresh, [existing[0], card, -1, 1, 1, 1, 1, 1, 1]])
    assert error == f"reviews[1][0] (id): a review with id {existing[0]} already exists"
    assert collection_dump(server) == before and revlog(server) == [existing]


def test_insert_reviews_param_errors(client: ApiClient) -> None:
    missing = client.error("insertReviews")
    assert missing == "AnkiConnect.insertReviews() missing 1 required positional argument: 'reviews'"
    wrong = client.error("insertReviews", reviews="[[1,2,3]]")
    assert wrong == "AnkiConnect.insertReviews() argument 'reviews' must be a list, not the string '[[1,2,3]]'"
