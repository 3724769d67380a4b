"""Every error an action reports, each carrying AnkiConnect's exact wire text."""

from __future__ import annotations

import logging
import re

__all__ = [
    "ActionError",
    "CollectionUnavailable",
    "Denied",
    "Duplicate",
    "InvalidParams",
    "NotFound",
    "Unavailable",
    "UnsupportedAction",
    "error_text",
    "storage_problem",
]

log = logging.getLogger(__name__.rsplit(".", 2)[0])


class ActionError(Exception):
    """Root of the errors an action raises on purpose; ``str()`` is the wire message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(ActionError):
    """A named or numbered object does not exist (``model was not found: X``)."""


class InvalidParams(ActionError):
    """The params have the wrong names, types or values."""


class Unavailable(ActionError):
    """Something the action needs is missing (no collection, no GUI)."""


class CollectionUnavailable(Unavailable):
    def __init__(self) -> None:
        super().__init__("collection is not available")


class Denied(ActionError):
    """The caller may not run this action (wrong API key)."""


class Duplicate(ActionError):
    """The note would be a duplicate."""


class UnsupportedAction(ActionError):
    def __init__(self) -> None:
        super().__init__("unsupported action")


def error_text(exc: BaseException) -> str:
    """The message a client sees for any exception an action let escape.

    Expected errors (ours, and Anki's own ``NotFoundError``/``InvalidInput``/``SearchError``) carry their
    text as is. Anything else is a bug or an environment failure: the client still gets ``str(exc)``, as
    upstream does, and the traceback goes to the log.
    """
    if isinstance(exc, ActionError):
        return exc.message
    from anki.errors import AnkiException, DBError

    if not isinstance(exc, AnkiException):
        log.error("action failed unexpectedly", exc_info=exc)
    text = str(exc)
    if isinstance(exc, DBError) and (storage := storage_problem(text)) is not None:
        log.warning("the collection could not be written: %s", text)
        return storage
    if isinstance(exc, DBError) and (too_large := _TOO_LARGE.search(text)) is not None:
        # A search of a thousand or so terms: SQLite's limit, which Anki passes on as a Rust debug dump.
        return f"Invalid search: too many terms for SQLite ({too_large.group()})"
    return text if text else type(exc).__name__


_TOO_LARGE = re.compile(r"Expression tree is too large \(maximum depth \d+\)")


_STORAGE_PROBLEMS = (
    ("database or disk is full", "cannot write the collection: the disk is full"),
    ("readonly database", "cannot write the collection: the collection file or its folder is read-only"),
    ("disk I/O error", "cannot use the collection: the disk reported an I/O error (folder read-only or gone?)"),
)


def storage_problem(text: str) -> str | None:
    """A clear message for SQLite's storage failures, which Anki passes on as a Rust debug dump.

    The original SQLite words stay at the end, so clients matching on them still find them.
    """
    for words, meaning in _STORAGE_PROBLEMS:
        if words in text:
            return f"{meaning} ({words})"
    return None
