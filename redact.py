"""Keeping secrets and bulk payloads out of logs: API keys, passwords, base64 media.

Used by the request log (``apiLogPath``) and by the transport's log records, so that neither ever holds
a key, whatever the log level. Imports neither ``anki`` nor ``aqt``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["REDACTED", "RedactingFilter", "redact", "redact_text"]

REDACTED = "<redacted>"

_SECRET_NAME = re.compile(r"(?:key|hkey|apikey|api_key|password|passwd|secret|token|.+Key|.+_key)\Z")
"""``key``, ``apiKey``, ``syncKey``, ``password``... (a note field named ``Key`` is not matched: case counts)."""

_BASE64 = re.compile(r"[A-Za-z0-9+/=_\-\s]+\Z")
LONG_TEXT = 256
"""A string this long made only of base64 characters is taken for a payload (retrieveMediaFile's reply)."""

_IN_TEXT = [
    # ?key=... in a URL (a WebSocket handshake line, an SSE request)
    (re.compile(r"([?&](?:api)?key=)[^& \t\r\n'\"]*", re.IGNORECASE), r"\1" + REDACTED),
    # "key": "..." in JSON, also when cut short at the end of a logged frame
    (re.compile(r"(\"(?:key|apiKey|password)\"\s*:\s*\")[^\"]*"), r"\1" + REDACTED),
]


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON value with secrets replaced by ``<redacted>`` and base64 payloads by their size."""
    if depth > 64:  # deeper than any real request; the dispatcher refuses it anyway
        return "<nested too deeply>"
    if isinstance(value, dict):
        return {str(k): _redact_member(str(k), v, depth) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, depth + 1) for item in value]
    if isinstance(value, str) and len(value) >= LONG_TEXT and _BASE64.match(value):
        return _payload(value)
    return value


def _redact_member(name: str, value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if _SECRET_NAME.match(name):
        return REDACTED
    if name == "data" and isinstance(value, str):
        return _payload(value)
    return redact(value, depth + 1)


def _payload(text: str) -> str:
    return f"<{len(text)} characters of data>"


def redact_text(text: str) -> str:
    """A log line with keys given in URLs or JSON replaced by ``<redacted>``."""
    for pattern, replacement in _IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message so that no API key reaches any handler (used on websockets' logger,
    whose debug lines show handshake URLs and the start of each frame)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is left for logging's own error handling
            return True
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
