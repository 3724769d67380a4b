"""Statistics actions: review counts, review logs and the collection report."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("stats")
action = registry.action
