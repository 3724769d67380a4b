"""What a handler may use: the collection, settings, the caller, and the dispatcher for ``multi``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..events.changes import Publish
from ..settings import Settings
from ..wire import Caller, Outcome
from .errors import CollectionUnavailable, UnsupportedAction

if TYPE_CHECKING:
    from anki.collection import Collection

    from .registry import Action

__all__ = ["Context", "GuiHost", "Runtime", "publish_event", "publishing"]

_publisher: ContextVar[Publish | None] = ContextVar("ankiconnect_live_publisher", default=None)


class GuiHost(Protocol):
    """Runs graphical actions in the desktop app (provided by the add-on, absent headless)."""

    def run(self, action: str, **params: Any) -> Any:
        """Run one graphical action on the GUI thread and return its result."""


class Runtime(Protocol):
    """What a composition root (GUI or headless) gives the actions."""

    def collection(self) -> Collection | None:
        """The open collection, or None while no profile is open."""

    def settings(self) -> Settings:
        """The current configuration."""

    def profile_name(self) -> str | None:
        """The name of the open profile (headless: the collection's name)."""

    def gui(self) -> GuiHost | None:
        """The GUI host, or None when there is no Anki window."""

    def profiles(self) -> list[str]:
        """The names of the profiles ``load_profile`` can open (headless: the collection files it knows)."""

    def load_profile(self, name: str) -> bool:
        """Make ``name`` the open profile: False if unknown, else True (at once if it already was open).

        Headless, True means the new profile is open, and a profile that cannot be opened raises an ActionError
        with the previous one still open. Inside Anki, True means the switch has started, as in AnkiConnect.
        """

    def reload_collection(self) -> None:
        """Re-read the open collection from disk (headless: close it and open it again)."""


@dataclass(frozen=True, slots=True)
class Context:
    """Passed to every handler as its first argument; built per request on the owner thread."""

    runtime: Runtime
    settings: Settings
    caller: Caller
    run_nested: Callable[[list[Any]], list[Outcome]]
    """Runs the requests of a ``multi`` in order (``Dispatcher.run_all``)."""
    actions: Mapping[str, Action]
    """Every action this server has, by wire name (for apiReflect)."""

    @property
    def col(self) -> Collection:
        """The collection, or the ``collection is not available`` error clients know from upstream."""
        col = self.runtime.collection()
        if col is None:
            raise CollectionUnavailable()
        return col

    @property
    def gui(self) -> GuiHost:
        gui = self.runtime.gui()
        if gui is None:  # the dispatcher refuses graphical actions first; this guards other callers
            raise UnsupportedAction()
        return gui

    @property
    def profile(self) -> str | None:
        return self.runtime.profile_name()

    def publish(self, name: str, data: dict[str, Any]) -> None:
        """Publish an event only a handler knows about (media stored, a sync); see ``publish_event``."""
        publish_event(name, data)


@contextmanager
def publishing(publish: Publish) -> Iterator[None]:
    """Route the events handlers publish while this block runs (one request, on its thread) to ``publish``.

    The server that runs the request sets this, so handlers and the helpers they share (``store_media``
    has no Context) reach its bus without passing it around; outside a request publishing does nothing.
    """
    token = _publisher.set(publish)
    try:
        yield
    finally:
        _publisher.reset(token)


def publish_event(name: str, data: dict[str, Any]) -> None:
    """Publish on the bus of the server running the current request (a no-op when there is none)."""
    publish = _publisher.get()
    if publish is not None:
        publish(name, data)
