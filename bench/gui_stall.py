"""Inside Anki (offscreen): how long Qt's event loop stalls while a client runs big requests.

Run as its own process (``python bench/gui_stall.py --notes 20000``; one Anki per process): real Anki boots
offscreen with the add-on installed (``tests/anki_harness.py``), opens a copy of the seeded collection, and a
precise Qt timer ticks every ``TICK_MS`` on the main thread. A client process then sends ``addNotes`` of 10k
notes and ``cardsInfo`` of 10k cards over HTTP while the main thread runs Qt's event loop; the longest gap
between two ticks (less the tick interval) is the longest time the window could not respond. The same is
measured idle, and for comparison the naive way: the same ``addNotes`` work done on the main thread (as an
add-on that runs requests there would), and an edit made in Anki's own screens until the add-on has published
it. The last line printed is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from anki_harness import PACKAGE, AnkiSession, prepare_base, wait_until  # noqa: E402  (sets Qt's environment)
from common import seeded_collection  # noqa: E402
from data_ops import direct_add_notes, note_batch  # noqa: E402

__all__ = ["FIRST_FIELD_SEARCH", "FIRST_TAG_SEARCH", "OWN_EDIT", "TICK_MS", "main"]

TICK_MS = 2
BATCH = 10_000
SETTLE_S = 1.5
"""The client's pause after each reply, so what Anki does after a request is timed apart from the next."""


