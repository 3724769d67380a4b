"""Graphical actions around the main window's screens and the reviewer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .gui_host import gui_action

if TYPE_CHECKING:
    from aqt.main import AnkiQt

__all__: list[str] = []


@gui_action("guiReviewActive")
def review_active(mw: AnkiQt) -> bool:
    return mw.state == "review" and mw.reviewer.card is not None


@gui_action("guiDeckBrowser")
def deck_browser(mw: AnkiQt) -> None:
    mw.moveToState("deckBrowser")
