"""Helpers shared by the note, card, deck, model, media and misc contract tests.

Set-up goes straight to the collection (``server.on_collection``) so a test of one action never depends
on another action being right; checks read the collection back the same way.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support import RunningServer

DUPLICATE = "cannot create note because it is a duplicate"
EMPTY = "cannot create note because it is empty"
NO_MEDIA_SOURCE = 'You must provide a "data", "path", or "url" field.'
PROFILE = "Test Profile"
"""The headless profile name: the fixture's collection lives in a folder of that name."""


def note(
    front: str,
    back: str = "back",
    *,
    deck: str = "Default",
    model: str = "Basic",
    tags: Sequence[str] = (),
    options: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An addNote-style note object for a Front/Back note type; ``extra`` adds keys such as ``picture``."""
    spec: dict[str, Any] = {
        "deckName": deck,
        "modelName": model,
        "fields": {"Front": front, "Back": back},
        "tags": list(tags),
    }
    if options is not None:
        spec["options"] = options
    spec.update(extra)
    return spec


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def media_dir(server: RunningServer) -> Path:
    return Path(server.on_collection(lambda col: col.media.dir()))


def media_files(server: RunningServer) -> set[str]:
    """Names of the files in the media folder (the trash folder Anki may create is not a file)."""
    return {p.name for p in media_dir(server).iterdir() if p.is_file()}


def add_direct(
    server: RunningServer,
    front: str,
    back: str = "",
    *,
    deck: str = "Default",
    model: str = "Basic",
    tags: Sequence[str] = (),
) -> int:
    """Add a note through the collection (not the API); the deck is created if missing."""

    def add(col: Any) -> int:
        new = col.new_note(col.models.by_name(model))
        new.fields[0] = front
        if len(new.fields) > 1:
            new.fields[1] = back
        new.tags = list(tags)
        col.add_note(new, col.decks.id(deck, create=True))
        return int(new.id)

    result: int = server.on_collection(add)
    return result


def make_deck(server: RunningServer, name: str) -> int:
    result: int = server.on_collection(lambda col: int(col.decks.id(name, create=True)))
    return result


def all_note_ids(server: RunningServer) -> list[int]:
    return sorted(int(n) for n in server.on_collection(lambda col: col.find_notes("")))


def note_fields(server: RunningServer, note_id: int) -> dict[str, str]:
    return dict(server.on_collection(lambda col: col.get_note(note_id).items()))


def note_tags(server: RunningServer, note_id: int) -> list[str]:
    return list(server.on_collection(lambda col: col.get_note(note_id).tags))


def card_decks(server: RunningServer, note_id: int) -> list[str]:
    """The deck name of each card of a note, in card order."""

    def decks(col: Any) -> list[str]:
        return [col.decks.name(card.did) for card in sorted(col.get_note(note_id).cards(), key=lambda c: c.ord)]

    result: list[str] = server.on_collection(decks)
    return result


def remove_notes(server: RunningServer, note_ids: Sequence[int]) -> None:
    server.on_collection(lambda col: col.remove_notes(list(note_ids)))
