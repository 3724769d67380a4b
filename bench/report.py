"""The benchmark results: kept as JSON, printed, and written to the README's Performance section.

``run.py`` fills a ``Results`` and saves it (``.bench-cache/results.json`` when it writes the README, else
``last-run.json``); ``python bench/report.py`` writes the README section and the chart again from the saved
results without measuring anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["README", "RESULTS", "Results", "machine", "markdown", "write_readme"]

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / ".bench-cache" / "results.json"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

LOOKUP_TARGET_MS = 30.0
RATIO_TARGET = 1.3
STALL_TARGET_MS = 100.0


MISSED_WHY: list[tuple[tuple[str, ...], str]] = [
    (
        ("findNotes", "findCards", "getDeckStats"),
        "Searches new to the server, and `getDeckStats` after a change: Anki answers these in 2-8 ms on 20k notes, "
        "and a request costs any server part of that again. *Bound* is the best a server in another process could "
        "reach: the direct time plus the round trip of a bare responder (asyncio, no parsing beyond the head, the "
        "same reply bytes held ready), timed in the same rounds right after the same direct work. Beyond the bound "
        "this server spends about 1 ms on a search with a short reply: HTTP parsed and answered with h11 and the "
        "request's checks (a `version` round trip is 0.15 ms over the bare responder); the hop to the collection's "
        "thread and back, with Anki's undo state read on each side to publish what the request changed (a "
        "collection request doing no work is 0.2-0.25 ms over `version`: mostly two thread wake-ups); and all of "
        "it runs colder than in a loop, as the client's work and other requests' between two requests leave the "
        'CPU\'s caches cold (timed inside the server, `"deck:Seed::Deck 1" front:word1*` took 2.0-2.1 ms in '
        "Anki's search and 0.4 ms in the request's own steps around it, against 1.2 and 0.01-0.1 ms called in a "
        "loop; the direct side, timed between server requests, pays part of that too). Writing ids as JSON adds "
        "about 0.75 ms per 20,000: orjson, the fastest encoder here (`repr` and %-formatting are slower), takes 26 "
        "ns for an id of 13 digits, five times as long as for a small number, and the spaces `json.dumps` puts "
        "between items 11 ns more. A 2-8 ms operation cannot reliably absorb that within 30%; where Anki's own "
        "work dominates (searches on 200k notes) the ratios come within 1.2x, except `is:new`, which returns every "
        "card: its reply takes 0.78 ms to write for 20k ids and 7.9 ms for 200k (5 ms of orjson, 2 ms of spaces), "
        "so the least any server writing upstream's JSON could reach is the bound plus that, about 1.6x on 20k "
        "notes and 1.35x on 200k (this server: 1.34-1.59x on 200k across runs). `deck:Seed*` names every deck, so "
        "the server does not confine it to its decks' cards (confined to all decks, Anki's search is slower: 8.8 "
        "against 7.4 ms on 20k notes). A leaner owner thread and skipping the undo reads for read-only actions "
        "were tried: 2-4% (0.03 ms), not kept. Ratios of operations this short move by a tenth or more from one "
        "run to the next.",
    ),
    (
        ("addNotes",),
        "`addNotes` against the bare add: besides adding, the server checks every note and refuses duplicates "
        "as upstream does (the bare add does neither; the row above compares with a direct side that checks), "
        "decodes a 0.9 MB request, and before replying finds what the request changed, to publish one "
        "`note.added` event per new note. That change scan reads the notes the request wrote, named by a log "
        "that temporary triggers keep on the collection's connection (appending to it costs about 1 µs per "
        "note, inside Anki's add; the scan used to read the whole notes table, and the notes of the last second "
        "or two again: 30-35 ms more per 10k), and their decks (about 45 ms in all per 10k). Python's garbage "
        "collector is held off while a request runs, as Anki runs without it: that took 50-80 ms off each 10k "
        "addNotes. Across runs this row measures 1.13x-1.35x: it straddles the target.",
    ),
    (
        ("multi of 1,000 updateNoteFields",),
        "`multi` of 1,000 `updateNoteFields`: the direct side reads each note (10 ms) and writes them all with "
        "one `col.update_notes` (23 ms); the server does the same work (written one call at a time, as before, "
        "the 1,000 calls took 0.35 s), and adds what makes each call its own: its key, version and params checked "
        "and its fields and media applied in turn, so that a failing call leaves the others alone (about 10 µs a "
        "call, 10 ms in all, measured in one process), then the change scan that publishes a `note.updated` event "
        "for each note (5-6 ms), and the transport of a 100 KB request. Reading the notes in one query instead of "
        "one backend call each was tried: 7.8 against 9.9 ms per 1,000, not kept.",
    ),
]
"""Why a data operation can miss its ratio target, shown under the table when one does."""

GUI_REQUESTS = (
    ("first exact-field search", '`findNotes` `"Front:word1"`, the first (reads every note into the field index)'),
    ("first tag search", "`findNotes` `tag:t1`, the first (reads every note's tags into the tag index)"),
    ("addNotes 10k", "`addNotes 10k`"),
    ("cardsInfo 10k", "`cardsInfo 10k`"),
)
"""The client's requests in ``gui_stall.py``: label, as the README shows it."""


