"""The GUI host: runs the graphical actions (declared in ``actions/graphical.py``) on Anki's main thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..actions.errors import UnsupportedAction

if TYPE_CHECKING:
    from aqt.main import AnkiQt

__all__ = ["GuiActions", "gui_action"]

GuiHandler = Callable[..., Any]
_HANDLERS: dict[str, GuiHandler] = {}


def gui_action(name: str) -> Callable[[GuiHandler], GuiHandler]:
    """Register the implementation of a graphical action; it receives the main window first."""

    def register(handler: GuiHandler) -> GuiHandler:
        if name in _HANDLERS:
            raise ValueError(f"graphical action {name!r} implemented twice")
        _HANDLERS[name] = handler
        return handler

    return register


class GuiActions:
    """Implements ``actions.context.GuiHost``; called on the main thread by the dispatcher."""

    def __init__(self, mw: AnkiQt) -> None:
        from . import gui_add, gui_browser, gui_import, gui_review, gui_screens  # noqa: F401  (they register their actions)

        self._mw = mw

    def run(self, action: str, **params: Any) -> Any:
        handler = _HANDLERS.get(action)
        if handler is None:
            raise UnsupportedAction()
        return handler(self._mw, **params)

    @staticmethod
    def implemented() -> set[str]:
        return set(_HANDLERS)
