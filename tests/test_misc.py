"""version, requestPermission (headless) and multi."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from note_helpers import add_direct
from support import ApiClient, HttpApiClient, RunningServer, WsApiClient, http_post


@contextmanager
def open_client(server: RunningServer, transport: str, origin: str | None = None) -> Iterator[ApiClient]:
    """A client for a server started with its own config (the ``client`` fixture uses the default one)."""
    api: ApiClient
    if transport == "http":
        api = HttpApiClient(server.port, {"Origin": origin} if origin else None)
    else:
        api = WsApiClient(server.ws_url, origin=origin) if origin else WsApiClient(server.ws_url)
    try:
        yield api
    finally:
        api.close()


# version


def test_version(client: ApiClient) -> None:
    assert client.invoke("version") == 6
    assert client.call({"action": "version"}) == (6, None)
    assert client.call({"action": "version", "version": 2}) == (6, None)


def test_version_follows_the_hidden_api_version_key(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiVersion=5)
    for transport in ("http", "ws"):
        with open_client(server, transport) as api:
            assert api.invoke("version") == 5


# requestPermission


def test_request_permission_without_an_origin_is_granted(client: ApiClient) -> None:
    assert client.invoke("requestPermission") == {"permission": "granted", "requireApikey": False, "version": 6}


@pytest.mark.parametrize("origin", ["http://localhost", "chrome-extension://abcdef", "http://127.0.0.1:3000"])
@pytest.mark.parametrize("transport", ["http", "ws"])
def test_request_permission_from_an_allowed_origin_is_granted(
    server: RunningServer, transport: str, origin: str
) -> None:
    with open_client(server, transport, origin) as api:
        granted = {"permission": "granted", "requireApikey": False, "version": 6}
        assert api.invoke("requestPermission") == granted
        # Values a client sends are ignored: the server decides from the request itself.
        assert api.invoke("requestPermission", origin="https://evil.example", allowed=False) == granted


def test_request_permission_requires_no_key_and_reports_that_one_is_needed(
    start_server: Callable[..., RunningServer],
) -> None:
    server = start_server(apiKey="s3cret")
    for transport in ("http", "ws"):
        with open_client(server, transport, "http://localhost") as api:
            granted = {"permission": "granted", "requireApikey": True, "version": 6}
            assert api.call({"action": "requestPermission", "version": 6}) == (granted, None)
            assert api.call({"action": "requestPermission", "version": 6, "key": "wrong"}) == (granted, None)
            assert api.call({"action": "version", "version": 6}) == (None, "valid api key must be provided")


def test_request_permission_from_a_disallowed_origin_is_denied_headless(server: RunningServer) -> None:
    # No GUI to ask the user: a page that is not on the allow-list is denied, and may read that answer.
    body = {"action": "requestPermission", "version": 6}
    reply = http_post(server.port, body, headers={"Origin": "https://evil.example"})
    assert reply.status == 200
    assert reply.json() == {"result": {"permission": "denied"}, "error": None}
    assert reply.headers["access-control-allow-origin"] == "https://evil.example"
    # Any other action from that page is refused before it runs.
    assert http_post(server.port, {"action": "version"}, headers={"Origin": "https://evil.example"}).status == 403


# multi


def test_multi_runs_each_action_with_its_own_version(client: ApiClient, server: RunningServer) -> None:
    result = client.invoke(
        "multi",
        actions=[
            {"action": "deckNames"},
            {"action": "deckNames", "version": 6},
            {"action": "modelFieldNames", "params": {"modelName": "Basic"}},
            {"action": "modelFieldNames", "version": 6, "params": {"modelName": "Nope"}},
            {"action": "modelFieldNames", "params": {"modelName": "Nope"}},
            {"action": "nope"},
        ],
    )
    assert result == [
        ["Default"],
        {"result": ["Default"], "error": None},
        ["Front", "Back"],
        {"result": None, "error": "model was not found: Nope"},
        {"result": None, "error": "model was not found: Nope"},
        {"result": None, "error": "unsupported action"},
    ]
    assert client.invoke("multi", actions=[]) == []


def test_multi_runs_actions_in_order(client: ApiClient, server: RunningServer) -> None:
    note = {"deckName": "Default", "modelName": "Basic", "fields": {"Front": "in multi", "Back": ""}}
    result = client.invoke(
        "multi",
        actions=[
            {"action": "findNotes", "params": {"query": "in*"}},
            {"action": "addNote", "params": {"note": note}},
            {"action": "findNotes", "params": {"query": "in*"}},
            {"action": "addNote", "params": {"note": note}},
        ],
    )
    assert result[0] == [] and result[2] == [result[1]]
    # Not atomic: the first addNote stays although the second failed.
    assert result[3] == {"result": None, "error": "cannot create note because it is a duplicate"}


def test_nested_multi(client: ApiClient) -> None:
    inner = {"action": "multi", "params": {"actions": [{"action": "version"}, {"action": "deckNames", "version": 6}]}}
    inner_v6 = {**inner, "version": 6}
    assert client.invoke("multi", actions=[inner, inner_v6]) == [
        [6, {"result": ["Default"], "error": None}],
        {"result": [6, {"result": ["Default"], "error": None}], "error": None},
    ]


def test_multi_sub_action_errors_stay_in_their_slot(client: ApiClient) -> None:
    result = client.invoke(
        "multi",
        actions=[{"action": "version"}, {"action": "findNotes", "params": {"query": 1}}, {"params": {}}],
    )
    assert result[0] == 6
    assert result[1] == {
        "result": None,
        "error": "AnkiConnect.findNotes() argument 'query' must be a string, not the number 1",
    }
    assert result[2] == {"result": None, "error": "'action' is a required property"}


def test_multi_needs_a_list(client: ApiClient) -> None:
    assert client.error("multi") == "AnkiConnect.multi() missing 1 required positional argument: 'actions'"
    assert client.error("multi", actions={"action": "version"})


def test_yomitan_multi_of_find_notes(client: ApiClient, server: RunningServer) -> None:
    """Yomitan's duplicate lookup: version 2 outside, sub-actions without version, raw id lists back."""
    neko = add_direct(server, "猫", "neko", deck="Japanese")
    add_direct(server, "犬", "inu", deck="Japanese")
    request = {
        "action": "multi",
        "version": 2,
        "params": {
            "actions": [
                {"action": "findNotes", "params": {"query": '"deck:Japanese" "Front:猫"'}},
                {"action": "findNotes", "params": {"query": '"deck:Japanese" "Front:鳥"'}},
                {"action": "findNotes", "params": {"query": '"deck:Other" "Front:猫"'}},
            ]
        },
    }
    assert client.call(request) == ([[neko], [], []], None)
    if client.transport == "http":
        # Version 2 means bare results all the way down: no envelope around the list.
        assert client.send(request) == [[neko], [], []]


def test_yomitan_multi_with_a_key_on_every_sub_action(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="k")
    note_id = add_direct(server, "cat")
    sub = {"action": "findNotes", "params": {"query": "cat"}, "key": "k"}
    request = {"action": "multi", "version": 2, "key": "k", "params": {"actions": [sub, {**sub, "key": None}]}}
    for transport in ("http", "ws"):
        with open_client(server, transport, "moz-extension://abc") as api:
            assert api.call(request) == ([[note_id], {"result": None, "error": "valid api key must be provided"}], None)


def test_request_permission_inside_multi(client: ApiClient) -> None:
    # Upstream fails here (nothing injects origin/allowed into sub-actions); we answer as for a direct call.
    assert client.invoke("multi", actions=[{"action": "requestPermission", "version": 6}]) == [
        {"result": {"permission": "granted", "requireApikey": False, "version": 6}, "error": None}
    ]
