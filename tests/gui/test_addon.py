"""The add-on inside the real Anki desktop app: start-up, the server, profiles, undo and screen refresh."""

from __future__ import annotations

import importlib
import socket
import threading
import time
from typing import Any

import pytest
from anki_harness import PACKAGE, AnkiSession, spin, wait_until
from support import http_post


def _basic(front: str, back: str = "") -> dict[str, Any]:
    return {"deckName": "Default", "modelName": "Basic", "fields": {"Front": front, "Back": back}}


def test_anki_loaded_the_addon_and_it_serves(anki: AnkiSession) -> None:
    assert anki.invoke("version") == 6
    assert "Default" in anki.invoke("deckNames")


def test_actions_run_off_the_main_thread_and_the_window_stays_responsive(anki: AnkiSession) -> None:
    """A 3000-note addNotes runs as a background operation: Qt keeps processing events meanwhile."""
    anki.fresh_profile()
    port = anki.port
    notes = [_basic(f"responsive {i}") for i in range(3000)]
    replies: list[Any] = []
    worker = threading.Thread(
        target=lambda: replies.append(
            http_post(port, {"action": "addNotes", "version": 6, "params": {"notes": notes}}).json()
        )
    )
    worker.start()
    longest = 0.0
    last = time.monotonic()
    while worker.is_alive():
        spin(1)
        now = time.monotonic()
        longest = max(longest, now - last)
        last = now
    assert replies[0]["error"] is None and len(replies[0]["result"]) == 3000
    assert longest < 0.5, f"the main thread stalled for {longest:.3f} s"


def test_background_requests_pace_their_long_loops(anki: AnkiSession) -> None:
    """Inside a request run in the background, paced loops give the main thread its turns (``pacing.py``)."""
    from anki import hooks

    pacing = importlib.import_module(f"{PACKAGE}.pacing")
    paced_there: list[bool] = []

    def while_adding(col: Any, note: Any, deck_id: Any) -> None:  # runs on the collection thread, mid-request
        items = [0]
        paced_there.append(pacing.paced(items) is not items)

    anki.fresh_profile()
    hooks.note_will_be_added.append(while_adding)
    try:
        anki.invoke("addNotes", notes=[_basic("paced 1"), _basic("paced 2")])
    finally:
        hooks.note_will_be_added.remove(while_adding)
    items = [0]
    assert paced_there == [True, True]
    assert pacing.paced(items) is items  # on the main thread, outside any request


def test_one_undo_step_reverts_a_whole_request(anki: AnkiSession) -> None:
    anki.fresh_profile()
    ids = anki.invoke("addNotes", notes=[_basic("undo me 1"), _basic("undo me 2")])
    mw = anki.mw
    assert mw.col.undo_status().undo == "Add Note"
    mw.undo()
    wait_until(lambda: mw.col.note_count() == 0, message="the undo")
    assert anki.invoke("notesInfo", notes=ids) == [{}, {}]


def test_a_multi_of_runs_inside_anki_is_one_undo_step(anki: AnkiSession) -> None:
    """As a note-syncing client sends them: a multi of one multi of addNote per file, then tags and decks; the
    runs are written together on Anki's collection thread, and Edit > Undo still reverts the whole request."""
    anki.fresh_profile()
    files = [[_basic("file 1 a"), _basic("file 1 b")], [_basic("file 2 a"), _basic("file 1 a")]]
    per_file = [{"action": "multi", "params": {"actions": [_add(note) for note in notes]}} for notes in files]
    added = anki.invoke("multi", actions=per_file)
    assert added[1][1] == {"result": None, "error": "cannot create note because it is a duplicate"}
    ids = [added[0][0], added[0][1], added[1][0]]
    cards = [card for info in anki.invoke("notesInfo", notes=ids) for card in info["cards"]]
    mw = anki.mw
    steps = mw.col.undo_status().last_step
    follow_up = [
        *({"action": "updateNoteFields", "params": {"note": {"id": i, "fields": {"Back": "synced"}}}} for i in ids),
        *({"action": "addTags", "params": {"notes": [i], "tags": "synced"}} for i in ids),
        {"action": "changeDeck", "params": {"cards": cards, "deck": "Synced"}},
    ]
    assert anki.invoke("multi", actions=follow_up) == [None] * (len(ids) * 2 + 1)
    infos = anki.invoke("notesInfo", notes=ids)
    assert {(info["fields"]["Back"]["value"], tuple(info["tags"])) for info in infos} == {("synced", ("synced",))}
    assert anki.invoke("getDecks", cards=cards) == {"Synced": cards}
    assert mw.col.undo_status().last_step == steps + 1  # the whole request, as one step
    mw.undo()
    wait_until(lambda: mw.col.get_note(ids[0])["Back"] == "", message="the undo")
    assert {info["fields"]["Back"]["value"] for info in anki.invoke("notesInfo", notes=ids)} == {""}
    assert anki.invoke("getDecks", cards=cards) == {"Default": cards}


