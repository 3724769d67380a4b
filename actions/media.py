"""Media actions, and the media helpers note actions share (fetching bytes, storing them safely)."""

from __future__ import annotations

import base64
import contextlib
import glob
import os
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from .context import Context, publish_event
from .media_fetch import NO_SOURCE, MediaBytes, MediaPolicy, fetch_media
from .registry import Registry

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["NO_SOURCE", "MediaBytes", "fetch_media", "registry", "safe_media_name", "store_media", "stored_media_name"]

registry = Registry("media")
action = registry.action

_ILLEGAL = re.compile(r'[][><:"/?*^\\|\0\r\n]')
"""Characters Anki refuses in media names (the same set its legacy ``stripIllegal`` used)."""


def store_media(col: Collection, media: MediaBytes, *, delete_existing: bool) -> str:
    """Write the file into the media folder; Anki may rename it (illegal characters, name clash).

    Publishes ``media.stored`` (Anki has no hook for media files): every action that stores media comes here.
    """
    if delete_existing:
        # The file write_data would clash with: Anki strips the separators rather than taking the
        # basename ("../x" is stored as "..x"), so trashing "x" would delete an unrelated file.
        name = stored_media_name(media.filename)
        if name and col.media.have(name):
            col.media.trash_files([name])
    try:
        stored = col.media.write_data(media.filename, media.data)
    except Exception as exc:
        _remove_partial_file(col, str(exc))
        raise
    publish_event("media.stored", {"filename": stored})
    return stored


_FAILED_WRITE = re.compile(r"^Failed to write '(.+)': ")
"""Anki's text when writing a media file failed (disk full, read-only folder); it names the file."""


def _remove_partial_file(col: Collection, error: str) -> None:
    # Anki writes only to a name that was free (or to a copy with the same content), and leaves what it
    # wrote so far when the disk fills up: remove that, so no truncated file is ever served.
    match = _FAILED_WRITE.match(error)
    if match is None:
        return
    path = os.path.realpath(match.group(1))
    if os.path.dirname(path) == os.path.realpath(col.media.dir()) and os.path.isfile(path):
        with contextlib.suppress(OSError):
            os.remove(path)


def safe_media_name(filename: str) -> str:
    """The name a client's filename refers to inside the media folder, never a path outside it."""
    return stored_media_name(os.path.basename(filename.replace("\\", "/")))


def stored_media_name(filename: str) -> str:
    """NFC with Anki's illegal characters (path separators among them) removed; "" if only dots remain."""
    name = _ILLEGAL.sub("", unicodedata.normalize("NFC", filename))
    return "" if name in (".", "..") else name


@action("storeMediaFile")
def store_media_file(
    ctx: Context,
    *,
    filename: str,
    data: str | None = None,
    path: str | None = None,
    url: str | None = None,
    skipHash: str | None = None,
    deleteExisting: bool | None = True,
) -> str | None:
    """Store a file (base64 ``data``, a local ``path`` or a ``url``) in the media folder; return its name."""
    policy = MediaPolicy.of(ctx.settings)
    media = fetch_media(filename, data=data, path=path, url=url, timeout_ms=ctx.settings.webTimeout, policy=policy)
    if skipHash is not None and media.md5() == skipHash:
        return None
    return store_media(ctx.col, media, delete_existing=bool(deleteExisting))


@action("retrieveMediaFile")
def retrieve_media_file(ctx: Context, *, filename: str) -> str | bool:
    """The base64 content of a media file, or false when there is no such file."""
    name = safe_media_name(filename)
    if not name:
        return False
    path = Path(ctx.col.media.dir(), name)
    if not path.is_file():
        return False
    return base64.b64encode(path.read_bytes()).decode("ascii")


@action("getMediaFilesNames")
def get_media_files_names(ctx: Context, *, pattern: str | None = "*") -> list[str]:
    """Names of the media files matching a glob pattern, sorted; never anything outside the media folder."""
    folder = ctx.col.media.dir()
    pattern = unicodedata.normalize("NFC", "*" if pattern is None else pattern)
    if not _is_name_pattern(pattern):
        return []  # a media file name has no path in it, so such a pattern matches nothing
    # root_dir keeps glob inside the folder; only files count (Anki ignores subfolders).
    names = glob.glob(pattern, root_dir=folder)
    return sorted(name for name in names if os.path.isfile(os.path.join(folder, name)))


def _is_name_pattern(pattern: str) -> bool:
    """True for a pattern that can only match names inside one folder (no separators, drives, ``..``)."""
    separators = {"/", "\\", os.sep, os.altsep or "/"}
    if not pattern or any(sep in pattern for sep in separators):
        return False
    return pattern not in (".", "..") and not os.path.splitdrive(pattern)[0] and not os.path.isabs(pattern)


@action("deleteMediaFile")
def delete_media_file(ctx: Context, *, filename: str) -> None:
    """Move a media file to Anki's media trash; nothing happens when there is no such file."""
    # The name Anki would store the file under: deleteMediaFile(x) removes what storeMediaFile(x) wrote,
    # and a path ("../x", "/etc/x") can never reach outside the media folder.
    name = stored_media_name(filename)
    col = ctx.col
    if name and os.path.isfile(os.path.join(col.media.dir(), name)):
        col.media.trash_files([name])
        ctx.publish("media.deleted", {"filename": name})


@action("getMediaDirPath")
def get_media_dir_path(ctx: Context) -> str:
    """The absolute path of the collection's media folder."""
    return os.path.abspath(ctx.col.media.dir())
