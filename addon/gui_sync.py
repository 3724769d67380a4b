"""The sync action inside Anki: the profile's own AnkiWeb login, and Anki's own full-sync steps.

A normal sync runs as a background collection operation (no progress window, the window stays usable);
media then syncs through Anki's media syncer, and the client gets its answer when both are done. A full
sync is never started implicitly: the client must ask for a direction with ``fullSync``, and Anki's own
full upload or download then runs, with its progress window, closing and reopening the collection the
way Anki coordinates it with every open screen.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from aqt import gui_hooks

from ..actions.errors import ActionError
from ..actions.sync import FULL_SYNC_DIRECTIONS, full_sync_direction
from ..actions.sync_session import NOT_CONFIGURED, anki_message
from ..transport.bridge import Done
from ..wire import DEFAULT_VERSION, Outcome

if TYPE_CHECKING:
    from anki.sync import SyncOutput
    from aqt.main import AnkiQt

__all__ = ["GuiSync"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

NOT_LOGGED_IN = f"{NOT_CONFIGURED}: log in to AnkiWeb in Anki first (Tools > Preferences > Syncing)"


class GuiSync:
    def __init__(self, mw: AnkiQt) -> None:
        self._mw = mw

    def start(self, request: dict[str, Any], done: Done) -> None:
        """Run on the main thread; ``done`` gets the Outcome once the sync (media included) has finished."""
        version = request.get("version", DEFAULT_VERSION)
        params = request.get("params") or {}

        def fail(message: str) -> None:
            done(Outcome(version, error=message))

        choice = params.get("fullSync")
        unexpected = sorted(set(params) - {"fullSync"})
        if unexpected:
            return fail(f"AnkiConnect.sync() got an unexpected keyword argument '{unexpected[0]}'")
        if choice is not None and choice not in FULL_SYNC_DIRECTIONS:
            return fail(f'fullSync must be "upload" or "download" (or null), not {choice!r}')
        mw = self._mw
        auth = mw.pm.sync_auth()
        if auth is None:
            return fail(NOT_LOGGED_IN)
        media = mw.pm.media_syncing_enabled()
        gui_hooks.sync_will_start()
        mw._increase_background_ops()

        def finished(future: Future[SyncOutput]) -> None:
            mw._decrease_background_ops()
            mw.col._load_scheduler()  # as Anki does after a sync: scheduler settings may have changed
            try:
                out = future.result()
            except Exception as exc:
                gui_hooks.sync_did_finish()
                return fail(self._failure_text(exc))
            mw.pm.set_host_number(out.host_number)
            if out.new_endpoint:
                mw.pm.set_current_sync_url(out.new_endpoint)
            if out.required in (out.NO_CHANGES, out.NORMAL_SYNC):
                self._after_collection_sync(media, lambda: done(Outcome(version, result=None)))
                return None
            try:
                upload = full_sync_direction(out, choice)
            except ActionError as exc:
                gui_hooks.sync_did_finish()
                return fail(exc.message)
            self._full_sync(out, upload, media, lambda: done(Outcome(version, result=None)))
            return None

        mw.taskman.run_in_background(lambda: mw.col.sync_collection(auth, media), finished, uses_collection=True)
        return None

    def _failure_text(self, exc: Exception) -> str:
        from anki.errors import AnkiException, SyncError, SyncErrorKind

        if isinstance(exc, SyncError) and exc.kind is SyncErrorKind.AUTH:
            self._mw.pm.clear_sync_auth()  # as Anki does: the stored login no longer works
        text = anki_message(exc) if isinstance(exc, AnkiException) else str(exc)
        return f"sync failed: {text}"

    def _after_collection_sync(self, media: bool, answer: Any) -> None:
        mw = self._mw
        gui_hooks.sync_did_finish()
        mw.reset()  # what Anki does after its own sync: the whole collection may have changed
        if not media:
            answer()
            return
        self._wait_for_media(answer)

    def _wait_for_media(self, answer: Any) -> None:
        """The collection sync started the media sync; Anki's media syncer reports when it stops."""
        mw = self._mw
        mw.media_syncer.start_monitoring()
        if not mw.media_syncer.is_syncing():
            answer()
            return

        def on_media(running: bool) -> None:
            if not running:
                gui_hooks.media_sync_did_start_or_stop.remove(on_media)
                answer()

        gui_hooks.media_sync_did_start_or_stop.append(on_media)

    def _full_sync(self, out: SyncOutput, upload: bool, media: bool, answer: Any) -> None:
        from aqt.sync import full_download, full_upload

        server_usn = out.server_media_usn if media else None
        step = full_upload if upload else full_download
        # Anki's own step closes and reopens the collection with every screen told (hooks), as its Sync button
        # does after the user chose a direction; the user chose here through the API.
        step(self._mw, server_usn, lambda: self._after_collection_sync(False, answer))
