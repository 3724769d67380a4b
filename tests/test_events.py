"""Live events over WebSocket on a real headless server: what each action publishes, once, and nothing else."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from event_helpers import Subscriber, names, wait_for
from support import HttpApiClient, RunningServer, basic_note
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from ankiconnect_live.events.changes import ChangeDetector

PNG = base64.b64encode(b"not really a png").decode()


@pytest.fixture
def api(server: RunningServer) -> Iterator[HttpApiClient]:
    client = HttpApiClient(server.port)
    yield client
    client.close()


@pytest.fixture
def events(server: RunningServer) -> Iterator[Subscriber]:
    """A subscriber to every event."""
    subscriber = Subscriber(server)
    subscriber.subscribe(["*"])
    yield subscriber
    subscriber.close()


def consecutive(messages: list[dict[str, Any]]) -> bool:
    """One request's events are numbered one after the other: no duplicates, none skipped."""
    seqs = [message["seq"] for message in messages]
    return seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True


def note_data(note_id: int, front: str, *, tags: list[str] | None = None, deck: str = "Default") -> dict[str, Any]:
    return {"noteId": note_id, "modelName": "Basic", "deck": deck, "tags": tags or [], "sortField": front}


def test_adding_notes(api: HttpApiClient, events: Subscriber) -> None:
    note_id = api.invoke("addNote", note=basic_note("one", tags=["t1"]))
    got = events.settle()
    assert names(got) == ["collection.changed", "note.added", "counts.changed"]
    assert consecutive(got)
    changed, added, counts = got
    assert {"card", "note"} <= set(changed["data"]["changes"]) and changed["data"]["source"] == "api"
    assert added["data"] == note_data(note_id, "one", tags=["t1"])
    assert counts["data"] == {"deckId": 1, "deck": "Default", "new": 1, "learn": 0, "review": 0}
    assert set(added) == {"type", "subscription", "seq", "time", "event", "data"} and added["type"] == "event"

    two, three = api.invoke("addNotes", notes=[basic_note("two"), basic_note("three")])
    got = events.settle()
    assert names(got) == ["collection.changed", "note.added", "note.added", "counts.changed"]
    assert consecutive(got)
    assert [e["data"] for e in got[1:3]] == [note_data(two, "two"), note_data(three, "three")]
    assert got[3]["data"]["new"] == 3


def test_editing_and_deleting_notes(api: HttpApiClient, events: Subscriber) -> None:
    note_id = api.invoke("addNote", note=basic_note("before"))
    events.settle()
    api.invoke("updateNoteFields", note={"id": note_id, "fields": {"Front": "after"}})
    assert [(e["event"], e["data"]) for e in events.settle()[1:]] == [("note.updated", note_data(note_id, "after"))]

    # Fields and tags in one request: one event.
    api.invoke("updateNote", note={"id": note_id, "fields": {"Front": "again"}, "tags": ["x", "y"]})
    got = events.settle()
    assert names(got) == ["collection.changed", "note.updated"]
    assert got[1]["data"] == note_data(note_id, "again", tags=["x", "y"])

    api.invoke("deleteNotes", notes=[note_id])
    got = events.settle()
    assert names(got) == ["collection.changed", "note.deleted", "counts.changed"]
    assert got[1]["data"] == {"noteId": note_id}
    assert got[2]["data"]["new"] == 0


def test_creating_and_deleting_decks(api: HttpApiClient, events: Subscriber) -> None:
    deck_id = api.invoke("createDeck", deck="Verbs")
    got = events.settle()
    assert names(got) == ["collection.changed", "deck.created"]
    assert got[1]["data"] == {"deckId": deck_id, "name": "Verbs"}
    note_id = api.invoke("addNote", note={**basic_note("in verbs"), "deckName": "Verbs"})
    assert events.settle()[1]["data"] == note_data(note_id, "in verbs", deck="Verbs")

    api.invoke("deleteDecks", decks=["Verbs"], cardsToo=True)
    got = events.settle()
    assert names(got) == ["collection.changed", "note.deleted", "deck.deleted"]
    assert got[1]["data"] == {"noteId": note_id}
    assert got[2]["data"] == {"deckId": deck_id, "name": "Verbs"}


def test_a_deck_made_with_notes_in_it_is_announced_first(api: HttpApiClient, events: Subscriber) -> None:
    """Made by the same request as the notes in it: deck.created before note.added (a note event once kept its
    new deck's name, and the deck then counted as announced)."""
    note = {**basic_note("in a new deck"), "deckName": "Made::Here"}
    make = {"action": "createDeck", "params": {"deck": "Made::Here"}}
    _, note_id = api.invoke("multi", actions=[make, {"action": "addNote", "params": {"note": note}}])
    assert isinstance(note_id, int)
    got = events.settle()
    assert names(got) == ["collection.changed", "deck.created", "deck.created", "note.added"]
    assert [event["data"]["name"] for event in got[1:3]] == ["Made", "Made::Here"]


