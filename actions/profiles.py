"""Profile actions: which collections the server knows, which is open, and switching between them."""

from __future__ import annotations

from .context import Context
from .registry import Registry

__all__ = ["registry"]

registry = Registry("profiles")
action = registry.action

# None of these touches ctx.col: they work while no collection is open, and loadProfile and reloadCollection
# are how a server recovers from that. They run on the collection's thread, so a request queued after a switch
# sees the new profile and one queued before it the old one.


@action("getProfiles")
def get_profiles(ctx: Context) -> list[str]:
    """The profiles `loadProfile` can open (headless: the `--collection` files, or the Anki folder's profiles)."""
    return ctx.runtime.profiles()


@action("getActiveProfile")
def get_active_profile(ctx: Context) -> str | None:
    """The name of the open profile (headless: the folder of a `collection.anki2`, else the file's name)."""
    return ctx.runtime.profile_name()


@action("loadProfile")
def load_profile(ctx: Context, *, name: str) -> bool:
    """Switch profiles, returning once the new one is open; false if unknown; on failure the current one stays."""
    return ctx.runtime.load_profile(name)


@action("reloadCollection")
def reload_collection(ctx: Context) -> None:
    """Close and reopen the collection, so a collection file replaced on disk (a restored backup...) is read afresh."""
    ctx.runtime.reload_collection()
