"""The sync account of one server: credentials from the configuration and environment, one login, its key.

The password is read from the environment only when a login is needed and is never kept, logged or returned;
the host key the login yields is kept in memory per runtime (one per server), so later syncs need no login.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import urllib.parse
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..settings import SYNC_PASSWORD_ENV
from .errors import ActionError, Unavailable

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.errors import AnkiException
    from anki.sync import SyncAuth, SyncOutput

    from ..settings import Settings
    from .context import Runtime

__all__ = ["NOT_CONFIGURED", "PASSWORD_ENV", "SyncFailed", "SyncSession", "anki_message"]

log = logging.getLogger(__name__.rsplit(".", 2)[0])

PASSWORD_ENV = SYNC_PASSWORD_ENV

NOT_CONFIGURED = "sync: auth not configured"
"""Upstream's text when no account is set up; our messages start with it and add what is missing."""


class SyncFailed(ActionError):
    """The sync server refused, or the network failed; the message is the cleaned-up reason."""


@dataclass(frozen=True, slots=True)
class _Login:
    endpoint: str | None
    user: str
    auth: SyncAuth


_logins: weakref.WeakKeyDictionary[object, _Login] = weakref.WeakKeyDictionary()
_logins_lock = threading.Lock()


class SyncSession:
    """The account a runtime syncs with, as configured now; logs in when it has no host key for it."""

    def __init__(self, runtime: Runtime, endpoint: str | None, user: str | None) -> None:
        self._runtime = runtime
        self.endpoint = endpoint
        self.user = user

    @classmethod
    def of(cls, runtime: Runtime, settings: Settings) -> SyncSession:
        return cls(runtime, _checked_endpoint(settings.syncEndpoint), settings.syncUser or None)

    @property
    def where(self) -> str:
        """The server, for messages and the log: the configured endpoint (without user info), or AnkiWeb."""
        if not self.endpoint:
            return "AnkiWeb"
        parts = urllib.parse.urlsplit(self.endpoint)
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()

    def sync_collection(self, col: Collection, media: bool) -> tuple[SyncAuth, SyncOutput]:
        """Run Anki's normal sync; a rejected remembered key is dropped and the login done again, once."""
        from anki.errors import AnkiException, SyncError, SyncErrorKind

        auth, fresh = self._auth(col)
        try:
            out = col.sync_collection(auth, media)
        except SyncError as exc:
            if exc.kind is not SyncErrorKind.AUTH or fresh:
                raise self._failed(exc) from None
            log.info("sync: the sync server rejected the remembered login; logging in again")
            self._forget()
            auth, _ = self._auth(col)
            try:
                out = col.sync_collection(auth, media)
            except AnkiException as again:
                raise self._failed(again) from None
        except AnkiException as exc:
            raise self._failed(exc) from None
        if out.new_endpoint:
            # AnkiWeb may move an account to another host: later requests go there.
            auth.endpoint = out.new_endpoint
            log.info("sync: the sync server moved this account to %s", out.new_endpoint)
        return auth, out

    def _auth(self, col: Collection) -> tuple[SyncAuth, bool]:
        """The host key for the configured account, and whether it was just obtained."""
        known = self._remembered()
        if known is not None and known.endpoint == self.endpoint and known.user == self.user:
            return known.auth, False
        auth = self._login(col)
        # A runtime that cannot be weakly referenced (none so far) would log in on every sync.
        with _logins_lock, contextlib.suppress(TypeError):
            _logins[self._runtime] = _Login(self.endpoint, self.user or "", auth)
        return auth, True

    def _login(self, col: Collection) -> SyncAuth:
        from anki.errors import AnkiException, SyncError, SyncErrorKind

        if not self.user:
            raise Unavailable(
                f"{NOT_CONFIGURED}: set syncUser in the configuration (or serve --sync-user) "
                f"and the password in the environment variable {PASSWORD_ENV}"
            )
        if not os.environ.get(PASSWORD_ENV):
            raise Unavailable(
                f"{NOT_CONFIGURED}: the environment variable {PASSWORD_ENV} (the password of syncUser "
                f"{self.user!r}) is not set"
            )
        try:
            auth = col.sync_login(self.user, os.environ[PASSWORD_ENV], self.endpoint)
        except SyncError as exc:
            if exc.kind is SyncErrorKind.AUTH:
                raise SyncFailed(
                    f"sync: login as {self.user!r} at {self.where} failed: {anki_message(exc)} "
                    f"Check syncUser and the password in {PASSWORD_ENV}."
                ) from None
            raise self._failed(exc) from None
        except AnkiException as exc:
            raise self._failed(exc) from None
        log.info("sync: logged in to %s as %s", self.where, self.user)
        return auth

    def _remembered(self) -> _Login | None:
        with _logins_lock:
            try:
                return _logins.get(self._runtime)
            except TypeError:
                return None

    def _forget(self) -> None:
        with _logins_lock, contextlib.suppress(TypeError):
            _logins.pop(self._runtime, None)

    def _failed(self, exc: AnkiException) -> SyncFailed:
        from anki.errors import SyncError, SyncErrorKind

        if isinstance(exc, SyncError) and exc.kind is SyncErrorKind.AUTH:
            self._forget()
        return SyncFailed(f"sync with {self.where} failed: {anki_message(exc)}")


def _checked_endpoint(endpoint: str | None) -> str | None:
    """The configured server, or None for AnkiWeb; refuses what Anki would only call "invalid"."""
    if not endpoint:
        return None
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncFailed(f"sync: syncEndpoint must be an http:// or https:// URL, not {endpoint!r}")
    if not parts.path.endswith("/"):
        # Anki resolves its requests against the endpoint: without the slash, a last path part would be dropped.
        parts = parts._replace(path=parts.path + "/")
    return parts.geturl()


def anki_message(exc: AnkiException) -> str:
    """An error from Anki's backend as one plain line: no isolation marks, no blank lines."""
    text = str(exc).replace("\u2068", "").replace("\u2069", "")
    return " ".join(text.split()) or type(exc).__name__
