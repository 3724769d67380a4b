"""getEaseFactors, setEaseFactors and setSpecificValueOfCard, on a real collection over both transports."""

from __future__ import annotations

from typing import Any

import pytest
from dump import collection_dump
from scheduling_helpers import SYNCED_MOD, card_state, make_review, mark_synced, new_card, undo_once
from support import ApiClient, RunningServer

from ankiconnect_live.actions.scheduling_values import PROTECTED_KEYS

MISSING = 1234


# getEaseFactors / setEaseFactors


def test_get_ease_factors(client: ApiClient, server: RunningServer) -> None:
    new, review = new_card(server, "a"), new_card(server, "b")
    make_review(server, review, factor=2300)
    assert client.invoke("getEaseFactors", cards=[review, MISSING, new]) == [2300, None, 0]
    assert client.invoke("getEaseFactors", cards=[]) == []


def test_set_ease_factors(client: ApiClient, server: RunningServer) -> None:
    first, second = new_card(server, "a"), new_card(server, "b")
    make_review(server, first)
    make_review(server, second)
    mark_synced(server, first, second)
    before = collection_dump(server)
    result = client.invoke("setEaseFactors", cards=[first, MISSING, second], easeFactors=[4100, 2000, "3900"])
    assert result == [True, False, True]
    assert [card_state(server, c)["factor"] for c in (first, second)] == [4100, 3900]
    assert all(
        card_state(server, c)["usn"] == -1 and card_state(server, c)["mod"] > SYNCED_MOD for c in (first, second)
    )
    undo_once(server)  # one step for the whole call
    assert collection_dump(server) == before


def test_set_ease_factors_needs_one_value_per_card(client: ApiClient, server: RunningServer) -> None:
    # Upstream fails half-way with IndexError on a short list.
    first, second = new_card(server, "a"), new_card(server, "b")
    before = collection_dump(server)
    error = client.error("setEaseFactors", cards=[first, second], easeFactors=[2500])
    assert error == "easeFactors must have one value per card: 2 cards, 1 values"
    error = client.error("setEaseFactors", cards=[first], easeFactors=[-5])
    assert error == "easeFactors[0] must be between 0 and 4294967295 (permille), not -5"
    assert client.error("setEaseFactors", cards=[first], easeFactors=["high"]).startswith(
        "AnkiConnect.setEaseFactors() argument 'easeFactors[0]' must be an integer"
    )
    assert collection_dump(server) == before


# setSpecificValueOfCard


def test_set_specific_values(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    make_review(server, card_id)
    mark_synced(server, card_id)
    # One entry per key (upstream answers one element whatever the number of keys, D12).
    result = client.invoke("setSpecificValueOfCard", card=card_id, keys=["flags", "factor"], newValues=[1, "2300"])
    assert result == [True, True]
    state = card_state(server, card_id)
    assert (state["flags"], state["factor"], state["usn"]) == (1, 2300, -1)
    assert state["mod"] > SYNCED_MOD
    assert client.invoke("setSpecificValueOfCard", card=card_id, keys=["due"], newValues=[99]) == [True]
    assert card_state(server, card_id)["due"] == 99


def test_set_specific_values_of_other_kinds(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    keys = ["custom_data", "desired_retention", "original_position"]
    result = client.invoke("setSpecificValueOfCard", card=card_id, keys=keys, newValues=['{"k": 1}', 0.8, 5])
    assert result == [True, True, True]
    card: dict[str, Any] = server.on_collection(lambda col: {key: getattr(col.get_card(card_id), key) for key in keys})
    assert card["custom_data"] == '{"k": 1}' and card["original_position"] == 5
    assert card["desired_retention"] == pytest.approx(0.8)
    assert client.invoke("setSpecificValueOfCard", card=card_id, keys=["desired_retention"], newValues=[None]) == [True]
    assert server.on_collection(lambda col: col.get_card(card_id).desired_retention) is None


def test_protected_keys_need_the_warning_check(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    before = collection_dump(server)
    for key in sorted(PROTECTED_KEYS):
        assert client.invoke("setSpecificValueOfCard", card=card_id, keys=["flags", key], newValues=[1, 1]) is False
    assert collection_dump(server) == before
    result = client.invoke(
        "setSpecificValueOfCard", card=card_id, keys=["odue", "reps"], newValues=["-100", 7], warning_check=True
    )
    assert result == [True, True]
    assert (card_state(server, card_id)["odue"], card_state(server, card_id)["reps"]) == (-100, 7)


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"card": [1], "keys": ["flags"], "newValues": [1]}, "card is a list"),
        ({"keys": "flags", "newValues": [1]}, "keys is not a list"),
        ({"keys": ["flags"], "newValues": 1}, "newValues is not a list"),
        ({"keys": ["flags", "factor"], "newValues": [1]}, "the lengths differ"),
        ({"keys": ["ivl"], "newValues": [1]}, "a protected key without warning_check"),
        ({"keys": ["ivl"], "newValues": [1], "warning_check": False}, "warning_check false"),
    ],
)
def test_set_specific_values_answers_plain_false(
    client: ApiClient, server: RunningServer, params: dict[str, Any], why: str
) -> None:
    card_id = new_card(server)
    before = collection_dump(server)
    assert client.invoke("setSpecificValueOfCard", **{"card": card_id, **params}) is False, why
    assert collection_dump(server) == before


