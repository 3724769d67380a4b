"""Headless mode: the collection files ("profiles") the server knows, one open at a time, with no Anki window.

The open collection is owned by one worker thread: every action, and every switch or reload, runs there in
the order it was queued, so no request ever sees a collection half-closed by a switch.

Events: nothing but our own requests changes the collection, so after each request that moved Anki's undo
counter or the collection's modification time, the ChangeDetector scans what it changed (its undo steps are
first merged into one, as inside Anki); opening, switching and closing profiles publish profile events.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actions.errors import Unavailable, storage_problem
from .collector import collector_held_off
from .events.changes import ChangeDetector, Publish, PublishAll, all_changes, current_counts, merge_steps
from .settings import Settings

if TYPE_CHECKING:
    from anki.collection import Collection, OpChanges

    from .actions.dispatch import Dispatcher
    from .transport.bridge import Done
    from .wire import Caller

__all__ = [
    "CollectionLocked",
    "HeadlessRuntime",
    "ProfileError",
    "ProfileListing",
    "collection_profiles",
    "folder_profiles",
    "profile_name_for",
]

log = logging.getLogger(__name__.rsplit(".", 1)[0])

ProfileListing = Callable[[], Mapping[str, Path]]
"""The known profiles, name -> collection file, in display order; asked again each time they are needed."""

COLLECTION_FILE = "collection.anki2"

Mark = tuple[int, int]
"""Anki's undo counter (``last_step``) and the collection's modification time, before a request."""


class ProfileError(Unavailable):
    """A collection could not be opened; the message says which file and why."""


class CollectionLocked(ProfileError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"collection {path} is already open in Anki or another server; close it first")
        self.path = path


class HeadlessRuntime:
    """Serves one of the known collections at a time; every collection call runs on its single worker thread.

    ``path`` (named ``profile``, else by ``profile_name_for``) is opened by ``open``. ``profiles`` lists the
    others ``load_profile`` may switch to; without it the server knows only ``path``.
    """

    def __init__(
        self, settings: Settings, path: Path, profile: str | None = None, profiles: ProfileListing | None = None
    ) -> None:
        self._settings = settings
        self._path = path
        self._profile = profile or profile_name_for(path)
        self._listing = profiles
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="collection", initializer=self._mark_owner
        )
        self._owner: int | None = None
        self._col: Collection | None = None
        # Events go nowhere until an App attaches its bus (attach_events).
        self._publish: Publish = _nowhere
        self._detector: ChangeDetector | None = None
        self._undo_known = 0
        self._opened_at: Mark = (0, 0)

    @property
    def path(self) -> Path:
        """The collection file of the active profile."""
        return self._path

    # Runtime protocol (called on the worker thread)

    def collection(self) -> Collection | None:
        return self._col

    def settings(self) -> Settings:
        return self._settings

    def profile_name(self) -> str | None:
        return self._profile

    def gui(self) -> None:
        return None

    def profiles(self) -> list[str]:
        return list(self._known())

    def load_profile(self, name: str) -> bool:
        path = self._known().get(name)
        if path is None:
            return False
        if name == self._profile and self._col is not None:
            return True
        # The new collection is opened before the old one is closed: if it cannot be, nothing has changed.
        try:
            new = _open_collection(path)
        except ProfileError as exc:
            still = f"profile {self._profile!r} stays open" if self._col is not None else "no collection is open"
            raise ProfileError(f"cannot open profile {name!r}: {exc} ({still})") from exc
        old, old_name = self._col, self._profile
        self._col, self._profile, self._path = new, name, path
        log.info("opened profile %r (%s)", name, path)
        if old is not None:
            self._publish("profile.closed", {"profile": old_name})
            _close_quietly(old)
        self._opened()
        return True

    def reload_collection(self) -> None:
        # Anki holds the file under an exclusive lock, so it must be closed before it can be opened again.
        self._close()
        try:
            self._col = _open_collection(self._path)
        except ProfileError as exc:
            raise ProfileError(
                f"cannot reopen profile {self._profile!r}: {exc} (no collection is open until reloadCollection "
                "or loadProfile succeeds)"
            ) from exc
        log.info("reopened %s", self._path)
        self._opened()

    # owner thread

    def post(self, fn: Callable[[], None]) -> Any:
        return self._executor.submit(fn)

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the owner thread and wait for it (for start-up, shutdown and tests)."""
        return self._executor.submit(fn).result()

    def open(self) -> None:
        """Open (or create) the active collection on the worker thread; raises ProfileError (CollectionLocked...)."""
        self.run(self._open)

    def close(self) -> None:
        """Close the collection cleanly and stop the worker thread."""
        try:
            self.run(self._close)
        finally:
            self._executor.shutdown(wait=True)

    def _mark_owner(self) -> None:
        self._owner = threading.get_ident()

    def _on_owner(self, fn: Callable[[], None]) -> None:
        if threading.get_ident() == self._owner:
            fn()
        else:
            self.run(fn)

    def _open(self) -> None:
        self._col = _open_collection(self._path)
        log.info("opened %s", self._path)
        self._opened()

    def _close(self) -> None:
        if self._col is not None:
            col, self._col = self._col, None
            self._publish("profile.closed", {"profile": self._profile})
            _close_collection(col)
            log.info("closed %s", self._path)

    # events (on the owner thread; attach_events from any thread)

    def attach_events(
        self,
        publish: Publish,
        interested: Callable[[str], bool] = lambda name: True,
        publish_all: PublishAll | None = None,
    ) -> None:
        """Publish this runtime's events with ``publish`` (the App's bus), starting with the open profile."""

        def attach() -> None:
            self._publish = publish
            self._detector = ChangeDetector(publish, interested, publish_all)
            if self._col is not None:
                self._opened()

        self._on_owner(attach)

    def start_request(self, dispatcher: Dispatcher, request: dict[str, Any], caller: Caller, done: Done) -> None:
        """The headless Starter: run the request, then publish what it changed, then answer.

        A request's events are thus numbered before its reply is sent: on its own WebSocket they come first.
        """
        col = self._col
        before = _mark(col) if col is not None else None
        syncing = request.get("action") == "sync"
        if syncing and col is not None and self._detector is not None:
            self._detector.sync_starting(col)
        # What a request makes mostly lives until it ends: collecting meanwhile finds little (collector.py).
        with collector_held_off():
            outcome = dispatcher.run(request, caller)
            try:
                self._scan_after(col, before, "sync" if syncing else "api")
            except Exception:  # events must never cost a client its answer
                log.exception("could not publish what a request changed")
        done(outcome)

    def event_snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        """The current state as events, for ``subscribe`` with ``snapshot``: the profile and its due counts."""
        col = self._col
        if col is None:
            return [("profile.closed", {"profile": self._profile})]
        state: list[tuple[str, dict[str, Any]]] = [("profile.opened", {"profile": self._profile})]
        counts = self._detector.snapshot_counts(col) if self._detector is not None else current_counts(col)
        if counts is not None:
            state.append(("counts.changed", counts))
        return state

    def _opened(self) -> None:
        """A collection was just opened: only what changes from now on becomes an event."""
        assert self._col is not None
        self._undo_known = 0  # each open collection numbers its undo steps from 0
        if self._detector is not None:  # first: it may discard the (empty) undo queue (note_log.py)
            self._detector.baseline(self._col)
        self._opened_at = _mark(self._col)
        self._publish("profile.opened", {"profile": self._profile})

    def _scan_after(self, col_before: Collection | None, before: Mark | None, source: str) -> None:
        col, detector = self._col, self._detector
        if col is None or detector is None:
            return
        if col is not col_before or before is None:
            # The request opened a collection (loadProfile, reloadCollection in a multi): only what it did to
            # that one after opening it is new.
            before = self._opened_at
        changes = self._request_changes(col, before)
        if changes is not None:
            detector.scan(col, changes, source=source)

    def _request_changes(self, col: Collection, before: Mark) -> OpChanges | None:
        """What the request changed as one undo step, as inside Anki; None when it changed nothing."""
        after = _mark(col)
        if after == before:
            return None  # a read-only request: nothing to scan
        step = after[0]
        # Anki numbers undo steps on, but shows 0 once a legacy change emptied its undo queue: the newest
        # number seen tells where this request's steps start. A smaller one means the numbering restarted.
        known = 0 if 0 < step < self._undo_known else self._undo_known
        first = max(before[0], known) + 1
        if step < first:
            self._undo_known = max(known, step)
            return all_changes()  # changed outside the undo queue (legacy changes, sync): look at everything
        merged = merge_steps(col, first)
        # Folding renumbers: the request's steps became one, numbered below the newest seen so far. Known as
        # the newest, that number would hide the next request's first steps from it.
        self._undo_known = col.undo_status().last_step
        return merged

    def _known(self) -> dict[str, Path]:
        known = dict(self._listing()) if self._listing is not None else {}
        known.setdefault(self._profile, self._path)  # the open profile is always known, even if its folder moved
        return known


