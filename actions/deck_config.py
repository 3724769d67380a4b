"""Deck options ("deck config") actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import InvalidParams
from .registry import Registry
from .undo_steps import UndoFolder

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.decks import DeckConfigDict

__all__ = ["registry"]

registry = Registry("deck_config")
action = registry.action

DEFAULT_CONFIG_ID = 1
"""The "Default" options group: every deck falls back to it, so Anki refuses to remove it."""


@action("getDeckConfig")
def get_deck_config(ctx: Context, *, deck: str) -> dict[str, Any] | bool:
    """The options group of a deck as Anki's legacy dict (a filtered deck's own settings); false if no such deck."""
    col = ctx.col
    deck_id = col.decks.id_for_name(deck)
    if deck_id is None:
        return False
    return dict(col.decks.config_dict_for_deck_id(deck_id))


@action("saveDeckConfig")
def save_deck_config(ctx: Context, *, config: dict[str, Any]) -> bool:
    """Save an options group (keys left out keep their values); false for an unknown id or a config Anki rejects."""
    from anki.errors import AnkiException

    col = ctx.col
    config_id = _config_id(config)
    stored = _config_by_id(col, config_id)
    if stored is None:
        return False
    # Upstream saves the dict as sent, so a config written for an older Anki silently resets every newer
    # option (FSRS parameters, desired retention...) to its default; merged over the stored one, it cannot.
    merged = _merged(stored, config)
    merged["id"] = config_id
    try:
        col.decks.update_config(merged)  # Anki sets mod and usn itself
    except AnkiException:
        return False
    return True


@action("setDeckConfigId")
def set_deck_config_id(ctx: Context, *, decks: list[str], configId: int) -> bool:
    """Give decks an options group; false, with nothing changed, if a deck or the group does not exist."""
    col = ctx.col
    # Upstream does not check the group (D15): a deck pointing at a missing group silently uses Default.
    if _config_by_id(col, configId) is None:
        return False
    targets = []
    for name in decks:
        deck_id = col.decks.id_for_name(name)
        deck = None if deck_id is None else col.decks.get_legacy(deck_id)
        if deck is None or deck["dyn"]:  # filtered decks have no options group: Anki ignores "conf" on them
            return False
        targets.append(deck)
    steps = UndoFolder(col)  # one undo step, however many decks
    for deck in targets:
        deck["conf"] = configId
        col.decks.update_dict(deck)
        steps.fold()
    return True


@action("cloneDeckConfigId")
def clone_deck_config_id(ctx: Context, *, name: str, cloneFrom: int = DEFAULT_CONFIG_ID) -> int | bool:
    """Create an options group named ``name`` as a copy of ``cloneFrom``; its id, or false if the source is missing."""
    col = ctx.col
    source = _config_by_id(col, cloneFrom)
    if source is None:
        return False
    return int(col.decks.add_config_returning_id(name, clone_from=source))


@action("removeDeckConfigId")
def remove_deck_config_id(ctx: Context, *, configId: int) -> bool:
    """Delete an options group, its decks falling back to Default; false for an unknown id or the Default group."""
    from anki.decks import DeckConfigId
    from anki.errors import AbortSchemaModification

    col = ctx.col
    # Upstream lets Anki's "can't delete default conf" error through (D15); the README promises false.
    if configId == DEFAULT_CONFIG_ID or _config_by_id(col, configId) is None:
        return False
    try:
        # Moves the group's decks to Default first; a schema change, so the next sync is a full one.
        col.decks.remove_config(DeckConfigId(configId))
    except AbortSchemaModification:  # in Anki, the user declined the full sync
        return False
    return True


def _config_by_id(col: Collection, config_id: int) -> DeckConfigDict | None:
    # Not decks.get_config(): for an unknown id Anki returns the Default group.
    return next((conf for conf in col.decks.all_config() if conf["id"] == config_id), None)


def _config_id(config: dict[str, Any]) -> int:
    """The config's id; upstream accepts it as a number or a string of digits."""
    if "id" not in config:
        raise InvalidParams('config has no "id" property')
    value = config["id"]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InvalidParams('config property "id" must be an integer')


def _merged(stored: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """``sent`` over ``stored``, nested objects (``new``, ``rev``, ``lapse``) merged key by key."""
    merged = dict(stored)
    for key, value in sent.items():
        old = stored.get(key)
        merged[key] = _merged(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged
