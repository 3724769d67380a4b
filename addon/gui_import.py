"""guiImportFile: Anki's File > Import flow for a file, without its modal windows.

Anki 26.9 picks the importer by file name (``aqt.import_export.importing.IMPORTERS``) and this does the same:

* ``.apkg``/``.zip`` (decks), ``.csv``/``.tsv``/``.txt`` and Mnemosyne ``.db`` files open Anki's import
  window, where the user checks the options and clicks Import. Anki makes that window application-modal
  until the import is done; here it is an ordinary window from the start.
* A collection package (``.colpkg``, ``collection.apkg``, ``backup-*.apkg``) replaces the whole collection,
  so Anki asks first. Here the question is a non-modal message box; on Yes, Anki's steps run (backup,
  close the collection, import, reopen) with its progress window made non-modal.
* Mnemosyne files are converted first (as in Anki, without a progress window here).
* Without a path, a non-modal file picker offers the same file types.

Errors the client can act on (no collection, a missing file, an unknown file type) are reported to it
instead of in a warning box.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from anki.errors import Interrupted
from aqt.import_export.import_dialog import AnkiPackageArgs, CsvArgs, ImportArgs, ImportDialog, JsonFileArgs
from aqt.qt import QFileDialog, QMessageBox, Qt, QTimer, QWidget

from ..actions.errors import ActionError, NotFound
from .gui_host import gui_action
from .gui_review import open_collection, require_collection
from .gui_screens import non_modal_progress, show_report

if TYPE_CHECKING:
    from anki.collection import Collection
    from aqt.main import AnkiQt

__all__ = ["CONFIRM_COLLECTION_IMPORT", "FILE_PICKER", "IMPORT_REPORT", "NonModalImportDialog"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

FILE_PICKER = "ankiconnect_live_import_picker"
CONFIRM_COLLECTION_IMPORT = "ankiconnect_live_confirm_collection_import"
IMPORT_REPORT = "ankiconnect_live_import_report"
"""Object names of the windows guiImportFile opens (besides Anki's import window)."""


class NonModalImportDialog(ImportDialog):
    """Anki's import window, as an ordinary window instead of an application-modal one.

    Limits, because Anki's page finds its window as "the active modal window": the Close button of the
    page's error box does nothing (the window's own close button works), and closing the window during an
    import does not abort it.
    """

    def _setup_ui(self) -> None:
        super()._setup_ui()
        self.setWindowModality(Qt.WindowModality.NonModal)  # before __init__ shows it


@gui_action("guiImportFile")
def import_file(mw: AnkiQt, path: str | None = None) -> None:
    require_collection(mw)
    if path is None:
        pick_file_then_import(mw)
    else:
        start_import(mw, path)


def start_import(mw: AnkiQt, path: str) -> QWidget | None:
    """Open the import flow for ``path``; return the window that now waits for the user, if any."""
    from aqt.import_export import importing

    if os.sep == "\\":
        path = path.replace("\\", "/")  # Anki's import page needs forward slashes on Windows (upstream's note)
    if not os.path.isfile(path):
        raise NotFound(f"file was not found: {path}")
    filename = os.path.basename(path).lower()
    for importer in importing.IMPORTERS:
        if not importer.can_import(filename):
            continue
        if importer is importing.ColpkgImporter:
            return _confirm_collection_import(mw, path)
        if importer is importing.ApkgImporter:
            return _open_import_window(mw, AnkiPackageArgs(path))
        if importer is importing.CsvImporter:
            return _open_import_window(mw, CsvArgs(path))
        if importer is importing.MnemosyneImporter:
            _convert_mnemosyne_then_import(mw, path)
            return None
        importer.do_import(mw, path)  # an importer some add-on registered: its own flow
        return None
    raise ActionError(f"Unsupported file type: {os.path.basename(path)}")


def _open_import_window(mw: AnkiQt, args: ImportArgs) -> QWidget:
    dialog = NonModalImportDialog(mw, args)
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def _convert_mnemosyne_then_import(mw: AnkiQt, path: str) -> None:
    """Anki's MnemosyneImporter: convert to Anki's JSON in the background, then the import window."""
    from anki.foreign_data import mnemosyne
    from anki.utils import tmpdir
    from aqt.operations import QueryOp

    def convert(col: Collection) -> str:
        return mnemosyne.serialize(path, col.decks.current()["id"])

    def converted(data: str) -> None:
        json_path = os.path.join(tmpdir(), os.path.basename(path))
        with open(json_path, "wb") as file:
            file.write(data.encode("utf8"))
        _open_import_window(mw, JsonFileArgs(path=json_path))

    QueryOp(parent=mw, op=convert, success=converted).failure(lambda exc: _report_failure(mw, exc)).run_in_background()


def _confirm_collection_import(mw: AnkiQt, path: str) -> QWidget:
    """Anki's question before a collection package replaces the collection, as a non-modal box."""
    from aqt.utils import tr

    box = QMessageBox(mw)
    box.setObjectName(CONFIRM_COLLECTION_IMPORT)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Anki")
    box.setText(tr.importing_this_will_delete_your_existing_collection())
    box.setInformativeText(path)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)

    def answered(_result: int) -> None:
        yes = box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)
        if yes and open_collection(mw) is not None:
            import_collection_package(mw, path)

    box.finished.connect(answered)
    box.show()
    box.raise_()
    box.activateWindow()
    return box


