"""Python's automatic garbage collection waits while a big body is decoded and, headless, while a request
runs (inside Anki there is none).

A big request keeps many objects alive, which CPython takes for a growing heap: it walked every object of the
server twice during an addNotes of 10k notes. Collections are recorded by the thread that started them.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from support import HttpApiClient, RunningServer

from ankiconnect_live.collector import collector_held_off
from ankiconnect_live.wire import WireError, decode_json

NOTES = 3000
"""Enough allocations for dozens of automatic collections on the collection's thread without the wait
(68 when measured)."""


def notes(tag: str) -> list[dict[str, Any]]:
    return [
        {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"{tag} {i}", "Back": "b"}}
        for i in range(NOTES)
    ]


@pytest.fixture
def collections_started() -> Iterator[list[int]]:
    """The thread of each garbage collection that starts while the test runs."""
    started: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(threading.get_ident())

    gc.callbacks.append(record)
    try:
        yield started
    finally:
        gc.callbacks.remove(record)


def test_no_collection_runs_on_the_collection_thread_during_a_request(
    server: RunningServer, collections_started: list[int]
) -> None:
    owner = server.runtime.run(threading.get_ident)
    client = HttpApiClient(server.port)
    try:
        added = client.invoke("addNotes", notes=notes("held off"))
        assert len(added) == NOTES and all(added)
        # The allocations held off set off one collection as the request ends, at most.
        assert collections_started.count(owner) <= 1
        assert gc.isenabled()
        # Turned back on: the collection's thread collects again outside requests.
        server.runtime.run(lambda: [[] for _ in range(10 * gc.get_threshold()[0])])
        assert collections_started.count(owner) > 2
    finally:
        client.close()


def test_a_collector_turned_off_by_whoever_runs_the_server_stays_off(server: RunningServer) -> None:
    client = HttpApiClient(server.port)
    gc.disable()
    try:
        assert len(client.invoke("addNotes", notes=notes("off"))) == NOTES
        assert not gc.isenabled()
    finally:
        gc.enable()
        client.close()


def test_decoding_a_big_body_sets_off_no_collection(collections_started: list[int]) -> None:
    body = json.dumps({"action": "addNotes", "version": 6, "params": {"notes": notes("decoded")}}).encode()
    expected = json.loads(body)
    collections_started.clear()
    decoded = decode_json(body)
    assert len(collections_started) <= 1  # the one its end may set off (17 when measured without holding off)
    assert decoded == expected
    assert gc.isenabled()


def test_a_big_body_that_is_no_json_still_gets_pythons_words(collections_started: list[int]) -> None:
    body = json.dumps(notes("cut")).encode()[:-1]
    with pytest.raises(WireError) as raised:
        decode_json(body)
    assert str(raised.value).startswith("Expecting ',' delimiter")
    assert gc.isenabled()


def test_only_the_outermost_hold_turns_the_collector_back_on() -> None:
    with collector_held_off():
        with collector_held_off():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
