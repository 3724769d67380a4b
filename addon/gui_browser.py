"""Graphical actions around the Browser and the note editor.

* guiBrowse opens (or raises) Anki's Browser on a search, optionally sorted, and answers with the card ids
  of that search, computed as findCards does. The search runs before the reply, so a guiSelectCard right
  after it finds the rows. A query Anki cannot run is reported to the client (as findCards reports it)
  before the Browser is touched, instead of in Anki's modal warning box.
* guiSelectCard (and its deprecated name guiSelectNote) and guiSelectedNotes work on the open Browser.
* guiEditNote opens an editing window for one note: Anki's own editor (the one its Browser and Edit
  Current window use), in a window of its own, as AnkiConnect does. Edits there are saved as Anki saves
  them; changes made meanwhile through the API (or anywhere else) are reloaded into it, so it never writes
  a stale copy back over them.

Nothing here opens a modal dialog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aqt
import aqt.editor
import aqt.forms
from anki.collection import BrowserColumns, OpChanges
from anki.errors import NotFoundError
from aqt import gui_hooks
from aqt.qt import QCloseEvent, QDialogButtonBox, QKeySequence, QMainWindow, QShortcut, Qt, QTimer, qconnect

from ..actions.errors import InvalidParams, NotFound
from ..actions.search_guard import checked_search
from .gui_host import gui_action
from .gui_review import require_collection

if TYPE_CHECKING:
    from anki.notes import Note
    from aqt.browser.browser import Browser
    from aqt.main import AnkiQt

__all__ = ["BROWSER", "EDIT_DIALOG", "EDIT_WINDOW", "NoteEditWindow", "open_note_editor"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

BROWSER = "Browser"
"""The Browser's name in Anki's dialog manager (``aqt.dialogs``)."""
EDIT_DIALOG = "ankiconnect_live.EditNote"
"""guiEditNote's window in Anki's dialog manager: one at a time, closed with the profile."""
EDIT_WINDOW = "ankiconnect_live_edit_note"
"""The object name of guiEditNote's window."""
EDIT_TITLE = "Edit Note"
_GEOMETRY_KEY = "ankiconnect_live_edit_note"

_ORDERS = {"ascending": False, "descending": True}
"""reorderCards' ``order`` values, mapped to "sort backwards"."""


# guiBrowse


@gui_action("guiBrowse")
def browse(mw: AnkiQt, query: str | None = None, reorderCards: Any = None) -> list[int]:
    col = require_collection(mw)
    sort = _sort_request(reorderCards)
    cards: list[int] = []
    search: str | None = None
    if query is not None:
        # findCards' answer, and its error for a query Anki cannot run (before any window changes).
        cards = [int(cid) for cid in col.find_cards(checked_search(query))]
        search = col.build_search_string(query)  # the normalised text Anki's search bar shows
    browser: Browser = aqt.dialogs.open(BROWSER, mw)
    browser.activateWindow()
    section = _sort_section(browser, sort[0]) if sort is not None else None
    if search is not None:
        # What pressing Enter in the search bar does, without waiting for the editor to save first: the
        # table changes now, and Anki saves the editor's note before showing another one in it.
        browser.search_for(search)
        browser.update_history()
    if sort is not None and section is not None:
        _sort(browser, section, descending=sort[1])
    return cards


def _sort_request(value: Any) -> tuple[Any, bool] | None:
    """Check reorderCards (upstream's texts): the column id and whether to sort descending."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidParams(f"reorderCards should be a dict: {value}")
    if "columnId" not in value or "order" not in value:
        raise InvalidParams('Must provide a "columnId" and a "order" property"')  # the stray quote is upstream's
    order = value["order"]
    if not isinstance(order, str) or order not in _ORDERS:
        raise InvalidParams(f"invalid card order: {order}")
    return value["columnId"], _ORDERS[order]


def _sort_section(browser: Browser, column_id: Any) -> int:
    """The table section of a column the Browser shows and can sort by."""
    table = browser.table
    model = table._model
    section = model.active_column_index(column_id) if isinstance(column_id, str) else None
    if section is None:
        raise InvalidParams(f"invalid columnId: {column_id}")
    column = model.column_at_section(section)
    sorting = column.sorting_notes if table.is_notes_mode() else column.sorting_cards
    if sorting == BrowserColumns.SORTING_NONE:
        # Anki answers a click on such a column with a modal "not supported" box.
        raise InvalidParams(f"sorting on this column is not supported: {column_id}")
    return section


def _sort(browser: Browser, section: int, *, descending: bool) -> None:
    """Sort the table as a click on the column header does, in the order asked for."""
    table = browser.table
    order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
    table._on_sort_column_changed(section, order)
    if table._state.sort_backwards != descending:
        # A newly chosen numeric column starts descending, whatever the order asked for: flip it.
        table._on_sort_column_changed(section, order)


# Selection in the Browser


def _open_browser() -> Browser | None:
    browser: Browser | None = aqt.dialogs.getInstance(BROWSER)
    return browser


@gui_action("guiSelectCard")
def select_card(mw: AnkiQt, card: int) -> bool:
    from anki.cards import CardId

    browser = _open_browser()
    if browser is None:
        return False
    browser.table.clear_selection()
    try:
        require_collection(mw).get_card(CardId(card))
    except (NotFoundError, ValueError):  # no such card (ValueError: not a 64-bit id)
        return True  # as in AnkiConnect: the Browser is open, and now nothing is selected
    browser.table.select_single_card(CardId(card))
    return True


@gui_action("guiSelectedNotes")
def selected_notes(mw: AnkiQt) -> list[int]:
    browser = _open_browser()
    if browser is None:
        return []
    return [int(nid) for nid in browser.selected_notes()]


# guiEditNote


@gui_action("guiEditNote")
def edit_note(mw: AnkiQt, note: int) -> None:
    from anki.notes import NoteId

    col = require_collection(mw)
    try:
        target = col.get_note(NoteId(note))
    except (NotFoundError, ValueError):  # ValueError: not a 64-bit id
        raise NotFound(f"Note was not found: {note}") from None
    open_note_editor(mw, target)


def open_note_editor(mw: AnkiQt, note: Note) -> NoteEditWindow:
    """Show ``note`` in guiEditNote's window, opening it or bringing it to the front."""
    if aqt.dialogs.getInstance(EDIT_DIALOG) is None:
        aqt.dialogs.register_dialog(EDIT_DIALOG, NoteEditWindow)
    window: NoteEditWindow = aqt.dialogs.open(EDIT_DIALOG, mw, note)
    return window


