"""Fixtures for tests of the add-on inside real Anki (run in their own pytest process: see the Makefile)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from anki_harness import PACKAGE, AnkiSession, prepare_base, spin, wait_until  # sets Qt's environment first


@pytest.fixture(scope="session")
def anki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnkiSession]:
    import anki.collection
    import aqt
    from aqt.qt import QApplication, QCoreApplication, QEvent, QTimer

    base = tmp_path_factory.mktemp("anki-base")
    prepare_base(base)
    anki.collection.Collection.create_backup = lambda *a, **k: False  # type: ignore[method-assign]
    aqt._run(argv=["anki", "-b", str(base), "-p", "test"], exec=False)
    mw = aqt.mw
    assert mw is not None
    wait_until(lambda: mw.col is not None and mw.state == "deckBrowser", 60, "Anki to open the profile")
    session = AnkiSession(mw, base, sys.modules[PACKAGE])

    def reject_modal() -> None:
        # Offscreen nobody can click a modal dialog: record it (the test fails) and close it.
        widget = QApplication.activeModalWidget()
        if widget is not None:
            session.modal_dialogs.append(f"{type(widget).__name__}: {widget.windowTitle()}")
            widget.reject()  # type: ignore[attr-defined]

    watchdog = QTimer()
    watchdog.timeout.connect(reject_modal)
    watchdog.start(200)
    yield session

    watchdog.stop()
    session.addon.shutdown()
    mw.moveToState("deckBrowser")
    wait_until(lambda: mw._background_op_count == 0, message="background operations")
    mw.unloadProfile(lambda: mw.cleanupAndExit())
    wait_until(lambda: mw.col is None, message="the collection to close")
    spin(300)
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    sys.excepthook = sys.__excepthook__
    sys.stderr = sys.__stderr__


@pytest.fixture(autouse=True)
def no_modal_dialogs(anki: AnkiSession) -> Iterator[None]:
    """A modal dialog would freeze a real user's Anki until answered: none may appear."""
    anki.modal_dialogs.clear()
    yield
    assert anki.modal_dialogs == []
