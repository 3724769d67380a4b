"""Note type template and styling actions: reading, editing, adding, renaming, moving and removing templates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import InvalidParams
from .lookup import model_by_name
from .models import (
    check_index,
    editable_model,
    folded,
    save_model,
    save_models,
    template_named,
    template_sides,
)
from .params import bind_params
from .registry import Registry

if TYPE_CHECKING:
    from anki.models import NotetypeDict

__all__ = ["registry"]

registry = Registry("model_templates")
action = registry.action

FIND_AND_REPLACE = "findAndReplaceInModels"
_SIDES = (("Front", "qfmt"), ("Back", "afmt"))


@action("modelTemplates")
def model_templates(ctx: Context, *, modelName: str) -> dict[str, dict[str, str]]:
    """Each template's front and back: ``{template: {Front, Back}}``."""
    return {
        template["name"]: {"Front": template["qfmt"], "Back": template["afmt"]}
        for template in model_by_name(ctx.col, modelName)["tmpls"]
    }


@action("modelStyling")
def model_styling(ctx: Context, *, modelName: str) -> dict[str, str]:
    """The note type's CSS: ``{"css": ...}``."""
    return {"css": model_by_name(ctx.col, modelName)["css"]}


@action("updateModelTemplates")
def update_model_templates(ctx: Context, *, model: dict[str, Any]) -> None:
    """Replace the fronts and backs given in ``{name, templates: {template: {Front?, Back?}}}``.

    As upstream, templates the note type does not have are ignored and empty sides are left as they are.
    """
    col = ctx.col
    edited = editable_model(col, _model_property(model, "name", str))
    specs = _model_property(model, "templates", dict)
    changed = False
    for template in edited["tmpls"]:
        spec = specs.get(template["name"])
        if not spec:
            continue
        if not isinstance(spec, dict):
            raise InvalidParams(f'template "{template["name"]}" must be an object')
        for key, side in _SIDES:
            value = spec.get(key)
            if not value:
                continue
            if not isinstance(value, str):
                raise InvalidParams(f'template "{template["name"]}" property "{key}" must be a string')
            changed = changed or template[side] != value
            template[side] = value
    if changed:
        save_model(col, edited)


@action("updateModelStyling")
def update_model_styling(ctx: Context, *, model: dict[str, Any]) -> None:
    """Replace a note type's CSS: ``{name, css}``."""
    col = ctx.col
    edited = editable_model(col, _model_property(model, "name", str))
    css = _model_property(model, "css", str)
    if edited["css"] != css:
        edited["css"] = css
        save_model(col, edited)


@action(FIND_AND_REPLACE)
def find_and_replace_in_models(
    ctx: Context,
    *,
    modelName: str | None = None,
    findText: str | None = None,
    replaceText: str | None = None,
    front: bool = True,
    back: bool = True,
    css: bool = True,
    model: dict[str, Any] | None = None,
) -> int:
    """Replace ``findText`` by ``replaceText`` in templates and CSS of ``modelName`` (all if empty); returns a count.

    ``findText`` and ``replaceText`` are required. The params may also come nested in ``model``, the form the upstream
    README shows.
    """
    if model is not None:
        if (modelName, findText, replaceText, front, back, css) != (None, None, None, True, True, True):
            raise InvalidParams(f'{FIND_AND_REPLACE} takes its params either at the top level or in "model", not both')
        # The README's form failed upstream (D14); bind it exactly like the top-level params.
        specs = {name: spec for name, spec in registry.actions[FIND_AND_REPLACE].params.items() if name != "model"}
        nested = bind_params(FIND_AND_REPLACE, specs, model)
        modelName, findText, replaceText = nested["modelName"], nested["findText"], nested["replaceText"]
        front, back, css = nested["front"], nested["back"], nested["css"]
    if findText is None or replaceText is None:
        # Worded like the other actions' missing params (see params.py).
        missing = [
            f"'{name}'" for name, value in (("findText", findText), ("replaceText", replaceText)) if value is None
        ]
        count = "1 required positional argument" if len(missing) == 1 else "2 required positional arguments"
        raise InvalidParams(f"AnkiConnect.{FIND_AND_REPLACE}() missing {count}: {' and '.join(missing)}")
    if not findText:
        # str.replace("", x) would put x between every two characters of every template.
        raise InvalidParams("findText must not be empty")
    col = ctx.col
    if modelName:
        candidates = [editable_model(col, modelName)]
    else:
        candidates = [editable_model(col, entry.name) for entry in col.models.all_names_and_ids()]
    found = 0
    changed: list[NotetypeDict] = []
    for candidate in candidates:
        if _replace(candidate, findText, replaceText, front=front, back=back, css=css):
            found += 1
            if findText != replaceText:  # upstream also rewrites (and so re-syncs) note types it did not change
                changed.append(candidate)
    save_models(col, changed)
    return found


