"""The request log (``apiLogPath``): one JSON line per request and one per reply, secrets redacted.

Upstream wrote pretty-printed ``[request]``/``[reply]`` blocks holding API keys and base64 media. Here each
line is a JSON object (``jq``-friendly): ``{"time", "n", "kind": "request", "transport", "peer", "origin",
"request"}`` then ``{"time", "n", "kind": "reply", "ms", "reply"}`` with the same ``n``. Keys, passwords and
``data`` payloads are replaced (see ``redact.py``) before a line is written, and a key given in the URL is
never part of a record. The file is opened for appending when the server starts; lines are written by a
thread of their own, so a slow disk never holds up the event loop.
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .redact import redact
from .wire import Caller, Outcome

__all__ = ["RequestLog"]

log = logging.getLogger(__name__.rsplit(".", 1)[0])

_STOP = object()


class RequestLog:
    """Opened with ``open`` (raises OSError naming the file), closed with ``close`` (writes what is queued)."""

    def __init__(self, path: Path, file: IO[str]) -> None:
        self.path = path
        self._file = file
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._numbers = itertools.count(1)
        self._thread = threading.Thread(target=self._write, name="ankiconnect-live-request-log", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, path: str) -> RequestLog:
        target = Path(path).expanduser()
        try:
            file = target.open("a", encoding="utf-8")
        except OSError as exc:
            raise OSError(exc.errno, f"cannot open the request log (apiLogPath) {target}: {exc.strerror}") from None
        return cls(target, file)

    def request(self, request: Any, caller: Caller) -> tuple[int, float]:
        """Log a request; returns what ``reply`` needs to pair the reply with it."""
        number = next(self._numbers)
        record = {
            "time": _now(),
            "n": number,
            "kind": "request",
            "transport": caller.transport,
            "peer": caller.peer,
            "origin": caller.origin,
            # Redacted here, on the caller's thread: the handler may still change the objects later.
            "request": redact(request),
        }
        self._queue.put(record)
        return number, time.perf_counter()

    def reply(self, ticket: tuple[int, float], outcome: Outcome) -> None:
        number, started = ticket
        ms = round((time.perf_counter() - started) * 1000, 3)
        record = {"time": _now(), "n": number, "kind": "reply", "ms": ms, "reply": redact(outcome.reply())}
        self._queue.put(record)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(10)

    def _write(self) -> None:
        failed = False
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            try:
                self._file.write(json.dumps(item, ensure_ascii=False, default=repr) + "\n")
                if self._queue.empty():
                    self._file.flush()  # a burst is written in one go, a quiet moment is on disk
            except (OSError, ValueError) as exc:
                if not failed:  # a full disk must not flood the log with one warning per request
                    log.warning("cannot write the request log %s: %s", self.path, exc)
                failed = True
        try:
            self._file.close()
        except OSError as exc:
            log.warning("cannot write the request log %s: %s", self.path, exc)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
