"""Media actions, and the media helpers note actions share (fetching bytes, storing them safely)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .context import Context
from .errors import ActionError, InvalidParams
from .registry import Registry

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["NO_SOURCE", "MediaBytes", "fetch_media", "registry", "safe_media_name", "store_media", "stored_media_name"]

registry = Registry("media")
action = registry.action

_ILLEGAL = re.compile(r'[][><:"/?*^\\|\0\r\n]')
"""Characters Anki refuses in media names (the same set its legacy ``stripIllegal`` used)."""


NO_SOURCE = 'You must provide a "data", "path", or "url" field.'


@dataclass(frozen=True, slots=True)
class MediaBytes:
    """A media file's content, fetched but not stored yet."""

    filename: str
    data: bytes

    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()


def fetch_media(
    filename: str,
    *,
    data: str | None,
    path: str | None,
    url: str | None,
    timeout_ms: float,
) -> MediaBytes:
    """Read the bytes a client provided: ``data`` (base64) wins over ``path``, which wins over ``url``."""
    if data:
        try:
            return MediaBytes(filename, base64.b64decode(data))
        except (binascii.Error, ValueError) as exc:
            raise InvalidParams(f"data is not valid base64: {exc}") from None
    if path:
        try:
            return MediaBytes(filename, Path(path).read_bytes())
        except OSError as exc:
            # Upstream's text (str of the OSError), raised as an action error so addNotes can list it.
            raise ActionError(str(exc)) from None
    if url:
        return MediaBytes(filename, _download(url, timeout_ms / 1000))
    raise InvalidParams(NO_SOURCE)


def _download(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "AnkiConnect Live"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status != 200:
                raise ActionError(f"{url} download failed with return code {response.status}")
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        raise ActionError(f"{url} download failed with return code {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ActionError(f"{url} download failed: {reason}") from None


def store_media(col: Collection, media: MediaBytes, *, delete_existing: bool) -> str:
    """Write the file into the media folder; Anki may rename it (illegal characters, name clash)."""
    if delete_existing:
        # The file write_data would clash with: Anki strips the separators rather than taking the
        # basename ("../x" is stored as "..x"), so trashing "x" would delete an unrelated file.
        name = stored_media_name(media.filename)
        if name and col.media.have(name):
            col.media.trash_files([name])
    return col.media.write_data(media.filename, media.data)


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
    media = fetch_media(filename, data=data, path=path, url=url, timeout_ms=ctx.settings.webTimeout)
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
