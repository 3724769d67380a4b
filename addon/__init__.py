"""The GUI composition root: the only package that imports ``aqt``.

Anki imports the add-on while it builds its main window; ``main()`` then starts the server (answering
``collection is not available`` until a profile is open) and ties it to Anki's lifecycle.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ..app import App
from ..transport.server import PortInUse
from .gui_events import GuiEvents
from .gui_host import GuiActions
from .notice import show_listen_failure
from .operations import GuiStarter
from .permission import PermissionAsker
from .runtime import GuiRuntime
from .status import install_status_menu

if TYPE_CHECKING:
    from aqt.main import AnkiQt

__all__ = ["Addon", "current", "main"]

log = logging.getLogger(__name__.rsplit(".", 1)[0])

_current: Addon | None = None


class Addon:
    """The running add-on: config, the server, and the Anki hooks it listens to."""

    def __init__(self, mw: AnkiQt, package: str) -> None:
        self.mw = mw
        self.package = package
        self.runtime = GuiRuntime(mw, package)
        self.runtime.set_gui(GuiActions(mw))
        self.permission = PermissionAsker(mw, self.runtime)
        self.app: App | None = None
        self.listen_error: str | None = None
        self.events = GuiEvents(
            mw,
            self.publish,
            lambda handler: isinstance(handler, GuiStarter),
            lambda name: self.app is not None and self.app.events.interested(name),
            self.publish_all,
        )
        self.runtime.set_snapshot(self.events.snapshot)

    def publish(self, name: str, data: dict[str, Any]) -> None:
        """Publish on the running server's bus (events while it is restarting have nobody to go to)."""
        if self.app is not None:
            self.app.events.publish(name, data)

    def publish_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        if self.app is not None:
            self.app.events.publish_all(events)

    def start(self) -> None:
        self.runtime.register_hooks()
        self.events.register()
        self.mw.addonManager.setConfigUpdatedAction(self.package, self.on_config_updated)
        self.mw.app.aboutToQuit.connect(self.stop)
        install_status_menu(self)
        self.start_server()

    def start_server(self) -> None:
        starter = GuiStarter(self.mw, self.runtime, self.permission.ask, self.events.after_request)
        app = App(self.runtime, self.mw.taskman.run_on_main, starter)
        settings = self.runtime.settings()
        try:
            app.start()
        except (PortInUse, OSError) as exc:
            self.app = None
            self.listen_error = _listen_error_text(exc, settings.webBindAddress, settings.webBindPort)
            log.warning("%s", self.listen_error)
            show_listen_failure(self.mw, self.listen_error)
            return
        self.app = app
        self.listen_error = None
        log.info("listening on %s", app.server.url)

    def stop(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            app.stop()

    def shutdown(self) -> None:
        """Stop serving and forget Anki's hooks (tests; Anki itself just quits)."""
        self.stop()
        self.runtime.unregister_hooks()
        self.events.unregister()
        with contextlib.suppress(TypeError):
            self.mw.app.aboutToQuit.disconnect(self.stop)

    def on_config_updated(self, config: Any) -> None:
        """Anki's config dialog saved: CORS lists and the key apply at once; a new address restarts."""
        before = self.runtime.settings()
        after = self.runtime.reload_settings(config if isinstance(config, dict) else None)
        if (before.webBindAddress, before.webBindPort) != (after.webBindAddress, after.webBindPort):
            self.stop()
            self.start_server()


def _listen_error_text(exc: OSError, host: str, port: int) -> str:
    if isinstance(exc, PortInUse):
        return (
            f"AnkiConnect Live could not listen on {host}:{port}: the port is already in use, usually by another"
            " AnkiConnect add-on. Disable the other add-on, or set another webBindPort in"
            " Tools > Add-ons > AnkiConnect Live > Config."
        )
    return f"AnkiConnect Live could not listen on {host}:{port}: {exc.strerror or exc}."


def current() -> Addon | None:
    """The running add-on, if any."""
    return _current


def main() -> None:
    """Called once when Anki loads the add-on."""
    global _current
    from aqt import mw

    if mw is None or _current is not None:
        return
    _current = Addon(mw, __name__.rsplit(".", 1)[0])
    _current.start()
