"""guiBrowse, guiSelectCard, guiSelectNote, guiSelectedNotes and guiEditNote inside real Anki."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from anki_harness import PACKAGE, AnkiSession, wait_until

BROWSER = "Browser"


def _edit_dialog_name() -> str:
    name: str = importlib.import_module(f"{PACKAGE}.addon.gui_browser").EDIT_DIALOG
    return name


def _dialog(name: str) -> Any:
    import aqt

    return aqt.dialogs.getInstance(name)


def _browser() -> Any:
    return _dialog(BROWSER)


def _edit_window() -> Any:
    return _dialog(_edit_dialog_name())


@pytest.fixture(autouse=True)
def close_windows(anki: AnkiSession) -> Iterator[None]:
    """Close the Browser and the edit window a test opened (Anki would close them at a profile switch)."""
    yield
    for window in (_browser(), _edit_window()):
        if window is not None:
            window.close()
    wait_until(lambda: _browser() is None and _edit_window() is None, message="the windows to close")
    anki.settle()


def _basic(front: str, back: str = "", deck: str = "Default") -> dict[str, Any]:
    return {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": back}}


def _rows(browser: Any) -> list[int]:
    """The card ids of the Browser's rows, top to bottom (cards mode)."""
    model = browser.table._model
    return [int(cid) for cid in model.get_card_ids([model.index(row, 0) for row in range(model.len_rows())])]


def _gone(window: Any) -> bool:
    """Closed: hidden, or already deleted by Qt."""
    from PyQt6 import sip

    return bool(sip.isdeleted(window) or not window.isVisible())


def _search_text(browser: Any) -> str:
    return str(browser.form.searchEdit.lineEdit().text())


# guiBrowse, guiSelectCard, guiSelectNote, guiSelectedNotes


def test_gui_browse_refuses_a_search_nested_deep_enough_to_crash_anki(anki: AnkiSession) -> None:
    """Anki's search parser overflows its thread's stack on some thousands of nested brackets, and Anki dies."""
    anki.fresh_profile()
    deep = "(" * 20_000 + "a" + ")" * 20_000
    assert anki.error("guiBrowse", query=deep) == "Invalid search: brackets `(` nested more than 100 deep."
    assert anki.invoke("version") == 6


def test_gui_browse_opens_the_browser_on_the_query_and_selection_follows(anki: AnkiSession) -> None:
    anki.fresh_profile()
    anki.invoke("createDeck", deck="Spanish")
    ids = anki.invoke("addNotes", notes=[_basic("uno", deck="Spanish"), _basic("dos", deck="Spanish"), _basic("x")])
    cards = [anki.invoke("findCards", query=f"nid:{nid}")[0] for nid in ids]
    assert anki.invoke("guiBrowse") == []  # no query: the Browser opens on its default search
    browser = _browser()
    assert browser is not None and browser.isVisible() and not browser.isModal()

    expected = anki.invoke("findCards", query="deck:Spanish")
    assert anki.invoke("guiBrowse", query="deck:Spanish") == expected
    assert _browser() is browser  # the open Browser searches again
    # The search bar shows the query as Anki normalises it, and the table already holds its cards.
    assert _search_text(browser) == anki.mw.col.build_search_string("deck:Spanish")
    assert sorted(_rows(browser)) == sorted(expected) == sorted(cards[:2])

    # Yomitan's fallback for viewing a note: the Browser on nid:X, the note selected for editing.
    assert anki.invoke("guiBrowse", query=f"nid:{ids[2]}") == [cards[2]]
    assert _rows(browser) == [cards[2]]
    assert anki.invoke("guiSelectedNotes") == [ids[2]]
    wait_until(lambda: browser.editor.note is not None and browser.editor.note.id == ids[2], message="the editor")

    anki.invoke("guiBrowse", query="")
    assert anki.invoke("guiSelectCard", card=cards[1]) is True
    assert list(browser.table.get_selected_card_ids()) == [cards[1]]
    assert anki.invoke("guiSelectedNotes") == [ids[1]]
    assert anki.invoke("guiSelectNote", note=cards[0]) is True  # the deprecated name takes a card id too
    assert anki.invoke("guiSelectedNotes") == [ids[0]]
    wait_until(lambda: browser.editor.note is not None and browser.editor.note.id == ids[0], message="the editor")
    browser.table.select_all()
    assert sorted(anki.invoke("guiSelectedNotes")) == sorted(ids)
    assert anki.invoke("guiSelectCard", card=1) is True  # no such card: the selection is just cleared
    assert anki.invoke("guiSelectedNotes") == []

    # In notes mode a card selects its note's row.
    browser.form.action_toggle_mode.trigger()
    wait_until(browser.table.is_notes_mode, message="notes mode")
    assert anki.invoke("guiSelectCard", card=cards[2]) is True
    assert anki.invoke("guiSelectedNotes") == [ids[2]]
    assert anki.invoke("guiSelectCard", card=2**63 - 1) is True  # no such card: nothing selected
    assert anki.invoke("guiSelectedNotes") == []
    too_big = f"AnkiConnect.guiSelectCard() argument 'card' must be a 64-bit integer, not the number {2**63}"
    assert anki.error("guiSelectCard", card=2**63) == too_big


