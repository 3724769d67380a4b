"""requestPermission from a page not yet allowed: ask the user without blocking Anki or other clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aqt.qt import QCheckBox, QMessageBox, Qt

from ..actions.misc import permission_result
from ..transport.bridge import Done
from ..wire import DEFAULT_VERSION, Caller, Outcome

if TYPE_CHECKING:
    from aqt.main import AnkiQt

    from .runtime import GuiRuntime

__all__ = ["PermissionAsker"]


class PermissionAsker:
    """One non-modal question per origin; requests from that origin meanwhile wait for the same answer.

    The dialog is not modal and no nested event loop runs, so the server keeps answering other clients (and
    no other request runs re-entrantly inside this one, as happened with upstream's modal ``exec()``).
    """

    def __init__(self, mw: AnkiQt, runtime: GuiRuntime) -> None:
        self._mw = mw
        self._runtime = runtime
        self._pending: dict[str, list[tuple[int, Done]]] = {}
        self.dialogs: dict[str, QMessageBox] = {}

    def ask(self, request: dict[str, Any], caller: Caller, done: Done) -> None:
        origin = caller.origin or ""
        version = request.get("version", DEFAULT_VERSION)
        if origin in self._pending:
            self._pending[origin].append((version, done))
            return
        self._pending[origin] = [(version, done)]
        self.dialogs[origin] = self._dialog(origin)

    def waiting(self, origin: str) -> int:
        """How many requests from ``origin`` wait for the user's answer."""
        return len(self._pending.get(origin, []))

    def _dialog(self, origin: str) -> QMessageBox:
        box = QMessageBox(self._mw)
        box.setObjectName("ankiconnect_live_permission")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Allow a website to use Anki?")
        box.setText(f'The page at "{origin}" asks to use Anki through AnkiConnect Live.')
        box.setInformativeText(
            "If you allow it, it can read, change and delete your notes, cards and decks. "
            "Only allow pages you trust. Allow it?"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        ignore = QCheckBox(f'Do not ask again for "{origin}"', box)
        box.setCheckBox(ignore)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        box.finished.connect(lambda code: self._answered(origin, code, ignore.isChecked()))
        box.show()
        return box

    def _answered(self, origin: str, code: int, ignore_from_now: bool) -> None:
        self.dialogs.pop(origin, None)
        granted = code == QMessageBox.StandardButton.Yes.value
        settings = self._runtime.settings()
        if granted and origin not in settings.webCorsOriginList:
            self._runtime.write_config({"webCorsOriginList": [*settings.webCorsOriginList, origin]})
        elif not granted and ignore_from_now and origin and origin not in settings.ignoreOriginList:
            self._runtime.write_config({"ignoreOriginList": [*settings.ignoreOriginList, origin]})
        result = permission_result(self._runtime.settings(), granted=granted)
        for version, done in self._pending.pop(origin, []):
            done(Outcome(version, result=result))
