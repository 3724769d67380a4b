"""guiExitAnki, guiCheckDatabase and guiImportFile inside real Anki: none of them may open a modal window."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anki_harness import PACKAGE, AnkiSession, spin, wait_until


def _module(name: str) -> Any:
    """One of the add-on's modules, as Anki loaded it."""
    return importlib.import_module(f"{PACKAGE}.addon.{name}")


def _windows(kind: type | None = None, name: str | None = None) -> list[Any]:
    from aqt.qt import QApplication

    return [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and (kind is None or isinstance(w, kind)) and (name is None or w.objectName() == name)
    ]


@pytest.fixture
def close_windows() -> Iterator[None]:
    """Close the windows a test opened (import windows, reports, pickers)."""
    from aqt.qt import QApplication

    before = set(QApplication.topLevelWidgets())
    yield
    for widget in QApplication.topLevelWidgets():
        if widget not in before and widget.isVisible():
            widget.close()
    spin(50)


def _source_collection(folder: Path) -> Any:
    """A separate collection (not Anki's) with one Basic note in deck "Imported"."""
    from anki.collection import Collection

    col = Collection(str(folder / "source.anki2"))
    model, deck_id = col.models.by_name("Basic"), col.decks.id("Imported")
    assert model is not None and deck_id is not None
    note = col.new_note(model)
    note["Front"] = "from the package"
    col.add_note(note, deck_id)
    return col


def _build_apkg(folder: Path) -> Path:
    from anki.collection import ExportAnkiPackageOptions

    col = _source_collection(folder)
    out = folder / "Imported.apkg"
    options = ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, with_media=False)
    col.export_anki_package(out_path=str(out), options=options, limit=None)
    col.close()
    return out


def _build_colpkg(folder: Path) -> Path:
    col = _source_collection(folder)
    out = folder / "Whole.colpkg"
    col.export_collection_package(str(out), include_media=False, legacy=False)
    col.close()
    return out


def _eval(dialog: Any, script: str) -> Any:
    out: list[Any] = []
    dialog.web.evalWithCallback(script, out.append)
    wait_until(lambda: out, message="the page to answer")
    return out[0]


# guiExitAnki


def test_exit_is_scheduled_and_can_be_cancelled(anki: AnkiSession, monkeypatch: pytest.MonkeyPatch) -> None:
    from aqt.qt import QTimer

    screens = _module("gui_screens")
    mw = anki.mw
    closed: list[Any] = []
    monkeypatch.setattr(screens, "_quit", closed.append)  # the real one closes the main window
    try:
        assert anki.invoke("guiExitAnki") is None
        timer = mw.findChild(QTimer, screens.EXIT_TIMER)
        assert timer is not None and timer.isActive() and timer.isSingleShot()
        assert timer.interval() == screens.EXIT_DELAY_MS == 1000
        assert timer.remainingTime() > 0
        assert anki.invoke("guiExitAnki") is None  # a second request keeps the pending exit
        assert mw.findChildren(QTimer, screens.EXIT_TIMER) == [timer]
        assert closed == [] and anki.invoke("version") == 6  # nothing closed yet: the reply got out
        timer.start(0)  # fire it now instead of in a second
        wait_until(lambda: closed, message="the exit timer")
        assert closed == [mw]
    finally:
        for pending in mw.findChildren(QTimer, screens.EXIT_TIMER):
            pending.stop()
    wait_until(lambda: not mw.findChildren(QTimer, screens.EXIT_TIMER), message="the timer to go")
    assert mw.col is not None and anki.invoke("version") == 6


def test_the_exit_is_anki_own_close() -> None:
    """``_quit`` is File > Exit: ``mw.close()``, which makes Anki save, close the profile and quit."""

    class Window:
        def __init__(self) -> None:
            self.closed = 0

        def close(self) -> None:
            self.closed += 1

    window = Window()
    _module("gui_screens")._quit(window)
    assert window.closed == 1


# guiCheckDatabase


def test_check_database_with_nothing_to_fix_shows_a_tooltip(anki: AnkiSession, close_windows: None) -> None:
    import aqt.utils

    anki.fresh_profile()
    assert anki.invoke("guiCheckDatabase") is True
    anki.settle()
    label = aqt.utils._tooltipLabel
    assert label is not None and anki.mw.col.tr.database_check_rebuilt() in label.text()
    assert _windows(name=_module("gui_screens").CHECK_DATABASE_REPORT) == []


def test_check_database_fixes_problems_and_lists_them_in_a_non_modal_window(
    anki: AnkiSession, close_windows: None
) -> None:
    anki.fresh_profile()
    col = anki.mw.col
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"] = "lost"
    col.add_note(note, col.decks.id("Doomed"))
    card_id = note.card_ids()[0]
    col.db.execute("update cards set did = 424242 where id = ?", card_id)  # a deck that does not exist
    assert anki.invoke("guiCheckDatabase") is True
    wait_until(lambda: _windows(name=_module("gui_screens").CHECK_DATABASE_REPORT), message="the report")
    (report,) = _windows(name=_module("gui_screens").CHECK_DATABASE_REPORT)
    assert not report.isModal()
    assert col.decks.name_if_exists(col.get_card(card_id).did) is not None  # moved to a real deck
    anki.settle()