def profile_name_for(path: Path) -> str:
    """Anki keeps each profile's collection as <base>/<profile>/collection.anki2; other files go by their stem."""
    return path.parent.name if path.name == COLLECTION_FILE else path.stem


def collection_profiles(paths: Iterable[Path]) -> dict[str, Path]:
    """Name each collection file as a profile; the same file twice counts once, two files with one name fail."""
    named: dict[str, Path] = {}
    for path in paths:
        name = profile_name_for(path)
        if name in named and named[name] != path:
            raise ValueError(f"{named[name]} and {path} would both be the profile {name!r}; rename one of them")
        named[name] = path
    return named


def folder_profiles(base: Path) -> ProfileListing:
    """Every folder of Anki's base folder that holds a collection, by folder name (so Anki's profiles)."""

    def scan() -> dict[str, Path]:
        try:
            folders = sorted(p for p in base.iterdir() if (p / COLLECTION_FILE).is_file())
        except OSError:  # the base folder is gone: only the open profile is left
            return {}
        return {folder.name: folder / COLLECTION_FILE for folder in folders}

    return scan


def _mark(col: Collection) -> Mark:
    # ``col.mod`` asked of the backend itself, not through ``col.db``: this bookkeeping is no query of the action's.
    rows = col._backend.db_query("select mod from col", [], True)
    return col.undo_status().last_step, int(rows[0][0])


