"""Which queries read the whole notes table: the plans SQLite made for the queries code ran."""

from __future__ import annotations

from typing import Any

from anki.collection import Collection


class RecordingQueries:
    """Wraps ``col.db.all`` to keep each query with its arguments."""

    def __init__(self, col: Collection) -> None:
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        self._db = col.db
        self._all = col.db.all  # type: ignore[union-attr]
        col.db.all = self  # type: ignore[method-assign, union-attr]

    def __call__(self, sql: str, *args: Any) -> Any:
        self.queries.append((sql, args))
        return self._all(sql, *args)

    def whole_table_reads(self) -> list[str]:
        """The queries for which SQLite reads every row of the notes table."""
        return [
            sql
            for sql, args in self.queries
            if any(row[3] in ("SCAN notes", "SCAN n") for row in self._all(f"explain query plan {sql}", *args))
        ]
