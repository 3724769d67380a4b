"""Data operations through the server against the same work done directly with the ``anki`` pylib.

Both sides run on their own copy of the same seeded collection, warmed up once, in alternating rounds;
the figure is the median. The server side is timed from sending the encoded request to receiving the
whole reply, so it includes HTTP, JSON and the thread hop: everything a client pays for.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import copy_of, served

__all__ = ["compare_data_operations"]


@dataclass
class Operation:
    label: str
    request: Callable[[int], dict[str, Any]]
    """The request for a round (rounds differ where the operation writes)."""
    direct: Callable[[Any, int], Any]
    """The same work done directly on an open Collection."""
    check: Callable[[Any], bool]
    """Whether the server's result is right."""


def note_batch(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"{tag} {i}", "Back": "b"}}
        for i in range(count)
    ]


def direct_add_notes(col: Any, specs: list[dict[str, Any]]) -> list[int]:
    """The floor: the same notes built and added with one ``col.add_notes`` call."""
    from anki.collection import AddNoteRequest

    model = col.models.by_name("Basic")
    deck_ids = {name: col.decks.id_for_name(name) for name in {spec["deckName"] for spec in specs}}
    requests = []
    for spec in specs:
        note = col.new_note(model)
        for name, value in spec["fields"].items():
            note[name] = value
        requests.append(AddNoteRequest(note, deck_ids[spec["deckName"]]))
    col.add_notes(requests)
    return [request.note.id for request in requests]


def direct_notes_info(col: Any, note_ids: list[int]) -> list[dict[str, Any]]:
    infos = []
    for note_id in note_ids:
        note = col.get_note(note_id)
        model = note.note_type()
        infos.append(
            {
                "noteId": note.id,
                "tags": note.tags,
                "fields": {f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]} for f in model["flds"]},
                "modelName": model["name"],
                "mod": note.mod,
                "cards": note.card_ids(),
            }
        )
    return infos


def direct_get_decks(col: Any, card_ids: list[int]) -> dict[str, list[int]]:
    decks: dict[str, list[int]] = {}
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    for card_id, deck_id in col.db.all(f"select id, did from cards where id in ({','.join(map(str, card_ids))})"):
        decks.setdefault(names[deck_id], []).append(card_id)
    return decks


def operations(note_ids: list[int], card_ids: list[int]) -> list[Operation]:
    notes_1000, cards_10k = note_ids[:1000], card_ids[:10_000]
    return [
        Operation(
            "addNotes 1000",
            lambda r: {"action": "addNotes", "version": 6, "params": {"notes": note_batch(1000, f"round{r}")}},
            lambda col, r: direct_add_notes(col, note_batch(1000, f"round{r}")),
            lambda result: len(result) == 1000,
        ),
        Operation(
            "notesInfo 1000",
            lambda r: {"action": "notesInfo", "version": 6, "params": {"notes": notes_1000}},
            lambda col, r: direct_notes_info(col, notes_1000),
            lambda result: len(result) == 1000 and all(result),
        ),
        Operation(
            "getDecks 10k cards",
            lambda r: {"action": "getDecks", "version": 6, "params": {"cards": cards_10k}},
            lambda col, r: direct_get_decks(col, cards_10k),
            lambda result: sum(len(ids) for ids in result.values()) == 10_000,
        ),
    ]


def compare_data_operations(seed: Path, work: Path, rounds: int) -> list[tuple[str, float, float]]:
    """(label, direct ms, server ms) for each operation."""
    from anki.collection import Collection

    col = Collection(str(copy_of(seed, work, "direct")))
    results = []
    try:
        note_ids = sorted(int(n) for n in col.find_notes(""))
        card_ids = sorted(int(c) for c in col.find_cards(""))
        with served(copy_of(seed, work, "served")) as port:
            connection = http.client.HTTPConnection("127.0.0.1", port)
            for operation in operations(note_ids, card_ids):
                results.append((operation.label, *_compare(operation, col, connection, rounds)))
            connection.close()
    finally:
        col.close()
    return results


def _compare(
    operation: Operation, col: Any, connection: http.client.HTTPConnection, rounds: int
) -> tuple[float, float]:
    direct, served_ms = [], []
    for r in range(-1, rounds):  # round -1 warms both sides up and is not counted
        start = time.perf_counter()
        operation.direct(col, r)
        direct_ms = (time.perf_counter() - start) * 1000
        body = json.dumps(operation.request(r)).encode()  # the client's encoding is not the server's cost
        start = time.perf_counter()
        connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        raw = connection.getresponse().read()
        server_ms = (time.perf_counter() - start) * 1000
        reply = json.loads(raw)
        if reply["error"] is not None or not operation.check(reply["result"]):
            raise RuntimeError(f"{operation.label}: wrong reply {str(reply)[:200]}")
        if r >= 0:
            direct.append(direct_ms)
            served_ms.append(server_ms)
    return statistics.median(direct), statistics.median(served_ms)
