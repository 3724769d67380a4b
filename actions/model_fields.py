"""Note type field actions: names, fonts, descriptions, and adding, renaming, moving and removing fields."""

from __future__ import annotations

import re
from typing import Any

from .context import Context
from .errors import InvalidParams
from .lookup import model_by_name
from .models import anki_field_name, check_index, editable_model, field_named, folded, save_model
from .registry import Registry

__all__ = ["registry"]

registry = Registry("model_fields")
action = registry.action

MAX_FONT_SIZE = 65535
"""Anki stores a field's editor font size as a 16-bit number."""

_REPLACEMENT = re.compile(r"{{([^}]+)}}")


@action("modelFieldDescriptions")
def model_field_descriptions(ctx: Context, *, modelName: str) -> list[str]:
    """Each field's description (the editor's placeholder text), in field order."""
    return [field.get("description", "") for field in model_by_name(ctx.col, modelName)["flds"]]


@action("modelFieldFonts")
def model_field_fonts(ctx: Context, *, modelName: str) -> dict[str, dict[str, Any]]:
    """Each field's editor font and size: ``{field: {font, size}}``."""
    return {
        field["name"]: {"font": field["font"], "size": field["size"]}
        for field in model_by_name(ctx.col, modelName)["flds"]
    }


@action("modelFieldsOnTemplates")
def model_fields_on_templates(ctx: Context, *, modelName: str) -> dict[str, list[list[str]]]:
    """For each template, the fields its front shows and the further fields its back shows."""
    return {
        template["name"]: _fields_on_sides(template["qfmt"], template["afmt"])
        for template in model_by_name(ctx.col, modelName)["tmpls"]
    }


@action("modelFieldRename")
def model_field_rename(ctx: Context, *, modelName: str, oldFieldName: str, newFieldName: str) -> None:
    """Rename a field; notes keep their content and templates follow the new name."""
    col = ctx.col
    model = editable_model(col, modelName)
    field = field_named(model, oldFieldName)
    new_name = anki_field_name(newFieldName)
    if new_name == field["name"]:
        return
    # Anki would store a clashing name as "name+"; say so instead.
    if any(folded(other["name"]) == folded(new_name) for other in model["flds"] if other is not field):
        raise InvalidParams(f"field already exists in {model['name']}: {new_name}")
    col.models.rename_field(model, field, new_name)
    save_model(col, model)


@action("modelFieldReposition")
def model_field_reposition(ctx: Context, *, modelName: str, fieldName: str, index: int) -> None:
    """Move a field to a 0-based position; notes' contents move with it."""
    col = ctx.col
    model = editable_model(col, modelName)
    field = field_named(model, fieldName)
    check_index("field", index, len(model["flds"]))
    if model["flds"].index(field) == index:
        return
    col.models.reposition_field(model, field, index)
    save_model(col, model)


@action("modelFieldAdd")
def model_field_add(ctx: Context, *, modelName: str, fieldName: str, index: int | None = None) -> None:
    """Add an empty field at the end or at ``index``; a field that already exists is only moved to ``index``."""
    col = ctx.col
    mm = col.models
    model = editable_model(col, modelName)
    field = next((f for f in model["flds"] if f["name"] == fieldName), None)
    if field is None:
        name = anki_field_name(fieldName)
        if any(folded(other["name"]) == folded(name) for other in model["flds"]):
            raise InvalidParams(f"field already exists in {model['name']}: {name}")
        field = mm.new_field(name)
        mm.add_field(model, field)
    elif index is None or model["flds"].index(field) == index:
        return  # already there, as upstream: adding an existing field is not an error
    if index is not None:
        check_index("field", index, len(model["flds"]))
        mm.reposition_field(model, field, index)
    save_model(col, model)


@action("modelFieldRemove")
def model_field_remove(ctx: Context, *, modelName: str, fieldName: str) -> None:
    """Remove a field with its content in every note; templates drop their references to it."""
    col = ctx.col
    model = editable_model(col, modelName)
    col.models.remove_field(model, field_named(model, fieldName))
    save_model(col, model)


@action("modelFieldSetFont")
def model_field_set_font(ctx: Context, *, modelName: str, fieldName: str, font: Any) -> None:
    """Set the font a field is edited in."""
    col = ctx.col
    model = editable_model(col, modelName)
    field = field_named(model, fieldName)
    if not isinstance(font, str):
        raise InvalidParams(f"font should be a string: {font}")
    field["font"] = font
    save_model(col, model)


@action("modelFieldSetFontSize")
def model_field_set_font_size(ctx: Context, *, modelName: str, fieldName: str, fontSize: Any) -> None:
    """Set the font size a field is edited in."""
    col = ctx.col
    model = editable_model(col, modelName)
    field = field_named(model, fieldName)
    # bool is an int in Python; upstream let true through as size 1.
    if not isinstance(fontSize, int) or isinstance(fontSize, bool):
        raise InvalidParams(f"fontSize should be an integer: {fontSize}")
    if not 1 <= fontSize <= MAX_FONT_SIZE:
        raise InvalidParams(f"fontSize should be between 1 and {MAX_FONT_SIZE}: {fontSize}")
    field["size"] = fontSize
    save_model(col, model)


@action("modelFieldSetDescription")
def model_field_set_description(ctx: Context, *, modelName: str, fieldName: str, description: Any) -> bool:
    """Set a field's description (the editor's placeholder text); false if this Anki has no descriptions."""
    col = ctx.col
    model = editable_model(col, modelName)
    field = field_named(model, fieldName)
    if not isinstance(description, str):
        raise InvalidParams(f"description should be a string: {description}")
    if "description" not in field:
        return False
    field["description"] = description
    save_model(col, model)
    return True


def _fields_on_sides(front: str, back: str) -> list[list[str]]:
    """Upstream's reading of a template: every ``{{...}}`` but sections, by its last ``:`` part.

    FrontSide is never listed, and the back lists only fields the front does not show.
    """
    question = [name for name in _referenced(front) if name != "FrontSide"]
    answer = [name for name in _referenced(back) if name != "FrontSide" and name not in question]
    return [question, answer]


def _referenced(side: str) -> list[str]:
    names: list[str] = []
    for inner in _REPLACEMENT.findall(side):
        # Section tags ({{#F}}, {{^F}}, {{/F}}) are conditions, not fields shown on the card.
        if inner.lstrip().startswith(("#", "^", "/")):
            continue
        names.append(inner.split(":")[-1].replace("{", "").strip())  # "{{{F}}}" names F, as upstream
    return names
