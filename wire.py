"""The AnkiConnect wire format: request envelope checks, reply shapes, JSON coding and API-key comparison.

Shared by the transports and the dispatcher; imports neither ``anki`` nor ``aqt``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson  # a dependency of Anki's own, so present wherever the add-on runs

from .collector import collector_held_off

__all__ = [
    "BANNER_VERSION",
    "DEFAULT_VERSION",
    "Caller",
    "Outcome",
    "WireError",
    "banner",
    "decode_json",
    "encode_json",
    "envelope_error",
    "error_reply",
    "key_matches",
    "success_reply",
]

BANNER_VERSION = 6
DEFAULT_VERSION = 4
"""A request without ``version`` is treated as version 4, whose successes are bare results."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request, as far as the transport could tell.

    ``origin`` is the ``Origin`` header (None when absent), ``origin_allowed`` the verdict of the origin
    policy, ``url_key`` an API key given outside the JSON body (``?key=`` or the WebSocket handshake), and
    ``peer`` the client's address (None in-process), by which wrong keys are throttled.
    """

    transport: Literal["http", "ws", "internal"] = "internal"
    origin: str | None = None
    origin_allowed: bool = True
    url_key: str | None = None
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running one request produced, before a transport shapes it into a reply."""

    version: int
    result: Any = None
    error: str | None = None

    def reply(self) -> Any:
        """The reply as upstream shapes it: bare for version <= 4, errors always enveloped."""
        if self.error is not None:
            return error_reply(self.error)
        return success_reply(self.version, self.result)

    def envelope(self) -> dict[str, Any]:
        """The full two-key envelope whatever the version (used on WebSockets)."""
        return {"result": None if self.error is not None else self.result, "error": self.error}


class WireError(ValueError):
    """The request body is not a valid AnkiConnect request; the message is what the client sees."""


def banner(api_version: int = BANNER_VERSION) -> dict[str, str]:
    """What an empty request body gets, as upstream has answered since 2025-02."""
    return {"apiVersion": f"AnkiConnect v.{api_version}"}


_HELD_OFF_BYTES = 1 << 16
"""Bodies from this size on (a few thousand objects once decoded) are decoded with the collector held off."""


def decode_json(body: bytes) -> Any:
    """Decode a UTF-8 JSON body, raising WireError with Python's own message, as upstream reports it."""
    try:
        if len(body) < _HELD_OFF_BYTES:
            return json.loads(body.decode("utf-8"))
        with collector_held_off():  # every object decoding makes is part of its result: none to collect
            return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(str(exc)) from None
    except ValueError as exc:  # an integer of more than 4300 digits (Python's int conversion limit)
        raise WireError(str(exc)) from None
    except RecursionError:
        raise WireError("request is nested too deeply") from None


def encode_json(value: Any) -> bytes:
    """Encode a reply like upstream's ``json.dumps`` defaults (ASCII-only, int keys become strings)."""
    envelope = isinstance(value, dict) and set(value) == {"result", "error"}
    result = value["result"] if envelope else value
    big = _big_pieces(result)
    if big is None:
        return json.dumps(value).encode("ascii")
    if envelope:
        result_pieces: list[bytes] = big
        big = _object_pieces(value, lambda key, v: result_pieces if key == "result" else [_dumps(v)])
    # One copy of the whole reply: each further one costs 5-10 ms per 10 MB with the GIL held (in Anki, the
    # window waits that long).
    return b"".join(big)


def _big_pieces(result: Any) -> list[bytes] | None:
    """A big list (or a dict of lists) as the pieces of what ``json.dumps`` writes, but faster; None for
    anything else.

    One json.dumps call holds the GIL throughout: 10k cardsInfo entries (10 MB) took 350 ms, in which Anki's
    window could not run a line of Python. Slices of 100 give the GIL up between them.
    """
    if isinstance(result, list) and len(result) > _SLICE:
        ids = _encode_ids(result) if type(result[0]) is int else None
        if ids is not None:
            return [ids]
        pieces = [b"["]
        for i in range(0, len(result), _SLICE):
            pieces += [b", " if i else b"", _dumps(result[i : i + _SLICE])[1:-1]]
        return [*pieces, b"]"]
    if (
        isinstance(result, dict)
        and all(type(key) is str for key in result)
        and sum(len(v) for v in result.values() if isinstance(v, list)) > _SLICE
    ):  # getDecks: deck names to their card ids
        return _object_pieces(result, lambda key, v: _big_pieces(v) or [_dumps(v)])
    return None


def _object_pieces(members: dict[str, Any], pieces_of: Callable[[str, Any], list[bytes]]) -> list[bytes]:
    """A JSON object as ``json.dumps`` writes it, each member's value given as pieces."""
    pieces = [b"{"]
    for i, (key, v) in enumerate(members.items()):
        pieces += [b", " if i else b"", _dumps(key), b": ", *pieces_of(key, v)]
    return [*pieces, b"}"]


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode("ascii")


_SLICE, _MAX_IDS = 100, 1_000_000
"""Items per json.dumps call for a big reply (100 cardsInfo entries: a few ms); ids per orjson call (40 ms)."""
_NOT_IN_IDS = (b'"', b"{", b".", b"e", b"E", b"t", b"f", b"n", b"N", b"I")
"""What orjson writes for anything but ints: strings, objects, floats (1.0, 1e16), true, false, null."""


def _encode_ids(ids: list[Any]) -> bytes | None:
    """A list of ids (ints, or lists of them) as ``json.dumps`` writes it, 4x faster (findCards of a whole
    collection: 200k ids); None when the list holds anything else."""
    if len(ids) > _MAX_IDS:
        return None
    try:
        text = orjson.dumps(ids)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return None
    if any(mark in text for mark in _NOT_IN_IDS):
        return None
    # Only digits, signs, commas and brackets are left: ints and lists of them, which json.dumps writes the
    # same way but with ", " between items.
    return text.replace(b",", b", ")


def _describe(value: Any) -> str:
    # jsonschema names the offending instance by its Python repr; clients match on these messages.
    return repr(value)


def envelope_error(request: Any) -> str | None:
    """Check a request object as upstream's request schema does; return the first message or None."""
    if not isinstance(request, dict):
        return f"{_describe(request)} is not of type 'object'"
    if "action" not in request:
        return "'action' is a required property"
    action = request["action"]
    if not isinstance(action, str):
        return f"{_describe(action)} is not of type 'string'"
    if action == "":
        return "'' should be non-empty"
    if "version" in request:
        version = request["version"]
        if isinstance(version, bool) or not isinstance(version, int):
            return f"{_describe(version)} is not of type 'integer'"
    if "params" in request and not isinstance(request["params"], dict):
        return f"{_describe(request['params'])} is not of type 'object'"
    return None


def success_reply(version: int, result: Any) -> Any:
    """Version 4 and below get the bare result; newer versions the two-key envelope."""
    if version <= DEFAULT_VERSION:
        return result
    return {"result": result, "error": None}


def error_reply(message: str) -> dict[str, Any]:
    """Errors always use the two-key envelope, whatever the version."""
    return {"result": None, "error": message}


def key_matches(given: object, expected: str | None) -> bool:
    """Constant-time API-key check; with no key configured every request passes."""
    if expected is None:
        return True
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