def machine() -> dict[str, Any]:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(), "system": platform.system()}


@dataclass
class Results:
    machine: dict[str, Any] = field(default_factory=machine)
    quick: bool = False
    lookups: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Notes -> LookupFigures fields."""
    data: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Notes -> [{label, direct_ms, server_ms, bare_ms (None for slow operations)}]."""
    latency: dict[str, list[float]] = field(default_factory=dict)
    """Transport -> [p50, p99] of ``version``."""
    throughput: dict[str, Any] = field(default_factory=dict)
    events: dict[str, list[float]] = field(default_factory=dict)
    """Subscribers -> [each delivery p50, p99, last delivery p50, p99]."""
    request_to_event: list[float] = field(default_factory=list)
    burst: dict[str, float] = field(default_factory=dict)
    """``events.bench_burst``: a bulk add while clients subscribe to its events."""
    memory: dict[str, Any] = field(default_factory=dict)
    peak_rss: dict[str, float] = field(default_factory=dict)
    """Notes -> the highest peak RSS (MiB) of the server processes on that collection."""
    gui: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path = RESULTS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path = RESULTS) -> Results:
        return cls(**json.loads(path.read_text()))


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def _notes(key: str) -> str:
    return f"{int(key):,}"


def markdown(results: Results) -> str:
    """The README section between the markers."""
    m = results.machine
    lines = [
        f"Measured with `make bench`{' (`--quick`)' if results.quick else ''} on {m['cores']} cores "
        f"({m['cpu']}), Python {m['python']}, headless over loopback, against seeded collections of Basic "
        "notes in 20 decks. Other work may have been running on the machine: each figure is a median of "
        "several rounds, and the ratios, measured side by side in the same run, are the figures that carry "
        "across machines. *Direct* is the same work done with the `anki` library in one process (the floor "
        "for a server that adds HTTP, JSON and a thread hop); the ratio is server / direct. For quick "
        "operations, *bound* is (direct + the round trip of a bare HTTP responder in another process sending "
        "the same reply) / direct: the least any server could add here.",
        "",
        "![benchmark chart](docs/benchmarks.png)",
        "",
        "For scale, upstream AnkiConnect inside Anki on a 20k-note collection (reference figures, not measured by "
        "this benchmark): 25 ms per request at best, 40 requests/s from 8 clients with a p99 of 1.2 s, `addNotes` "
        "of 1,000 notes in 23 s, `cardsInfo` of 1,000 cards in 0.45 s, a Yomitan lookup in 202 ms.",
        "",
    ]
    if results.lookups:
        lines += [
            "**Yomitan's lookup** (per looked-up word: `version`, `canAddNotes` of 10 notes with duplicate scope "
            '`deck`, `multi` of 10 `findNotes` like `"deck:Mining" "Front:word"`; the server answers those from '
            f"a field index built by the first such search). Target: p50 under {LOOKUP_TARGET_MS:.0f} ms on 200k "
            "notes.",
            "",
            "| notes | first lookup (builds the index) | p50 | p99 | direct p50 (Anki's search) | ratio p50 | target |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for notes, f in sorted(results.lookups.items(), key=lambda kv: int(kv[0])):
            target = _verdict(f["p50"] < LOOKUP_TARGET_MS) if int(notes) >= 200_000 else "-"
            lines.append(
                f"| {_notes(notes)} | {_ms(f['first_ms'])} (direct {_ms(f['first_direct_ms'])}) | {_ms(f['p50'])} "
                f"| {_ms(f['p99'])} | {_ms(f['direct_p50'])} | {f['p50'] / f['direct_p50']:.3f}x | {target} |"
            )
        lines.append("")
    if results.data:
        sizes = sorted(results.data, key=int)
        head = " | ".join(f"{_notes(n)} notes: server / direct (ratio)" for n in sizes)
        lines += [
            f"**Data operations**, server against direct; target: within {RATIO_TARGET}x. Each search is timed "
            "twice: *repeated*, the same query in every round, as clients send it (the server answers a search "
            "asked again from memory while no row of the collection changed, unless a term of it depends on the "
            "clock), and *new each time*, the same search spelled differently in each round, so that it always "
            "reaches Anki (a search within one deck, which Anki answers by looking at every card, reaches it "
            "confined to that deck's cards). `getDeckStats` likewise: *repeated* (the server keeps Anki's deck "
            "tree while it cannot change), and *after a change*, with a tag added through the server before each "
            "round (untimed), as when a card is answered between two polls.",
            "",
            f"| operation | {head} | target |",
            "| --- | " + " | ".join("---" for _ in sizes) + " | --- |",
        ]
        labels = [row["label"] for row in results.data[sizes[-1]]]
        missed: list[str] = []
        for label in labels:
            cells, ratios = [], []
            for size in sizes:
                row = next((r for r in results.data[size] if r["label"] == label), None)
                if row is None:
                    cells.append("-")
                    continue
                ratio = row["server_ms"] / row["direct_ms"]
                ratios.append(ratio)
                bare = row.get("bare_ms")
                bound = f"; bound {(row['direct_ms'] + bare) / row['direct_ms']:.2f}x" if bare is not None else ""
                cells.append(f"{_ms(row['server_ms'])} / {_ms(row['direct_ms'])} ({ratio:.2f}x{bound})")
            lines.append(f"| `{label}` | " + " | ".join(cells) + f" | {_verdict(max(ratios) <= RATIO_TARGET)} |")
            if max(ratios) > RATIO_TARGET:
                missed.append(label)
        lines.append("")
        reasons = [text for prefixes, text in MISSED_WHY if any(label.startswith(prefixes) for label in missed)]
        if reasons:
            lines += ["Where a ratio misses the target, and why:", ""]
            lines += [f"- {text}" for text in reasons]
            lines.append("")
    if results.latency or results.throughput:
        lines += ["**Transport** (`version`, which needs no collection, so this is the server's own overhead):", ""]
        lines += ["| what | p50 | p99 |", "| --- | --- | --- |"]
        for name, (p50, p99) in results.latency.items():
            lines.append(f"| {name} round trip | {_ms(p50)} | {_ms(p99)} |")
        t = results.throughput
        if t:
            lines.append(
                f"| {t['clients']} concurrent clients (keep-alive, `{t['action']}`): {t['per_second']:,.0f} "
                f"requests/s | {_ms(t['p50'])} | {_ms(t['p99'])} |"
            )
        lines.append("")
    if results.events:
        lines += [
            "**Event fan-out** (an event published, as by a hook, to WebSocket subscribers in other processes; "
            "*server's work* is the CPU time of the server's event loop per event, which does all of the "
            "fan-out: the rest of the latency is the subscribers' own reading, on the same 2 cores):",
            "",
            "| subscribers | each delivery p50 / p99 | last subscriber reached p50 / p99 | server's work per event |",
            "| --- | --- | --- | --- |",
        ]
        for count, values in sorted(results.events.items(), key=lambda kv: int(kv[0])):
            p50, p99, last50, last99 = values[:4]
            work = _ms(values[4]) if len(values) > 4 else "-"  # results saved before it was measured
            lines.append(f"| {_notes(count)} | {_ms(p50)} / {_ms(p99)} | {_ms(last50)} / {_ms(last99)} | {work} |")
        if results.request_to_event:
            r50, r99, e50, e99 = results.request_to_event
            lines.append(
                f"| 100, `addNote` sent until `note.added` received | reply {_ms(r50)} / {_ms(r99)} "
                f"| event {_ms(e50)} / {_ms(e99)} | - |"
            )
        b = results.burst
        if b:
            lines += [
                "",
                f"A burst: `addNotes` of {b['notes']:,.0f} notes while {b['subscribers']:.0f} WebSocket clients "
                f"subscribe to `note.added` (their reading in one process, sharing its GIL) and another sends "
                f"`version` every 10 ms: reply {_ms(b['reply_ms'])}; the last subscriber had all "
                f"{b['notes']:,.0f} events {_ms(b['last_ms'])} after the request was sent; "
                f"{b['disconnected']:.0f} disconnected; `version` meanwhile {_ms(b['probe_p50_ms'])} (p50), "
                f"{_ms(b['probe_max_ms'])} at most.",
            ]
        lines.append("")
    if results.memory or results.peak_rss:
        lines += ["**Memory** of the headless server (resident set):", ""]
        for notes, peak in sorted(results.peak_rss.items(), key=lambda kv: int(kv[0])):
            lines.append(f"- peak during the {_notes(notes)}-note run: {peak:,.0f} MiB")
        mem = results.memory
        if mem:
            half = mem["samples"][len(mem["samples"]) // 2][1]
            second = mem["samples"][-1][1] - half
            lines.append(
                f"- {mem['requests']:,} requests (a Yomitan-like mix from 4 clients on {_notes(mem['notes'])} notes) "
                f"after a warm-up: {mem['after_warmup']:,.0f} MiB -> {mem['after']:,.0f} MiB "
                f"({mem['after'] - mem['after_warmup']:+.1f} MiB; {second:+.1f} MiB over the second half: "
                f"{'no leak' if abs(second) < 8 else 'still growing'})"
            )
        lines.append("")
    if results.gui:
        g = results.gui
        lines += [
            f"**Inside Anki** (offscreen, {_notes(str(g['notes']))} notes): the longest stall of Qt's event loop "
            f"(a {g['tick_ms']} ms timer on the main thread) while a client sends a first exact-field search, a "
            f"first tag search, `addNotes` of 10k notes and `cardsInfo` of 10k cards. Target: under "
            f"{STALL_TARGET_MS:.0f} ms.",
            "",
            "| what | took | longest stall | target |",
            "| --- | --- | --- | --- |",
            f"| idle | - | {_ms(g['idle_max_ms'])} | - |",
        ]
        for label, shown in GUI_REQUESTS:
            if f"{label} ms" not in g:  # results saved before it was measured
                continue
            stall = g[f"{label} max stall ms"]
            lines.append(f"| {shown} | {_ms(g[f'{label} ms'])} | {_ms(stall)} | {_verdict(stall < STALL_TARGET_MS)} |")
            if f"after {label} max stall ms" in g:
                after = g[f"after {label} max stall ms"]
                lines.append(f"| the 1.5 s after its reply (Anki refreshing its screens) | - | {_ms(after)} | - |")
        if "edit in Anki ms" in g:
            stall = g["edit in Anki max stall ms"]
            lines.append(
                f"| an edit in Anki's own screens, until its `note.updated` is published (found through the log of "
                f"notes written; the collection was never synced), and the second after | "
                f"{_ms(g['edit in Anki ms'])} | {_ms(stall)} | {_verdict(stall < STALL_TARGET_MS)} |"
            )
        lines.append(
            f"| for comparison: `addNotes` of 10k on the main thread (where AnkiConnect runs requests) | "
            f"{_ms(g['addNotes 10k on the main thread ms'])} | {_ms(g['addNotes 10k on the main thread ms'])} | - |"
        )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_readme(results: Results, readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise RuntimeError(f"{readme} has no {BEGIN} ... {END} section")
    section = f"{BEGIN}\n{markdown(results)}{END}"
    readme.write_text(pattern.sub(lambda _: section, text, count=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--print", action="store_true", help="print the section instead of writing the README")
    args = parser.parse_args()
    results = Results.load(args.results)
    if args.print:
        sys.stdout.write(markdown(results))
        return
    from chart import write_chart

    write_readme(results)
    write_chart(results)


if __name__ == "__main__":
    main()
