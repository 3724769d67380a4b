"""Typed events, the event bus, hook adapters and subscriptions (the event API builds on these)."""

from __future__ import annotations

__all__: list[str] = []
