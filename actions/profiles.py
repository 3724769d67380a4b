"""Profile actions: which collections the server knows, which is open, and switching between them."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("profiles")
action = registry.action
