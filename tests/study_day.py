"""Keeping tests away from Anki's day rollover, whatever the hour they run at."""

from __future__ import annotations

import time


def far_rollover_hour() -> int:
    """The hour, twelve hours from now, at which a test collection's study day starts.

    Anki turns a learning step that ends after the next rollover (4 am by default) into day-based learning;
    a suite run at 3:50 am would see different intervals and queues than one run at noon.
    """
    return (time.localtime().tm_hour + 12) % 24
