"""Note actions that change or remove existing notes."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("note_edits")
action = registry.action
