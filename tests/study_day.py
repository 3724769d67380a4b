"""Keeping tests away from Anki's day rollover, whatever the hour they run at."""

from __future__ import annotations

import time
from pathlib import Path


def far_rollover_hour() -> int:
    """The hour, twelve hours from now, at which a test collection's study day starts.

    Anki turns a learning step that ends after the next rollover (4 am by default) into day-based learning;
    a suite run at 3:50 am would see different intervals and queues than one run at noon.
    """
    return (time.localtime().tm_hour + 12) % 24


def start_study_day_far_from_now(path: Path) -> None:
    """Set that hour in the collection at ``path`` (created if missing), before anything caches the day.

    Anki works out the day's timing once per open collection and keeps it: change it before it opens.
    """
    from anki.collection import Collection

    col = Collection(str(path))
    col.set_config("rollover", far_rollover_hour())
    col.close()
