"""The one thread boundary: run work on the collection's owner thread and await its result."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Bridge", "BridgeClosed", "Done", "Post"]

T = TypeVar("T")
Post = Callable[[Callable[[], None]], Any]
"""Queues a callable on the owner thread: ``mw.taskman.run_on_main`` in Anki, an executor headless."""
Done = Callable[[Any], None]
"""Called (from any thread, once) with the result of work started by ``Bridge.submit``."""


class BridgeClosed(RuntimeError):
    """The owner thread no longer takes work (the server is shutting down)."""


class Bridge:
    """Hands work to the owner thread and wakes the asyncio loop when it is done; no polling."""

    def __init__(self, post: Post) -> None:
        self._post = post
        self._closed = False
        self._lock = threading.Lock()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the owner thread. Must be awaited from the event loop, never from the owner."""
        result: T = await self.submit(lambda done: done(fn(*args)))
        return result

    async def submit(self, start: Callable[[Done], None]) -> Any:
        """Run ``start(done)`` on the owner thread; the result is what ``done`` is later called with.

        ``start`` may finish the work at once or hand it on (to a background operation, a dialog...) and
        call ``done`` from wherever it completes. An exception raised by ``start`` is raised here.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():  # the awaiting request was cancelled; the work itself still ran
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def report(result: Any, error: BaseException | None = None) -> None:
            # RuntimeError: the loop has stopped, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, result, error)

        def run() -> None:
            try:
                start(report)
            except BaseException as exc:  # handed to the awaiting coroutine
                report(None, exc)

        with self._lock:
            if self._closed:
                raise BridgeClosed("server is shutting down")
            self._post(run)
        return await future

    def close(self) -> None:
        """Refuse new work; work already posted still runs."""
        with self._lock:
            self._closed = True
