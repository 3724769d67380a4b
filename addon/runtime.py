"""What the actions see inside Anki: the profile's collection (when usable), the add-on config, the GUI host."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aqt import gui_hooks

from ..settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from anki.collection import Collection
    from aqt.main import AnkiQt

    from ..actions.context import GuiHost

__all__ = ["GuiRuntime"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])


class GuiRuntime:
    """The Runtime of the desktop app.

    The collection counts as available only between ``profile_did_open`` and ``profile_will_close``, and
    not while Anki has it temporarily closed (full sync, .colpkg import): collection actions then answer
    ``collection is not available`` at once instead of touching a closing database.
    """

    def __init__(self, mw: AnkiQt, package: str, gui: GuiHost | None = None) -> None:
        self._mw = mw
        self._package = package
        self._gui = gui
        self._open = mw.col is not None
        self._snapshot: Callable[[], list[tuple[str, dict[str, Any]]]] = list
        self._settings = self._read_settings()

    # Runtime protocol

    def collection(self) -> Collection | None:
        return self._mw.col if self._open else None

    def settings(self) -> Settings:
        return self._settings

    def profile_name(self) -> str | None:
        return self._mw.pm.name if self._mw.pm else None

    def gui(self) -> GuiHost | None:
        return self._gui

    def set_gui(self, gui: GuiHost) -> None:
        self._gui = gui

    def set_snapshot(self, snapshot: Callable[[], list[tuple[str, dict[str, Any]]]]) -> None:
        self._snapshot = snapshot

    def event_snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        """The current state as events (runs on the main thread, through the bridge)."""
        return self._snapshot()

    def profiles(self) -> list[str]:
        return list(self._mw.pm.profiles())

    def load_profile(self, name: str) -> bool:
        """Start switching to ``name`` (Anki switches asynchronously); see ``switch_profile`` to wait."""
        if name not in self.profiles():
            return False
        if name != self._mw.pm.name:
            self.switch_profile(name, lambda: None)
        return True

    def switch_profile(self, name: str, opened: Callable[[], None]) -> None:
        """Close the open profile (Anki saves it, and syncs if the user asked for that), open ``name``."""
        mw = self._mw

        def load() -> None:
            mw.pm.load(name)
            mw.loadProfile(onsuccess=opened)

        open_collection: Collection | None = mw.col  # None while no profile is open
        if open_collection is None:
            load()
        else:
            mw.unloadProfile(load)

    def reload_collection(self) -> None:
        """Inside Anki the collection is always current; refresh every screen, for changes made elsewhere."""
        from anki.collection import OpChanges
        from aqt.operations import on_op_finished

        everything = OpChanges(
            card=True, note=True, deck=True, tag=True, notetype=True, config=True, deck_config=True, mtime=True,
            browser_table=True, browser_sidebar=True, note_text=True, study_queues=True,
        )  # fmt: skip
        on_op_finished(self._mw, everything, initiator=self)

    # configuration

    def reload_settings(self, config: dict[str, Any] | None = None) -> Settings:
        """Re-read the add-on config (after Anki's config dialog or our own writes)."""
        self._settings = self._read_settings(config)
        return self._settings

    def write_config(self, changes: dict[str, Any]) -> None:
        """Change some config keys, save them the way Anki's config dialog does, and apply them."""
        manager = self._mw.addonManager
        config = manager.getConfig(self._package) or {}
        config.update(changes)
        manager.writeConfig(self._package, config)
        self.reload_settings(config)

    def _read_settings(self, config: dict[str, Any] | None = None) -> Settings:
        if config is None:
            config = self._mw.addonManager.getConfig(self._package) or {}
        try:
            return load_settings(config)
        except SettingsError as exc:
            log.error("invalid add-on config, using the defaults: %s", exc)
            return load_settings()

    # collection lifecycle, from Anki's hooks (each must never raise: Anki drops a hook that raises)

    def register_hooks(self) -> None:
        gui_hooks.profile_did_open.append(self.on_profile_did_open)
        gui_hooks.profile_will_close.append(self.on_profile_will_close)
        gui_hooks.collection_will_temporarily_close.append(self.on_collection_will_temporarily_close)
        gui_hooks.collection_did_temporarily_close.append(self.on_collection_did_temporarily_close)

    def unregister_hooks(self) -> None:
        gui_hooks.profile_did_open.remove(self.on_profile_did_open)
        gui_hooks.profile_will_close.remove(self.on_profile_will_close)
        gui_hooks.collection_will_temporarily_close.remove(self.on_collection_will_temporarily_close)
        gui_hooks.collection_did_temporarily_close.remove(self.on_collection_did_temporarily_close)

    def on_profile_did_open(self) -> None:
        self._open = True

    def on_profile_will_close(self) -> None:
        self._open = False

    def on_collection_will_temporarily_close(self, col: Any) -> None:
        self._open = False

    def on_collection_did_temporarily_close(self, col: Any) -> None:
        self._open = True
