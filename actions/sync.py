"""The sync action: the open collection and its media with AnkiWeb or a self-hosted sync server.

Headless, the account comes from the configuration (``syncEndpoint``, ``syncUser``) and the password from the
environment variable ``ANKICONNECT_LIVE_SYNC_PASSWORD``, read only when a login is needed. The login's host key
is kept in memory for the server's lifetime; the password is never stored, logged or returned.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .context import Context
from .errors import ActionError, InvalidParams
from .registry import Registry
from .sync_session import PASSWORD_ENV, SyncFailed, SyncSession, anki_message

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.sync import SyncAuth, SyncOutput

__all__ = ["FULL_SYNC_DIRECTIONS", "PASSWORD_ENV", "FullSyncRequired", "full_sync_direction", "registry"]

registry = Registry("sync")
action = registry.action

log = logging.getLogger(__name__.rsplit(".", 2)[0])

FULL_SYNC_DIRECTIONS = ("upload", "download")

_UPLOAD = '{"fullSync": "upload"} to replace the server\'s copy with this one'
_DOWNLOAD = '{"fullSync": "download"} to replace this one with the server\'s'
_BOTH_WAYS = (
    "full sync required: the collection and the server differ too much to merge; "
    f"call sync with {_UPLOAD}, or {_DOWNLOAD}"
)
_UPLOAD_ONLY = f"full sync required: the server's collection has no cards; call sync with {_UPLOAD}"
_DOWNLOAD_ONLY = f"full sync required: this collection has no cards; call sync with {_DOWNLOAD}"
_NO_DOWNLOAD = (
    'fullSync "download" refused: the server\'s collection has no cards, so downloading it would empty this one; '
    f"call sync with {_UPLOAD}"
)
_NO_UPLOAD = (
    'fullSync "upload" refused: this collection has no cards, so uploading it would empty the server\'s; '
    f"call sync with {_DOWNLOAD}"
)


class FullSyncRequired(ActionError):
    """The server cannot merge: the caller must choose a direction (nothing was changed)."""


@action("sync")
def sync(ctx: Context, *, fullSync: str | None = None) -> None:
    """Sync the collection and its media with AnkiWeb or `syncEndpoint`; `fullSync` settles a required full sync.

    A normal sync merges both sides and returns null once the media sync has finished too (with ``syncMedia``).
    When the server answers that only a full sync is possible, nothing is changed and the error says which
    directions are possible; calling again with ``fullSync`` ("upload" or "download") then replaces one side
    with the other. Without a required full sync, ``fullSync`` is ignored and a normal sync runs.
    """
    if fullSync is not None and fullSync not in FULL_SYNC_DIRECTIONS:
        raise InvalidParams(f'fullSync must be "upload" or "download" (or null), not {fullSync!r}')
    col = ctx.col
    session = SyncSession.of(ctx.runtime, ctx.settings)
    ctx.publish("sync.started", {})
    ok = False
    try:
        _sync(col, session, ctx.settings.syncMedia, fullSync)
        ok = True
    finally:
        ctx.publish("sync.finished", {"ok": ok})


def _sync(col: Collection, session: SyncSession, media: bool, choice: str | None) -> None:
    auth, out = session.sync_collection(col, media)
    if out.server_message:
        log.warning("sync: message from the sync server: %s", out.server_message)
    if out.required in (out.NO_CHANGES, out.NORMAL_SYNC):
        col._load_scheduler()  # as Anki does after a sync: the scheduler settings may have changed
        log.info("sync: collection synced with %s", session.where)
    else:
        upload = full_sync_direction(out, choice)
        server_usn = out.server_media_usn if media else None
        _full_sync(col, auth, upload=upload, server_usn=server_usn, where=session.where)
    if media:
        _wait_for_media(col)


def full_sync_direction(out: SyncOutput, choice: str | None) -> bool:
    """Whether to upload, given what the server allows and what the caller chose; raises when no choice fits."""
    if out.required == out.FULL_UPLOAD:  # the server has no cards
        if choice is None:
            raise FullSyncRequired(_UPLOAD_ONLY)
        if choice == "download":
            raise FullSyncRequired(_NO_DOWNLOAD)
    elif out.required == out.FULL_DOWNLOAD:  # this collection has no cards
        if choice is None:
            raise FullSyncRequired(_DOWNLOAD_ONLY)
        if choice == "upload":
            raise FullSyncRequired(_NO_UPLOAD)
    elif choice is None:
        raise FullSyncRequired(_BOTH_WAYS)
    return choice == "upload"


def _full_sync(col: Collection, auth: SyncAuth, *, upload: bool, server_usn: int | None, where: str) -> None:
    """Replace the server's collection with this one (upload) or this one with the server's (download)."""
    from anki.errors import AnkiException

    if not upload:
        _backup(col)
    direction = "upload" if upload else "download"
    log.info("sync: full %s with %s", direction, where)
    col.close_for_full_sync()
    try:
        # The backend reopens the collection whatever the outcome, and starts the media sync on success
        # when given the server's media usn.
        col.full_upload_or_download(auth=auth, server_usn=server_usn, upload=upload)
    except AnkiException as exc:
        raise SyncFailed(f"full sync ({direction}) with {where} failed: {anki_message(exc)}") from None
    finally:
        _reopen(col)
    log.info("sync: full %s with %s done", direction, where)


def _backup(col: Collection) -> None:
    """Back the collection up next to it (``backups/``, as Anki does in a profile) before it is replaced."""
    from anki.errors import AnkiException

    folder = Path(col.path).parent / "backups"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        col.create_backup(backup_folder=str(folder), force=True, wait_for_completion=True)
    except (OSError, AnkiException) as exc:
        text = anki_message(exc) if isinstance(exc, AnkiException) else str(exc)
        raise SyncFailed(f"full sync (download) not started: backing up the collection failed: {text}") from None


def _reopen(col: Collection) -> None:
    """Make the collection usable again after a full sync attempt, whatever happened."""
    from anki.errors import AnkiException

    col.reopen(after_full_sync=True)
    try:
        if col.db is not None:
            col.db.scalar("select 1")
    except AnkiException:
        # The backend could not rebuild its collection: open the file again from scratch.
        log.warning("sync: reopening the collection after the full sync")
        col.db = None
        col.reopen()


def _wait_for_media(col: Collection) -> None:
    """Wait for the media sync the backend runs in the background; raise its error, if any."""
    from anki.errors import AnkiException

    delay = 0.005
    try:
        while col.media_sync_status().active:
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    except AnkiException as exc:
        raise SyncFailed(f"sync: the collection was synced, but the media sync failed: {anki_message(exc)}") from None