def test_gui_select_card_and_selected_notes_without_a_browser(anki: AnkiSession) -> None:
    anki.fresh_profile()
    note_id = anki.invoke("addNote", note=_basic("no browser"))
    (card_id,) = anki.invoke("findCards", query=f"nid:{note_id}")
    assert anki.invoke("guiSelectCard", card=card_id) is False
    assert anki.invoke("guiSelectNote", note=card_id) is False
    assert anki.invoke("guiSelectedNotes") == []


def test_gui_browse_reports_a_bad_query_like_find_cards_without_a_warning_box(anki: AnkiSession) -> None:
    anki.fresh_profile()
    error = anki.error("findCards", query="deck:(")
    assert anki.error("guiBrowse", query="deck:(") == error
    assert _browser() is None  # nothing was opened (Anki would have shown a modal warning)


def test_gui_browse_sorts_by_a_visible_column_in_the_order_asked(anki: AnkiSession) -> None:
    anki.fresh_profile()
    ids = anki.invoke("addNotes", notes=[_basic("banana"), _basic("apple"), _basic("cherry")])
    card_of = {anki.invoke("findCards", query=f"nid:{nid}")[0]: nid for nid in ids}
    fronts = {nid: front for nid, front in zip(ids, ["banana", "apple", "cherry"], strict=True)}

    def fronts_in_rows() -> list[str]:
        return [fronts[card_of[cid]] for cid in _rows(_browser())]

    sort_field = {"columnId": "noteFld", "order": "descending"}
    assert sorted(anki.invoke("guiBrowse", query="deck:Default", reorderCards=sort_field)) == sorted(card_of)
    assert fronts_in_rows() == ["cherry", "banana", "apple"]
    anki.invoke("guiBrowse", query="deck:Default", reorderCards={"columnId": "noteFld", "order": "ascending"})
    assert fronts_in_rows() == ["apple", "banana", "cherry"]
    browser = _browser()
    state = browser.table._state
    assert (state.sort_column, state.sort_backwards) == ("noteFld", False)
    # A date column starts descending when first chosen in Anki; the order asked for still wins.
    anki.invoke("guiBrowse", query="deck:Default", reorderCards={"columnId": "cardDue", "order": "ascending"})
    assert (state.sort_column, state.sort_backwards) == ("cardDue", False)
    anki.invoke("guiBrowse", reorderCards={"columnId": "cardDue", "order": "descending"})  # the current search
    assert (state.sort_column, state.sort_backwards) == ("cardDue", True)
    assert len(_rows(browser)) == 3

    # Only a column the Browser shows can be sorted by (upstream's rule), and only one Anki can sort by.
    for column in ("nope", "cardEase", 3):
        reorder = {"columnId": column, "order": "ascending"}
        assert anki.error("guiBrowse", reorderCards=reorder) == f"invalid columnId: {column}"
    browser.table.clear_selection()  # (Anki's column toggle leaves a stale selection count behind)
    browser.table._on_column_toggled(True, "question")  # the user shows the Question column
    assert anki.error("guiBrowse", reorderCards={"columnId": "question", "order": "ascending"}) == (
        "sorting on this column is not supported: question"
    )
    assert (state.sort_column, state.sort_backwards) == ("cardDue", True)