def import_collection_package(mw: AnkiQt, path: str) -> None:
    """Anki's ColpkgImporter steps: a backup, close the collection, import the package, reopen it.

    Anki's progress window, made non-modal, shows the backup and the import. It is not held while Anki
    closes the collection, because closing may sync (if the user enabled that) and Anki's sync waits on
    progress timers that never fire while a progress window is open. Anki disables its main window while
    the collection is closed, as in Anki.
    """
    from aqt.utils import tooltip, tr

    def done(error: BaseException | None) -> None:
        if open_collection(mw) is None:
            mw.loadCollection()
        if error is None:
            tooltip(tr.importing_importing_complete(), parent=mw)
        elif not isinstance(error, Interrupted):
            _report_failure(mw, error)

    def backed_up(error: BaseException | None) -> None:
        mw.progress.finish()
        if error is not None:
            done(error)
        else:
            mw.unloadCollection(start_import)

    def start_import() -> None:
        non_modal_progress(mw)
        poll = QTimer(mw)
        poll.timeout.connect(lambda: _show_import_progress(mw))
        poll.start(100)

        def imported(error: BaseException | None) -> None:
            poll.stop()
            poll.deleteLater()
            mw.progress.finish()
            done(error)

        _in_background(mw, lambda: _replace_collection(mw, path), imported)

    non_modal_progress(mw)
    _in_background(mw, mw.create_backup_now, backed_up)


def _replace_collection(mw: AnkiQt, path: str) -> None:
    """The work of Anki's ``import_collection_package_op`` (on the collection thread)."""
    folder = mw.pm.profileFolder()
    mw.backend.import_collection_package(
        col_path=mw.pm.collectionPath(),
        backup_path=path,
        media_folder=os.path.join(folder, "collection.media"),
        media_db=os.path.join(folder, "collection.media.db2"),
    )


def _show_import_progress(mw: AnkiQt) -> None:
    """What Anki's ``with_backend_progress`` polls: the import's stage, and Cancel."""
    from aqt.import_export.importing import import_progress_update
    from aqt.progress import ProgressUpdate

    update = ProgressUpdate(user_wants_abort=mw.progress.want_cancel())
    import_progress_update(mw.backend.latest_progress(), update)
    if update.abort:
        mw.backend.set_wants_abort()
    if update.has_update():
        mw.progress.update(label=update.label, value=update.value, max=update.max)


def _in_background(mw: AnkiQt, task: Callable[[], object], done: Callable[[BaseException | None], None]) -> None:
    """Run ``task`` on Anki's collection thread, then ``done(error or None)`` on the main thread."""
    mw._increase_background_ops()  # Anki waits for these before closing the profile

    def finished(future: Future[object]) -> None:
        mw._decrease_background_ops()
        done(future.exception())

    mw.taskman.run_in_background(task, finished, uses_collection=True)


def pick_file_then_import(mw: AnkiQt) -> QWidget:
    """File > Import's file picker (same file types, same remembered folder), non-modal."""
    from anki.lang import without_unicode_isolation
    from aqt.import_export.importing import all_accepted_file_endings
    from aqt.utils import tooltip, tr

    endings = " ".join(f"*{ending}" for ending in sorted(all_accepted_file_endings(mw)))
    picker = QFileDialog(mw, tr.actions_import())
    picker.setObjectName(FILE_PICKER)
    # Native pickers can run their own modal loop (Windows); Qt's own widget honours non-modal.
    picker.setOption(QFileDialog.Option.DontUseNativeDialog)
    picker.setWindowModality(Qt.WindowModality.NonModal)
    picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    picker.setFileMode(QFileDialog.FileMode.ExistingFile)
    picker.setNameFilter(without_unicode_isolation(tr.importing_all_supported_formats(val=f"({endings})")))
    profile = mw.pm.profile
    folder = profile.get("importDirectory", "") if profile else ""
    if folder and os.path.isdir(folder):
        picker.setDirectory(folder)

    def chosen(path: str) -> None:
        if mw.pm.profile is not None:
            mw.pm.profile["importDirectory"] = os.path.dirname(path)
        if open_collection(mw) is None:
            return  # the profile was closed meanwhile
        try:
            start_import(mw, path)
        except ActionError as exc:
            tooltip(str(exc), parent=mw)

    picker.fileSelected.connect(chosen)
    picker.show()
    picker.raise_()
    picker.activateWindow()
    return picker


def _report_failure(mw: AnkiQt, exc: BaseException) -> None:
    log.warning("import failed: %s", exc)
    show_report(mw, str(exc), IMPORT_REPORT)
