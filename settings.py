"""Typed, frozen configuration shared by every part of the server."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["DEFAULTS_FILE", "SYNC_PASSWORD_ENV", "Settings", "SettingsError", "load_settings"]

DEFAULTS_FILE = Path(__file__).with_name("config.json")

API_VERSION = 6
SYNC_PASSWORD_ENV = "ANKICONNECT_LIVE_SYNC_PASSWORD"
"""The sync password is only ever read from this environment variable (never config, flags or logs)."""


class SettingsError(ValueError):
    """A configuration value has the wrong type or an impossible value."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every option the server reads, under the add-on config's key names.

    The keys match AnkiConnect's ``config.json`` so an existing configuration keeps working; the options
    AnkiConnect does not have are documented in ``config.md``.
    """

    apiKey: str | None = None
    apiLogPath: str | None = None
    webBindAddress: str = "127.0.0.1"
    webBindPort: int = 8765
    webCorsOriginList: tuple[str, ...] = ("http://localhost",)
    ignoreOriginList: tuple[str, ...] = ()
    webHostAllowList: tuple[str, ...] = ()
    webMaxBodyBytes: int = 256 * 1024 * 1024
    webTimeout: int = 10000
    webMaxDownloadBytes: int = 256 * 1024 * 1024
    mediaPathAllowList: tuple[str, ...] | None = None
    """Folders ``path`` media may be read from; None means anywhere (upstream's behaviour)."""
    syncEndpoint: str | None = None
    syncUser: str | None = None
    syncMedia: bool = True
    eventHistory: int = 10_000
    eventQueueSize: int = 2_000
    # Hidden upstream keys, honoured when present.
    webCorsOrigin: str | None = None
    apiVersion: int = API_VERSION
    # Transport timeouts in seconds; not in config.json because few users need them.
    webHeadTimeout: float = 10.0
    webIdleTimeout: float = 60.0
    webMaxHeadBytes: int = 64 * 1024
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def api_key(self) -> str | None:
        """The key clients must send, or None when no key is required (an empty string means none)."""
        return self.apiKey or None

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """The allow-list, with the deprecated single ``webCorsOrigin`` appended as upstream does."""
        if self.webCorsOrigin:
            return (*self.webCorsOriginList, self.webCorsOrigin)
        return self.webCorsOriginList

    def updated(self, **changes: Any) -> Settings:
        """A copy with some options replaced and validated."""
        return _validated(replace(self, **changes))


_LIST_KEYS = {"webCorsOriginList", "ignoreOriginList", "webHostAllowList", "mediaPathAllowList"}
_NULLABLE_LIST_KEYS = {"mediaPathAllowList"}
_KNOWN = {f.name for f in fields(Settings)} - {"extra"}


def load_settings(*sources: Mapping[str, Any]) -> Settings:
    """Merge config mappings (later ones win) over the shipped defaults and validate the result."""
    merged: dict[str, Any] = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    for source in sources:
        merged.update(source)
    known = {k: v for k, v in merged.items() if k in _KNOWN}
    extra = {k: v for k, v in merged.items() if k not in _KNOWN}
    for key in _LIST_KEYS & known.keys():
        value = known[key]
        if value is None and key in _NULLABLE_LIST_KEYS:
            continue
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"config key {key!r} must be a list of strings")
        known[key] = tuple(value)
    return _validated(Settings(**known, extra=extra))


def _validated(settings: Settings) -> Settings:
    for f in fields(Settings):
        value = getattr(settings, f.name)
        expected = _EXPECTED.get(f.name)
        if expected is not None and not _is_instance(value, expected):
            raise SettingsError(f"config key {f.name!r} must be {expected[1]}, not {value!r}")
    if not 0 <= settings.webBindPort <= 65535:
        raise SettingsError(f"config key 'webBindPort' must be a port number, not {settings.webBindPort}")
    if settings.webMaxBodyBytes < 1024:
        raise SettingsError("config key 'webMaxBodyBytes' must be at least 1024")
    if settings.webMaxDownloadBytes < 1:
        raise SettingsError("config key 'webMaxDownloadBytes' must be at least 1")
    folders = settings.mediaPathAllowList
    if folders is not None and not all(Path(f).expanduser().is_absolute() for f in folders):
        # A relative folder would depend on the server's working directory: refuse rather than guess.
        raise SettingsError("config key 'mediaPathAllowList' must list absolute folders")
    return settings


def _is_instance(value: Any, expected: tuple[tuple[type, ...], str]) -> bool:
    types, _ = expected
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


_EXPECTED: dict[str, tuple[tuple[type, ...], str]] = {
    "apiKey": ((str, type(None)), "a string or null"),
    "apiLogPath": ((str, type(None)), "a string or null"),
    "webBindAddress": ((str,), "a string"),
    "webBindPort": ((int,), "an integer"),
    "webMaxBodyBytes": ((int,), "an integer"),
    "webTimeout": ((int, float), "a number"),
    "webMaxDownloadBytes": ((int,), "an integer"),
    "mediaPathAllowList": ((tuple, type(None)), "a list of folders or null"),
    "syncEndpoint": ((str, type(None)), "a string or null"),
    "syncUser": ((str, type(None)), "a string or null"),
    "syncMedia": ((bool,), "true or false"),
    "eventHistory": ((int,), "an integer"),
    "eventQueueSize": ((int,), "an integer"),
    "webCorsOrigin": ((str, type(None)), "a string or null"),
    "apiVersion": ((int,), "an integer"),
    "webHeadTimeout": ((int, float), "a number"),
    "webIdleTimeout": ((int, float), "a number"),
    "webMaxHeadBytes": ((int,), "an integer"),
}
