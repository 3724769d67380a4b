"""Headless mode: the collection files ("profiles") the server knows, one open at a time, with no Anki window.

The open collection is owned by one worker thread: every action, and every switch or reload, runs there in
the order it was queued, so no request ever sees a collection half-closed by a switch.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actions.errors import Unavailable
from .settings import Settings

if TYPE_CHECKING:
    from anki.collection import Collection

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
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="collection")
        self._col: Collection | None = None

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
        old, self._col = self._col, new
        self._profile, self._path = name, path
        log.info("opened profile %r (%s)", name, path)
        if old is not None:
            _close_quietly(old)
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

    def _open(self) -> None:
        self._col = _open_collection(self._path)
        log.info("opened %s", self._path)

    def _close(self) -> None:
        if self._col is not None:
            col, self._col = self._col, None
            _close_collection(col)
            log.info("closed %s", self._path)

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
