"""The request/reply envelope rules, identical over HTTP and WebSocket."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from support import ApiClient, RunningServer, WsApiClient


def test_version_6_success_is_wrapped(client: ApiClient) -> None:
    assert client.send({"action": "version", "version": 6}) == (
        {"result": 6, "error": None} if client.transport == "http" else {"id": 1, "result": 6, "error": None}
    )


def test_missing_version_means_4_and_a_bare_result(client: ApiClient) -> None:
    reply = client.send({"action": "deckNames"})
    if client.transport == "http":
        assert reply == ["Default"]
    else:  # WebSocket replies always carry the full envelope
        assert reply["result"] == ["Default"] and reply["error"] is None


def test_errors_are_enveloped_for_every_version(client: ApiClient) -> None:
    for version in (2, 4, 6):
        assert client.call({"action": "nope", "version": version}) == (None, "unsupported action")


def test_missing_params_mean_no_params(client: ApiClient) -> None:
    assert client.call({"action": "deckNames", "version": 6}) == (["Default"], None)


def test_unexpected_param_reads_like_upstream(client: ApiClient) -> None:
    error = client.error("deckNames", bogus=1)
    assert error == "AnkiConnect.deckNames() got an unexpected keyword argument 'bogus'"


def test_missing_param_reads_like_upstream(client: ApiClient) -> None:
    assert client.error("addNote") == "AnkiConnect.addNote() missing 1 required positional argument: 'note'"


def test_wrong_param_type_is_a_clear_error(client: ApiClient) -> None:
    error = client.error("findNotes", query=12)
    assert error == "AnkiConnect.findNotes() argument 'query' must be a string, not the number 12"


def test_envelope_schema_errors(client: ApiClient) -> None:
    assert client.call({"version": 6}) == (None, "'action' is a required property")
    assert client.call({"action": 1}) == (None, "1 is not of type 'string'")
    assert client.call({"action": ""}) == (None, "'' should be non-empty")
    assert client.call({"action": "version", "version": "6"}) == (None, "'6' is not of type 'integer'")
    assert client.call({"action": "version", "params": []}) == (None, "[] is not of type 'object'")


def test_graphical_actions_are_unsupported_headless(client: ApiClient) -> None:
    """Yomitan falls back to guiBrowse only when guiEditNote answers exactly `unsupported action`."""
    assert client.call({"action": "guiEditNote", "version": 6, "params": {"note": 1}}) == (None, "unsupported action")
    assert client.call({"action": "guiBrowse", "version": 2, "params": {"query": ""}}) == (None, "unsupported action")
    # Even with params that would not validate: the action does not exist here at all.
    assert client.call({"action": "guiBrowse", "params": {"bogus": 1}}) == (None, "unsupported action")


def test_all_122_of_ankiconnects_actions_exist(client: ApiClient) -> None:
    """apiReflect lists AnkiConnect's 122 action names and our event actions; graphical ones are GUI-only."""
    reference = set(json.loads((Path(__file__).with_name("fixtures") / "ankiconnect_actions.json").read_text()))
    assert len(reference) == 122
    reflected = client.invoke("apiReflect", scopes=["actions"])
    assert set(reflected["actions"]) == reference | {"subscribe", "unsubscribe", "pollEvents"}  # ours: events
    assert len(reflected["guiOnly"]) == 21 and all(name.startswith("gui") for name in reflected["guiOnly"])


def test_api_key_is_required_for_every_action_but_request_permission(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(apiKey="s3cret")
    ws = WsApiClient(server.ws_url)
    try:
        assert ws.call({"action": "version", "version": 6}) == (None, "valid api key must be provided")
        assert ws.call({"action": "version", "version": 6, "key": "wrong"}) == (None, "valid api key must be provided")
        assert ws.call({"action": "version", "version": 6, "key": "s3cret"}) == (6, None)
        # A wrong key is reported before an unknown action, so the key check reveals nothing.
        assert ws.call({"action": "nope", "key": "x"}) == (None, "valid api key must be provided")
        granted, error = ws.call({"action": "requestPermission", "version": 6})
        assert error is None and granted == {"permission": "granted", "requireApikey": True, "version": 6}
    finally:
        ws.close()


def test_multi_checks_the_key_and_version_of_each_sub_action(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="k")
    ws = WsApiClient(server.ws_url)
    try:
        result, error = ws.call(
            {
                "action": "multi",
                "version": 6,
                "key": "k",
                "params": {
                    "actions": [
                        {"action": "version", "key": "k"},
                        {"action": "version", "version": 6, "key": "k"},
                        {"action": "version"},
                        "not a request",
                        {"action": "nope", "key": "k"},
                    ]
                },
            }
        )
        assert error is None
        assert result == [
            6,
            {"result": 6, "error": None},
            {"result": None, "error": "valid api key must be provided"},
            {"result": None, "error": "'not a request' is not of type 'object'"},
            {"result": None, "error": "unsupported action"},
        ]
    finally:
        ws.close()


def test_no_key_configured_accepts_any_key(client: ApiClient) -> None:
    assert client.call({"action": "version", "version": 6, "key": "anything"}) == (6, None)


def test_api_reflect_lists_the_supported_actions(client: ApiClient) -> None:
    result = client.invoke("apiReflect", scopes=["actions", "other"], actions=["addNote", "guiBrowse", "nope", 3])
    # Headless, graphical actions exist but are marked as needing Anki's window.
    assert result == {"scopes": ["actions"], "actions": ["addNote", "guiBrowse"], "guiOnly": ["guiBrowse"]}
    everything = client.invoke("apiReflect", scopes=["actions"])
    assert "multi" in everything["actions"] and everything["actions"] == sorted(everything["actions"])
    assert client.error("apiReflect", scopes="actions") == "scopes has invalid value"