@action("modelTemplateRename")
def model_template_rename(ctx: Context, *, modelName: str, oldTemplateName: str, newTemplateName: str) -> None:
    """Rename a template; its cards stay."""
    col = ctx.col
    edited = editable_model(col, modelName)
    template = template_named(edited, oldTemplateName)
    if newTemplateName == template["name"]:
        return
    # Anki would store a clashing name as "name+"; say so instead.
    if any(folded(other["name"]) == folded(newTemplateName) for other in edited["tmpls"] if other is not template):
        raise InvalidParams(f"template already exists in {edited['name']}: {newTemplateName}")
    template["name"] = newTemplateName
    save_model(col, edited)


@action("modelTemplateReposition")
def model_template_reposition(ctx: Context, *, modelName: str, templateName: str, index: int) -> None:
    """Move a template to a 0-based position; its cards follow it."""
    col = ctx.col
    edited = editable_model(col, modelName)
    template = template_named(edited, templateName)
    check_index("template", index, len(edited["tmpls"]))
    if edited["tmpls"].index(template) == index:
        return
    col.models.reposition_template(edited, template, index)
    save_model(col, edited)


@action("modelTemplateAdd")
def model_template_add(ctx: Context, *, modelName: str, template: dict[str, Any]) -> None:
    """Add a ``{Name, Front, Back}`` template; existing notes get its cards where it renders a front."""
    col = ctx.col
    mm = col.models
    edited = editable_model(col, modelName)
    name, front, back = template_sides(template, "template")
    # Upstream edits an existing template in memory and never saves it (D3): an error says what happened.
    if any(folded(other["name"]) == folded(name) for other in edited["tmpls"]):
        raise InvalidParams(f"template already exists in {edited['name']}: {name}")
    added = mm.new_template(name)
    added["qfmt"] = front
    added["afmt"] = back
    mm.add_template(edited, added)
    save_model(col, edited)


@action("modelTemplateRemove")
def model_template_remove(ctx: Context, *, modelName: str, templateName: str) -> None:
    """Remove a template and delete its cards."""
    col = ctx.col
    edited = editable_model(col, modelName)
    template = template_named(edited, templateName)
    if len(edited["tmpls"]) < 2:
        raise InvalidParams("must have 1 template")  # Anki's own check, which upstream passed on
    col.models.remove_template(edited, template)
    save_model(col, edited)


def _model_property(model: dict[str, Any], key: str, kind: type[str] | type[dict[Any, Any]]) -> Any:
    if key not in model:
        raise InvalidParams(f'model has no "{key}" property')
    value = model[key]
    if not isinstance(value, kind):
        raise InvalidParams(f'model property "{key}" must be {"a string" if kind is str else "an object"}')
    return value


def _replace(model: NotetypeDict, find: str, replace: str, *, front: bool, back: bool, css: bool) -> bool:
    """Replace in the chosen parts of one note type; whether any of them contained ``find``."""
    found = False
    if css and find in model["css"]:
        found = True
        model["css"] = model["css"].replace(find, replace)
    for template in model["tmpls"]:
        for enabled, side in ((front, "qfmt"), (back, "afmt")):
            if enabled and find in template[side]:
                found = True
                template[side] = template[side].replace(find, replace)
    return found
