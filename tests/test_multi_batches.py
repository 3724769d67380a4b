"""Runs of addNote and updateNoteFields in one ``multi`` are written at once, with the outcomes of the same
calls sent one after another.

The oracle is the server itself: two copies of one collection, the calls sent as one ``multi`` to the first
and one request each to the second; replies, notes and media files must come out the same.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from support import HttpApiClient, RunningServer
from twin_support import seeded_twins, serving, state, without_ids

PICTURE = base64.b64encode(b"\x89PNG\r\n\x1a\n not really a picture").decode()
ANOTHER = base64.b64encode(b"another file's bytes").decode()


def add(front: str, *, deck: str = "Default", model: str = "Basic", **extra: Any) -> dict[str, Any]:
    fields = {"Front": front, "Back": ""} if model == "Basic" else {"Text": front}
    return {"action": "addNote", "params": {"note": {"deckName": deck, "modelName": model, "fields": fields, **extra}}}


def update(note_id: Any, fields: Any, **extra: Any) -> dict[str, Any]:
    return {"action": "updateNoteFields", "params": {"note": {"id": note_id, "fields": fields, **extra}}}


def calls(ids: dict[str, int]) -> list[dict[str, Any]]:
    in_deck = {"duplicateScope": "deck"}
    return [
        add("a1"),
        add("dup"),  # a duplicate of a note in the collection
        add("a1"),  # a duplicate of a note added earlier in the run
        add("a1", options={"allowDuplicate": True}),
        add("a2", model="Nope"),
        add("a3", deck="Nope"),
        add(""),
        {"action": "addNote", "params": {}},
        {"action": "addNote", "version": 6, "params": {"note": add("a4")["params"]["note"]}},
        add("dup", deck="Other", options=in_deck),  # the other one is in Default
        add("kept", deck="Other", options={**in_deck, "duplicateScopeOptions": {"checkChildren": True}}),
        add("kept", deck="Other", options=in_deck),
        add("kept", options={**in_deck, "duplicateScopeOptions": {"deckName": "Other::Child"}}),
        add("pictured", picture=[{"filename": "p.png", "data": PICTURE, "fields": ["Back"]}]),
        add("unreadable", picture=[{"filename": "q.png", "path": "/nonexistent/q.png", "fields": ["Back"]}]),
        add("no cloze here", model="Cloze"),
        add("{{c1::a cloze}}", model="Cloze"),
        add("{{c1::a cloze}}", model="Cloze"),
        add("{{c1::in a Basic note}}"),
        {"action": "deckNames"},  # ends the run: what follows sees the notes above as added
        add("a1"),
        update(ids["edit me"], {"Back": "first"}),
        update(ids["edit me"], {"Front": "edited"}),  # the same note again: both changes stay
        update(ids["edit me"], {"Front": "half", "Back": 5}),  # refused whole; the changes before it stay
        update(12345, {"Back": "x"}),
        update(str(ids["edit me"]), {"Back": "x"}),
        {"action": "updateNoteFields", "params": {"note": {"id": ids["edit me"]}}},
        update(
            ids["kept"],
            {"Back": "with a picture"},
            picture=[{"filename": "k.png", "data": ANOTHER, "fields": ["Back"]}],
        ),
        update(ids["kept"], {"Nope": "ignored", "Back": "last"}),
        update(
            ids["dup"],
            {"Back": "lost"},
            audio=[{"filename": "a.mp3", "path": "/nonexistent/a.mp3", "fields": ["Back"]}],
        ),
        update(ids["dup"], {"Front": "dup"}),  # no change at all
        *tag_calls(ids),
        *deck_calls(ids),
        {"action": "notesInfo", "params": {"query": "deck:*"}},
    ]


def tag_calls(ids: dict[str, int]) -> list[dict[str, Any]]:
    dup, kept, edited = ids["dup"], ids["kept"], ids["edit me"]
    return [
        {"action": "addTags", "params": {"notes": [dup, kept], "tags": "t1 t2"}},
        {"action": "addTags", "params": {"notes": [kept], "tags": "t1 t2"}},
        {"action": "addTags", "params": {"notes": [kept], "tags": "FOO"}},
        {
            "action": "addTags",
            "params": {"notes": [kept, dup], "tags": "foo bar"},
        },  # Anki spells it FOO, as first added
        {"action": "addTags", "params": {"notes": [dup], "tags": "t1", "add": False}},
        {"action": "addTags", "params": {"notes": [edited, 12345], "tags": "t3"}},
        {"action": "addTags", "params": {"notes": "not a list", "tags": "t3"}},
        {"action": "addTags", "params": {"notes": [dup], "tags": "t1"}},  # back again
        {"action": "addTags", "params": {"notes": [dup], "tags": "Zed"}},
        {"action": "addTags", "params": {"notes": [kept], "tags": "ZED"}},  # spelt Zed too, as first added
        {"action": "removeTags", "params": {"notes": [kept], "tags": "t2"}},
        {"action": "removeTags", "params": {"notes": [dup, kept], "tags": "t2"}},
        {"action": "removeTags", "params": {"notes": [kept], "tags": "BAR"}},
        {"action": "addTags", "params": {"notes": [kept], "tags": "bar"}},
    ]


def deck_calls(ids: dict[str, int]) -> list[dict[str, Any]]:
    dup, kept, edited = ids["dup card"], ids["kept card"], ids["edit me card"]
    return [
        {"action": "changeDeck", "params": {"cards": [kept], "deck": "Moved::A"}},
        {"action": "changeDeck", "params": {"cards": [dup, kept], "deck": "Moved::B"}},
        {"action": "changeDeck", "params": {"cards": [edited], "deck": "  "}},
        {"action": "changeDeck", "params": {"cards": [edited], "deck": "moved::a"}},  # the deck made above
        {"action": "changeDeck", "params": {"cards": [999], "deck": "Moved::C"}},  # no such card: the deck is made
        {"action": "changeDeck", "params": {"cards": [dup], "deck": "Other"}},
    ]


def rows_written(server: RunningServer) -> int:
    """Rows SQLite has written through the server's connection: Anki also writes the collection's own row at
    each transaction, so calls written at once write fewer rows than the same calls written one by one."""
    count: int = server.on_collection(lambda col: col.db.scalar("select total_changes()"))
    return count


def test_a_multi_ends_as_its_calls_sent_one_by_one(empty_collection: Path, tmp_path: Path) -> None:
    template = tmp_path / "template.anki2"
    template.write_bytes(empty_collection.read_bytes())
    batched_path, alone_path, ids = seeded_twins(template, tmp_path)
    requests = calls(ids)
    with serving(batched_path) as batched, serving(alone_path) as alone:
        batched_client, alone_client = HttpApiClient(batched.port), HttpApiClient(alone.port)
        before = rows_written(batched), rows_written(alone)
        together = batched_client.invoke("multi", actions=requests)
        one_by_one = [alone_client.invoke("multi", actions=[request])[0] for request in requests]
        assert without_ids(together) == without_ids(one_by_one)
        notes, media = state(alone)
        assert state(batched) == (notes, media)
        assert rows_written(batched) - before[0] < rows_written(alone) - before[1]
        batched_client.close()
        alone_client.close()
    # What the calls came to, so that the comparison above compares something.
    assert [reply if isinstance(reply, int) else reply["error"] for reply in together[:8]] == [
        together[0],
        "cannot create note because it is a duplicate",
        "cannot create note because it is a duplicate",
        together[3],
        "model was not found: Nope",
        "deck was not found: Nope",
        "cannot create note because it is empty",
        "AnkiConnect.addNote() missing 1 required positional argument: 'note'",
    ]
    assert together[8] == {"result": together[8]["result"], "error": None} and together[8]["result"] > together[3]
    assert [isinstance(reply, int) for reply in together[9:14]] == [True, False, True, False, True]
    assert together[14]["error"] is not None and together[15]["error"] is not None
    assert isinstance(together[16], int) and together[17]["error"] == "cannot create note because it is a duplicate"
    assert together[20] == {"result": None, "error": "cannot create note because it is a duplicate"}
    assert together[21:23] == [None, None]
    assert [reply["error"] is not None for reply in together[23:27]] == [True] * 4
    assert together[27:29] == [None, None] and together[29]["error"] is not None and together[30] is None
    tags_end = 31 + len(tag_calls(ids))
    assert together[31:tags_end] == [None] * 6 + [together[37]] + [None] * 7
    assert (
        together[37]["error"]
        == "AnkiConnect.addTags() argument 'notes' must be a list of integers, not the string 'not a list'"
    )
    assert together[tags_end : tags_end + 6] == [None, None, together[tags_end + 2], None, None, None]
    assert together[tags_end + 2]["error"] == "deck name must not be empty"
    info = {
        note["noteId"]: (note["fields"]["Front"]["value"], note["fields"]["Back"]["value"], note["tags"])
        for note in together[-1]
        if note["modelName"] == "Basic"
    }
    assert info[ids["edit me"]] == ("edited", "first", ["t3"])
    assert info[ids["kept"]][1:] == ("last", ["bar", "FOO", "t1", "Zed"])
    assert info[ids["dup"]] == ("dup", "", ["bar", "FOO", "t1", "Zed"])
    assert [name for name, _ in media] == ["k.png", "p.png"]
    *notes, decks = notes
    assert len(notes) == 3 + sum(isinstance(reply, int) for reply in together[:21]) + 1  # a4 replied enveloped
    assert decks == ["Default", "Moved", "Moved::A", "Moved::B", "Moved::C", "Other", "Other::Child"]


def test_each_call_of_a_run_needs_the_key(collection_path: Path) -> None:
    with serving(collection_path, apiKey="secret") as server:
        client = HttpApiClient(server.port)
        keyed = [{**add(f"keyed {i}"), "key": "secret"} for i in range(3)]
        actions = [keyed[0], add("no key"), keyed[1], keyed[2]]
        replies, error = client.call({"action": "multi", "version": 6, "key": "secret", "params": {"actions": actions}})
        assert error is None and replies[1] == {"result": None, "error": "valid api key must be provided"}
        found = client.call({"action": "findNotes", "version": 6, "key": "secret", "params": {"query": "deck:*"}})
        assert found == ([replies[0], replies[2], replies[3]], None)
        client.close()


@pytest.mark.parametrize("depth", [1, 2])
def test_runs_inside_nested_multis(server: RunningServer, depth: int) -> None:
    client = HttpApiClient(server.port)
    request: dict[str, Any] = {"action": "multi", "params": {"actions": [add("one"), add("two"), add("one")]}}
    for _ in range(depth - 1):
        request = {"action": "multi", "params": {"actions": [request]}}
    reply = client.invoke("multi", actions=[request])
    for _ in range(depth):
        [reply] = reply
    assert isinstance(reply[0], int) and isinstance(reply[1], int)
    assert reply[2] == {"result": None, "error": "cannot create note because it is a duplicate"}
    client.close()


def test_calls_in_nested_multis_are_one_run(empty_collection: Path, tmp_path: Path) -> None:
    """As Obsidian_to_Anki sends them: one multi holding a multi of addNote calls per file."""
    template = tmp_path / "template.anki2"
    template.write_bytes(empty_collection.read_bytes())
    batched_path, alone_path, ids = seeded_twins(template, tmp_path)
    files = [[add("one"), add("two")], [add("two"), add("dup"), add("three")], [], [add("four")]]
    nested = [{"action": "multi", "params": {"actions": calls}} for calls in files]
    with serving(batched_path) as batched, serving(alone_path) as alone:
        batched_client, alone_client = HttpApiClient(batched.port), HttpApiClient(alone.port)
        before = rows_written(batched), rows_written(alone)
        together = batched_client.invoke("multi", actions=[*nested, {"action": "deckNames"}])
        one_by_one = [[alone_client.invoke("multi", actions=[call])[0] for call in calls] for calls in files]
        assert without_ids(together) == without_ids([*one_by_one, ["Default", "Other", "Other::Child"]])
        assert state(batched) == state(alone)
        # One write for the run across the files: one transaction's bookkeeping, where one by one made four.
        assert rows_written(alone) - before[1] - (rows_written(batched) - before[0]) == 3
        batched_client.close()
        alone_client.close()
    assert together[1][0] == {"result": None, "error": "cannot create note because it is a duplicate"}
    assert together[1][1] == {"result": None, "error": "cannot create note because it is a duplicate"}


def test_a_run_checks_duplicates_in_decks_a_card_template_sends_cards_to(
    empty_collection: Path, tmp_path: Path
) -> None:
    """A card template may send its cards to a deck of its own (Deck Override): a note checked for duplicates
    in that deck must see the notes added before it in the same run there."""
    from anki.collection import Collection

    template = tmp_path / "template.anki2"
    template.write_bytes(empty_collection.read_bytes())
    col = Collection(str(template))
    model = col.models.by_name("Basic (and reversed card)")
    assert model is not None
    model["tmpls"][1]["did"] = col.decks.id("Reversed")
    col.models.update_dict(model)
    col.close()
    batched_path, alone_path, _ = seeded_twins(template, tmp_path)
    reversed_note = {
        "deckName": "Default",
        "modelName": "Basic (and reversed card)",
        "fields": {"Front": "x", "Back": "y"},
    }
    in_deck = {"duplicateScope": "deck"}
    requests = [
        {"action": "addNote", "params": {"note": reversed_note}},
        {"action": "addNote", "params": {"note": {**reversed_note, "deckName": "Reversed", "options": in_deck}}},
    ]
    with serving(batched_path) as batched, serving(alone_path) as alone:
        batched_client, alone_client = HttpApiClient(batched.port), HttpApiClient(alone.port)
        together = batched_client.invoke("multi", actions=requests)
        one_by_one = [alone_client.invoke("multi", actions=[request])[0] for request in requests]
        assert without_ids(together) == without_ids(one_by_one)
        assert state(batched) == state(alone)
        batched_client.close()
        alone_client.close()
    assert together[1] == {"result": None, "error": "cannot create note because it is a duplicate"}


def test_a_filtered_deck_in_a_run(empty_collection: Path, tmp_path: Path) -> None:
    """Anki adds the cards of a note meant for a filtered deck to the Default deck: a note checked for duplicates
    there, later in the same run (or the same addNotes), must see them. And it refuses to move cards there."""
    from anki.collection import Collection

    template = tmp_path / "template.anki2"
    template.write_bytes(empty_collection.read_bytes())
    col = Collection(str(template))
    col.decks.new_filtered("Filtered")
    col.close()
    batched_path, alone_path, _ = seeded_twins(template, tmp_path)
    filtered = add("x", deck="Filtered")
    in_default = add("x", options={"duplicateScope": "deck"})
    with serving(batched_path) as batched, serving(alone_path) as alone:
        batched_client, alone_client = HttpApiClient(batched.port), HttpApiClient(alone.port)
        notes = [filtered["params"]["note"], in_default["params"]["note"]]
        refused = batched_client.error("addNotes", notes=notes)
        assert refused == "['cannot create note because it is a duplicate']"  # as upstream, adding one by one
        together = batched_client.invoke("multi", actions=[filtered, in_default])
        one_by_one = [alone_client.invoke("multi", actions=[request])[0] for request in (filtered, in_default)]
        assert without_ids(together) == without_ids(one_by_one)
        assert together[1] == {"result": None, "error": "cannot create note because it is a duplicate"}
        # A run of moves naming the filtered deck: Anki refuses that one, even with no card to move.
        moves = [{"action": "changeDeck", "params": {"cards": cards, "deck": deck}} for cards, deck in MOVES]
        together = batched_client.invoke("multi", actions=moves)
        one_by_one = [alone_client.invoke("multi", actions=[move])[0] for move in moves]
        assert together == one_by_one
        assert together[1] == {"result": None, "error": "Cards can't be manually moved into a filtered deck."}
        assert state(batched) == state(alone)
        batched_client.close()
        alone_client.close()


MOVES = [([], "Other"), ([], "Filtered"), ([999], "Other")]
