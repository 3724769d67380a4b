"""Graphical actions around the Add dialog."""

from __future__ import annotations

from .gui_host import gui_action  # noqa: F401  (implementations register with it)

__all__: list[str] = []
