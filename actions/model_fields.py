"""Note type field actions: names, fonts, descriptions, and adding, renaming, moving and removing fields."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("model_fields")
action = registry.action
