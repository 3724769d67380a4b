"""Every AnkiConnect action, one module per domain, merged into one table at import."""

from __future__ import annotations

from . import (
    cards,
    deck_config,
    decks,
    events_api,
    graphical,
    media,
    misc,
    model_fields,
    model_templates,
    models,
    note_edits,
    notes,
    packages,
    profiles,
    scheduling,
    scheduling_values,
    stats,
    sync,
    tags,
)
from .dispatch import Dispatcher
from .registry import Action, merge_registries

__all__ = ["ACTIONS", "Action", "Dispatcher"]

ACTIONS: dict[str, Action] = merge_registries(
    (
        misc.registry,
        profiles.registry,
        sync.registry,
        packages.registry,
        decks.registry,
        deck_config.registry,
        models.registry,
        model_fields.registry,
        model_templates.registry,
        notes.registry,
        note_edits.registry,
        cards.registry,
        scheduling.registry,
        scheduling_values.registry,
        media.registry,
        tags.registry,
        stats.registry,
        graphical.registry,
        events_api.registry,
    )
)
"""Wire name -> action, built once; lookups are one dict access."""