def test_every_request_is_scanned_after_one_that_made_several_undo_steps(
    server: RunningServer, api: HttpApiClient, events: Subscriber
) -> None:
    """A request's undo steps are folded into one, which Anki numbers below the newest it had: the next
    request's first steps (here: the deck it makes before moving a card there) must still be scanned."""
    note_id = api.invoke(
        "multi",
        actions=[
            {"action": "createDeck", "params": {"deck": "First"}},
            {"action": "addNote", "params": {"note": basic_note("two steps")}},
        ],
    )[1]
    (card_id,) = api.invoke("findCards", query=f"nid:{note_id}")
    events.settle()
    api.invoke("changeDeck", cards=[card_id], deck="Moved")
    got = events.settle()
    assert "deck.created" in names(got), got
    assert got[names(got).index("deck.created")]["data"]["name"] == "Moved"


def test_answering_cards(server: RunningServer, api: HttpApiClient, events: Subscriber) -> None:
    note_id = api.invoke("addNote", note=basic_note("q"))
    (card_id,) = api.invoke("findCards", query=f"nid:{note_id}")
    events.settle()
    assert api.invoke("answerCards", answers=[{"cardId": card_id, "ease": 3, "time": 4200}]) == [True]
    got = events.settle()
    assert names(got) == ["collection.changed", "card.answered", "counts.changed"]
    answered = got[1]["data"]
    review_id, interval, due = server.on_collection(
        lambda col: col.db.first("select r.id, r.ivl, c.due from revlog r join cards c on c.id = r.cid")
    )
    assert answered == {
        "cardId": card_id,
        "noteId": note_id,
        "deckId": 1,
        "deck": "Default",
        "ease": 3,
        "timeTaken": 4200,
        "interval": interval,
        "lastInterval": 0,
        "due": due,
        "kind": "learn",
        "reviewId": review_id,
    }
    assert interval < 0  # still learning: negative seconds until the next step
    assert got[2]["data"] == {"deckId": 1, "deck": "Default", "new": 0, "learn": 1, "review": 0}


def test_media_events_come_from_the_actions_that_store_or_delete(api: HttpApiClient, events: Subscriber) -> None:
    assert api.invoke("storeMediaFile", filename="cat.png", data=PNG) == "cat.png"
    assert [(e["event"], e["data"]) for e in events.settle()] == [("media.stored", {"filename": "cat.png"})]
    skip = hashlib.md5(base64.b64decode(PNG)).hexdigest()
    assert api.invoke("storeMediaFile", filename="cat.png", data=PNG, skipHash=skip) is None
    assert events.settle() == []  # not stored, no event

    api.invoke("deleteMediaFile", filename="cat.png")
    assert [(e["event"], e["data"]) for e in events.settle()] == [("media.deleted", {"filename": "cat.png"})]
    api.invoke("deleteMediaFile", filename="cat.png")
    assert events.settle() == []  # nothing to delete

    picture = [{"filename": "dog.png", "data": PNG, "fields": ["Back"]}]
    note_id = api.invoke("addNote", note={**basic_note("dog"), "picture": picture})
    got = events.settle()
    assert names(got) == ["media.stored", "collection.changed", "note.added", "counts.changed"]
    assert got[0]["data"] == {"filename": "dog.png"} and got[2]["data"]["noteId"] == note_id


def test_a_requests_events_come_before_its_reply_on_its_own_socket(server: RunningServer) -> None:
    subscriber = Subscriber(server)
    try:
        subscription = subscriber.subscribe(["note.added"])
        reply = subscriber.call("addNote", note=basic_note("mine"))
        event = subscriber.next(timeout=0)  # already read, before the reply
        assert event["event"] == "note.added" and event["subscription"] == subscription
        assert event["data"]["noteId"] == reply["result"]
    finally:
        subscriber.close()


