"""Note type ("model") actions."""

from __future__ import annotations

from .context import Context
from .lookup import model_by_name
from .registry import Registry

__all__ = ["registry"]

registry = Registry("models")
action = registry.action


@action("modelNames")
def model_names(ctx: Context) -> list[str]:
    """Every note type's name."""
    return [model.name for model in ctx.col.models.all_names_and_ids()]


@action("modelNamesAndIds")
def model_names_and_ids(ctx: Context) -> dict[str, int]:
    """Every note type's name mapped to its id."""
    return {model.name: model.id for model in ctx.col.models.all_names_and_ids()}


@action("modelFieldNames")
def model_field_names(ctx: Context, *, modelName: str) -> list[str]:
    """The field names of a note type, in order."""
    return [field["name"] for field in model_by_name(ctx.col, modelName)["flds"]]
