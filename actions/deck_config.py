"""Deck options ("deck config") actions."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("deck_config")
action = registry.action