def test_read_only_requests_publish_nothing_and_scan_nothing(
    server: RunningServer, api: HttpApiClient, events: Subscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    note_id = api.invoke("addNote", note=basic_note("read me"))
    api.invoke("storeMediaFile", filename="r.txt", data=PNG)
    events.settle()
    scans: list[object] = []
    original = ChangeDetector.scan

    def counting(self: ChangeDetector, *args: Any, **kwargs: Any) -> None:
        scans.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ChangeDetector, "scan", counting)
    seq = server.app.events.seq
    cards = api.invoke("findCards", query="")
    api.invoke("cardsInfo", cards=cards)
    api.invoke("notesInfo", notes=[note_id])
    api.invoke("deckNamesAndIds")
    api.invoke("getDeckConfig", deck="Default")
    api.invoke("modelNamesAndIds")
    api.invoke("getTags")
    api.invoke("retrieveMediaFile", filename="r.txt")
    api.invoke("getNumCardsReviewedToday")
    api.invoke("multi", actions=[{"action": "deckNames"}, {"action": "findNotes", "params": {"query": ""}}])
    assert api.error("addNote", note=basic_note("read me")) == "cannot create note because it is a duplicate"
    assert server.app.events.seq == seq
    assert scans == []
    assert events.settle() == []
    api.invoke("addTags", notes=[note_id], tags="now")
    assert len(scans) == 1


def test_patterns_choose_the_events(api: HttpApiClient, server: RunningServer) -> None:
    subscriber = Subscriber(server)
    try:
        subscriber.subscribe(["note.*"])
        note_id = api.invoke("addNote", note=basic_note("p"))
        api.invoke("deleteNotes", notes=[note_id])
        assert [(e["event"], e["data"]["noteId"]) for e in subscriber.settle()] == [
            ("note.added", note_id),
            ("note.deleted", note_id),
        ]
    finally:
        subscriber.close()


@pytest.mark.parametrize("pattern", ["nope", "note.bogus", "notes.*", ""])
def test_unknown_event_names_are_refused(events: Subscriber, pattern: str) -> None:
    reply = events.call("subscribe", events=["note.added", pattern])
    assert reply["result"] is None
    if pattern:
        assert reply["error"].startswith(f"no event matches {pattern!r}; events are: profile.opened, profile.closed")
    else:
        assert reply["error"] == "event patterns must be non-empty strings, not ''"


def test_several_subscriptions_on_one_socket(api: HttpApiClient, events: Subscriber, server: RunningServer) -> None:
    notes = events.subscribe(["note.added"])
    counts = events.subscribe(["counts.changed", "deck.*"])
    assert len({notes, counts}) == 2
    api.invoke("addNote", note=basic_note("s"))
    got = events.settle()
    by_subscription = [(e["subscription"], e["event"]) for e in got]
    everything = got[0]["subscription"]
    # Each subscription gets its own copy, with the same number, in the order the events happened.
    assert by_subscription == [
        (everything, "collection.changed"),
        (everything, "note.added"),
        (notes, "note.added"),
        (everything, "counts.changed"),
        (counts, "counts.changed"),
    ]
    assert got[1]["seq"] == got[2]["seq"] and got[3]["seq"] == got[4]["seq"]


def test_unsubscribe_and_disconnect_remove_listeners(api: HttpApiClient, server: RunningServer) -> None:
    bus = server.app.events
    baseline = bus.listener_count
    subscriber = Subscriber(server)
    first = subscriber.subscribe(["note.*"])
    subscriber.subscribe(["deck.*"])
    assert bus.listener_count == baseline + 2
    assert subscriber.call("unsubscribe", subscription=first) == {"id": 3, "result": True, "error": None}
    assert subscriber.call("unsubscribe", subscription=first)["error"] == f"no subscription {first} on this connection"
    assert bus.listener_count == baseline + 1
    api.invoke("addNote", note=basic_note("u"))
    api.invoke("createDeck", deck="After")
    assert names(subscriber.settle()) == ["deck.created"]
    subscriber.close()
    wait_for(lambda: bus.listener_count == baseline)


def test_a_client_leaving_during_its_snapshot_leaves_no_listener(server: RunningServer) -> None:
    bus = server.app.events
    baseline = bus.listener_count
    release = threading.Event()

    def busy() -> None:
        release.wait(10)

    server.runtime.post(busy)  # the owner thread is busy: the snapshot waits
    subscriber = Subscriber(server)
    subscriber.socket.send('{"id": 1, "action": "subscribe", "version": 6, "params": {"snapshot": true}}')
    # Frames start their requests in order: once this one is answered, the snapshot is waiting.
    assert subscriber.call("version")["result"] == 6
    subscriber.close()
    wait_for(lambda: server.app.server.websocket_count == 0)
    release.set()
    # Another snapshot is read after that one, so once it is answered the first subscribe has finished.
    witness = Subscriber(server)
    try:
        witness.subscribe(snapshot=True)
        assert bus.listener_count == baseline + 1  # the witness's own
    finally:
        witness.close()


