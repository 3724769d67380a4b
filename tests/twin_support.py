"""Servers for tests that compare two copies of one collection, or follow one server through many examples:
each on a real collection file, with helpers to read their state and to name notes that exist by place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import HttpApiClient, RunningServer

from ankiconnect_live.app import App
from ankiconnect_live.headless import HeadlessRuntime
from ankiconnect_live.settings import load_settings

__all__ = ["resolved", "seeded_twins", "served_with_decks", "serving", "state", "without_ids"]


@contextmanager
def serving(path: Path, **config: Any) -> Iterator[RunningServer]:
    runtime = HeadlessRuntime(load_settings({"webBindPort": 0, **config}), path)
    runtime.open()
    app = App(runtime, runtime.post)
    app.start()
    server = RunningServer(app, runtime, path)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def served_with_decks(
    collection: Path, folder: Path, decks: list[str]
) -> Iterator[tuple[RunningServer, HttpApiClient]]:
    """A server (and a client of it) on a copy of ``collection`` in ``folder``, with these decks made."""
    folder.mkdir(parents=True)
    path = folder / "collection.anki2"
    path.write_bytes(collection.read_bytes())
    with serving(path) as server:
        client = HttpApiClient(server.port)
        for deck in decks:
            client.invoke("createDeck", deck=deck)
        try:
            yield server, client
        finally:
            client.close()


def seeded_twins(template: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, int]]:
    """Two copies (same profile name) of a collection with decks Other and Other::Child and three notes."""
    from anki.collection import Collection

    col = Collection(str(template))
    ids: dict[str, int] = {}
    for front, deck in [("dup", "Default"), ("kept", "Other::Child"), ("edit me", "Default")]:
        note = col.new_note(col.models.by_name("Basic"))  # type: ignore[arg-type]
        note["Front"] = front
        col.add_note(note, col.decks.id(deck))  # type: ignore[arg-type]
        ids[front] = note.id
        ids[f"{front} card"] = note.card_ids()[0]
    col.decks.id("Other")
    col.close()
    twins = []
    for side in ("batched", "alone"):
        folder = tmp_path / side / "Twin"
        folder.mkdir(parents=True)
        (folder / "collection.anki2").write_bytes(template.read_bytes())
        twins.append(folder / "collection.anki2")
    return twins[0], twins[1], ids


def state(server: RunningServer) -> tuple[list[Any], list[tuple[str, bytes]]]:
    """Every note (type, fields, tags, its cards' decks) in the order added, then every deck's name; and every
    media file."""

    def read(col: Any) -> tuple[list[Any], list[tuple[str, bytes]]]:
        notes: list[Any] = []
        for note_id in sorted(col.find_notes("")):
            note = col.get_note(note_id)
            decks = sorted(col.decks.name(card.did) for card in note.cards())
            notes.append((note.note_type()["name"], list(note.fields), list(note.tags), decks))
        folder = Path(col.media.dir())
        media = sorted((path.name, path.read_bytes()) for path in folder.iterdir() if path.is_file())
        notes.append(sorted(deck.name for deck in col.decks.all_names_and_ids()))
        return notes, media

    result: tuple[list[Any], list[tuple[str, bytes]]] = server.on_collection(read)
    return result


def without_ids(reply: Any) -> Any:
    """Ids and dates differ between the two copies; everything else must not."""
    if isinstance(reply, bool) or reply is None:
        return reply
    if isinstance(reply, int):
        return "<id>" if reply > 10**9 else reply
    if isinstance(reply, list):
        return [without_ids(item) for item in reply]
    if isinstance(reply, dict):
        return {key: without_ids(value) for key, value in reply.items() if key != "mod"}
    return reply


def resolved(value: Any, ids: list[int], key: str = "$note") -> Any:
    """The request with each ``{key: place}`` the id of a note (or card) there is (the last places: none)."""
    if isinstance(value, dict):
        if key in value:
            place = value[key]
            return ids[place % len(ids)] if ids and place < 5 else 12345
        return {name: resolved(item, ids, key) for name, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, ids, key) for item in value]
    return value
