"""One undo step for a request made of many Anki operations (answers given one by one, note types or decks saved
in turn, the calls of a ``multi``).

Anki keeps only its 30 newest undo steps: folding a request's steps together once all are made fails when it
made more (the first is gone), after everything was written. So each step is folded into the request's first as
soon as it is made, and the request stays one step, however long.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events.changes import fold_from

if TYPE_CHECKING:
    from anki.collection import Collection

__all__ = ["UndoFolder"]

log = logging.getLogger(__name__.rsplit(".", 2)[0] + ".actions")


class UndoFolder:
    """Folds the undo steps made after it was created into the first of them, one ``fold`` at a time.

    Given the runtime's ``collection`` getter instead of a collection, it follows the collection open at each
    fold: a step of a collection opened meanwhile (``loadProfile`` in a ``multi``) starts a new first step.
    """

    def __init__(self, source: Collection | Callable[[], Collection | None]) -> None:
        self._source = source
        self._col: Collection | None = None
        self._before = 0
        self.first: int | None = None
        """The request's undo step, once it made one."""
        self._restart()

    def fold(self) -> None:
        """Call after each operation: a step it made joins the first. Never raises: a step that cannot be folded
        stays a step of its own (what was written stays written)."""
        try:
            if self._current() is not self._col:
                self._restart()
                return
            self._fold()
        except Exception:
            log.warning("could not fold an undo step into the request's first", exc_info=True)
            self._restart()  # later steps fold into the next one made

    def _current(self) -> Collection | None:
        return self._source() if callable(self._source) else self._source

    def _restart(self) -> None:
        self.first = None
        try:
            self._col = self._current()
            self._before = self._col.undo_status().last_step if self._col is not None else 0
        except Exception:  # closed meanwhile: the next fold starts again
            self._col = None

    def _fold(self) -> None:
        col = self._col
        if col is None:
            return
        step = col.undo_status().last_step
        # 0: nothing to undo at all; the same number: the operation made no step of its own (or Anki folded it).
        if step in (0, self._before, self.first):
            return
        found = fold_from(col, self.first or step, step)
        if found is not None:
            self.first = found[0]
        else:  # none kept so far
            self.first, self._before = None, step
