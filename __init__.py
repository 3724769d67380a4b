"""AnkiConnect Live: the AnkiConnect API over HTTP and WebSocket, inside Anki or headless.

Anki imports this package when it loads add-ons; only then is the GUI part (``addon``) imported, so the
headless server and the tests never load Qt.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__: list[str] = []

_VENDOR = Path(__file__).with_name("_vendor")
if _VENDOR.is_dir() and str(_VENDOR) not in sys.path:
    # The installable add-on carries websockets and h11 (Anki has neither); the pinned copies go first.
    sys.path.insert(0, str(_VENDOR))


def _loaded_by_anki() -> bool:
    aqt = sys.modules.get("aqt")
    return aqt is not None and getattr(aqt, "mw", None) is not None


if _loaded_by_anki():
    from .addon import main as _addon_main

    _addon_main()
