"""Profile one request in-process with pyinstrument: ``python bench/profiling.py cardsInfo --notes 200000``.

The request runs through the real Dispatcher on a copy of the seeded collection, on this thread (so the
profiler sees every frame), once to warm up and then ``--repeat`` times under the profiler. This is how the
hot paths of the benchmarks were found; the server process adds only HTTP, JSON and the thread hop.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time
from pathlib import Path
from typing import Any

from common import copy_of, seeded_collection

__all__ = ["REQUESTS", "local_dispatcher"]


def local_dispatcher(col: Any) -> Any:
    """A Dispatcher over ``col`` with no server around it (the Runtime protocol at its simplest)."""
    from ankiconnect_live.actions import ACTIONS, Dispatcher
    from ankiconnect_live.settings import load_settings

    settings = load_settings({"webBindPort": 0})

    class LocalRuntime:
        def collection(self) -> Any:
            return col

        def settings(self) -> Any:
            return settings

        def profile_name(self) -> str | None:
            return "bench"

        def gui(self) -> None:
            return None

        def profiles(self) -> list[str]:
            return ["bench"]

        def load_profile(self, name: str) -> bool:
            return name == "bench"

        def reload_collection(self) -> None:
            return None

    return Dispatcher(ACTIONS, LocalRuntime())


def _lookup_request(col: Any) -> dict[str, Any]:
    from yomitan import lookup_requests

    return {"action": "multi", "version": 6, "params": {"actions": lookup_requests(0, col.note_count())}}


REQUESTS: dict[str, Any] = {
    "cardsInfo": lambda col: {"action": "cardsInfo", "version": 6, "params": {"cards": _ids(col, "cards")[:10_000]}},
    "notesInfo": lambda col: {"action": "notesInfo", "version": 6, "params": {"notes": _ids(col, "notes")[:10_000]}},
    "findCards": lambda col: {"action": "findCards", "version": 6, "params": {"query": "deck:Seed*"}},
    "findNotes": lambda col: {"action": "findNotes", "version": 6, "params": {"query": "tag:t1*"}},
    "getDeckStats": lambda col: {
        "action": "getDeckStats",
        "version": 6,
        "params": {"decks": [d.name for d in col.decks.all_names_and_ids()]},
    },
    "lookup": _lookup_request,
    "multiUpdateNoteFields": lambda col: {
        "action": "multi",
        "version": 6,
        "params": {
            "actions": [
                {"action": "updateNoteFields", "params": {"note": {"id": nid, "fields": {"Back": f"{time.time_ns()}"}}}}
                for nid in _ids(col, "notes")[:1000]
            ]
        },
    },
    "addNotes": lambda col: {
        "action": "addNotes",
        "version": 6,
        "params": {
            "notes": [
                {
                    "deckName": "Default",
                    "modelName": "Basic",
                    "fields": {"Front": f"p{time.time_ns()} {i}", "Back": "b"},
                }
                for i in range(10_000)
            ]
        },
    },
}


def _ids(col: Any, table: str) -> list[int]:
    return [int(i) for i in col.db.list(f"select id from {table} order by id")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("request", choices=sorted(REQUESTS))
    parser.add_argument("--notes", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="show library frames too")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = parser.parse_args()

    from anki.collection import Collection

    # Through importlib: pyinstrument is a bench-only dependency, and `make test` type-checks bench/ without it.
    profiler_class: Any = importlib.import_module("pyinstrument").Profiler

    from ankiconnect_live.wire import Caller

    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(copy_of(seeded_collection(args.notes), Path(tmp), "profile")))
        try:
            dispatcher = local_dispatcher(col)
            warm = dispatcher.run(REQUESTS[args.request](col), Caller())
            if warm.error is not None:
                raise SystemExit(f"{args.request} failed: {warm.error}")
            requests = [REQUESTS[args.request](col) for _ in range(args.repeat)]  # a new one each time (writes)
            profiler = profiler_class(interval=0.0005)
            with profiler:
                for request in requests:
                    outcome = dispatcher.run(request, Caller())
                    if outcome.error is not None:
                        raise SystemExit(f"{args.request} failed: {outcome.error}")
            print(profiler.output_text(unicode=True, color=False, show_all=args.all))
            if args.html is not None:
                args.html.write_text(profiler.output_html())
        finally:
            col.close()


if __name__ == "__main__":
    main()
