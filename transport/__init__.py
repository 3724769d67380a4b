"""The asyncio server: HTTP/1.1 (h11) and WebSocket (websockets) on one port. Never imports anki or aqt."""

from __future__ import annotations

__all__: list[str] = []
