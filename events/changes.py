"""Turning changes to a collection into events, once each, whoever made them.

After anything changed the collection (an API request, an operation in Anki's own screens, the reviewer)
``ChangeDetector.scan`` compares the collection with what it saw last time: new review-log rows are answers,
notes written since (named by the connection's log, ``note_log``; without one, found by their modification
dates) are added or updated notes, notes gone since (the log again; without one, new graves) are deletions,
and the deck list is diffed. The same change therefore yields exactly one event whichever path made it. Runs
on the collection's owner thread.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from .. import note_log
from ..local_changes import PASS_ROWS, every_note, few_pending, notes_by_usn, settled_second
from ..pacing import paced

if TYPE_CHECKING:
    from anki.collection import Collection, OpChanges

__all__ = ["ChangeDetector", "Publish", "PublishAll", "all_changes", "current_counts", "fold_from", "merge_steps"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".events")

Publish = Callable[[str, dict[str, Any]], None]
PublishAll = Callable[[list[tuple[str, dict[str, Any]]]], None]
"""Publishes events in order, at once (``EventBus.publish_all``)."""

FLAGS = (
    ("card", "card"),
    ("note", "note"),
    ("deck", "deck"),
    ("tag", "tag"),
    ("notetype", "notetype"),
    ("config", "config"),
    ("deck_config", "deckConfig"),
    ("note_text", "noteText"),
    ("study_queues", "studyQueues"),
    ("browser_table", "browserTable"),
    ("browser_sidebar", "browserSidebar"),
    ("mtime", "mtime"),
)
KINDS = {0: "learn", 1: "review", 2: "relearn", 3: "filtered"}
"""Review-log types of real answers (4 and up are manual changes: forget, set due date, rescheduling)."""
GRAVE_NOTE = 1
NOTE_FLAGS = ("note", "note_text", "tag")
"""The kinds of change after which notes are read (deleting a deck deletes its notes, flagged as a deck change)."""
NOTE_COLUMNS = "id, mid, mod, tags, sfld, flds"
_LOGGED_COLUMNS = ", ".join(f"n.{column}" for column in NOTE_COLUMNS.split(", "))


@dataclass
class _Seen:
    revlog: int = 0
    note_id: int = 0
    note_mod: int = 0
    """Every note modified before this second has been seen; the ones from it on are in ``recent``."""
    recent: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Notes modified from ``note_mod`` on: id -> (mod, hash of content), to tell a second edit in one second
    (a note's mod counts whole seconds) from a note already reported."""
    sync_from: int | None = None
    """Set as a sync starts: notes it brings were modified elsewhere, at any time after the newest local mod
    (not after the last scan, as local edits are)."""
    graves: set[int] = field(default_factory=set)
    decks: dict[int, str] = field(default_factory=dict)
    counts: tuple[int, int, int, int] | None = None
    notes: int = 0
    """How many notes the collection had when opened or last synced: local changes (usn -1, indexed) are read
    through the index while under a tenth of that."""
    collection: Any = None
    """The collection this describes (a weak reference): a scan of another one, queued before a profile
    switch, finds nothing."""
    log: note_log.Reader = field(default_factory=note_log.Reader)
    """Where the scans are in the connection's log of notes written (``note_log``)."""


