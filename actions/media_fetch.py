"""Reading the bytes of a media file a client points at: base64 ``data``, a local ``path`` or a ``url``.

Every action that takes media (``storeMediaFile`` and the media objects of notes) comes through
``fetch_media``, so the limits live here: ``path`` only inside ``mediaPathAllowList`` (when set) and never a
device or a pipe, ``url`` only http(s) within ``webTimeout`` and ``webMaxDownloadBytes``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import os
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO

from ..settings import Settings
from .errors import ActionError, InvalidParams

__all__ = ["NO_SOURCE", "MediaBytes", "MediaPolicy", "fetch_media", "media_policy"]

NO_SOURCE = 'You must provide a "data", "path", or "url" field.'

_DOWNLOAD_SCHEMES = ("http", "https")
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class MediaBytes:
    """A media file's content, fetched but not stored yet."""

    filename: str
    data: bytes

    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class MediaPolicy:
    """Where ``path`` may read from (None: anywhere, as upstream) and how large a fetched file may be."""

    allowed_folders: tuple[str, ...] | None
    max_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> MediaPolicy:
        folders = settings.mediaPathAllowList
        if folders is not None:
            folders = tuple(os.path.realpath(os.path.expanduser(f)) for f in folders)
        return cls(folders, settings.webMaxDownloadBytes)


_policy: ContextVar[MediaPolicy | None] = ContextVar("ankiconnect_live_media_policy", default=None)
_DEFAULT_POLICY = MediaPolicy.of(Settings())


@contextmanager
def media_policy(settings: Settings) -> Iterator[None]:
    """Apply ``settings``' media limits to every fetch while this block runs (one request, on its thread).

    The server sets this around each request, as it sets where events go: note media are fetched by helpers
    that are handed no settings. Outside a request the defaults apply (upstream's: any path).
    """
    token = _policy.set(MediaPolicy.of(settings))
    try:
        yield
    finally:
        _policy.reset(token)


def fetch_media(
    filename: str,
    *,
    data: str | None,
    path: str | None,
    url: str | None,
    timeout_ms: float,
    policy: MediaPolicy | None = None,
) -> MediaBytes:
    """Read the bytes a client provided: ``data`` (base64) wins over ``path``, which wins over ``url``."""
    limits = policy or _policy.get() or _DEFAULT_POLICY
    if data:
        try:
            return MediaBytes(filename, base64.b64decode(data))
        except (binascii.Error, ValueError) as exc:
            raise InvalidParams(f"data is not valid base64: {exc}") from None
    if path:
        return MediaBytes(filename, _read_path(path, limits))
    if url:
        return MediaBytes(filename, _download(url, timeout_ms, limits.max_bytes))
    raise InvalidParams(NO_SOURCE)


def _read_path(path: str, policy: MediaPolicy) -> bytes:
    """A regular file's bytes; with an allow-list, only a file whose real location is in an allowed folder."""
    target = path
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if policy.allowed_folders is not None:
        # The real path, symlinks and ".." resolved, is what must lie inside; opening it with O_NOFOLLOW
        # refuses a last component swapped for a symlink after the check.
        target = os.path.realpath(path)
        if not any(_inside(target, folder) for folder in policy.allowed_folders):
            raise ActionError(f"path is outside the folders media may be read from (mediaPathAllowList): {path}")
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer (it would stall the collection thread).
        fd = os.open(target, flags)
    except OSError as exc:
        # Upstream's text (str of the OSError), raised as an action error so addNotes can list it.
        raise ActionError(str(exc)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ActionError(f"path is not a regular file: {path}")  # /dev/zero, a pipe, a folder
    with os.fdopen(fd, "rb") as file:
        if info.st_size > policy.max_bytes:
            raise ActionError(f"{path} is larger than {policy.max_bytes} bytes (webMaxDownloadBytes)")
        try:
            content = file.read(policy.max_bytes + 1)  # a file still growing stops at the limit
        except OSError as exc:
            raise ActionError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(content) > policy.max_bytes:
        raise ActionError(f"{path} is larger than {policy.max_bytes} bytes (webMaxDownloadBytes)")
    return content


def _inside(target: str, folder: str) -> bool:
    return target == folder or target.startswith(folder.rstrip(os.sep) + os.sep)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects like urllib, but never to ``ftp:`` (urllib's default allows it)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in _DOWNLOAD_SCHEMES:
            fp.close()
            raise ActionError(f"{req.full_url} download failed: redirected to a non-HTTP URL {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_HttpOnlyRedirects)
"""Also honours the usual proxy environment variables, as Anki's own downloads do."""


def _download(url: str, timeout_ms: float, max_bytes: int) -> bytes:
    """GET ``url`` within ``timeout_ms`` (``webTimeout``) and ``max_bytes``; only http and https."""
    # urllib would also read file:, ftp: and data: URLs; a client asking for a web download must not read
    # local files that way (path= is the explicit, documented way to do that).
    if urllib.parse.urlsplit(url).scheme.lower() not in _DOWNLOAD_SCHEMES:
        raise InvalidParams(f"{url} download failed: only http and https URLs can be downloaded")
    timeout = max(timeout_ms, 1) / 1000  # 0 would make a non-blocking socket, negative an error
    timed_out = ActionError(f"{url} download failed: timed out after {timeout_ms:.0f} ms (webTimeout)")
    too_large = ActionError(f"{url} download failed: larger than {max_bytes} bytes (webMaxDownloadBytes)")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": "AnkiConnect Live"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise ActionError(f"{url} download failed with return code {response.status}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_large  # refused before reading a byte of it
            # The socket timeout bounds each read; the deadline bounds a server that trickles bytes, and the
            # running total one that sends more than it declared (or declares nothing).
            chunks: list[bytes] = []
            received = 0
            while chunk := response.read1(_CHUNK):
                chunks.append(chunk)
                received += len(chunk)
                if received > max_bytes:
                    raise too_large
                if time.monotonic() > deadline:
                    raise timed_out
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise ActionError(f"{url} download failed with return code {exc.code}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise timed_out from None
        raise ActionError(f"{url} download failed: {exc.reason}") from None
    except TimeoutError:
        raise timed_out from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise ActionError(f"{url} download failed: {exc or type(exc).__name__}") from None
