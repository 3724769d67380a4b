"""Card scheduling actions: ease, suspension, due dates, intervals, answers and forgetting."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("scheduling")
action = registry.action
