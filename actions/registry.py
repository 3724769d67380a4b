"""The action decorator and the registry it fills; the registry is built once at import."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .params import ParamSpec, param_specs

__all__ = ["Action", "Handler", "Registry", "merge_registries"]

Handler = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Action:
    """One wire action: its handler and what the dispatcher must know before calling it."""

    name: str
    handler: Handler
    params: Mapping[str, ParamSpec]
    required: tuple[str, ...]
    summary: str
    domain: str
    gui: bool = False
    inline: bool = False
    """Touches neither the collection nor the GUI, so it may run on the event loop thread."""
    versions: tuple[int, int] | None = None

    def accepts_version(self, version: int) -> bool:
        if self.versions is None:
            return True
        low, high = self.versions
        return low <= version <= high


class Registry:
    """The actions of one domain module (``notes``, ``decks``...).

    Handlers take the request context first and their params as keyword-only arguments; the annotations of
    those arguments are the param schema.
    """

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.actions: dict[str, Action] = {}

    def action(
        self,
        name: str,
        *,
        gui: bool = False,
        inline: bool = False,
        versions: tuple[int, int] | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self.actions:
                raise ValueError(f"action {name!r} declared twice in {self.domain}")
            hints = typing.get_type_hints(handler)
            specs = param_specs(handler, hints)
            doc = inspect.getdoc(handler) or ""
            self.actions[name] = Action(
                name=name,
                handler=handler,
                params=specs,
                required=tuple(p for p, spec in specs.items() if spec.required),
                summary=doc.splitlines()[0] if doc else "",
                domain=self.domain,
                gui=gui,
                inline=inline,
                versions=versions,
            )
            return handler

        return register


def merge_registries(registries: Iterable[Registry]) -> dict[str, Action]:
    """One name -> action table; a name declared by two domains is a programming error."""
    table: dict[str, Action] = {}
    for registry in registries:
        for name, action in registry.actions.items():
            if name in table:
                raise ValueError(f"action {name!r} declared in {table[name].domain} and {registry.domain}")
            table[name] = action
    return dict(sorted(table.items()))
