"""The sync action: the open collection and its media with AnkiWeb or a self-hosted sync server."""

from __future__ import annotations

from .registry import Registry

__all__ = ["registry"]

registry = Registry("sync")
action = registry.action