def test_a_multi_of_more_steps_than_anki_keeps_is_still_one_undo_step(anki: AnkiSession) -> None:
    """Anki keeps 30 undo steps: each call's step is folded into the request's first as it is made."""
    anki.fresh_profile()
    mw = anki.mw
    steps = mw.col.undo_status().last_step
    names = [f"Made {i}" for i in range(40)]
    made = anki.invoke("multi", actions=[{"action": "createDeck", "params": {"deck": name}} for name in names])
    assert all(isinstance(deck_id, int) for deck_id in made)
    assert mw.col.undo_status().last_step == steps + 1
    mw.undo()
    wait_until(lambda: "Made 0" not in anki.invoke("deckNames"), message="the undo")
    assert not set(names) & set(anki.invoke("deckNames"))


def _add(note: dict[str, Any]) -> dict[str, Any]:
    return {"action": "addNote", "params": {"note": note}}


def test_changes_are_announced_to_anki_screens(anki: AnkiSession) -> None:
    from aqt import gui_hooks

    anki.fresh_profile()
    seen: list[Any] = []

    def on_op(changes: Any, handler: object | None) -> None:
        seen.append((changes, handler))

    gui_hooks.operation_did_execute.append(on_op)
    try:
        anki.invoke("addNote", note=_basic("announced"))
        wait_until(lambda: seen, message="operation_did_execute")
    finally:
        gui_hooks.operation_did_execute.remove(on_op)
    changes, handler = seen[0]
    assert changes.note and changes.card and changes.study_queues
    assert handler is not None and type(handler).__name__ == "GuiStarter"


def test_read_only_requests_change_no_undo_state(anki: AnkiSession) -> None:
    anki.fresh_profile()
    before = anki.mw.col.undo_status()
    anki.invoke("findNotes", query="")
    anki.invoke("deckNames")
    assert anki.mw.col.undo_status() == before


def test_without_an_open_profile_collection_actions_fail_at_once(anki: AnkiSession) -> None:
    anki.close_profile()
    try:
        start = time.monotonic()
        assert anki.error("deckNames") == "collection is not available"
        assert time.monotonic() - start < 2
        assert anki.invoke("version") == 6
        assert anki.invoke("apiReflect", scopes=["actions"], actions=["deckNames"]) == {
            "scopes": ["actions"],
            "actions": ["deckNames"],
        }
        reply = anki.request({"action": "multi", "version": 6, "params": {"actions": [{"action": "version"}]}})
        assert reply == {"result": [6], "error": None}
    finally:
        anki.fresh_profile()
    assert anki.invoke("deckNames") == ["Default"]


def test_api_edits_reach_an_open_browser_and_are_not_lost(anki: AnkiSession) -> None:
    """Upstream's lost-edit bug: an open editor kept its stale copy and wrote it back over the API's change."""
    import aqt
    from anki.notes import NoteId

    anki.fresh_profile()
    note_id = anki.invoke("addNote", note=_basic("old front", "old back"))
    browser = aqt.dialogs.open("Browser", anki.mw, search=(f"nid:{note_id}",))
    try:
        wait_until(lambda: browser.editor is not None and browser.editor.note is not None, message="the editor")
        anki.invoke("updateNoteFields", note={"id": note_id, "fields": {"Front": "api front"}})
        wait_until(lambda: browser.editor.note["Front"] == "api front", message="the editor to reload the note")
        # The user now edits another field in the editor, which saves its copy of the note.
        browser.editor.note["Back"] = "user back"
        anki.mw.col.update_note(browser.editor.note)
        note = anki.mw.col.get_note(NoteId(note_id))
        assert (note["Front"], note["Back"]) == ("api front", "user back")
    finally:
        browser.close()
        spin(50)


def test_port_in_use_shows_a_notice_and_anki_keeps_working(anki: AnkiSession) -> None:
    addon = anki.addon
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    config = addon.mw.addonManager.getConfig(addon.package)
    try:
        addon.on_config_updated({**config, "webBindPort": taken})
        assert addon.app is None
        assert f"{taken}" in (addon.listen_error or "") and "already in use" in (addon.listen_error or "")
        from aqt.qt import QApplication

        notices = [w for w in QApplication.topLevelWidgets() if w.objectName() == "ankiconnect_live_listen_failure"]
        assert notices and notices[-1].isVisible() and not notices[-1].isModal()
        for notice in notices:
            notice.close()
        assert anki.mw.col.note_count() >= 0  # Anki itself still works
    finally:
        blocker.close()
        addon.on_config_updated(config)
    assert anki.addon.app is not None and anki.invoke("version") == 6


def test_config_changes_apply_without_restart(anki: AnkiSession) -> None:
    addon = anki.addon
    port = anki.port
    origin = {"Origin": "https://reader.example"}
    assert anki.call(lambda: http_post(port, {"action": "version"}, headers=origin)).status == 403
    config = addon.mw.addonManager.getConfig(addon.package)
    try:
        addon.on_config_updated({**config, "webCorsOriginList": ["http://localhost", "https://reader.example"]})
        assert anki.port == port  # the server was not restarted
        assert anki.call(lambda: http_post(port, {"action": "version"}, headers=origin)).json() == 6
        addon.on_config_updated({**config, "apiKey": "secret"})
        assert anki.request({"action": "version", "version": 6})["error"] == "valid api key must be provided"
        assert anki.request({"action": "version", "version": 6, "key": "secret"}) == {"result": 6, "error": None}
    finally:
        addon.on_config_updated(config)