class TickRecorder:
    """A precise Qt timer on the main thread; records when each tick ran."""

    def __init__(self) -> None:
        from aqt.qt import Qt, QTimer

        self.ticks: list[float] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.ticks.clear()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def gaps_ms(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        """Each gap between ticks (less the interval) that ended within [since, until]."""
        ticks = self.ticks
        return [(b - a) * 1000 - TICK_MS for a, b in zip(ticks, ticks[1:], strict=False) if since <= b and a <= until]

    def worst_at(self, since: float, until: float) -> float:
        """When the longest gap within [since, until] ended, in ms after ``since``."""
        pairs = [(b - a, b) for a, b in zip(self.ticks, self.ticks[1:], strict=False) if since <= b and a <= until]
        return (max(pairs)[1] - since) * 1000 if pairs else 0.0


def run_loop_until(done: Callable[[], bool], timeout: float) -> None:
    """Run Qt's own event loop (not a polling wait, which sleeps between rounds) until ``done()``."""
    from aqt.qt import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    check = QTimer()
    check.setInterval(5)

    def poll() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()

    check.timeout.connect(poll)
    check.start()
    loop.exec()
    check.stop()
    if not done():
        raise TimeoutError("the client did not finish in time")


def boot(base: Path) -> AnkiSession:
    import anki.collection
    import aqt

    base.mkdir(parents=True, exist_ok=True)
    prepare_base(base)
    anki.collection.Collection.create_backup = lambda *a, **k: False  # type: ignore[method-assign]
    aqt._run(argv=["anki", "-b", str(base), "-p", "test"], exec=False)
    mw = aqt.mw
    assert mw is not None
    wait_until(lambda: mw.col is not None and mw.state == "deckBrowser", 120, "Anki to open the profile")
    return AnkiSession(mw, base, sys.modules[PACKAGE])


FIRST_FIELD_SEARCH = "first exact-field search"
"""A Yomitan-like ``findNotes``; the first reads every note's field into the index (``field_index.py``)."""
FIRST_TAG_SEARCH = "first tag search"
OWN_EDIT = "edit in Anki"
"""``findNotes tag:t1``; the first reads every note's tags into the index (``tag_index.py``)."""


def client_requests(port: int, card_ids: list[int]) -> list[tuple[str, float, float]]:
    """The first exact-field and tag searches, addNotes of 10k, then cardsInfo of 10k cards, each on the same
    keep-alive connection: (label, start, end)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    requests = [
        (FIRST_FIELD_SEARCH, {"action": "findNotes", "version": 6, "params": {"query": '"Front:word1"'}}),
        (FIRST_TAG_SEARCH, {"action": "findNotes", "version": 6, "params": {"query": "tag:t1"}}),
        ("addNotes 10k", {"action": "addNotes", "version": 6, "params": {"notes": note_batch(BATCH, "gui")}}),
        ("cardsInfo 10k", {"action": "cardsInfo", "version": 6, "params": {"cards": card_ids}}),
    ]
    phases = []
    for label, request in requests:
        body = json.dumps(request).encode()
        start = time.perf_counter()
        connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        reply = json.loads(connection.getresponse().read())
        phases.append((label, start, time.perf_counter()))
        if reply["error"] is not None:
            raise RuntimeError(f"{label} failed: {reply['error']}")
        # Anki refreshes its screens after a change (its deck browser renders in the web view, on the main
        # thread, as after any note added in Anki itself): give that a window of its own, not cardsInfo's.
        time.sleep(SETTLE_S)
    connection.close()
    return phases


def client_process(port: int, card_ids: list[int]) -> list[tuple[str, float, float]]:
    """``client_requests`` in a process of its own: decoding a 10 MB reply in Anki's process would hold the GIL
    (and so the window) for 140 ms itself. perf_counter is CLOCK_MONOTONIC, one clock for every process."""
    completed = subprocess.run(
        [sys.executable, __file__, "--client", str(port)],
        input=json.dumps(card_ids),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the client failed: {completed.stderr[-2000:]}")
    return [(label, start, end) for label, start, end in json.loads(completed.stdout.splitlines()[-1])]


def measure(session: AnkiSession, card_ids: list[int]) -> dict[str, Any]:
    ticks = TickRecorder()
    results: dict[str, Any] = {}

    # idle: what the timer itself shows with nothing to do
    ticks.start()
    idle_start = time.perf_counter()
    run_loop_until(lambda: time.perf_counter() - idle_start > 2, 10)
    ticks.stop()
    idle = ticks.gaps_ms()
    results["idle_max_ms"] = max(idle)

    # a client runs the requests while the main thread runs the event loop
    phases: list[tuple[str, float, float]] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            phases.extend(client_process(session.port, card_ids))
        except BaseException as exc:
            errors.append(exc)

    ticks.start()
    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    run_loop_until(lambda: not thread.is_alive(), 900)
    if errors:
        raise errors[0]
    finished = time.perf_counter()
    # what Anki does after the reply (refreshing its screens) still counts
    run_loop_until(lambda: session.mw._background_op_count == 0 and time.perf_counter() - finished > 1, 120)
    ticks.stop()
    everything = ticks.gaps_ms()
    results["max_ms"] = max(everything)
    results["p99_ms"] = sorted(everything)[int(len(everything) * 0.99)]
    for (label, start, end), (_, after, _) in zip(phases, [*phases[1:], ("", finished, 0.0)], strict=True):
        results[f"{label} ms"] = (end - start) * 1000
        results[f"{label} max stall ms"] = max(ticks.gaps_ms(start, end))
        results[f"{label} max stall at ms"] = ticks.worst_at(start, end)
        if after > end:
            results[f"after {label} max stall ms"] = max(ticks.gaps_ms(end, after), default=0.0)
    results["after replies max stall ms"] = max(ticks.gaps_ms(finished), default=0.0)

    results.update(measure_own_edit(session, ticks))

    # the naive way for comparison: the same addNotes work on the main thread
    col = session.mw.col
    start = time.perf_counter()
    direct_add_notes(col, note_batch(BATCH, "main"))
    results["addNotes 10k on the main thread ms"] = (time.perf_counter() - start) * 1000
    return results


def measure_own_edit(session: AnkiSession, ticks: TickRecorder) -> dict[str, float]:
    """An edit made in Anki's own screens (its update_note operation) until its note.updated event is out, and
    the second after: the change scan that finds the edit is the add-on's part of the work."""
    from aqt.operations.note import update_note

    mw, bus = session.mw, session.addon.app.events
    # The 10k note.added events of the client's addNotes may still be on their way to the bus.
    last_seq: int = bus.seq
    quiet_since = time.perf_counter()

    def settled() -> bool:
        nonlocal last_seq, quiet_since
        if bus.seq != last_seq:
            last_seq, quiet_since = bus.seq, time.perf_counter()
        return time.perf_counter() - quiet_since > 0.5

    run_loop_until(settled, 60)
    note = mw.col.get_note(mw.col.find_notes("")[0])
    note["Back"] = "edited in Anki's editor"
    seq = bus.seq

    def published() -> bool:
        try:
            return any(event.name == "note.updated" for event in bus.since(seq) or [])
        except RuntimeError:  # the history changed while read (the server's thread appends to it)
            return False

    ticks.start()
    start = time.perf_counter()
    update_note(parent=mw, note=note).run_in_background()
    run_loop_until(published, 60)
    end = time.perf_counter()
    run_loop_until(lambda: time.perf_counter() - end > 1, 10)
    ticks.stop()
    return {f"{OWN_EDIT} ms": (end - start) * 1000, f"{OWN_EDIT} max stall ms": max(ticks.gaps_ms(start))}


def close(session: AnkiSession) -> None:
    mw = session.mw
    session.addon.shutdown()
    mw.moveToState("deckBrowser")
    wait_until(lambda: mw._background_op_count == 0, 60, "background operations")
    mw.unloadProfile(lambda: mw.cleanupAndExit())
    wait_until(lambda: mw.col is None, 60, "the collection to close")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--client", type=int, metavar="PORT", help="(internal) be the client: card ids on stdin")
    args = parser.parse_args()
    if args.client is not None:
        print(json.dumps(client_requests(args.client, json.load(sys.stdin))), flush=True)
        return
    seed = seeded_collection(args.notes)
    with tempfile.TemporaryDirectory() as tmp:
        session = boot(Path(tmp) / "base")
        session.fresh_profile("bench", seed)
        session.settle()
        mw = session.mw
        card_ids = sorted(int(c) for c in mw.col.find_cards("deck:Seed*"))[:BATCH]
        results = {"notes": args.notes, "tick_ms": TICK_MS, **measure(session, card_ids)}
        close(session)
    print("RESULT " + json.dumps(results), flush=True)
    os._exit(0)  # Qt's teardown at interpreter exit can crash offscreen; everything is reported and closed


if __name__ == "__main__":
    main()
