"""Package actions: exporting a deck to an .apkg file and importing one."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("packages")
action = registry.action