def test_a_new_port_in_the_config_restarts_the_server(anki: AnkiSession) -> None:
    addon = anki.addon
    old = anki.port
    config = addon.mw.addonManager.getConfig(addon.package)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        new = probe.getsockname()[1]
    try:
        addon.on_config_updated({**config, "webBindPort": new})
        assert anki.port == new != old
        assert anki.invoke("version") == 6
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", old), timeout=1).close()
    finally:
        addon.on_config_updated(config)


def test_tools_menu_shows_the_server_status(anki: AnkiSession) -> None:
    from aqt.qt import QApplication, QMessageBox

    actions = [a for a in anki.mw.form.menuTools.actions() if a.objectName() == "ankiconnect_live_status"]
    assert len(actions) == 1
    actions[0].trigger()
    boxes = [w for w in QApplication.topLevelWidgets() if w.objectName() == "ankiconnect_live_status_box"]
    assert boxes and boxes[-1].isVisible() and not boxes[-1].isModal()
    box = boxes[-1]
    assert isinstance(box, QMessageBox)
    text = box.text()
    assert f":{anki.port}" in text and "WebSocket clients connected: 0" in text
    for box in boxes:
        box.close()


def test_load_profile_switches_for_real_and_answers_once_open(anki: AnkiSession) -> None:
    first = anki.fresh_profile()
    anki.invoke("addNote", note=_basic("only in the first profile"))
    second = anki.fresh_profile()
    assert anki.invoke("getActiveProfile") == second
    assert {first, second} <= set(anki.invoke("getProfiles"))
    assert anki.invoke("loadProfile", name=first) is True
    # The switch is complete when the answer arrives: the next request sees the other collection.
    assert anki.invoke("getActiveProfile") == first
    assert len(anki.invoke("findNotes", query="first")) == 1
    assert anki.invoke("loadProfile", name=first) is True  # already open: nothing to do
    assert anki.invoke("loadProfile", name="nobody") is False
    anki.settle()


def test_reload_collection_refreshes_every_screen(anki: AnkiSession) -> None:
    from aqt import gui_hooks

    anki.fresh_profile()
    seen: list[Any] = []

    def on_op(changes: Any, handler: object | None) -> None:
        seen.append(changes)

    gui_hooks.operation_did_execute.append(on_op)
    try:
        assert anki.invoke("reloadCollection") is None
    finally:
        gui_hooks.operation_did_execute.remove(on_op)
    assert seen and seen[0].note and seen[0].deck and seen[0].study_queues
    anki.settle()


def test_repeated_deck_stats_see_what_anki_itself_changed(anki: AnkiSession) -> None:
    """getDeckStats keeps Anki's deck tree while nothing changed (``due_tree.py``): cards suspended in Anki's
    own screens, and the undo, must still show in the next answer."""
    from anki.collection import OpChangesWithCount
    from aqt.operations.scheduling import suspend_cards

    anki.fresh_profile()
    mw = anki.mw
    note_id = anki.invoke("addNote", note=_basic("suspended in Anki"))
    (card_id,) = anki.invoke("findCards", query=f"nid:{note_id}")

    def new_count() -> int:
        count: int = anki.invoke("getDeckStats", decks=["Default"])["1"]["new_count"]
        return count

    assert [new_count() for _ in range(3)] == [1, 1, 1]
    done: list[OpChangesWithCount] = []
    suspend_cards(parent=mw, card_ids=[card_id]).success(lambda changes: done.append(changes)).run_in_background()
    wait_until(lambda: done, message="Anki's suspend operation")
    assert [new_count() for _ in range(2)] == [0, 0]
    mw.undo()
    wait_until(lambda: mw.col.get_card(card_id).queue == 0, message="the undo")
    assert new_count() == 1


def test_a_repeated_search_sees_what_anki_itself_changed(anki: AnkiSession) -> None:
    """Searches asked again come from memory (``search_cache.py``): a change made in Anki's own screens, and
    its undo, must still show in the next answer."""
    from anki.collection import OpChanges
    from aqt.operations.tag import add_tags_to_notes

    anki.fresh_profile()
    mw = anki.mw
    note_id = anki.invoke("addNote", note=_basic("tagged in Anki"))
    for _ in range(3):
        assert anki.invoke("findNotes", query="tag:fromgui") == []
    done: list[OpChanges] = []
    add_tags_to_notes(parent=mw, note_ids=[note_id], space_separated_tags="fromgui").success(
        lambda changes: done.append(changes)
    ).run_in_background()
    wait_until(lambda: done, message="Anki's tag operation")
    assert anki.invoke("findNotes", query="tag:fromgui") == [note_id]
    assert anki.invoke("findNotes", query="tag:fromgui") == [note_id]
    mw.undo()
    wait_until(lambda: not mw.col.get_note(note_id).tags, message="the undo")
    assert anki.invoke("findNotes", query="tag:fromgui") == []
