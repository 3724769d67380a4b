"""Fixtures: a real collection file per test and a real headless server on an ephemeral port."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from note_log_support import NOTES, add
from study_day import start_study_day_far_from_now
from support import ApiClient, HttpApiClient, RunningServer, WsApiClient
from twin_support import serving

if TYPE_CHECKING:
    from anki.collection import Collection


@pytest.fixture(scope="session")
def untouched_collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty collection just as Anki creates it: a first sync finds nothing to do between two of these."""
    from anki.collection import Collection

    path = tmp_path_factory.mktemp("untouched") / "collection.anki2"
    Collection(str(path)).close()
    return path


@pytest.fixture(scope="session")
def empty_collection(untouched_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One empty collection made per session; tests get copies (creating one takes ~200 ms).

    Its study day starts twelve hours from now, so that no test's learning step crosses the rollover.
    """
    path = tmp_path_factory.mktemp("empty") / "collection.anki2"
    shutil.copy(untouched_collection, path)
    start_study_day_far_from_now(path)
    return path


@pytest.fixture
def collection_path(empty_collection: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "Test Profile"
    folder.mkdir()
    path = folder / "collection.anki2"
    shutil.copy(empty_collection, path)
    return path


@pytest.fixture
def start_server(collection_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """Start a server with some config keys overridden (always on 127.0.0.1/::1, port 0)."""
    running: list[RunningServer] = []
    with ExitStack() as stack:

        def start(**config: Any) -> RunningServer:
            assert not running, "one server per test: they would share the collection"
            running.append(stack.enter_context(serving(collection_path, **config)))
            return running[0]

        yield start


@pytest.fixture
def server(start_server: Callable[..., RunningServer]) -> RunningServer:
    return start_server()


@pytest.fixture(params=["http", "ws"])
def client(request: pytest.FixtureRequest, server: RunningServer) -> Iterator[ApiClient]:
    """The same API contract, checked over HTTP and over WebSocket."""
    api: ApiClient = HttpApiClient(server.port) if request.param == "http" else WsApiClient(server.ws_url)
    yield api
    api.close()


@pytest.fixture
def opened(collection_path: Path) -> Iterator[Collection]:
    """A collection of notes never synced (every note marked as a local change), just opened: nothing to undo,
    so the log of notes written (note_log.py) can begin."""
    from anki.collection import Collection

    col = Collection(str(collection_path))
    for i in range(NOTES):
        add(col, f"word{i}")
    col.close()
    col = Collection(str(collection_path))
    try:
        yield col
    finally:
        col.close()