class NoteEditWindow(QMainWindow):
    """A window with Anki's editor on one note (the layout of Anki's Edit Current window).

    Anki's editor saves every edit as it is typed. The window reloads the note whenever another part of
    Anki (a request, the Browser, undo) changes a note's text, and closes when the note is deleted.
    """

    def __init__(self, mw: AnkiQt, note: Note) -> None:
        from anki.utils import is_mac
        from aqt.utils import restoreGeom, tr

        super().__init__(None, Qt.WindowType.Window)
        self.mw = mw
        self._closed = False
        self.form = aqt.forms.editcurrent.Ui_Dialog()
        self.form.setupUi(self)  # type: ignore[no-untyped-call]  # generated by pyuic, untyped
        self.setObjectName(EDIT_WINDOW)
        self.setWindowTitle(EDIT_TITLE)
        self.setMinimumHeight(400)
        self.setMinimumWidth(250)
        if not is_mac:
            self.setMenuBar(None)
        self.editor = aqt.editor.Editor(mw, self.form.fieldsArea, self, editor_mode=aqt.editor.EditorMode.EDIT_CURRENT)
        restoreGeom(self, _GEOMETRY_KEY)
        buttons = QDialogButtonBox(Qt.Orientation.Horizontal)
        self.form.verticalLayout.insertWidget(1, buttons)
        browse_button = buttons.addButton(tr.qt_misc_browse(), QDialogButtonBox.ButtonRole.ActionRole)
        assert browse_button is not None
        qconnect(browse_button.clicked, self.browse)
        close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        assert close_button is not None
        close_button.setShortcut(QKeySequence("Ctrl+Return"))
        qconnect(buttons.rejected, self.close)
        self._compat_close = QShortcut(QKeySequence("Ctrl+Enter"), self)  # numpad Enter, as Anki adds
        qconnect(self._compat_close.activated, close_button.click)
        gui_hooks.operation_did_execute.append(self._on_operation_did_execute)
        self._show(note)
        self.show()

    @property
    def note(self) -> Note | None:
        """The note being edited."""
        note: Note | None = self.editor.note
        return note

    def reopen(self, mw: AnkiQt, note: Note) -> None:
        """Called by Anki's dialog manager when guiEditNote asks again: save, then show ``note``."""
        self.editor.call_after_note_saved(lambda: self._switch_to(note))

    def _switch_to(self, note: Note) -> None:
        if self._closed:
            return
        try:
            note.load()  # it was read before the previous note's last edits were saved
        except NotFoundError:
            return
        self._show(note)

    def _show(self, note: Note) -> None:
        cards = note.cards()
        self.editor.card = cards[0] if cards else None  # the card Anki's "Cards..." button starts on
        self.editor.set_note(note, focusTo=0)

    def browse(self) -> None:
        """Open the Browser on this note (the window's Browse button)."""
        from anki.collection import SearchNode

        note = self.note
        if note is not None:
            aqt.dialogs.open(BROWSER, self.mw, search=(SearchNode(nid=note.id),))

    def _on_operation_did_execute(self, changes: OpChanges, handler: object | None) -> None:
        try:
            self._reload_if_changed(changes, handler)
        except Exception:  # a hook callback that raises is dropped by Anki: never let one escape
            log.exception("reloading the edited note failed")

    def _reload_if_changed(self, changes: OpChanges, handler: object | None) -> None:
        note = self.note
        if self._closed or note is None or not changes.note_text or handler is self.editor:
            return
        try:
            note.load()
        except NotFoundError:  # the note was deleted: close, once Anki is done calling this hook's callbacks
            QTimer.singleShot(0, self._close_now)
            return
        self.editor.loadNoteKeepingFocus()

    def closeEvent(self, evt: QCloseEvent | None) -> None:
        if self._closed:
            if evt is not None:
                evt.accept()
            return
        self.editor.call_after_note_saved(self._close_now)
        if evt is not None:
            evt.ignore()

    def closeWithCallback(self, onsuccess: Callable[[], None]) -> None:
        """Anki's dialog manager closes the window this way (profile switch, quitting): save first."""
        if self._closed:
            onsuccess()
            return

        def close() -> None:
            self._close_now()
            onsuccess()

        self.editor.call_after_note_saved(close)

    def _close_now(self) -> None:
        from aqt.utils import saveGeom

        if self._closed:
            return
        self._closed = True
        gui_hooks.operation_did_execute.remove(self._on_operation_did_execute)
        self.editor.cleanup()
        saveGeom(self, _GEOMETRY_KEY)
        if aqt.dialogs.getInstance(EDIT_DIALOG) is self:
            aqt.dialogs.markClosed(EDIT_DIALOG)
        self.mw.deferred_delete_and_garbage_collect(self)
        self.close()
