"""The event bus's batches (``publish_all``): in order, numbered one after the other, from any thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from ankiconnect_live.events.bus import EventBus


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(5)
    running.close()


def on_loop(loop: asyncio.AbstractEventLoop, fn: object) -> object:
    """Run ``fn`` on the loop and return its result (after every callback queued before it)."""

    async def call() -> object:
        return fn()  # type: ignore[operator]

    return asyncio.run_coroutine_threadsafe(call(), loop).result(5)


def batch(count: int, start: int = 0) -> list[tuple[str, dict[str, int]]]:
    return [("note.added", {"noteId": i}) for i in range(start, start + count)]


def test_a_batch_from_another_thread_arrives_in_order_at_one_time(loop: asyncio.AbstractEventLoop) -> None:
    bus = EventBus()
    bus.attach(loop)
    bus.publish("collection.changed", {"changes": ["note"]})
    bus.publish_all(batch(500))
    bus.publish("counts.changed", {"new": 500})
    events = on_loop(loop, lambda: bus.since(0))
    assert isinstance(events, list)
    assert [e.seq for e in events] == list(range(1, 503))
    assert [e.name for e in events] == ["collection.changed", *["note.added"] * 500, "counts.changed"]
    assert [e.data["noteId"] for e in events[1:501]] == list(range(500))
    assert len({e.time for e in events[1:501]}) == 1


def test_a_batch_published_on_the_loop_is_numbered_at_once(loop: asyncio.AbstractEventLoop) -> None:
    bus = EventBus()
    bus.attach(loop)
    on_loop(loop, lambda: None)  # the bus has learnt which thread is the loop's

    def publish_and_count() -> int:
        bus.publish_all(batch(3))
        return bus.seq

    assert on_loop(loop, publish_and_count) == 3


def test_a_batch_before_the_loop_keeps_the_newest_the_history_would(loop: asyncio.AbstractEventLoop) -> None:
    bus = EventBus(history=4)
    bus.publish_all(batch(3))
    bus.publish_all(batch(3, start=3))
    bus.attach(loop)
    events = on_loop(loop, lambda: bus.since(bus.seq - 4))
    assert isinstance(events, list)
    assert [e.data["noteId"] for e in events] == [2, 3, 4, 5]


def test_a_listener_gets_each_event_of_a_batch(loop: asyncio.AbstractEventLoop) -> None:
    bus = EventBus()
    bus.attach(loop)
    got: list[int] = []
    on_loop(loop, lambda: bus.listen(frozenset({"note.added"}), lambda event: got.append(event.data["noteId"])))
    bus.publish_all([*batch(2), ("note.deleted", {"noteId": 9}), *batch(2, start=2)])
    on_loop(loop, lambda: None)
    assert got == [0, 1, 2, 3]
