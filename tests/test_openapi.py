"""The OpenAPI 3.1 document (``GET /openapi.json``): valid, complete, served under the one origin policy; and
schemathesis, driven by that document, against a real headless server with a throwaway collection.

The schemathesis run is bounded (a few examples per action; ``make fuzz`` runs more) and checks: no 5xx, every
status and content type documented, no hang (each request has a timeout), the server still answers, and
Anki's check database finds the collection intact afterwards.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fuzz_profiles
import pytest
import schemathesis
from fuzz_harness import bind_anything
from hypothesis import Phase, given, settings, strategies as st
from openapi_spec_validator import validate
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support import RunningServer, http_post

from ankiconnect_live.actions import ACTIONS
from ankiconnect_live.actions.openapi import openapi_document

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
"""Not ``negative_data_rejection``: AnkiConnect answers a bad request with status 200 and an ``error``."""

REQUEST_TIMEOUT = 15.0
"""A request answered later than this is a hang (the slowest action here, a download, gives up after 0.3 s)."""


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document(ACTIONS)
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error, against the OpenAPI 3.1 meta-schema


def test_every_registered_action_is_listed_with_its_params() -> None:
    document = openapi_document(ACTIONS)
    body = document["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    refs = {one["$ref"] for one in body["oneOf"]}
    assert body["discriminator"]["mapping"] == {name: f"#/components/schemas/request.{name}" for name in ACTIONS}
    for name, action in ACTIONS.items():
        assert f"#/components/schemas/request.{name}" in refs, name
        schema = document["components"]["schemas"][f"request.{name}"]
        assert schema["properties"]["action"] == {"const": name}
        params = schema["properties"]["params"]
        assert set(params["properties"]) == set(action.params), name
        assert params.get("required", []) == list(action.required), name
        assert params["additionalProperties"] is False
        assert ("params" in schema["required"]) is bool(action.required), name


def test_the_served_document_is_the_generated_one(server: RunningServer) -> None:
    reply = http_post(server.port, method="GET", path="/openapi.json")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    served = reply.json()
    expected = openapi_document(ACTIONS, api_version=server.runtime.settings().apiVersion)
    assert served == json.loads(json.dumps(expected))
    validate(served)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),
        ({"Origin": "http://localhost"}, 200),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Host": "evil.example"}, 403),
    ],
)
def test_the_document_follows_the_origin_and_host_policy(
    server: RunningServer, headers: dict[str, str], status: int
) -> None:
    reply = http_post(server.port, method="GET", path="/openapi.json", headers=headers)
    assert reply.status == status, reply.body[:200]
    if status == 403:
        assert b"openapi" not in reply.body  # a page that is not allowed learns nothing from it


# What the document promises, the dispatcher accepts.


def _one_action(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The published document with ``POST /`` narrowed to one action, so that every action gets examples.

    (Over the whole ``oneOf``, a bounded run reaches only a fraction of the 120-odd actions.)
    """
    narrowed = copy.deepcopy(document)
    narrowed["paths"] = {"/": {"post": narrowed["paths"]["/"]["post"]}}
    narrowed["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "$ref": f"#/components/schemas/request.{name}"
    }
    return narrowed


def _action_strategies(document: dict[str, Any], mode: GenerationMode) -> st.SearchStrategy[Case[Any]]:
    return st.one_of(
        [schemathesis.openapi.from_dict(_one_action(document, name)).as_strategy(mode) for name in ACTIONS]
    )


@functools.cache
def _positive() -> st.SearchStrategy[Case[Any]]:
    return _action_strategies(openapi_document(ACTIONS), GenerationMode.POSITIVE)


@settings(max_examples=fuzz_profiles.examples(300, scale=10))
@given(st.data())
def test_params_the_document_allows_are_bound_by_the_dispatcher(data: st.DataObject) -> None:
    case = data.draw(_positive())
    body = case.body
    assert isinstance(body, dict) and body["action"] in ACTIONS, body
    bound = bind_anything(body["action"], body.get("params", {}))
    assert bound is not None, body  # the document is no looser than the param check


# schemathesis against a real server


def _confine(value: Any, tmp_path: Path) -> Any:
    """Keep a generated request's files inside the test's folder and its waits short (``multi`` too).

    exportPackage writes wherever an absolute path points, and pollEvents may wait 30 s: both valid, neither
    wanted in a bounded run on someone's machine.
    """
    if isinstance(value, list):
        return [_confine(item, tmp_path) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: _confine(item, tmp_path) for key, item in value.items()}
    if value.get("action") == "pollEvents" and "params" not in value:
        value["params"] = {}  # (its default wait is 25 s)
    params = value.get("params")
    if isinstance(params, dict):
        if isinstance(params.get("path"), str):
            params["path"] = str(tmp_path / "files" / Path(params["path"]).name)
        timeout = params.get("timeout")
        if value.get("action") == "pollEvents" and (timeout is None or _number(timeout) and timeout > 0.2):
            params["timeout"] = 0.2
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_schemathesis_finds_no_server_error_and_leaves_the_collection_intact(
    start_server: Callable[..., RunningServer], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "files").mkdir()
    allowed = tmp_path / "media-in"
    allowed.mkdir()
    server = start_server(mediaPathAllowList=[str(allowed)], webTimeout=300, webMaxDownloadBytes=65536)
    # The document as the server publishes it, minus the event stream: it never ends, by design (its own
    # tests read its head and events).
    document = http_post(server.port, method="GET", path="/openapi.json").json()
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(document))
    whole = loaded.exclude(path="/events")
    strategy = st.one_of(
        _action_strategies(document, GenerationMode.POSITIVE),
        whole.as_strategy(GenerationMode.POSITIVE),
        whole.as_strategy(GenerationMode.NEGATIVE),
    )
    seen: set[str] = set()
    caplog.set_level(logging.ERROR)

    # No shrinking: against a real server it takes minutes, and the first failing request says enough.
    @settings(max_examples=fuzz_profiles.examples(400, scale=10), phases=[Phase.explicit, Phase.generate])
    @given(strategy)
    def run(case: Case[Any]) -> None:
        if isinstance(case.body, dict | list):
            case.body = _confine(case.body, tmp_path)
            if isinstance(case.body, dict) and isinstance(action := case.body.get("action"), str):
                seen.add(action)
        # (No proxy from the environment for a server on loopback.)
        response = case.call(base_url=server.url, timeout=REQUEST_TIMEOUT, proxies={"http": None})
        case.validate_response(response, checks=CHECKS)
        # AnkiConnect answers even a handler's crash with 200 and an error: the log is where a 500 would be.
        failures = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
        assert not failures, (case.body, response.text[:300], failures)

    run()
    assert len(seen) > len(ACTIONS) // 2, sorted(set(ACTIONS) - seen)
    assert http_post(server.port, {"action": "version", "version": 6}).json() == {"result": 6, "error": None}

    def check(col: Any) -> tuple[str, bool, str]:
        problems, ok = col.fix_integrity()
        return problems, ok, col.db.scalar("pragma integrity_check")

    problems, ok, sqlite = server.on_collection(check)
    assert ok and sqlite == "ok", (problems, sqlite)
