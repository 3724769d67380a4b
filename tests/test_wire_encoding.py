"""Replies are written byte for byte as upstream's ``json.dumps`` writes them, however big and whatever they hold."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings, strategies as st

from ankiconnect_live.wire import encode_json

_int64 = st.integers(-(2**63), 2**63 - 1)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(), _int64)
_json = st.recursive(
    _scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=8
)


def _padded(items: list[Any], filler: int) -> list[Any]:
    # Big enough to take the sliced paths (over 100 items; over 50k for several id slices).
    return [filler] * 150 + items if len(items) % 2 else items + [filler] * 150


@settings(max_examples=200)
@given(st.lists(_json, max_size=20), _int64)
def test_big_lists_of_anything_encode_as_json_dumps(items: list[Any], filler: int) -> None:
    listed = _padded(items, filler)
    assert encode_json(listed) == json.dumps(listed).encode()
    reply = {"result": listed, "error": None}
    assert encode_json(reply) == json.dumps(reply).encode()


@settings(max_examples=100)
@given(st.lists(st.one_of(_int64, st.lists(_int64, max_size=3)), max_size=20), _int64)
def test_id_lists_encode_as_json_dumps(items: list[Any], filler: int) -> None:
    listed = _padded(items, filler)
    assert encode_json({"result": listed, "error": None}) == json.dumps({"result": listed, "error": None}).encode()


@settings(max_examples=100)
@given(st.dictionaries(st.text(), st.lists(_json, max_size=5) | _json, max_size=5), _int64)
def test_big_dicts_of_lists_encode_as_json_dumps(members: dict[str, Any], filler: int) -> None:
    grouped = {name: _padded(value, filler) if isinstance(value, list) else value for name, value in members.items()}
    reply = {"result": grouped, "error": None}
    assert encode_json(reply) == json.dumps(reply).encode()


def test_near_misses_of_an_id_list_are_still_exact() -> None:
    for odd in (True, 1.0, 1e16, 2**64, -(2**63) - 1, "1", None, [], [True], {"1": 2}):
        listed = [1] * 60_000 + [odd] + [2] * 60_000
        assert encode_json({"result": listed, "error": None}) == json.dumps({"result": listed, "error": None}).encode()
    many = list(range(-(2**63), -(2**63) + 120_000))
    assert encode_json(many) == json.dumps(many).encode()
