"""Miscellaneous actions: version, permission, reflection and ``multi``."""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from .context import Context
from .errors import InvalidParams
from .registry import Registry

__all__ = ["permission_result", "registry"]

registry = Registry("misc")
action = registry.action


@action("version", inline=True)
def version(ctx: Context) -> int:
    """The AnkiConnect API version this server speaks (6)."""
    return ctx.settings.apiVersion


@action("requestPermission")
def request_permission(ctx: Context, *, origin: str | None = None, allowed: bool | None = None) -> dict[str, Any]:
    """Ask whether the calling page may use the API; no API key needed.

    ``origin`` and ``allowed`` are filled in by the server from the request, as upstream does; values a
    client sends are ignored. Without a GUI there is nobody to ask, so origins not already allowed are denied.
    """
    return permission_result(ctx.settings, granted=ctx.caller.origin_allowed)


def permission_result(settings: Settings, *, granted: bool) -> dict[str, Any]:
    """requestPermission's answer; ``requireApikey`` is spelled as upstream sends it (its README differs)."""
    if not granted:
        return {"permission": "denied"}
    return {"permission": "granted", "requireApikey": settings.api_key is not None, "version": settings.apiVersion}


@action("apiReflect", inline=True)
def api_reflect(ctx: Context, *, scopes: Any = None, actions: Any = None) -> dict[str, Any]:
    """List the actions this server supports (scope ``actions``), optionally filtered to the ones named."""
    if not isinstance(scopes, list):
        raise InvalidParams("scopes has invalid value")
    if actions is not None and not isinstance(actions, list):
        raise InvalidParams("actions has invalid value")
    result: dict[str, Any] = {"scopes": []}
    if "actions" in scopes:
        result["scopes"].append("actions")
        names = ctx.actions.keys()
        listed = sorted(names) if actions is None else [a for a in actions if a in names]
        result["actions"] = listed
        if ctx.runtime.gui() is None:
            # Our addition: which of the listed actions need Anki's window and answer `unsupported action` here.
            result["guiOnly"] = [name for name in listed if ctx.actions[name].gui]
    return result


@action("multi")
def multi(ctx: Context, *, actions: list[Any]) -> list[Any]:
    """Run several requests in order; each has its own version (default 4) and key, and its own reply."""
    return [outcome.reply() for outcome in ctx.run_nested(actions)]
