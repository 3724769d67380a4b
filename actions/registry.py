"""The action decorator and the registry it fills; the registry is built once at import."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .params import ParamSpec, param_specs

__all__ = ["Action", "BatchHandler", "Handler", "OneByOne", "Registry", "merge_registries"]

Handler = Callable[..., Any]
BatchHandler = Callable[[Any, list[dict[str, Any]]], list[Any]]
"""``(context, each call's bound params) -> each call's result``, or the exception that call raises when
run alone (an exception instance in its place). Raising means: run them one by one instead; it must have
written nothing by then, or only what the calls, run again one by one, leave as they find it."""


class OneByOne(Exception):
    """Raised by a batch handler, having written nothing, for calls it cannot do together exactly."""


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
    batch: BatchHandler | None = None
    """Does a run of calls of this action in one ``multi`` at once, with the outcomes of calling it on each in
    turn (``Dispatcher.run_all``)."""

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

    def batched(self, name: str) -> Callable[[BatchHandler], BatchHandler]:
        """Declare how consecutive calls of the (already declared) action ``name`` in a ``multi`` run at once."""

        def register(batch: BatchHandler) -> BatchHandler:
            self.actions[name] = dataclasses.replace(self.actions[name], batch=batch)
            return batch

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
