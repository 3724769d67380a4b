"""The event catalogue: every event name the server may publish, with what its ``data`` holds."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

__all__ = ["EVENTS", "UnknownEvent", "matcher"]

EVENTS: dict[str, str] = {
    "profile.opened": "`profile`: a profile (collection) was opened",
    "profile.closed": "`profile`: the profile is closing",
    "ui.stateChanged": "`state`, `previous`: Anki's main screen changed (deckBrowser, overview, review...)",
    "review.questionShown": "`cardId`, `noteId`, `deckId`, `deck`: the reviewer shows a question",
    "review.answerShown": "`cardId`, `noteId`, `deckId`, `deck`: the reviewer shows the answer",
    "review.ended": "(no data): the reviewer closed",
    "card.answered": (
        "`cardId`, `noteId`, `deckId`, `deck`, `ease` (1-4), `timeTaken` (ms), `interval` (days, or negative "
        "seconds while learning), `lastInterval`, `due`, `kind` (learn, review, relearn, filtered), `reviewId`: "
        "a card was answered, in the reviewer or through the API"
    ),
    "note.added": "`noteId`, `modelName`, `deck`, `tags`, `sortField`: a note was added",
    "note.updated": "`noteId`, `modelName`, `deck`, `tags`, `sortField`: a note's fields or tags changed",
    "note.deleted": "`noteId`: a note was deleted",
    "deck.created": "`deckId`, `name`: a deck was created",
    "deck.deleted": "`deckId`, `name`: a deck was deleted",
    "collection.changed": (
        "`changes` (the kinds of data that changed: card, note, deck, tag, notetype, config, deckConfig...), "
        "`source` (`api` or `anki`): anything changed, whoever changed it"
    ),
    "counts.changed": (
        "`deckId`, `deck`, `new`, `learn`, `review`: the current deck's due counts changed (coalesced; "
        "worked out only while someone listens for it, since it costs Anki a recount)"
    ),
    "media.stored": "`filename`: a media file was stored through the API",
    "media.deleted": "`filename`: a media file was deleted through the API",
    "sync.started": "(no data): a sync started",
    "sync.finished": "`ok` (whether it succeeded): a sync finished",
}


class UnknownEvent(ValueError):
    """A subscription names an event (or a pattern) that matches no event."""


def matcher(patterns: Iterable[str] | None) -> frozenset[str]:
    """The event names a subscription receives: exact names and glob patterns (``note.*``, ``*``).

    ``None`` or an empty list means every event. A pattern that matches nothing is an error, so a typo does
    not silently subscribe to nothing.
    """
    chosen: set[str] = set()
    for pattern in patterns or ["*"]:
        if not isinstance(pattern, str) or not pattern:
            raise UnknownEvent(f"event patterns must be non-empty strings, not {pattern!r}")
        regex = re.compile(fnmatch.translate(pattern))
        found = {name for name in EVENTS if regex.match(name)}
        if not found:
            raise UnknownEvent(f"no event matches {pattern!r}; events are: {', '.join(EVENTS)}")
        chosen |= found
    return frozenset(chosen)
