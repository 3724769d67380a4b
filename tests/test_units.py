"""Pure pieces checked directly: envelope messages, param binding, origin and Host policy, key checks."""

from __future__ import annotations

from typing import Any

import pytest

from ankiconnect_live.actions.errors import InvalidParams
from ankiconnect_live.actions.params import bind_params, param_specs
from ankiconnect_live.settings import SettingsError, load_settings
from ankiconnect_live.transport.policy import host_allowed, judge_origin
from ankiconnect_live.wire import Outcome, envelope_error, key_matches


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (1.2, "1.2 is not of type 'object'"),
        ([], "[] is not of type 'object'"),
        ({}, "'action' is a required property"),
        ({"action": 1}, "1 is not of type 'string'"),
        ({"action": ""}, "'' should be non-empty"),
        ({"action": "x", "version": "6"}, "'6' is not of type 'integer'"),
        ({"action": "x", "version": True}, "True is not of type 'integer'"),
        ({"action": "x", "params": None}, "None is not of type 'object'"),
        ({"action": "x", "version": 6, "params": {}, "key": "k", "extra": 1}, None),
    ],
)
def test_envelope_messages_match_upstreams_schema(request_: Any, message: str | None) -> None:
    assert envelope_error(request_) == message


def test_outcome_shapes() -> None:
    assert Outcome(4, result=[1]).reply() == [1]
    assert Outcome(6, result=[1]).reply() == {"result": [1], "error": None}
    assert Outcome(2, error="e").reply() == {"result": None, "error": "e"}
    assert Outcome(2, result=5).envelope() == {"result": 5, "error": None}


def test_key_matches() -> None:
    assert key_matches(None, None) and key_matches("x", None)
    assert key_matches("k", "k")
    assert not key_matches("K", "k") and not key_matches(None, "k") and not key_matches(1, "k")


def _handler(
    ctx: object,
    *,
    cards: list[int],
    deck: str,
    cardsToo: bool = False,
    limit: float | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Test handler."""


SPECS = param_specs(_handler, {"cards": list[int], "deck": str, "cardsToo": bool, "limit": float | None,
                               "extra": dict[str, Any] | None})  # fmt: skip


def test_params_fill_defaults_and_coerce_what_clients_send() -> None:
    bound = bind_params("x", SPECS, {"cards": [1, "2"], "deck": "D", "cardsToo": "True"})
    assert bound == {"cards": [1, 2], "deck": "D", "cardsToo": True, "limit": None, "extra": None}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"deck": "D"}, "AnkiConnect.x() missing 1 required positional argument: 'cards'"),
        ({}, "AnkiConnect.x() missing 2 required positional arguments: 'cards' and 'deck'"),
        ({"cards": [], "deck": "D", "bad": 1}, "AnkiConnect.x() got an unexpected keyword argument 'bad'"),
        ({"cards": 5, "deck": "D"}, "AnkiConnect.x() argument 'cards' must be a list of integers, not the number 5"),
        ({"cards": [1, "a"], "deck": "D"}, "AnkiConnect.x() argument 'cards[1]' must be an integer, not the string 'a'"),  # noqa: E501
        ({"cards": [], "deck": None}, "AnkiConnect.x() argument 'deck' must be a string, not null"),
        ({"cards": [], "deck": "D", "cardsToo": "yes"}, "AnkiConnect.x() argument 'cardsToo' must be a boolean, not the string 'yes'"),  # noqa: E501
        ({"cards": [], "deck": "D", "extra": []}, "AnkiConnect.x() argument 'extra' must be an object, not a list"),
    ],
)  # fmt: skip
def test_param_errors_read_like_upstreams_type_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        bind_params("x", SPECS, params)
    assert str(caught.value) == message


def test_handlers_must_declare_keyword_only_annotated_params() -> None:
    def positional(ctx: object, cards: list[int]) -> None: ...

    with pytest.raises(TypeError, match="keyword-only"):
        param_specs(positional, {"cards": list[int]})


@pytest.mark.parametrize(
    ("origin", "allowed", "allow_origin"),
    [
        (None, True, "http://localhost"),
        ("http://localhost", True, "http://localhost"),
        ("http://127.0.0.1", True, "http://127.0.0.1"),
        ("http://127.0.0.1:5173", True, "http://127.0.0.1:5173"),
        ("https://127.0.0.1:8443", True, "https://127.0.0.1:8443"),
        ("chrome-extension://abcdef", True, "chrome-extension://abcdef"),
        ("moz-extension://1234", True, "moz-extension://1234"),
        ("safari-web-extension://x", True, "safari-web-extension://x"),
        ("http://localhost:3000", False, "http://localhost"),
        ("http://127.0.0.1.evil.example", False, "http://localhost"),
        ("http://127.0.0.1:80abc", False, "http://localhost"),
        ("null", False, "http://localhost"),
        ("https://evil.example", False, "http://localhost"),
    ],
)
def test_origin_rules(origin: str | None, allowed: bool, allow_origin: str) -> None:
    verdict = judge_origin(origin, load_settings())
    assert (verdict.allowed, verdict.allow_origin) == (allowed, allow_origin)


def test_origin_allow_list_variants() -> None:
    assert judge_origin("https://x.example", load_settings({"webCorsOriginList": ["*"]})).allow_origin == "*"
    exact = load_settings({"webCorsOriginList": ["https://x.example"]})
    assert judge_origin("https://x.example", exact).allowed
    assert not judge_origin("chrome-extension://a", exact).allowed  # the family needs http://localhost listed
    legacy = load_settings({"webCorsOrigin": "https://old.example"})
    assert judge_origin("https://old.example", legacy).allowed


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        (None, True),
        ("127.0.0.1:8765", True),
        ("localhost", True),
        ("LOCALHOST:8765", True),
        ("app.localhost:8765", True),
        ("[::1]:8765", True),
        ("192.168.1.20:8765", True),
        ("evil.example", False),
        ("evil.example:8765", False),
        ("localhost.evil.example", False),
        ("[::1", False),
        ("localhost:port", False),
    ],
)
def test_host_rules(host: str | None, allowed: bool) -> None:
    assert host_allowed(host, load_settings()) is allowed


def test_host_allow_list() -> None:
    assert host_allowed("anki.lan:8765", load_settings({"webHostAllowList": ["anki.lan"]}))
    assert host_allowed("anything.example", load_settings({"webHostAllowList": ["*"]}))


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"webBindPort": "80"}, "webBindPort"),
        ({"webBindPort": 70000}, "webBindPort"),
        ({"apiKey": 5}, "apiKey"),
        ({"webCorsOriginList": "http://localhost"}, "webCorsOriginList"),
        ({"webMaxBodyBytes": True}, "webMaxBodyBytes"),
    ],
)
def test_bad_settings_are_refused(config: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings(config)


def test_empty_api_key_means_no_key() -> None:
    assert load_settings({"apiKey": ""}).api_key is None
    assert load_settings({"apiKey": "k"}).api_key == "k"
