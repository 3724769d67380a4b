"""Servers on several collection files, built as tests/conftest.py builds one, for profile and package tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import ApiClient, HttpApiClient, RunningServer, WsApiClient

from ankiconnect_live.app import App
from ankiconnect_live.headless import HeadlessRuntime, ProfileListing
from ankiconnect_live.settings import load_settings


def copy_collection(empty: Path, folder: Path) -> Path:
    """A fresh collection at ``folder/collection.anki2`` (so its profile name is the folder's name)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "collection.anki2"
    shutil.copy(empty, path)
    return path


def start_running(path: Path, profiles: ProfileListing | None = None, profile: str | None = None) -> RunningServer:
    runtime = HeadlessRuntime(load_settings({"webBindPort": 0}), path, profile, profiles)
    runtime.open()
    app = App(runtime, runtime.post)
    app.start()
    return RunningServer(app, runtime, path)


@contextmanager
def running(path: Path, profiles: ProfileListing | None = None) -> Iterator[RunningServer]:
    server = start_running(path, profiles)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def client_for(like: ApiClient, server: RunningServer) -> Iterator[ApiClient]:
    """A client of ``server`` over the same transport as ``like``."""
    api: ApiClient = HttpApiClient(server.port) if like.transport == "http" else WsApiClient(server.ws_url)
    try:
        yield api
    finally:
        api.close()


def add_basic(col: Any, front: str, deck: str = "Default") -> int:
    """Add a Basic note straight into the collection (set-up, on the owner thread); its id."""
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"] = front
    col.add_note(note, col.decks.id(deck))
    return int(note.id)
