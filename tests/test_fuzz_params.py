"""Property-based fuzzing of the dispatcher's param validation, for every registered action.

The param check alone (``bind_params``, the action's own spec): any JSON either binds to values of the
annotated types, or fails with AnkiConnect's ``AnkiConnect.<action>() ...`` error, and nothing else. Then the
real dispatcher on a real server and collection, for the read-only actions: any params get a reply (a result
or an error), no handler fails unexpectedly, and the collection is unchanged and intact afterwards.
"""

from __future__ import annotations

import logging
import types
import typing
from collections.abc import Iterator
from typing import Any

import fuzz_profiles
import pytest
from fuzz_harness import bind_anything
from hypothesis import given, settings, strategies as st
from support import HttpApiClient, RunningServer, basic_note

from ankiconnect_live.actions import ACTIONS

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Values the converters treat specially (string ids, "true", 1 for true), next to anything at all.
TRICKY = st.sampled_from(
    [0, 1, -1, 1.0, 1.5, 2**63, -(2**63) - 1, 1e300, "1", " 2", "-3", "--3", "²", "1_0", "-", "true", "False", ""]
    + [[], {}, [1, "2"], [None], [2**64]]
)
VALUE = TRICKY | JSON


@st.composite
def params_for(draw: st.DrawFn, name: str, values: st.SearchStrategy[Any] = VALUE) -> Any:
    """Params for ``name``: mostly its own param names (so the converters run), sometimes anything."""
    own = sorted(ACTIONS[name].params)
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    keys = st.sampled_from(own) | st.text(max_size=6) if own else st.text(max_size=6)
    return draw(st.dictionaries(keys, values, max_size=len(own) + 1))


def conforms(value: Any, annotation: Any) -> bool:
    """Whether a bound value has the annotated type (the annotations ``params.converter_for`` supports)."""
    if annotation is Any or annotation is object:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, member) for member in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return isinstance(value, list) and all(conforms(v, item) for v in value)
    if origin is dict:
        _, item = typing.get_args(annotation) or (str, Any)
        return isinstance(value, dict) and all(conforms(v, item) for v in value.values())
    if annotation is float:
        return isinstance(value, float)
    return type(value) is annotation  # int is not bool, and bool is not int


@settings(max_examples=fuzz_profiles.examples(1000, scale=20))
@given(st.data())
def test_any_params_bind_to_the_annotated_types_or_fail_cleanly(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(ACTIONS)))
    params = data.draw(params_for(name))
    bound = bind_anything(name, params)  # asserts a failure is a clean InvalidParams naming the action
    if bound is None:
        return
    spec = ACTIONS[name].params
    assert isinstance(params, dict) and set(params) <= set(spec)
    assert set(bound) == set(spec)
    for param, value in bound.items():
        if param in params:
            assert conforms(value, spec[param].annotation), (name, param, value)
        else:
            assert value == spec[param].default
    assert bind_anything(name, _given(bound, params)) == bound  # what binds, binds again to itself


def _given(bound: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in bound.items() if name in params}


@settings(max_examples=300)  # every action, a few times over: a campaign would add nothing
@given(st.sampled_from(sorted(ACTIONS)))
def test_missing_required_params_are_named(name: str) -> None:
    required = ACTIONS[name].required
    if not required:
        assert bind_anything(name, {}) is not None
        return
    assert bind_anything(name, {}) is None


# The real dispatcher, on a real collection

READ_ONLY = [
    "apiReflect",
    "areDue",
    "areSuspended",
    "canAddNote",
    "canAddNoteWithErrorDetail",
    "canAddNotes",
    "canAddNotesWithErrorDetail",
    "cardReviews",
    "cardsInfo",
    "cardsModTime",
    "cardsToNotes",
    "deckNameFromId",
    "deckNames",
    "deckNamesAndIds",
    "findCards",
    "findModelsById",
    "findModelsByName",
    "findNotes",
    "getActiveProfile",
    "getCollectionStatsHTML",
    "getDeckConfig",
    "getDeckStats",
    "getDecks",
    "getEaseFactors",
    "getIntervals",
    "getLatestReviewID",
    "getMediaFilesNames",
    "getNoteTags",
    "getNumCardsReviewedByDay",
    "getNumCardsReviewedToday",
    "getProfiles",
    "getReviewsOfCards",
    "getTags",
    "modelFieldDescriptions",
    "modelFieldFonts",
    "modelFieldNames",
    "modelFieldsOnTemplates",
    "modelNameFromId",
    "modelNames",
    "modelNamesAndIds",
    "modelStyling",
    "modelTemplates",
    "notesInfo",
    "notesModTime",
    "retrieveMediaFile",
    "suspended",
    "version",
]


def test_the_read_only_actions_are_registered() -> None:
    assert set(READ_ONLY) <= set(ACTIONS)


@pytest.fixture
def filled(server: RunningServer) -> Iterator[tuple[RunningServer, list[Any]]]:
    """A server whose collection has two notes; yields it with values that exist in it (ids, names)."""
    client = HttpApiClient(server.port)
    notes = client.invoke("addNotes", notes=[basic_note("one", tags=["t1"]), basic_note("two")])
    cards = client.invoke("findCards", query="deck:Default")
    models = list(client.invoke("modelNamesAndIds").values())
    decks = list(client.invoke("deckNamesAndIds").values())
    client.close()
    yield server, [*notes, *cards, *models, *decks, "Default", "Basic", "Front", "deck:*", "t1", "is:due", "*"]