@pytest.mark.parametrize(
    ("reorder", "error"),
    [
        pytest.param(["noteFld"], "reorderCards should be a dict: ['noteFld']", id="not-a-dict"),
        pytest.param("noteFld", "reorderCards should be a dict: noteFld", id="string"),
        pytest.param({"columnId": "noteFld"}, 'Must provide a "columnId" and a "order" property"', id="no-order"),
        pytest.param({"order": "ascending"}, 'Must provide a "columnId" and a "order" property"', id="no-column"),
        pytest.param({"columnId": "noteFld", "order": "up"}, "invalid card order: up", id="bad-order"),
        pytest.param({"columnId": "noteFld", "order": 1}, "invalid card order: 1", id="order-not-a-string"),
    ],
)
def test_gui_browse_rejects_a_malformed_reorder_before_opening_anything(
    anki: AnkiSession, reorder: Any, error: str
) -> None:
    assert anki.error("guiBrowse", query="", reorderCards=reorder) == error
    assert _browser() is None


# guiEditNote


def test_gui_edit_note_opens_an_editor_that_saves_edits_and_shows_api_changes(anki: AnkiSession) -> None:
    """Also upstream's lost-edit bug (D22): an open editor kept a stale copy and saved it over API changes."""
    from anki.notes import NoteId

    anki.fresh_profile()
    first, second = anki.invoke("addNotes", notes=[_basic("old front", "old back"), _basic("second note")])
    assert anki.invoke("guiEditNote", note=first) is None
    window = _edit_window()
    assert window is not None and window.isVisible() and not window.isModal()
    assert window.note.id == first and window.note["Front"] == "old front"
    col = anki.mw.col

    # A request changes the note: the editor shows it.
    anki.invoke("updateNoteFields", note={"id": first, "fields": {"Front": "api front"}})
    wait_until(lambda: window.note["Front"] == "api front", message="the editor to reload the note")
    # The user types in the Back field (the message Anki's editor page sends): Anki saves the note, with the
    # request's change kept.
    window.editor.onBridgeCmd(f"key:1:{first}:user back")
    wait_until(lambda: col.get_note(NoteId(first))["Back"] == "user back", message="the user's edit")
    assert col.get_note(NoteId(first))["Front"] == "api front"
    assert anki.invoke("notesInfo", notes=[first])[0]["fields"]["Back"]["value"] == "user back"
    anki.invoke("addTags", notes=[first], tags="from-api")
    wait_until(lambda: window.note.tags == ["from-api"], message="the editor to reload the tags")

    # Asked for another note, the same window shows it; deleting that note closes the window.
    assert anki.invoke("guiEditNote", note=second) is None
    wait_until(lambda: window.note.id == second, message="the window to show the second note")
    assert _edit_window() is window and window.note["Front"] == "second note"
    anki.invoke("deleteNotes", notes=[second])
    wait_until(lambda: _edit_window() is None, message="the window to close")
    assert _gone(window)


def test_gui_edit_note_a_request_right_after_a_user_edit_of_the_same_note(anki: AnkiSession) -> None:
    from anki.notes import NoteId

    anki.fresh_profile()
    note_id = anki.invoke("addNote", note=_basic("front", "back"))
    anki.invoke("guiEditNote", note=note_id)
    window = _edit_window()
    col = anki.mw.col
    window.editor.onBridgeCmd(f"key:1:{note_id}:typed back")
    wait_until(lambda: col.get_note(NoteId(note_id))["Back"] == "typed back", message="the edit to be saved")
    anki.invoke("updateNoteFields", note={"id": note_id, "fields": {"Front": "api front"}})
    wait_until(lambda: window.note["Front"] == "api front", message="the editor to reload the note")


def test_gui_edit_note_of_a_missing_note(anki: AnkiSession) -> None:
    anki.fresh_profile()
    assert anki.error("guiEditNote", note=1234) == "Note was not found: 1234"
    assert anki.error("guiEditNote", note=2**63 - 1) == f"Note was not found: {2**63 - 1}"
    too_big = f"AnkiConnect.guiEditNote() argument 'note' must be a 64-bit integer, not the number {2**63}"
    assert anki.error("guiEditNote", note=2**63) == too_big
    assert _edit_window() is None


def test_gui_edit_note_browse_button_and_closing_with_the_profile(anki: AnkiSession) -> None:
    anki.fresh_profile()
    note_id = anki.invoke("addNote", note=_basic("profile switch"))
    anki.invoke("guiEditNote", note=note_id)
    window = _edit_window()
    window.browse()  # the window's Browse button
    browser = _browser()
    cards = anki.invoke("findCards", query=f"nid:{note_id}")
    wait_until(lambda: _rows(browser) == cards, message="the Browser to show the note")
    anki.fresh_profile()  # Anki asks every window it manages to close first
    assert _edit_window() is None and _gone(window)
    assert _browser() is None and _gone(browser)