def _nowhere(name: str, data: dict[str, Any]) -> None:
    """Publishes nothing: no server is attached."""


def _open_collection(path: Path) -> Collection:
    from anki.collection import Collection

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return Collection(str(path))
    except Exception as exc:  # any failure (lock, corrupt file, permissions) becomes one clear message
        text = str(exc)
        if "already open" in text or "locked" in text:
            raise CollectionLocked(path) from None
        if "not a database" in text:
            raise ProfileError(f"{path} is not an Anki collection (file is not a database)") from None
        if path.parent.is_dir() and not os.access(path.parent, os.W_OK):
            # SQLite only says "disk I/O error": it could not create its journal beside the file.
            raise ProfileError(f"cannot open {path}: its folder is read-only (Anki must write beside it)") from None
        if (storage := storage_problem(text)) is not None:
            raise ProfileError(f"cannot open {path}: {storage}") from None
        raise ProfileError(f"cannot open {path}: {text or type(exc).__name__}") from exc


def _close_collection(col: Collection) -> None:
    """Close ``col``, first emptying its write-ahead log into the file it opened.

    When the file was replaced on disk while open (a restored backup, a file written by another tool), SQLite
    does not checkpoint on close and leaves its log behind under the new file's name; whoever opens the new
    file next would replay our pages into it and corrupt it. An explicit checkpoint leaves an empty log.
    """
    try:
        if col.db is not None:
            col.db.all("pragma wal_checkpoint(truncate)")
    except Exception:
        log.warning("checkpoint of %s before closing failed", col.path, exc_info=True)
    col.close()


def _close_quietly(col: Collection) -> None:
    # The switch has already happened; a failing close must not turn it into an error.
    try:
        _close_collection(col)
    except Exception:
        log.exception("closing %s failed", col.path)