def _fingerprint(col: Any) -> tuple[Any, ...]:
    return (col.mod, col.note_count(), col.card_count(), col.db.scalar("select count() from revlog"))


def test_any_params_through_the_dispatcher_leave_the_collection_unchanged(
    filled: tuple[RunningServer, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    server, known = filled
    before = server.on_collection(_fingerprint)
    values = st.sampled_from(known) | st.lists(st.sampled_from(known), max_size=3) | VALUE
    _fuzz(server, READ_ONLY, values, fuzz_profiles.examples(400, scale=20), caplog)
    assert server.on_collection(_fingerprint) == before
    assert server.on_collection(_intact) == (True, "ok")


def _intact(col: Any) -> tuple[bool, str]:
    """Check Database finds nothing to fix, and SQLite's own check passes."""
    _, ok = col.fix_integrity()
    return ok, col.db.scalar("pragma integrity_check")


def _fuzz(
    server: RunningServer, names: list[str], values: Any, examples: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Requests of these actions with params drawn from ``values``: each gets a result or a clear error (the
    param check's own words when the params do not bind; never a raw database error), and no handler fails
    unexpectedly."""
    client = HttpApiClient(server.port)
    caplog.set_level(logging.ERROR)

    @settings(max_examples=examples)
    @given(st.sampled_from(names).flatmap(lambda name: st.tuples(st.just(name), params_for(name, values))))
    def run(request: tuple[str, Any]) -> None:
        name, params = request
        result, error = client.call({"action": name, "version": 6, "params": params})
        assert error is None or (isinstance(error, str) and result is None), (result, error)
        if not isinstance(params, dict):
            assert error is not None, result  # refused by the request check: params must be an object
        elif bind_anything(name, params) is None:
            assert error is not None and error.startswith(f"AnkiConnect.{name}()"), error
        assert error is None or not any(raw in error for raw in ("DbError", "SqliteFailure", "Traceback")), error
        failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not failures, (name, params, error, failures)  # "action failed unexpectedly": a handler bug

    try:
        run()
    finally:
        client.close()


NOT_FUZZED = {
    "loadProfile": "switches the collection under the test",
    "reloadCollection": "reopens the collection under the test",
    "sync": "needs AnkiWeb",
    "exportPackage": "writes a file wherever its path says",
    "importPackage": "reads a file wherever its path says",
    "pollEvents": "waits for events as long as its timeout says",
}
"""Writing actions left out of the fuzzing below, and why."""


def test_any_params_to_writing_actions_get_clear_replies(
    filled: tuple[RunningServer, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """Writing actions with any params, ids that exist among them (also repeated): clear replies as above, and
    the collection intact afterwards."""
    server, known = filled
    # Graphical actions do not exist without Anki's window: "unsupported action", whatever the params.
    writing = sorted(name for name in set(ACTIONS) - set(READ_ONLY) - set(NOT_FUZZED) if not ACTIONS[name].gui)
    twice = st.sampled_from(known).map(lambda value: [value, value])  # Anki's own list ops refused repeats
    values = st.sampled_from(known) | st.lists(st.sampled_from(known), max_size=4) | twice | VALUE
    _fuzz(server, writing, values, fuzz_profiles.examples(200, scale=20), caplog)
    assert server.on_collection(_intact) == (True, "ok")


# Found by the fuzzers: numbers beyond what Anki or Python can take failed deep inside, as unexpected errors.


@pytest.mark.parametrize(
    ("name", "params", "error"),
    [
        ("removeTags", {"notes": [2**63], "tags": "x"}, "argument 'notes[0]' must be a 64-bit integer"),
        ("removeTags", {"notes": [1, -(2**63) - 1], "tags": "x"}, "argument 'notes[1]' must be a 64-bit integer"),
        ("getNoteTags", {"note": 1e30}, "argument 'note' must be a 64-bit integer"),
        ("getNoteTags", {"note": "9" * 5000}, "argument 'note' must be an integer"),
        ("getNoteTags", {"note": "²"}, "argument 'note' must be an integer"),
        ("getNoteTags", {"note": "--3"}, "argument 'note' must be an integer"),
        ("pollEvents", {"timeout": 10**400}, "argument 'timeout' must be a number, not the number 1000000000"),
    ],
)
def test_numbers_out_of_range_are_refused_by_the_param_check(name: str, params: dict[str, Any], error: str) -> None:
    from ankiconnect_live.actions.errors import InvalidParams
    from ankiconnect_live.actions.params import bind_params

    with pytest.raises(InvalidParams) as refused:
        bind_params(name, ACTIONS[name].params, params)
    assert str(refused.value).startswith(f"AnkiConnect.{name}() {error}"), str(refused.value)
    assert len(str(refused.value)) < 200


def test_the_largest_ids_still_bind() -> None:
    assert bind_anything("removeTags", {"notes": [2**63 - 1, -(2**63)], "tags": "x"}) is not None
    assert bind_anything("getNoteTags", {"note": str(2**63 - 1)}) == {"note": 2**63 - 1}
