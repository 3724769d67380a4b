"""Live events from the real Anki: the reviewer, Anki's own screens, API requests and profile switches."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from anki_harness import AnkiSession, spin, wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


class Subscriber:
    """A WebSocket client in a worker thread that subscribes and records every event it receives."""

    def __init__(self, port: int, events: list[str] | None = None, snapshot: bool = False) -> None:
        self.received: list[dict[str, Any]] = []
        self.reply: dict[str, Any] | None = None
        self._socket: ClientConnection = connect(f"ws://127.0.0.1:{port}/", proxy=None, legacy=True)
        params: dict[str, Any] = {"snapshot": snapshot}
        if events is not None:
            params["events"] = events
        self._socket.send(json.dumps({"id": 1, "action": "subscribe", "version": 6, "params": params}))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self._socket:
                data = json.loads(message)
                if data.get("id") == 1:
                    self.reply = data
                elif data.get("type") == "event":
                    self.received.append(data)
        except ConnectionClosed:
            pass

    def names(self) -> list[str]:
        return [event["event"] for event in self.received]

    def wait_for(self, name: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        wait_until(lambda: self.names().count(name) >= count, timeout, f"{count} {name} event(s)")
        return [event for event in self.received if event["event"] == name]

    def close(self) -> None:
        self._socket.close()
        self._thread.join(5)


@pytest.fixture
def subscriber(anki: AnkiSession) -> Iterator[Subscriber]:
    anki.fresh_profile()
    sub = Subscriber(anki.port)
    wait_until(lambda: sub.reply is not None, message="the subscription")
    yield sub
    sub.close()


def _note(front: str) -> dict[str, Any]:
    return {"deckName": "Default", "modelName": "Basic", "fields": {"Front": front, "Back": "b"}}


def test_api_changes_give_exactly_one_event_each(anki: AnkiSession, subscriber: Subscriber) -> None:
    note_id = anki.invoke("addNote", note=_note("api note"))
    anki.invoke("updateNoteFields", note={"id": note_id, "fields": {"Back": "changed"}})
    anki.invoke("deleteNotes", notes=[note_id])
    subscriber.wait_for("note.deleted")
    anki.settle()
    spin(200)
    notes = [e for e in subscriber.received if e["event"].startswith("note.")]
    assert [(e["event"], e["data"]["noteId"]) for e in notes] == [
        ("note.added", note_id),
        ("note.updated", note_id),
        ("note.deleted", note_id),
    ]
    # One change notice per request. Anki may run operations of its own at any moment (as a freshly opened
    # profile settles): those come as source "anki", never as "api".
    changed = [e["data"]["source"] for e in subscriber.received if e["event"] == "collection.changed"]
    assert changed.count("api") == 3 and set(changed) <= {"api", "anki"}


def test_the_reviewer_yields_one_event_per_step(anki: AnkiSession, subscriber: Subscriber) -> None:
    mw = anki.mw
    anki.invoke("addNotes", notes=[_note("first"), _note("second")])
    subscriber.wait_for("note.added", 2)
    anki.settle()
    start = len(subscriber.received)
    mw.moveToState("review")
    first = subscriber.wait_for("review.questionShown")[0]["data"]["cardId"]
    mw.reviewer._showAnswer()
    subscriber.wait_for("review.answerShown")
    mw.reviewer._answerCard(3)
    answered = subscriber.wait_for("card.answered")[0]["data"]
    second = subscriber.wait_for("review.questionShown", 2)[1]["data"]["cardId"]
    anki.settle()
    mw.moveToState("deckBrowser")
    subscriber.wait_for("review.ended")
    anki.settle()
    spin(200)
    received = subscriber.received[start:]
    steps = [
        (e["event"], e["data"].get("cardId", e["data"].get("state")))
        for e in received
        if e["event"] not in ("collection.changed", "counts.changed")
    ]
    # Anki's own order: the question is shown before the state change is announced; Anki fires the first
    # question's hook twice (reported once), and the answer comes before the next question.
    assert steps == [
        ("review.questionShown", first),
        ("ui.stateChanged", "review"),
        ("review.answerShown", first),
        ("card.answered", first),
        ("review.questionShown", second),
        ("review.ended", None),
        ("ui.stateChanged", "deckBrowser"),
    ]
    # The answer's change notice comes after the next question (when Anki announces it), with the new
    # counts; Anki's own later operations (a screen settling) may add notices of their own.
    names = [e["event"] for e in received]
    after_next = names.index("review.questionShown", names.index("card.answered"))
    assert names[after_next + 1 : after_next + 3] == ["collection.changed", "counts.changed"]
    notice = received[after_next + 1]["data"]
    assert notice["source"] == "anki" and "card" in notice["changes"]
    assert (answered["ease"], answered["kind"], answered["deck"]) == (3, "learn", "Default")
    assert answered["interval"] < 0  # a learning step, in seconds


def test_edits_in_ankis_own_screens_are_events_too(anki: AnkiSession, subscriber: Subscriber) -> None:
    from anki.notes import NoteId
    from aqt.operations.note import update_note

    note_id = anki.invoke("addNote", note=_note("edit me"))
    subscriber.wait_for("note.added")
    note = anki.mw.col.get_note(NoteId(note_id))
    note["Back"] = "edited in Anki"
    update_note(parent=anki.mw, note=note).run_in_background()
    updated = subscriber.wait_for("note.updated")
    assert updated[0]["data"]["noteId"] == note_id
    notices = [e["data"] for e in subscriber.received if e["event"] == "collection.changed"]
    # The request's notice, then the edit's (Anki may add notices of its own operations around them).
    sources = [notice["source"] for notice in notices]
    assert sources.count("api") == 1 and set(sources) <= {"api", "anki"}
    after_request = notices[sources.index("api") + 1 :]
    assert any(notice["source"] == "anki" and "note" in notice["changes"] for notice in after_request)


def test_profile_switches_are_events(anki: AnkiSession, subscriber: Subscriber) -> None:
    first = anki.mw.pm.name
    second = anki.fresh_profile()
    closed = subscriber.wait_for("profile.closed")
    opened = subscriber.wait_for("profile.opened")
    assert closed[0]["data"]["profile"] == first and opened[-1]["data"]["profile"] == second


def test_a_snapshot_describes_the_current_state(anki: AnkiSession) -> None:
    anki.fresh_profile()
    anki.invoke("addNote", note=_note("due"))
    anki.mw.moveToState("review")
    sub = Subscriber(anki.port, snapshot=True)
    try:
        wait_until(lambda: len(sub.received) >= 4, message="the snapshot")
        snapshot = {e["event"]: e["data"] for e in sub.received if e.get("snapshot")}
        assert snapshot["profile.opened"]["profile"] == anki.mw.pm.name
        assert snapshot["ui.stateChanged"]["state"] == "review"
        assert snapshot["review.questionShown"]["cardId"] == anki.mw.reviewer.card.id
        assert snapshot["counts.changed"]["new"] + snapshot["counts.changed"]["learn"] >= 0
    finally:
        sub.close()
        anki.mw.moveToState("deckBrowser")
        anki.settle()


def test_every_ease_in_the_reviewer_is_one_answer_event(anki: AnkiSession, subscriber: Subscriber) -> None:
    mw = anki.mw
    anki.invoke("addNotes", notes=[_note(f"ease {n}") for n in range(4)])
    subscriber.wait_for("note.added", 4)
    anki.settle()
    mw.moveToState("review")
    for count, ease in enumerate((1, 2, 3, 4), start=1):
        wait_until(lambda: mw.reviewer.card is not None and mw.reviewer.state == "question", message="a question")
        card_id = mw.reviewer.card.id
        mw.reviewer._showAnswer()
        mw.reviewer._answerCard(ease)
        answered = subscriber.wait_for("card.answered", count)[-1]["data"]
        assert (answered["cardId"], answered["ease"]) == (card_id, ease)
    mw.moveToState("deckBrowser")
    anki.settle()
    spin(100)
    assert len(subscriber.wait_for("card.answered")) == 4


def test_notes_added_and_deleted_in_ankis_own_screens(anki: AnkiSession, subscriber: Subscriber) -> None:
    from anki.decks import DeckId
    from aqt.operations.note import add_note, remove_notes

    mw = anki.mw
    note = mw.col.new_note(mw.col.models.by_name("Basic"))
    note["Front"] = "added in the Add dialog's way"
    add_note(parent=mw, note=note, target_deck_id=DeckId(1)).run_in_background()
    added = subscriber.wait_for("note.added")[0]["data"]
    assert added["noteId"] == note.id and added["sortField"] == "added in the Add dialog's way"
    remove_notes(parent=mw, note_ids=[note.id]).run_in_background()
    assert subscriber.wait_for("note.deleted")[0]["data"]["noteId"] == note.id
    anki.settle()
    sources = {e["data"]["source"] for e in subscriber.received if e["event"] == "collection.changed"}
    assert sources == {"anki"}


def _note_log(anki: AnkiSession) -> Any:
    """The add-on's own ``note_log`` module (Anki loads the add-on under its folder's name)."""
    return importlib.import_module(f"{anki.addon_module.__name__}.note_log")


@contextmanager
def _without_the_log(anki: AnkiSession) -> Iterator[None]:
    """As on a connection without the log of notes written (``note_log.py``: opened with a step to undo)."""
    detector = anki.addon.events.detector
    note_log = _note_log(anki)
    install, installed = note_log.install, note_log.installed
    note_log.install, note_log.installed = (lambda col: False), (lambda db: False)
    detector._seen.log = note_log.Reader()
    try:
        yield
    finally:
        note_log.install, note_log.installed = install, installed
        anki.settle()
        detector._seen.log.restart(anki.mw.col.db)  # every change so far was scanned


def _edit_in_anki(anki: AnkiSession, subscriber: Subscriber, front: str) -> int:
    """A note added through the API, then edited in Anki's own screens; its id once both events are out."""
    from anki.notes import NoteId
    from aqt.operations.note import update_note

    note_id = anki.invoke("addNote", note=_note(front))
    subscriber.wait_for("note.added")
    note = anki.mw.col.get_note(NoteId(note_id))
    note["Back"] = "edited in Anki"
    update_note(parent=anki.mw, note=note).run_in_background()
    assert subscriber.wait_for("note.updated")[0]["data"]["noteId"] == note_id
    return int(note_id)


