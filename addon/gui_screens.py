"""Graphical actions around the main window's screens, Check Database and quitting Anki.

Nothing here opens a modal dialog: a request must never leave a real user's Anki waiting for a click.
Where Anki's own menu command would block (Check Database's progress and report), the same work runs with
non-modal windows instead.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING

from aqt.qt import QDialog, Qt, QTimer, QWidget

from .gui_host import gui_action
from .gui_review import open_collection, require_collection

if TYPE_CHECKING:
    from aqt.main import AnkiQt

__all__ = [
    "CHECK_DATABASE_REPORT",
    "EXIT_DELAY_MS",
    "EXIT_TIMER",
    "non_modal_progress",
    "schedule_exit",
    "show_report",
]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

EXIT_DELAY_MS = 1000
"""guiExitAnki closes Anki this long after answering, so the reply reaches the client first (upstream: 1 s)."""
EXIT_TIMER = "ankiconnect_live_exit_timer"
"""The object name of the pending exit's single-shot timer (a child of the main window)."""
CHECK_DATABASE_REPORT = "ankiconnect_live_check_database_report"
"""The object name of the window listing what Check Database fixed."""


@gui_action("guiDeckBrowser")
def deck_browser(mw: AnkiQt) -> None:
    require_collection(mw)
    mw.moveToState("deckBrowser")


@gui_action("guiDeckOverview")
def deck_overview(mw: AnkiQt, name: str) -> bool:
    col = require_collection(mw)
    deck_id = col.decks.id_for_name(name)
    if not deck_id:
        return False
    col.decks.set_current(deck_id)  # what clicking the deck in the deck list does (an undoable "Select Deck")
    mw.update_undo_actions()
    mw.moveToState("overview")
    return True


@gui_action("guiDeckReview")
def deck_review(mw: AnkiQt, name: str) -> bool:
    if not deck_overview(mw, name):
        return False
    mw.moveToState("review")  # with nothing due, Anki goes straight back to the overview
    return True


# Quitting


@gui_action("guiExitAnki")
def exit_anki(mw: AnkiQt) -> None:
    schedule_exit(mw)


def schedule_exit(mw: AnkiQt, delay_ms: int = EXIT_DELAY_MS) -> QTimer:
    """Close the main window (as File > Exit does) after ``delay_ms``; a second call keeps the first timer.

    The timer is a named child of the main window (so it lives until it fires): ``mw.findChild(QTimer,
    EXIT_TIMER)`` finds a pending exit, and stopping that timer cancels it.
    """
    pending = mw.findChild(QTimer, EXIT_TIMER)
    if isinstance(pending, QTimer) and pending.isActive():
        return pending
    timer = QTimer(mw)
    timer.setObjectName(EXIT_TIMER)
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: _close_anki(mw, timer))
    timer.start(delay_ms)
    return timer


def _close_anki(mw: AnkiQt, timer: QTimer) -> None:
    timer.deleteLater()
    _quit(mw)


def _quit(mw: AnkiQt) -> None:
    """Anki's normal exit: it saves, closes the profile (syncing if the user asked for that) and quits."""
    mw.close()


# Check Database


@gui_action("guiCheckDatabase")
def check_database(mw: AnkiQt) -> bool:
    require_collection(mw)
    start_check_database(mw)
    return True


def start_check_database(mw: AnkiQt) -> None:
    """Tools > Check Database (aqt.dbcheck.check_db) without its modal progress window and report.

    Same steps: a backup, ``fix_integrity`` on the collection thread, progress in Anki's progress window
    (here non-modal), a tooltip when all was fine, else the list of fixes in a non-modal window, then every
    screen refreshes.
    """
    from aqt.dbcheck import on_progress

    non_modal_progress(mw)
    poll = QTimer(mw)
    poll.timeout.connect(lambda: on_progress(mw))
    poll.start(100)
    mw._increase_background_ops()  # Anki waits for these before closing the collection

    def check() -> tuple[str, bool]:
        mw.create_backup_now()
        col = mw.col
        assert col is not None  # the collection is closed only once background operations are done
        return col.fix_integrity()

    def done(future: Future[tuple[str, bool]]) -> None:
        poll.stop()
        poll.deleteLater()
        mw.progress.finish()
        mw._decrease_background_ops()
        try:
            report, ok = future.result()
        except Exception as exc:
            log.exception("Check Database failed")
            report, ok = str(exc), False
        from aqt.utils import tooltip

        if ok:
            tooltip(report, parent=mw)
        else:
            show_report(mw, report, CHECK_DATABASE_REPORT)
        if open_collection(mw) is not None:
            try:
                mw.reset()  # as Anki does after the check: every screen reloads
            except Exception:
                log.exception("refreshing Anki's screens after Check Database failed")

    mw.taskman.run_in_background(check, done, uses_collection=True)


def non_modal_progress(mw: AnkiQt) -> None:
    """Start a level of Anki's progress window, made non-modal; end it with ``mw.progress.finish()``.

    Anki shows the window only if the work lasts more than 600 ms (and only while one of its windows has the
    focus). While a level is open, Anki's own progress windows reuse this one, but its progress timers wait:
    run no Anki operation that finishes through them (``with_backend_progress``) inside it.
    """
    window = mw.progress.start(parent=mw)
    if window is not None:
        window.setWindowModality(Qt.WindowModality.NonModal)


def show_report(mw: AnkiQt, text: str, name: str) -> QWidget:
    """Show ``text`` in a non-modal window (Anki's ``showText`` look) and return that window."""
    from aqt.utils import showText

    shown = showText(text, parent=mw, run=False, title="Anki")
    assert shown is not None
    dialog: QDialog = shown[0]
    dialog.setObjectName(name)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.raise_()
    return dialog
