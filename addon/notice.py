"""Telling the user about a problem without blocking Anki (no modal dialogs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aqt.qt import QMessageBox, Qt

if TYPE_CHECKING:
    from aqt.main import AnkiQt

__all__ = ["show_listen_failure"]

_notices: list[QMessageBox] = []  # keeps open notices alive


def show_listen_failure(mw: AnkiQt, text: str) -> QMessageBox:
    """A non-modal warning: Anki keeps working while it is open."""
    box = QMessageBox(QMessageBox.Icon.Warning, "AnkiConnect Live", text, QMessageBox.StandardButton.Ok, mw)
    box.setObjectName("ankiconnect_live_listen_failure")
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda *_: _notices.remove(box) if box in _notices else None)
    _notices.append(box)
    box.show()
    return box
