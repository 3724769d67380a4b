"""Turn JSON params into handler arguments, checked against the handler's annotations.

Supported annotations: ``int``, ``float``, ``str``, ``bool``, ``Any``, ``list[T]``, ``dict[str, T]`` and
``T | None``. A converter is built once per parameter when the action is registered.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParams

__all__ = ["ParamSpec", "bind_params", "param_specs"]

Converter = Callable[[Any, str], Any]
"""Converts one JSON value; the second argument names the value in error messages."""


class _Mismatch(Exception):
    def __init__(self, where: str, expected: str, value: Any) -> None:
        super().__init__(where)
        self.where = where
        self.expected = expected
        self.value = value


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    convert: Converter
    required: bool
    default: Any
    annotation: Any


def param_specs(handler: Callable[..., Any], hints: Mapping[str, Any]) -> dict[str, ParamSpec]:
    """Read the keyword-only parameters of a handler (its first parameter is the context)."""
    specs: dict[str, ParamSpec] = {}
    for param in list(inspect.signature(handler).parameters.values())[1:]:
        if param.kind is not inspect.Parameter.KEYWORD_ONLY:
            raise TypeError(f"{handler.__qualname__}: parameter {param.name!r} must be keyword-only")
        if param.name not in hints:
            raise TypeError(f"{handler.__qualname__}: parameter {param.name!r} needs an annotation")
        required = param.default is inspect.Parameter.empty
        specs[param.name] = ParamSpec(
            name=param.name,
            convert=converter_for(hints[param.name]),
            required=required,
            default=None if required else param.default,
            annotation=hints[param.name],
        )
    return specs


def bind_params(action: str, specs: Mapping[str, ParamSpec], params: Mapping[str, Any]) -> dict[str, Any]:
    """Check names and types, fill defaults; errors read like the TypeError upstream's ``**params`` gives."""
    prefix = f"AnkiConnect.{action}()"
    for name in params:
        if name not in specs:
            raise InvalidParams(f"{prefix} got an unexpected keyword argument '{name}'")
    missing = [name for name, spec in specs.items() if spec.required and name not in params]
    if missing:
        raise InvalidParams(f"{prefix} missing {_count(missing)}: {_join(missing)}")
    bound: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in params:
            bound[name] = spec.default
            continue
        try:
            bound[name] = spec.convert(params[name], name)
        except _Mismatch as exc:
            raise InvalidParams(
                f"{prefix} argument '{exc.where}' must be {exc.expected}, not {_kind(exc.value)}"
            ) from None
    return bound


def _count(names: list[str]) -> str:
    # Upstream splats params into a Python call, so clients have seen Python's own wording.
    noun = "argument" if len(names) == 1 else "arguments"
    return f"{len(names)} required positional {noun}"


def _join(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        number = repr(value)
        return f"the number {number if len(number) <= 40 else number[:37] + '...'}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def converter_for(annotation: Any) -> Converter:
    """Build the converter for one annotation."""
    if annotation is Any or annotation is object:
        return _any
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        allows_none = len(members) < len(typing.get_args(annotation))
        inner = converter_for(members[0]) if len(members) == 1 else _union(members)
        return _optional(inner) if allows_none else inner
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return _list(converter_for(item), _expected_name(annotation))
    if origin is dict:
        _, value = typing.get_args(annotation) or (str, Any)
        return _dict(converter_for(value), _expected_name(annotation))
    simple = _SIMPLE.get(annotation)
    if simple is None:
        raise TypeError(f"unsupported param annotation: {annotation!r}")
    return simple


def _expected_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list:
        return "a list" if not args or args[0] is Any else f"a list of {_PLURAL.get(args[0], 'values')}"
    if origin is dict:
        return "an object"
    return _NAMES.get(annotation, "a value")


def _any(value: Any, where: str) -> Any:
    return value


def _optional(inner: Converter) -> Converter:
    def convert(value: Any, where: str) -> Any:
        return None if value is None else inner(value, where)

    return convert


def _union(members: list[Any]) -> Converter:
    converters = [converter_for(m) for m in members]
    expected = " or ".join(_expected_name(m) for m in members)

    def convert(value: Any, where: str) -> Any:
        for conv in converters:
            try:
                return conv(value, where)
            except _Mismatch:
                continue
        raise _Mismatch(where, expected, value)

    return convert


def _list(item: Converter, expected: str) -> Converter:
    def convert(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise _Mismatch(where, expected, value)
        if item is _int and set(map(type, value)) == _INT_ONLY and _in_range(value):
            return value  # the common case (lists of ids) needs no per-element work (a set: twice as fast as all())
        converted = []
        for i, v in enumerate(value):
            try:
                converted.append(item(v, where))
            except _Mismatch as exc:  # name the element only on failure: paths cost time on long lists
                raise _Mismatch(f"{where}[{i}]{exc.where[len(where) :]}", exc.expected, exc.value) from None
        return converted

    return convert


def _dict(item: Converter, expected: str) -> Converter:
    def convert(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise _Mismatch(where, expected, value)
        if item is _any:
            return value
        converted = {}
        for k, v in value.items():
            try:
                converted[k] = item(v, where)
            except _Mismatch as exc:
                raise _Mismatch(f"{where}.{k}{exc.where[len(where) :]}", exc.expected, exc.value) from None
        return converted

    return convert


INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Anki's ids and numbers are 64-bit: a larger integer would fail deep in its backend, not here."""


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not _integral(value):
        raise _Mismatch(where, "an integer", value)
    number = int(value)
    if not INT_MIN <= number <= INT_MAX:
        raise _Mismatch(where, "a 64-bit integer", value)
    return number


def _integral(value: Any) -> bool:
    if isinstance(value, int):
        return True
    # Clients that keep ids as strings (e.g. getReviewsOfCards' documented example) still work; the length
    # bound keeps int() within Python's 4300-digit conversion limit.
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        return digits.isascii() and digits.isdecimal() and len(digits) < 40
    return isinstance(value, float) and value.is_integer()


_INT_ONLY = {int}


def _in_range(numbers: list[int]) -> bool:
    return not numbers or (min(numbers) >= INT_MIN and max(numbers) <= INT_MAX)


def _float(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float
            raise _Mismatch(where, "a number", value) from None
    raise _Mismatch(where, "a number", value)


def _str(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    raise _Mismatch(where, "a string", value)


_TRUTHY_STRINGS = {"true": True, "false": False}


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    # Upstream only tested truthiness, and some clients send "True" or 1 (e.g. deleteDecks' cardsToo).
    if isinstance(value, str) and value.lower() in _TRUTHY_STRINGS:
        return _TRUTHY_STRINGS[value.lower()]
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _Mismatch(where, "a boolean", value)


_SIMPLE: dict[Any, Converter] = {int: _int, float: _float, str: _str, bool: _bool}
_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "a boolean"}
_PLURAL = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}