def test_a_snapshot_comes_first_then_live_events(api: HttpApiClient, server: RunningServer) -> None:
    api.invoke("addNote", note=basic_note("before"))
    seq = server.app.events.seq
    subscriber = Subscriber(server)
    try:
        reply = subscriber.call("subscribe", snapshot=True)
        assert reply["result"]["seq"] == seq
        profile, counts = subscriber.next(), subscriber.next()
        assert profile == {
            "type": "event",
            "subscription": reply["result"]["subscription"],
            "seq": seq,
            "time": profile["time"],
            "event": "profile.opened",
            "data": {"profile": "Test Profile"},
            "snapshot": True,
        }
        assert counts["event"] == "counts.changed" and counts["snapshot"] is True and counts["seq"] == seq
        assert counts["data"] == {"deckId": 1, "deck": "Default", "new": 1, "learn": 0, "review": 0}
        api.invoke("createDeck", deck="Live")
        assert [(e["event"], "snapshot" in e) for e in subscriber.settle()] == [
            ("collection.changed", False),
            ("deck.created", False),
        ]
    finally:
        subscriber.close()


def test_a_snapshot_only_has_the_events_subscribed_to(server: RunningServer) -> None:
    subscriber = Subscriber(server)
    try:
        subscriber.subscribe(["counts.changed"], snapshot=True)
        assert [e["event"] for e in subscriber.settle()] == ["counts.changed"]
    finally:
        subscriber.close()


def test_since_replays_what_a_reconnecting_client_missed_in_order(api: HttpApiClient, server: RunningServer) -> None:
    first = Subscriber(server)
    seq = first.call("subscribe", events=["note.*", "deck.*"])["result"]["seq"]
    first.close()
    added = api.invoke("addNote", note=basic_note("missed"))
    deck = api.invoke("createDeck", deck="Missed")
    api.invoke("deleteNotes", notes=[added])
    again = Subscriber(server)
    try:
        again.subscribe(["note.*", "deck.*"], since=seq)
        api.invoke("createDeck", deck="Live")
        got = again.settle()
        assert [(e["event"], e["data"].get("noteId", e["data"].get("deckId"))) for e in got[:3]] == [
            ("note.added", added),
            ("deck.created", deck),
            ("note.deleted", added),
        ]
        assert names(got[3:]) == ["deck.created"] and got[3]["data"]["name"] == "Live"
        assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
    finally:
        again.close()


def test_a_gap_notice_when_the_history_no_longer_has_them(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(eventHistory=5)
    api = HttpApiClient(server.port)
    for front in "abc":
        api.invoke("addNote", note=basic_note(front))  # collection.changed and note.added (nobody wants counts)
    subscriber = Subscriber(server)
    try:
        subscription = subscriber.subscribe(["note.added"], since=1)
        # profile.opened, then two events per note
        assert subscriber.next() == {"type": "gap", "subscription": subscription, "since": 1, "seq": 7}
        before = server.app.events.seq
        api.invoke("addNote", note=basic_note("d"))
        assert names(subscriber.settle()) == ["note.added"]
        # The newest five events are still kept: no gap.
        kept = subscriber.subscribe(["note.added"], since=before)
        assert [(e["subscription"], e["event"]) for e in subscriber.settle()] == [(kept, "note.added")]
    finally:
        subscriber.close()
        api.close()


def test_since_from_an_earlier_run_of_the_server_is_a_gap(events: Subscriber, server: RunningServer) -> None:
    seq = server.app.events.seq
    subscription = events.subscribe(["note.added"], since=seq + 1000)
    assert events.next() == {"type": "gap", "subscription": subscription, "since": seq + 1000, "seq": seq}


def test_subscribing_needs_the_api_key(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(apiKey="s3cret")
    subscriber = Subscriber(server)
    try:
        assert subscriber.call("subscribe") == {"id": 1, "result": None, "error": "valid api key must be provided"}
        assert subscriber.call("unsubscribe", subscription=1)["error"] == "valid api key must be provided"
        reply = subscriber.call("subscribe", key="s3cret", events=["deck.created"])
        assert reply["error"] is None
    finally:
        subscriber.close()
    in_url = Subscriber(server, url=server.ws_url + "?key=s3cret")
    try:
        in_url.subscribe(["deck.created"])
        assert in_url.call("createDeck", deck="Keyed")["error"] is None
        assert names(in_url.settle()) == ["deck.created"]
    finally:
        in_url.close()


def test_subscribing_follows_the_origin_policy(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        Subscriber(server, origin=Origin("http://evil.example"))
    assert refused.value.response.status_code == 403
    allowed = Subscriber(server, origin=Origin("http://localhost"))
    try:
        allowed.subscribe(["note.added"])
    finally:
        allowed.close()


@pytest.mark.parametrize("action, params", [("subscribe", {}), ("unsubscribe", {"subscription": 1})])
def test_subscriptions_need_a_websocket(api: HttpApiClient, action: str, params: dict[str, Any]) -> None:
    assert api.error(action, **params) == f"{action} needs a WebSocket connection; use GET /events or pollEvents"
