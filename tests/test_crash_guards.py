"""Requests that would crash the process are refused first. Anki's search and template parsers recurse once
per nesting level: a search of some thousands of nested brackets, or a template of some thousands of nested
sections, overflows the stack of the thread parsing it, and the process dies (inside Anki, Anki's window with
it; upstream passes both straight to Anki). Run against a real ``serve`` process, so that a crash shows as a
dead server, not a dead test run."""

from __future__ import annotations

from typing import Any

import pytest
from serve_support import serve_env, serving
from support import http_post

from ankiconnect_live.actions.models import MAX_SECTION_DEPTH
from ankiconnect_live.actions.search_guard import MAX_DEPTH

DEEP = 20_000
"""Levels that crashed Anki's parsers on a thread with an 8 MB stack (Linux's default)."""
SEARCH_ERROR = f"Invalid search: brackets `(` nested more than {MAX_DEPTH} deep."


def _call(port: int, action: str, **params: Any) -> dict[str, Any]:
    reply: dict[str, Any] = http_post(port, {"action": action, "version": 6, "params": params}, timeout=60).json()
    return reply


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp_path = tmp_path_factory.mktemp("guards")
    with serving(["--collection", str(tmp_path / "c" / "collection.anki2")], serve_env(tmp_path)) as (process, port):
        yield port
        assert process.poll() is None, "the server died"


@pytest.mark.parametrize(
    "query",
    [
        "(" * DEEP + "a" + ")" * DEEP,
        "-(" * DEEP + "a" + ")" * DEEP,
        '"Front:a" ' + "(" * DEEP + "a" + ")" * DEEP,
        "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
    ],
    ids=["brackets", "negated-brackets", "with-a-field-term", "one-too-many"],
)
@pytest.mark.parametrize("action", ["findNotes", "findCards", "notesInfo"])
def test_a_search_nested_too_deep_is_refused(port: int, action: str, query: str) -> None:
    assert _call(port, action, query=query) == {"result": None, "error": SEARCH_ERROR}
    assert _call(port, "version")["result"] == 6  # still serving


def test_brackets_that_are_text_do_not_count(port: int) -> None:
    # Quoted or escaped, a bracket is searched for, not a group: Anki reads these flat.
    assert _call(port, "findNotes", query='"' + "(" * DEEP + '"') == {"result": [], "error": None}
    assert _call(port, "findNotes", query="\\(" * DEEP) == {"result": [], "error": None}
    nested = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert _call(port, "findNotes", query=nested) == {"result": [], "error": None}


def _deep(depth: int) -> str:
    return "{{#Front}}" * depth + "{{Front}}" + "{{/Front}}" * depth


def test_a_template_nested_too_deep_is_refused(port: int) -> None:
    message = f"template Card 1 of Deep: sections nested more than {MAX_SECTION_DEPTH} deep"
    model = {"modelName": "Deep", "inOrderFields": ["Front"], "cardTemplates": [{"Front": _deep(DEEP), "Back": "b"}]}
    assert _call(port, "createModel", **model) == {"result": None, "error": message}
    ok = [{"Front": _deep(MAX_SECTION_DEPTH), "Back": "b"}]
    assert _call(port, "createModel", **{**model, "cardTemplates": ok})["error"] is None
    edit = {"name": "Deep", "templates": {"Card 1": {"Front": _deep(DEEP)}}}
    assert _call(port, "updateModelTemplates", model=edit) == {"result": None, "error": message}
    added = {"modelName": "Deep", "template": {"Name": "Card 2", "Front": _deep(DEEP), "Back": "b"}}
    assert _call(port, "modelTemplateAdd", **added)["error"] == message.replace("Card 1", "Card 2")
    replace = {"modelName": "Deep", "findText": "{{Front}}", "replaceText": _deep(DEEP)}
    assert _call(port, "findAndReplaceInModels", **replace) == {"result": None, "error": message}
    assert _call(port, "modelTemplates", modelName="Deep")["result"]["Card 1"]["Front"] == ok[0]["Front"]


@pytest.mark.parametrize("joiner", [" ", " or ", " and "])
def test_a_search_of_too_many_terms_for_sqlite_is_a_clear_error(port: int, joiner: str) -> None:
    # No crash: SQLite refuses the statement, and Anki passes its words on as a Rust debug dump.
    query = joiner.join(f"word{i}" for i in range(1500))
    expected = "Invalid search: too many terms for SQLite (Expression tree is too large (maximum depth 1000))"
    assert _call(port, "findNotes", query=query) == {"result": None, "error": expected}
    assert _call(port, "findNotes", query=joiner.join(f"word{i}" for i in range(100)))["error"] is None
