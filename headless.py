"""Headless mode: the collection file, owned by one worker thread, with no Anki window."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["CollectionLocked", "HeadlessRuntime"]

log = logging.getLogger(__name__.rsplit(".", 1)[0])


class CollectionLocked(RuntimeError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"collection {path} is already open in Anki or another server; close it first")
        self.path = path


class HeadlessRuntime:
    """Opens, serves and closes one collection; every collection call runs on its single worker thread."""

    def __init__(self, settings: Settings, path: Path, profile: str | None = None) -> None:
        self._settings = settings
        self.path = path
        self._profile = profile or _profile_name(path)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="collection")
        self._col: Collection | None = None

    # Runtime protocol (called on the worker thread)

    def collection(self) -> Collection | None:
        return self._col

    def settings(self) -> Settings:
        return self._settings

    def profile_name(self) -> str | None:
        return self._profile

    def gui(self) -> None:
        return None

    # owner thread

    def post(self, fn: Callable[[], None]) -> Any:
        return self._executor.submit(fn)

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the owner thread and wait for it (for start-up, shutdown and tests)."""
        return self._executor.submit(fn).result()

    def open(self) -> None:
        """Open (or create) the collection on the worker thread; raises CollectionLocked when in use."""
        self.run(self._open)

    def close(self) -> None:
        """Close the collection cleanly and stop the worker thread."""
        try:
            self.run(self._close)
        finally:
            self._executor.shutdown(wait=True)

    def _open(self) -> None:
        from anki.collection import Collection
        from anki.errors import DBError

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._col = Collection(str(self.path))
        except DBError as exc:
            if "already open" in str(exc) or "locked" in str(exc):
                raise CollectionLocked(self.path) from None
            raise
        log.info("opened %s", self.path)

    def _close(self) -> None:
        if self._col is not None:
            col, self._col = self._col, None
            col.close()
            log.info("closed %s", self.path)


def _profile_name(path: Path) -> str:
    # Anki keeps each profile's collection as <base>/<profile>/collection.anki2.
    return path.parent.name if path.name == "collection.anki2" else path.stem
