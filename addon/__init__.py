"""The GUI composition root: the only package that imports ``aqt``."""

from __future__ import annotations

import logging

__all__ = ["main"]

log = logging.getLogger(__name__.rsplit(".", 1)[0])


def main() -> None:
    """Called once when Anki loads the add-on."""
    log.warning("AnkiConnect Live: running inside Anki is not supported by this version yet")
