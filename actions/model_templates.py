"""Note type template and styling actions."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("model_templates")
action = registry.action
