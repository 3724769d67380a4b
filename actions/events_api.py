"""The event actions: subscribe/unsubscribe (WebSocket) and pollEvents (long-poll over HTTP).

The dispatcher checks their key and params like every action's and answers with the normalised request;
the server then does the streaming part (the transport owns connections, the bus owns events).
"""

from __future__ import annotations

from typing import Any

from ..events.catalogue import UnknownEvent, matcher
from .context import Context
from .errors import InvalidParams
from .registry import Registry

__all__ = ["MAX_POLL_SECONDS", "registry"]

registry = Registry("events")
action = registry.action

MAX_POLL_SECONDS = 30.0


def _names(events: list[str] | None) -> list[str]:
    try:
        return sorted(matcher(events))
    except UnknownEvent as exc:
        raise InvalidParams(str(exc)) from None


@action("subscribe", inline=True)
def subscribe(
    ctx: Context, *, events: list[str] | None = None, snapshot: bool = False, since: int | None = None
) -> Any:
    """WebSocket only: receive events (names or patterns like `note.*`), optionally the current state first."""
    return {"events": _names(events), "snapshot": snapshot, "since": since}


@action("unsubscribe", inline=True)
def unsubscribe(ctx: Context, *, subscription: int) -> Any:
    """WebSocket only: stop a subscription made on the same connection."""
    return {"subscription": subscription}


@action("pollEvents", inline=True)
def poll_events(
    ctx: Context, *, since: int | None = None, events: list[str] | None = None, timeout: float = 25.0
) -> Any:
    """Wait (at most `timeout` seconds, up to 30) for events after `since`; for clients that only speak HTTP."""
    if not 0 <= timeout <= MAX_POLL_SECONDS:
        raise InvalidParams(f"timeout must be between 0 and {MAX_POLL_SECONDS:g} seconds, not {timeout:g}")
    return {"events": _names(events), "since": since, "timeout": timeout}
