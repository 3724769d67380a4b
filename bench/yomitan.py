"""Yomitan's lookup pattern against the server, and the same work done directly with the ``anki`` pylib.

Each word Yomitan looks up (a popup) costs three requests: ``version``; ``canAddNotes`` of the popup's
entries (10 here) with duplicate scope ``deck``; and one ``multi`` of a ``findNotes`` per entry with the
query Yomitan builds, ``"deck:<name>" "<first field>:<value>"``. About half of the words exist in the
collection (``word<i>``, whose note is in ``Seed::Deck <i % 20>``) and half do not.

The server answers the field searches from an index (``actions/field_index.py``), built by the first such
search: the first lookup on a fresh server is timed on its own. The direct floor is the honest pylib way:
``col.find_notes`` for each query, and the duplicate check as upstream AnkiConnect does it (the first-field
checksum, then the decks of the matching notes' cards).
"""

from __future__ import annotations

import http.client
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import DECKS, checked, copy_of, percentiles, server_process
from data_ops import direct_can_add

__all__ = ["LookupFigures", "bench_lookups", "lookup_requests"]

ENTRIES = 10
"""Entries (notes) per popup."""


@dataclass
class LookupFigures:
    first_ms: float
    """The first lookup on a fresh server (the field index is built then)."""
    first_direct_ms: float
    """The first direct lookup on a freshly opened collection."""
    p50: float
    p99: float
    direct_p50: float
    direct_p99: float
    lookups: int


def _popup(index: int, notes: int) -> tuple[str, list[str]]:
    """The deck Yomitan adds to and the words of popup ``index`` (the same for server and direct)."""
    rng = random.Random(index)
    deck = f"Seed::Deck {index % DECKS}"
    words = []
    for _ in range(ENTRIES):
        n = rng.randrange(notes)
        # Half of them exist; of those a twentieth are in this deck (a word can be in one deck only).
        words.append(f"word{n}" if rng.random() < 0.5 else f"word{n}new")
    return deck, words


def _note(deck: str, word: str) -> dict[str, Any]:
    return {
        "deckName": deck,
        "modelName": "Basic",
        "fields": {"Front": word, "Back": f"definition of {word}"},
        "tags": ["yomitan"],
        "options": {
            "allowDuplicate": False,
            "duplicateScope": "deck",
            "duplicateScopeOptions": {"deckName": None, "checkChildren": False, "checkAllModels": False},
        },
    }


def _escape(text: str) -> str:
    # Yomitan's _escapeQuery
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*").replace("_", "\\_")


def _query(deck: str, word: str) -> str:
    return f'"deck:{_escape(deck)}" "Front:{_escape(word)}"'


def lookup_requests(index: int, notes: int) -> list[dict[str, Any]]:
    """The three requests of popup ``index`` on a collection of ``notes`` seeded notes."""
    deck, words = _popup(index, notes)
    finds = [{"action": "findNotes", "params": {"query": _query(deck, word)}} for word in words]
    return [
        {"action": "version", "version": 6},
        {"action": "canAddNotes", "version": 6, "params": {"notes": [_note(deck, word) for word in words]}},
        {"action": "multi", "version": 6, "params": {"actions": finds}},
    ]


def direct_lookup(col: Any, index: int, notes: int) -> tuple[list[bool], list[list[int]]]:
    """The same popup done with the pylib: the duplicate check, then Anki's search for each query."""
    deck, words = _popup(index, notes)
    can_add = direct_can_add(col, [_note(deck, word) for word in words])
    return can_add, [list(col.find_notes(_query(deck, word))) for word in words]


def _server_lookup(connection: http.client.HTTPConnection, bodies: list[bytes]) -> list[Any]:
    replies = []
    for body in bodies:
        connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        replies.append(json.loads(connection.getresponse().read()))
    return replies


def bench_lookups(seed: Path, work: Path, notes: int, lookups: int) -> LookupFigures:
    """Server and direct lookups alternating, on copies of the same seeded collection."""
    from anki.collection import Collection

    col = Collection(str(copy_of(seed, work, "yomitan-direct")))
    try:
        with server_process(copy_of(seed, work, "yomitan-served")) as server:
            connection = http.client.HTTPConnection("127.0.0.1", server.port)
            first_bodies = [json.dumps(r).encode() for r in lookup_requests(-1, notes)]
            start = time.perf_counter()
            first_replies = _server_lookup(connection, first_bodies)
            first_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            first_direct = direct_lookup(col, -1, notes)
            first_direct_ms = (time.perf_counter() - start) * 1000
            _check(first_replies, first_direct)
            served, direct = [], []
            for index in range(lookups):
                bodies = [json.dumps(r).encode() for r in lookup_requests(index, notes)]
                start = time.perf_counter()
                replies = _server_lookup(connection, bodies)
                served.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                expected = direct_lookup(col, index, notes)
                direct.append((time.perf_counter() - start) * 1000)
                _check(replies, expected)
            connection.close()
    finally:
        col.close()
    p50, p99 = percentiles(served)
    direct_p50, direct_p99 = percentiles(direct)
    return LookupFigures(first_ms, first_direct_ms, p50, p99, direct_p50, direct_p99, lookups)


def _check(replies: list[Any], expected: tuple[list[bool], list[list[int]]]) -> None:
    """The server's answers are the pylib's."""
    can_add, found = expected
    checked(replies[0], "version")
    if checked(replies[1], "canAddNotes") != can_add:
        raise RuntimeError(f"canAddNotes differs from the direct check: {replies[1]} != {can_add}")
    # Yomitan's findNotes inside multi carry no version: version 4 replies, the bare result.
    results = checked(replies[2], "multi")
    if [sorted(r) for r in results] != [sorted(f) for f in found]:
        raise RuntimeError(f"findNotes differs from col.find_notes: {results} != {found}")
