"""An id given twice in a list counts once. Anki's own operations on lists of notes or cards fail on a repeated
id (a UNIQUE constraint of the table of ids they search), which reached clients as a raw database error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from note_helpers import add_direct
from support import ApiClient, RunningServer


def _card(server: RunningServer, note_id: int) -> int:
    card_id: int = server.on_collection(lambda col: col.get_note(note_id).card_ids()[0])
    return card_id


def _card_value(server: RunningServer, card_id: int, read: Callable[[Any], Any]) -> Any:
    return server.on_collection(lambda col: read(col.get_card(card_id)))


@pytest.mark.parametrize("action", ["addTags", "removeTags", "replaceTags"])
def test_tag_actions(client: ApiClient, server: RunningServer, action: str) -> None:
    note_id = add_direct(server, "twice", tags=["old"])
    params: dict[str, Any] = {"notes": [note_id, note_id]}
    if action == "replaceTags":
        params |= {"tag_to_replace": "old", "replace_with_tag": "new"}
    else:
        params |= {"tags": "old" if action == "removeTags" else "new"}
    assert client.invoke(action, **params) is None
    expected = {"addTags": ["new", "old"], "removeTags": [], "replaceTags": ["new"]}[action]
    assert client.invoke("getNoteTags", note=note_id) == expected


@pytest.mark.parametrize(
    ("action", "params", "read", "expected"),
    [
        ("changeDeck", {"deck": "Elsewhere"}, lambda card: card.did != 1, True),
        ("suspend", {}, lambda card: card.queue, -1),
        ("forgetCards", {}, lambda card: card.type, 0),
        ("setDueDate", {"days": "3"}, lambda card: card.type, 2),
    ],
)
def test_card_actions(
    client: ApiClient, server: RunningServer, action: str, params: dict[str, Any], read: Any, expected: Any
) -> None:
    card_id = _card(server, add_direct(server, "twice"))
    client.invoke(action, cards=[card_id, card_id], **params)
    assert _card_value(server, card_id, read) == expected
    if action == "suspend":
        assert client.invoke("unsuspend", cards=[card_id, card_id]) is True
        assert _card_value(server, card_id, read) == 0
