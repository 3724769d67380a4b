"""Tools > AnkiConnect Live: where the server listens and who is connected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aqt.qt import QAction, QMessageBox, Qt

if TYPE_CHECKING:
    from . import Addon

__all__ = ["install_status_menu", "status_text"]


def status_text(addon: Addon) -> str:
    if addon.app is None:
        return addon.listen_error or "AnkiConnect Live is not running."
    server = addon.app.server
    lines = [
        f"Listening on {server.url}",
        f"WebSocket clients connected: {server.websocket_count}",
        f"HTTP connections open: {server.http_count}",
        f"Profile: {addon.runtime.profile_name() or '(none)'}",
    ]
    return "\n".join(lines)


def install_status_menu(addon: Addon) -> QAction:
    action = QAction("AnkiConnect Live status", addon.mw)
    action.setObjectName("ankiconnect_live_status")

    def show() -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "AnkiConnect Live", status_text(addon), parent=addon.mw)
        box.setObjectName("ankiconnect_live_status_box")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()

    action.triggered.connect(show)
    addon.mw.form.menuTools.addAction(action)
    return action
