"""Note type ("model") actions: listing, finding and creating note types, and the helpers every model edit uses.

Every edit works on a deep copy of the note type and writes it once with ``ModelManager.update_dict`` (one
backend transaction), so a request that fails validation, or that Anki rejects, leaves the collection as it was
and never leaves a half-edited dict in Anki's note type cache.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import InvalidParams, NotFound
from .lookup import database, model_by_name
from .registry import Registry
from .undo_steps import UndoFolder

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.models import FieldDict, NotetypeDict, TemplateDict

__all__ = [
    "anki_errors",
    "anki_field_name",
    "check_index",
    "editable_model",
    "field_named",
    "folded",
    "model_by_id",
    "registry",
    "save_model",
    "save_models",
    "template_named",
    "template_sides",
    "unique_or_raise",
]

registry = Registry("models")
action = registry.action

_INT64 = range(-(2**63), 2**63)
_BAD_FIELD_CHARS = re.compile(r'[:{}"]')


@action("modelNames")
def model_names(ctx: Context) -> list[str]:
    """Every note type's name."""
    return [model.name for model in ctx.col.models.all_names_and_ids()]


@action("modelNamesAndIds")
def model_names_and_ids(ctx: Context) -> dict[str, int]:
    """Every note type's name mapped to its id."""
    return {model.name: model.id for model in ctx.col.models.all_names_and_ids()}


@action("findModelsById")
def find_models_by_id(ctx: Context, *, modelIds: list[int]) -> list[dict[str, Any]]:
    """The full note type objects (fields, templates, css...) for the given ids, in order."""
    col = ctx.col
    return [copy.deepcopy(model_by_id(col, model_id)) for model_id in modelIds]


@action("findModelsByName")
def find_models_by_name(ctx: Context, *, modelNames: list[str]) -> list[dict[str, Any]]:
    """The full note type objects (fields, templates, css...) for the given names, in order."""
    col = ctx.col
    return [copy.deepcopy(model_by_name(col, name)) for name in modelNames]


@action("modelNameFromId")
def model_name_from_id(ctx: Context, *, modelId: int) -> str:
    """The name of the note type with this id."""
    name: str = model_by_id(ctx.col, modelId)["name"]
    return name


@action("modelFieldNames")
def model_field_names(ctx: Context, *, modelName: str) -> list[str]:
    """The field names of a note type, in order."""
    return [field["name"] for field in model_by_name(ctx.col, modelName)["flds"]]


@action("createModel")
def create_model(
    ctx: Context,
    *,
    modelName: str,
    inOrderFields: list[str],
    cardTemplates: list[dict[str, Any]],
    css: str | None = None,
    isCloze: bool = False,
) -> dict[str, Any]:
    """Create a note type from field names and ``{Name?, Front, Back}`` card templates; returns the note type."""
    if not inOrderFields:
        raise InvalidParams("Must provide at least one field for inOrderFields")
    if not cardTemplates:
        raise InvalidParams("Must provide at least one card for cardTemplates")
    col = ctx.col
    mm = col.models
    # Anki matches note type names ignoring case and would quietly rename a clash to "name-1a2b3"; refuse it.
    if mm.id_for_name(modelName) is not None:
        raise InvalidParams("Model name already exists")
    unique_or_raise("field", modelName, [anki_field_name(name) for name in inOrderFields])
    sides = [
        template_sides(spec, f"cardTemplates[{i}]", default_name=f"Card {i + 1}")
        for i, spec in enumerate(cardTemplates)
    ]
    unique_or_raise("template", modelName, [name for name, _, _ in sides])

    model = mm.new(modelName)
    if isCloze:
        from anki.consts import MODEL_CLOZE

        model["type"] = MODEL_CLOZE
    for name in inOrderFields:
        mm.add_field(model, mm.new_field(name))
    if css is not None:
        model["css"] = css
    for name, front, back in sides:
        template = mm.new_template(name)
        template["qfmt"] = front
        template["afmt"] = back
        mm.add_template(model, template)
    checked_templates(model)
    with anki_errors():
        model_id = mm.add(model).id
    return copy.deepcopy(model_by_id(col, model_id))


# Helpers shared by the model, field and template actions.


def model_by_id(col: Collection, model_id: int) -> NotetypeDict:
    from anki.models import NotetypeId

    # Ids beyond 64 bits cannot exist, and the backend would reject them with a bare ValueError.
    model = col.models.get(NotetypeId(model_id)) if model_id in _INT64 else None
    if model is None:
        raise NotFound(f"model was not found: {model_id}")
    return model