@pytest.mark.parametrize(
    ("keys", "values", "message"),
    [
        (["flags", "factor"], [1, "abc"], 'factor must be an integer, not "abc"'),
        (["flags"], [True], "flags must be an integer, not true"),
        (["flags"], [1.5], "flags must be an integer, not 1.5"),
        (["flags"], [None], "flags must be an integer, not null"),
        (["flags"], [-1], "flags must be between 0 and 4294967295, not -1"),
        (["due"], [2**31], "due must be between -2147483648 and 2147483647, not 2147483648"),
        (["custom_data"], [5], "custom_data must be a string, not 5"),
        (["desired_retention"], ["high"], 'desired_retention must be a number or null, not "high"'),
        (["custom_data"], ["not json"], "custom data not an object"),
        (["data"], ["{}"], 'card has no value named "data"'),
        ([["flags"]], [1], 'card has no value named ["flags"]'),
        (
            ["last_review_time"],
            [2**63],
            "last_review_time must be between -9223372036854775808 and 9223372036854775807, not 9223372036854775808",
        ),
        (["flags", "id"], [1, 5], "id identifies the card and cannot be changed"),
        (["mod"], [5], "mod is set by Anki to the time of every change"),
        (["usn"], [5], "usn is set by Anki on every change (-1: to be synced)"),
        (["queue"], [9], "invalid card queue"),
    ],
)
def test_set_specific_values_refused_changes_nothing(
    client: ApiClient, server: RunningServer, keys: list[str], values: list[Any], message: str
) -> None:
    # Upstream setattr's raw values (D12): a wrong type failed only at saving, or was saved as is.
    card_id = new_card(server)
    before = collection_dump(server)
    params = {"card": card_id, "keys": keys, "newValues": values, "warning_check": True}
    assert client.invoke("setSpecificValueOfCard", **params) == [[False, message]] * len(keys)
    assert collection_dump(server) == before


def test_set_specific_values_of_a_missing_card(client: ApiClient, server: RunningServer) -> None:
    new_card(server)
    before = collection_dump(server)
    result = client.invoke("setSpecificValueOfCard", card=MISSING, keys=["flags", "factor"], newValues=[1, 2])
    assert result == [[False, f"Card was not found: {MISSING}"]] * 2
    result = client.invoke("setSpecificValueOfCard", card="abc", keys=["flags"], newValues=[1])
    assert result == [[False, 'card must be a card id, not "abc"']]
    assert client.invoke("setSpecificValueOfCard", card=MISSING, keys=[], newValues=[]) == []
    assert collection_dump(server) == before


def test_set_specific_values_is_one_undo_step(client: ApiClient, server: RunningServer) -> None:
    card_id = new_card(server)
    before = collection_dump(server)
    assert client.invoke("setSpecificValueOfCard", card=card_id, keys=["flags", "factor"], newValues=[2, 2100]) == [
        True,
        True,
    ]
    undo_once(server)
    assert collection_dump(server) == before
