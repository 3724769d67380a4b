"""Origin, CORS and Host decisions, made in one place for HTTP and the WebSocket handshake."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from ..settings import Settings

__all__ = ["OriginVerdict", "host_allowed", "judge_origin"]

_EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://", "safari-web-extension://")
_LOOPBACK_ORIGINS = ("http://127.0.0.1", "https://127.0.0.1", "http://[::1]", "https://[::1]")


@dataclass(frozen=True, slots=True)
class OriginVerdict:
    """Whether an origin may run actions, and the ``Access-Control-Allow-Origin`` value to send."""

    allowed: bool
    allow_origin: str


def judge_origin(origin: str | None, settings: Settings) -> OriginVerdict:
    """AnkiConnect's allow-list rules (``*``, exact match, and the ``http://localhost`` family).

    Requests without an ``Origin`` header come from native programs, not web pages, and are allowed.
    """
    allow_list = settings.cors_origins
    if "*" in allow_list:
        return OriginVerdict(True, "*")
    if origin is None:
        return OriginVerdict(True, "http://localhost")
    if origin in allow_list:
        return OriginVerdict(True, origin)
    if "http://localhost" in allow_list and _in_localhost_family(origin):
        return OriginVerdict(True, origin)
    return OriginVerdict(False, "http://localhost")


def _in_localhost_family(origin: str) -> bool:
    # Upstream admits loopback IP origins on any port and browser-extension origins when
    # http://localhost is listed; it meant to admit https://127.0.0.1:<port> too (its test repeats http).
    if origin.startswith(_EXTENSION_SCHEMES):
        return True
    for base in _LOOPBACK_ORIGINS:
        if origin == base or (origin.startswith(base + ":") and origin[len(base) + 1 :].isdigit()):
            return True
    return False


def host_allowed(host_header: str | None, settings: Settings) -> bool:
    """Refuse DNS-rebinding requests: a browser tricked into calling us sends the attacker's host name.

    IP literals, ``localhost`` names and the configured ``webHostAllowList`` pass; ``*`` in that list
    disables the check. A request without a Host header (HTTP/1.0 tools) cannot come from a browser.
    """
    if host_header is None or "*" in settings.webHostAllowList:
        return True
    hostname = _hostname(host_header.strip())
    if hostname is None:
        return False
    if hostname == "localhost" or hostname.endswith(".localhost") or _is_ip_address(hostname):
        return True
    allowed = {h.lower().rstrip(".") for h in settings.webHostAllowList}
    return hostname in allowed or hostname == settings.webBindAddress.lower()


@functools.lru_cache(maxsize=64)
def _is_ip_address(hostname: str) -> bool:
    # Asked for every request (parsing it was 3% of the server's work for a keep-alive `version`); clients send
    # the same few Host values.
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def _hostname(host: str) -> str | None:
    host = host.lower()
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return None
        rest = host[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return host[1:end]
    name, sep, port = host.partition(":")
    if sep and not port.isdigit():
        return None
    return name.rstrip(".") or None