def editable_model(col: Collection, name: str) -> NotetypeDict:
    """A private copy of a note type: Anki's cache keeps the original until ``save_model`` succeeds."""
    return copy.deepcopy(model_by_name(col, name))


def field_named(model: NotetypeDict, name: str) -> FieldDict:
    fields: list[FieldDict] = model["flds"]
    for field in fields:
        if field["name"] == name:
            return field
    raise NotFound(f"field was not found in {model['name']}: {name}")


def template_named(model: NotetypeDict, name: str) -> TemplateDict:
    templates: list[TemplateDict] = model["tmpls"]
    for template in templates:
        if template["name"] == name:
            return template
    raise NotFound(f"template was not found in {model['name']}: {name}")


def check_index(kind: str, index: int, count: int) -> None:
    """Refuse a position outside the list: Python's ``list.insert`` would quietly clamp or count from the end."""
    if not 0 <= index < count:
        raise InvalidParams(f"{kind} index should be between 0 and {count - 1}: {index}")


def folded(name: str) -> str:
    """The form Anki compares field and template names in (it makes clashing names unique with a "+")."""
    return name.casefold()


def anki_field_name(name: str) -> str:
    """The name Anki stores for a field name: without ``:{}"``, trimmed, and not starting with ``#``, ``/`` or ``^``.

    Raises ``InvalidParams`` when nothing is left.
    """
    cleaned = _BAD_FIELD_CHARS.sub("", name).strip()
    while cleaned and (cleaned[0] in "#/^" or cleaned[0].isspace()):
        cleaned = cleaned[1:]
    if not cleaned:
        raise InvalidParams(f"not a valid field name: {name}")
    return cleaned


def unique_or_raise(kind: str, model_name: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if folded(name) in seen:
            raise InvalidParams(f"{kind} already exists in {model_name}: {name}")
        seen.add(folded(name))


def template_sides(spec: dict[str, Any], where: str, default_name: str | None = None) -> tuple[str, str, str]:
    """``(name, front, back)`` from a ``{Name, Front, Back}`` object; a missing key is an error, not a KeyError."""
    values: list[str] = []
    for key in ("Name", "Front", "Back"):
        value = spec.get(key, default_name if key == "Name" else None)
        if value is None:
            raise InvalidParams(f'{where} has no "{key}" property')
        if not isinstance(value, str):
            raise InvalidParams(f'{where} property "{key}" must be a string')
        values.append(value)
    name, front, back = values
    return name, front, back


@contextmanager
def anki_errors() -> Iterator[None]:
    """Turn Anki's refusal of a note type (bad template, empty name...) into a plain action error.

    Anki's messages wrap names in Unicode isolation marks, which only make sense in its own UI.
    """
    from anki.errors import CardTypeError, InvalidInput
    from anki.lang import without_unicode_isolation

    try:
        yield
    except (CardTypeError, InvalidInput) as exc:
        raise InvalidParams(without_unicode_isolation(str(exc))) from None


MAX_SECTION_DEPTH = 100
"""Template sections (``{{#Field}}``, ``{{^Field}}``) nested deeper are refused: Anki's template parser recurses
once for each, and some thousands of levels overflow its thread's stack, crashing the process (Anki with it)
when the note type is saved or a card rendered."""
_SECTION_TAG = re.compile(r"\{\{\s*([#^/])")


def checked_templates(model: NotetypeDict) -> NotetypeDict:
    """The note type, unless a template's sections nest more than ``MAX_SECTION_DEPTH`` deep."""
    for template in model["tmpls"]:
        for side in ("qfmt", "afmt"):
            depth = 0
            for tag in _SECTION_TAG.finditer(template[side]):
                depth = depth + 1 if tag.group(1) != "/" else max(0, depth - 1)
                if depth > MAX_SECTION_DEPTH:
                    raise InvalidParams(
                        f"template {template['name']} of {model['name']}: sections nested more than "
                        f"{MAX_SECTION_DEPTH} deep"
                    )
    return model


def save_model(col: Collection, model: NotetypeDict) -> None:
    """Write one edited note type (one transaction: Anki either takes all of it or none)."""
    checked_templates(model)
    with anki_errors():
        col.models.update_dict(model)


def save_models(col: Collection, models: list[NotetypeDict]) -> None:
    """Write several note types all-or-nothing: if Anki refuses one, the ones written before it are rolled back.

    (Undo cannot do it: Anki empties its undo queue when an operation fails.)
    """
    for model in models:
        checked_templates(model)  # all before any is written
    steps = UndoFolder(col)  # one undo step for the whole action, however many note types

    def write_all() -> None:
        for model in models:
            save_model(col, model)
            steps.fold()

    database(col).transact(write_all)