def test_anki_progress_window_is_made_non_modal(anki: AnkiSession) -> None:
    """Offscreen, Anki never shows its progress window (it waits for a focused window): show it by hand."""
    from aqt.qt import QApplication

    mw = anki.mw
    _module("gui_screens").non_modal_progress(mw)
    try:
        window = mw.progress._win
        assert window is not None
        mw.progress._showWin()
        assert window.isVisible() and not window.isModal() and QApplication.activeModalWidget() is None
    finally:
        mw.progress.finish()
    spin(50)


# guiImportFile


def test_importing_a_deck_package_opens_anki_import_window_non_modally(
    anki: AnkiSession, tmp_path: Path, close_windows: None
) -> None:
    from aqt.import_export.import_dialog import ImportDialog

    anki.fresh_profile()
    package = _build_apkg(tmp_path)
    assert anki.invoke("guiImportFile", path=str(package)) is None
    (dialog,) = _windows(ImportDialog)
    assert not dialog.isModal()
    # The user reviews the options and clicks Import.
    wait_until(lambda: _eval(dialog, "document.querySelectorAll('button').length") > 0, message="the page")
    _eval(dialog, "[...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Import').click()")
    wait_until(lambda: anki.mw.col.note_count() == 1, message="the import")
    assert anki.mw.col.decks.id_for_name("Imported") is not None
    anki.settle()


def test_importing_a_collection_package_asks_first_without_blocking(
    anki: AnkiSession, tmp_path: Path, close_windows: None
) -> None:
    from aqt.qt import QMessageBox

    anki.fresh_profile()
    mw = anki.mw
    package = _build_colpkg(tmp_path)
    name = _module("gui_import").CONFIRM_COLLECTION_IMPORT
    # "No" leaves the collection alone.
    assert anki.invoke("guiImportFile", path=str(package)) is None
    (box,) = _windows(QMessageBox, name)
    assert not box.isModal()
    assert anki.invoke("deckNames") == ["Default"]  # Anki keeps serving while the question is open
    box.button(QMessageBox.StandardButton.No).click()
    spin(50)
    assert mw.col.note_count() == 0 and _windows(QMessageBox, name) == []
    # "Yes" replaces it, and Anki reopens it.
    assert anki.invoke("guiImportFile", path=str(package)) is None
    (box,) = _windows(QMessageBox, name)
    box.button(QMessageBox.StandardButton.Yes).click()
    wait_until(lambda: mw.col is not None and mw.col.note_count() == 1, message="the collection import")
    assert mw.state == "deckBrowser" and mw.col.decks.id_for_name("Imported") is not None
    assert anki.invoke("findNotes", query="front:*package*") != []
    anki.settle()


def test_without_a_path_a_non_modal_file_picker_starts_the_import(
    anki: AnkiSession, tmp_path: Path, close_windows: None
) -> None:
    from aqt.import_export.import_dialog import ImportDialog
    from aqt.qt import QFileDialog, QLineEdit

    anki.fresh_profile()
    package = _build_apkg(tmp_path)
    assert anki.invoke("guiImportFile") is None
    (picker,) = _windows(QFileDialog, _module("gui_import").FILE_PICKER)
    assert not picker.isModal()
    assert ".apkg" in " ".join(picker.nameFilters()) and ".colpkg" in " ".join(picker.nameFilters())
    # The user types the package's path and clicks Open.
    name_edit = picker.findChild(QLineEdit, "fileNameEdit")
    assert name_edit is not None
    name_edit.setText(str(package))
    picker.accept()
    wait_until(lambda: _windows(ImportDialog), message="the import window")
    assert not _windows(ImportDialog)[0].isModal()
    assert anki.mw.pm.profile["importDirectory"] == str(tmp_path)


def test_importing_a_text_file_opens_anki_csv_import_window_non_modally(
    anki: AnkiSession, tmp_path: Path, close_windows: None
) -> None:
    from aqt.import_export.import_dialog import ImportDialog
    from aqt.webview import AnkiWebViewKind

    notes = tmp_path / "notes.csv"
    notes.write_text("front,back\n")
    assert anki.invoke("guiImportFile", path=str(notes)) is None
    (dialog,) = _windows(ImportDialog)
    assert not dialog.isModal() and dialog.args.kind == AnkiWebViewKind.IMPORT_CSV


def test_import_errors_are_reported_to_the_client(anki: AnkiSession, tmp_path: Path) -> None:
    missing = tmp_path / "missing.apkg"
    assert anki.error("guiImportFile", path=str(missing)) == f"file was not found: {missing}"
    document = tmp_path / "notes.pdf"
    document.write_bytes(b"%PDF-1.4")
    assert anki.error("guiImportFile", path=str(document)) == "Unsupported file type: notes.pdf"
    assert _windows(name=_module("gui_import").IMPORT_REPORT) == []