class ChangeDetector:
    def __init__(
        self,
        publish: Publish,
        interested: Callable[[str], bool] = lambda name: True,
        publish_all: PublishAll | None = None,
        *,
        pass_in_steps: bool = False,
    ) -> None:
        self._publish = publish
        self._publish_all = publish_all or self._one_by_one
        self._pass_in_steps = pass_in_steps
        self._interested = interested
        self._seen = _Seen()
        # Inside Anki, scans come from the main thread (Anki's own operations) and from the collection
        # thread (API requests); each must see the other's bookkeeping complete.
        self._lock = threading.Lock()

    def baseline(self, col: Collection) -> None:
        """Remember the collection as it is now (when it opens): only later changes become events."""
        db = _db(col)
        seen = _Seen()
        # First, so that whatever is written from here on is in the log.
        note_log.install(col)
        seen.log.restart(db)
        seen.revlog = db.scalar("select coalesce(max(id), 0) from revlog")
        seen.note_id = db.scalar("select coalesce(max(id), 0) from notes")
        # Not the newest mod: a deck imported at once has all its notes in one second, and every scan would
        # read them all again (200k notes: 4 MB decoded while holding the GIL, Anki's window frozen 100 ms).
        seen.note_mod = settled_second()
        seen.recent = {
            note_id: (mod, hash((fields, tags)))
            for note_id, mod, fields, tags in db.all(
                "select id, mod, flds, tags from notes where mod >= ?", seen.note_mod
            )
        }
        seen.graves = set(db.list("select oid from graves where type = ?", GRAVE_NOTE))
        seen.decks = {d.id: d.name for d in col.decks.all_names_and_ids()}
        seen.counts = _counts(col)
        seen.notes = db.scalar("select count() from notes")
        seen.collection = weakref.ref(col)
        with self._lock:
            self._seen = seen

    def scan(self, col: Collection, changes: OpChanges | None = None, *, source: str = "api") -> None:
        """Publish what changed since the last scan; ``changes`` (when known) limits what is looked at."""
        try:
            with self._lock:
                if self._seen.collection is None or self._seen.collection() is col:
                    self._scan(col, changes, source)
        except Exception:  # events must never break the request or Anki's hook that triggered the scan
            log.exception("could not work out what changed")

    def reads_many_notes(self, col: Collection, changes: OpChanges | None, source: str) -> bool:
        """Whether scanning these changes would read many notes: more than ``PASS_ROWS`` written or deleted since
        the last scan, or (where the connection has no log of notes written) the whole notes table, unless on a
        collection synced lately the usn index finds them. Takes no lock: a scan running meanwhile on another
        thread does not hold up the caller (Anki's main thread)."""
        try:
            db, reader = _db(col), self._seen.log
            if reader.reading(db):
                return _wants(changes, *NOTE_FLAGS, "card", "deck") and reader.unread(db) > PASS_ROWS
            return _wants(changes, *NOTE_FLAGS) and not self._local_only(col, changes, source)
        except Exception:
            log.exception("could not tell what a scan would read")
            return False

    def sync_starting(self, col: Collection) -> None:
        """A sync is about to run: remember where the notes it brings will begin."""
        try:
            newest = _db(col).scalar("select coalesce(max(mod), 0) from notes")
            with self._lock:
                self._seen.sync_from = newest + 1
        except Exception:
            log.exception("could not read the collection before a sync")

    def snapshot_counts(self, col: Collection) -> dict[str, Any] | None:
        """The current deck's counts for a snapshot, remembered so the next change is judged against them."""
        with self._lock:
            self._seen.counts = _counts(col)
        return current_counts(col)

    def scan_answers(self, col: Collection) -> None:
        """Publish new answers only (the reviewer's answer hook, which comes before Anki's change notice)."""
        try:
            with self._lock:
                self._answers(col)
        except Exception:
            log.exception("could not read the new answers")

    def _scan(self, col: Collection, changes: OpChanges | None, source: str) -> None:
        if source == "sync":  # it brings notes, or takes them away
            self._seen.notes = _db(col).scalar("select count() from notes")
        if changes is not None and (names := [wire for flag, wire in FLAGS if getattr(changes, flag)]):
            self._publish("collection.changed", {"changes": names, "source": source})
        # A deck made by this change is announced before the notes and answers in it, one deleted after them.
        decks = self._new_decks(col) if _wants(changes, "deck") else None
        if _wants(changes, "card"):
            self._answers(col)
        # Only when notes may have changed, not on every answer: without the log, reading notes means reading
        # the whole table (no index on mod).
        notes, gone = _wants(changes, *NOTE_FLAGS), _wants(changes, "note", "card", "deck")
        logged = self._logged(col, _db(col)) if notes or gone else None
        if notes or logged is not None and logged.rows:
            self._notes(col, changes, source, logged)
        if source == "sync":
            self._seen.sync_from = None
        if gone or logged is not None and logged.deleted:
            self._deletions(col, logged)
        if decks is not None:
            self._gone_decks(decks)
        if _wants(changes, "study_queues", "card", "deck"):
            self._counts(col)

    def _local_only(self, col: Collection, changes: OpChanges | None, source: str) -> bool:
        # Local edits mark notes usn -1 (until the next sync), and that column is indexed: on a synced
        # collection this reads a handful of notes instead of all of them. A sync changes notes with the
        # server's usn, so after a sync (or when the changes are unknown) notes of any usn are looked at;
        # after a sync, from the newest mod before it (``sync_starting``).
        return changes is not None and source != "sync" and few_pending(_db(col), self._seen.notes)

    def _answers(self, col: Collection) -> None:
        rows = _db(col).all(
            "select r.id, r.cid, r.ease, r.ivl, r.lastIvl, r.time, r.type, c.nid, c.did, c.due "
            "from revlog r left join cards c on c.id = r.cid where r.id > ? order by r.id",
            self._seen.revlog,
        )
        for review_id, card_id, ease, ivl, last_ivl, taken, kind, note_id, deck_id, due in rows:
            self._seen.revlog = max(self._seen.revlog, review_id)
            if kind not in KINDS or not 1 <= ease <= 4:
                continue
            self._publish(
                "card.answered",
                {
                    "cardId": card_id,
                    "noteId": note_id,
                    "deckId": deck_id,
                    "deck": self._deck_name(col, deck_id),
                    "ease": ease,
                    "timeTaken": taken,
                    "interval": ivl,
                    "lastInterval": last_ivl,
                    "due": due,
                    "kind": KINDS[kind],
                    "reviewId": review_id,
                },
            )

    def _notes(self, col: Collection, changes: OpChanges | None, source: str, logged: note_log.Written | None) -> None:
        seen = self._seen
        settled = settled_second()  # taken before reading: whatever changes after the read is modified later
        since = seen.note_mod if seen.sync_from is None else min(seen.note_mod, seen.sync_from)
        # This read takes only what telling changes apart needs; decks come after, for changed notes only.
        db = _db(col)
        added: set[int] | None = None
        if logged is not None:
            # Every note written since, whatever its date (imported, brought by a sync, restored by an undo).
            rows, added = logged.rows, logged.added
        elif self._local_only(col, changes, source):
            rows = db.all(f"select {NOTE_COLUMNS} from {notes_by_usn(db)} where usn = -1 and mod >= ?", since)
        else:
            # Notes of the last second are read again by the next scan, to tell a second edit within one
            # second by its content.
            rows = self._every_note_since(db, since)
        changed = []
        for note_id, model_id, mod, tags, sort_field, fields in paced(rows):
            content = hash((fields, tags))
            if seen.recent.get(note_id) == (mod, content):
                continue  # already reported (a note's mod has one-second resolution, so compare content)
            seen.recent[note_id] = (mod, content)
            changed.append((mod, note_id, model_id, tags, sort_field))
        if changed:
            self._publish_notes(col, sorted(changed), added)
        if settled > seen.note_mod:
            seen.note_mod = settled
            seen.recent = {note_id: known for note_id, known in seen.recent.items() if known[0] >= settled}

    def _logged(self, col: Collection, db: Any) -> note_log.Written | None:
        """The notes written and gone since the last scan, from the log; None when this connection has none
        (the collection was opened again, as by a full sync: one is started for the next scans where nothing can
        be undone) or the scans fell behind it."""
        found = self._seen.log.read(db, _LOGGED_COLUMNS, in_steps=self._pass_in_steps)
        if found is None and not note_log.installed(db) and note_log.install(col):
            self._seen.log.restart(db)
        return found

    def _every_note_since(self, db: Any, since: int) -> list[Any]:
        return every_note(db, NOTE_COLUMNS, "mod >= ?", since, in_steps=self._pass_in_steps)

    def _publish_notes(
        self, col: Collection, changed: list[tuple[int, int, int, str, Any]], added: set[int] | None
    ) -> None:
        """note.added or note.updated for each changed note, in the order they were modified: added are the
        notes ``added`` names or, without such a list, notes newer than every note seen before."""
        db = _db(col)
        models = dict(db.all("select id, name from notetypes"))
        # A note's deck is its first card's; SQLite takes a bare column from the row min() picks.
        decks = {
            note_id: deck_id
            for note_id, deck_id, _ in db.all(
                "select c.nid, c.did, min(c.ord) from json_each(?) j join cards c on c.nid = j.value group by c.nid",
                orjson.dumps([note_id for _, note_id, *_ in changed]).decode(),
            )
        }
        newest_before = self._seen.note_id
        events = []
        for _, note_id, model_id, tags, sort_field in paced(changed):
            self._seen.note_id = max(self._seen.note_id, note_id)
            deck_id = decks.get(note_id)
            # A note's id is its creation time: ids beyond the newest known one are new notes.
            data = {
                "noteId": note_id,
                "modelName": models.get(model_id),
                "deck": self._deck_name(col, deck_id) if deck_id is not None else None,
                "tags": tags.split(),
                "sortField": str(sort_field),
            }
            new = note_id in added if added is not None else note_id > newest_before
            events.append(("note.added" if new else "note.updated", data))
        self._publish_all(events)

    def _one_by_one(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for name, data in events:
            self._publish(name, data)

    def _deletions(self, col: Collection, logged: note_log.Written | None) -> None:
        if logged is not None:
            deleted = logged.deleted
            self._seen.graves.update(deleted)  # as a read of the graves would find them, should the log go
        else:
            # Anki leaves a grave for every deleted note until the next sync; new graves are new deletions.
            graves = set(_db(col).list("select oid from graves where type = ?", GRAVE_NOTE))
            deleted = sorted(graves - self._seen.graves)
            self._seen.graves = graves
        for note_id in deleted:
            self._publish("note.deleted", {"noteId": note_id})

    def _new_decks(self, col: Collection) -> dict[int, str]:
        """Announce the decks made since the last scan; every deck there is now, for ``_gone_decks``."""
        now = {d.id: d.name for d in col.decks.all_names_and_ids()}
        for deck_id in sorted(now.keys() - self._seen.decks.keys()):
            self._seen.decks[deck_id] = now[deck_id]
            self._publish("deck.created", {"deckId": deck_id, "name": now[deck_id]})
        return now

    def _gone_decks(self, now: dict[int, str]) -> None:
        before = self._seen.decks
        for deck_id in sorted(before.keys() - now.keys()):
            self._publish("deck.deleted", {"deckId": deck_id, "name": before[deck_id]})
        self._seen.decks = now

    def _counts(self, col: Collection) -> None:
        if not self._interested("counts.changed"):
            # Anki recomputes due counts after a change (tens of ms on big collections): only for listeners.
            # Whoever subscribes later gets the counts in a snapshot, which resets what was seen.
            self._seen.counts = None
            return
        counts = _counts(col)
        if counts is None or counts == self._seen.counts:
            return  # unchanged: several changes in a row give one event at most (coalesced)
        self._seen.counts = counts
        deck_id, new, learn, review = counts
        self._publish(
            "counts.changed",
            {"deckId": deck_id, "deck": self._deck_name(col, deck_id), "new": new, "learn": learn, "review": review},
        )

    def _deck_name(self, col: Collection, deck_id: int | None) -> str | None:
        if deck_id is None:
            return None
        name = self._seen.decks.get(deck_id)
        if name is None:
            # Not kept in the decks seen: a deck found there counts as announced (deck.created).
            name = col.decks.name(deck_id)  # type: ignore[arg-type]
        return name


def _wants(changes: OpChanges | None, *flags: str) -> bool:
    """Whether changes of these kinds may be among ``changes`` (None: unknown, so any)."""
    return changes is None or any(getattr(changes, flag) for flag in flags)


def _counts(col: Collection) -> tuple[int, int, int, int] | None:
    """The current deck's due counts (new, learn, review), as Anki's deck overview shows them."""
    try:
        deck_id = int(col.decks.get_current_id())
        new, learn, review = col.sched.counts()
    except Exception:
        log.debug("no due counts", exc_info=True)
        return None
    return deck_id, new, learn, review


def _db(col: Collection) -> Any:
    if col.db is None:
        raise RuntimeError("the collection is closed")
    return col.db


def current_counts(col: Collection) -> dict[str, Any] | None:
    """``counts.changed``'s data for the current deck, or None when there is none."""
    counts = _counts(col)
    if counts is None:
        return None
    deck_id, new, learn, review = counts
    return {"deckId": deck_id, "deck": col.decks.name(deck_id), "new": new, "learn": learn, "review": review}  # type: ignore[arg-type]


def all_changes() -> OpChanges:
    """OpChanges that say everything may have changed (when Anki cannot tell what did)."""
    from anki.collection import OpChanges

    return OpChanges(**{flag: True for flag, _ in FLAGS})


UNDO_KEPT = 30
"""Undo steps Anki keeps (its ``UNDO_LIMIT``)."""


def fold_from(col: Collection, first: int, last: int) -> tuple[int, OpChanges] | None:
    """Fold the undo steps numbered ``first`` to ``last`` into the first of them Anki kept: its number and what
    they changed, or None when it kept none. An operation that changed nothing takes a number but leaves no
    step (a deck saved as it was), so the request's first step need not bear the first number it took."""
    for target in range(max(first, 1), last + 1):
        try:
            merged: OpChanges = col.merge_undo_entries(target)
        except Exception:
            continue  # no step by this number
        return target, merged
    return None


def merge_steps(col: Collection, first: int) -> OpChanges:
    """Fold undo steps ``first`` onwards into one step and say what they changed.

    The request's steps start at the first number from ``first`` on that Anki kept (``fold_from``), and what
    they changed is all the request changed, unless it took more numbers than Anki keeps steps. When it kept
    none, Anki may have folded the request's change into the step before (it folds an update of a note into
    the previous step when that step updated the same note, as a user's edit in the editor then the API's):
    that one says what changed. When nothing works, everything may have changed.
    """
    last = col.undo_status().last_step
    found = fold_from(col, first, last)
    if found is not None:
        return found[1] if last - first < UNDO_KEPT else all_changes()
    if first > 1:
        try:
            folded: OpChanges = col.merge_undo_entries(first - 1)
            return folded
        except Exception:
            log.debug("could not fold undo steps into %s", first - 1, exc_info=True)
    return all_changes()