@contextmanager
def _passes(anki: AnkiSession) -> Iterator[list[str]]:
    """The threads on which the change scan read every note, while inside."""
    detector = anki.addon.events.detector
    passes: list[str] = []
    every_note_since = detector._every_note_since

    def recording(db: Any, since: int) -> Any:
        passes.append(threading.current_thread().name)
        return every_note_since(db, since)

    detector._every_note_since = recording
    try:
        yield passes
    finally:
        del detector._every_note_since


def test_changed_notes_are_found_through_the_log_of_notes_written(anki: AnkiSession, subscriber: Subscriber) -> None:
    # A new profile's notes are all unsynced: without the log, scans would read every note.
    assert _note_log(anki).installed(anki.mw.col.db)  # started as the profile opened
    with _passes(anki) as passes:
        _edit_in_anki(anki, subscriber, "found through the log")
    assert passes == []


def test_a_pass_over_every_note_runs_off_the_main_thread(anki: AnkiSession, subscriber: Subscriber) -> None:
    # Without the log, no index finds the changed notes of a new profile (all unsynced): scans read every note.
    with _without_the_log(anki), _passes(anki) as passes:
        _edit_in_anki(anki, subscriber, "edited off the main thread")
    assert len(passes) >= 2 and "MainThread" not in passes  # the request's, the edit's (and any of Anki's own)


def test_scans_after_a_queued_pass_follow_it_off_the_main_thread(anki: AnkiSession, subscriber: Subscriber) -> None:
    from anki.collection import OpChanges

    events = anki.addon.events
    detector = events.detector
    scans: list[tuple[str, object]] = []
    scan = detector.scan

    def recording(col: Any, changes: Any = None, *, source: str = "api") -> None:
        scans.append((threading.current_thread().name, changes))
        scan(col, changes, source=source)

    edit, answer = OpChanges(note=True), OpChanges(card=True)
    with _without_the_log(anki):
        anki.invoke("addNote", note=_note("unsynced"))  # a new profile: every note unsynced, no index helps
        subscriber.wait_for("note.added")
        detector.scan = recording
        try:
            events._scan(anki.mw.col, edit, "anki")  # a pass over every note: queued
            events._scan(anki.mw.col, answer, "anki")  # served at once, were no pass queued
            wait_until(lambda: events._queued == 0 and any(c is answer for _, c in scans), message="both scans")
        finally:
            del detector.scan
    ours = [(thread, changes) for thread, changes in scans if changes is edit or changes is answer]
    assert [changes for _, changes in ours] == [edit, answer]
    assert "MainThread" not in [thread for thread, _ in ours]
