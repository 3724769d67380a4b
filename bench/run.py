"""Benchmarks of AnkiConnect Live (``make bench``; ``make bench ARGS=--quick`` for a short run).

Every server figure is taken from a real ``ankiconnect-live serve`` process over loopback (the GUI figure from
real Anki, offscreen, in a process of its own); the baseline for data work is the same operation done
directly with the ``anki`` pylib in the same run, reported as a ratio (server / direct), so the numbers
compare across machines. Seeded collections are built once and cached in ``.bench-cache/``.

A full run measures 20k- and 200k-note collections and writes the README's Performance section and
``docs/benchmarks.png``; ``--quick`` measures 20k notes with fewer rounds and writes nothing unless ``--write``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from common import SERVER_PEAKS, copy_of, seeded_collection, server_process
from data_ops import compare_data_operations
from latency import bench_concurrency, bench_latency
from memory import bench_memory_growth
from report import RESULTS, Results, markdown, write_readme
from yomitan import bench_lookups

from events import bench_burst, bench_events, bench_request_to_event

SECTIONS = ("lookup", "data", "latency", "events", "memory", "gui")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20k notes, fewer rounds; writes nothing by default")
    parser.add_argument("--notes", help="comma-separated collection sizes (default 20000,200000; quick: 20000)")
    parser.add_argument("--rounds", type=int, help="rounds of each data-operation comparison (default 5; quick 2)")
    parser.add_argument("--lookups", type=int, help="Yomitan lookups timed per size (default 200; quick 40)")
    parser.add_argument("--requests", type=int, help="requests per latency figure (default 2000; quick 300)")
    parser.add_argument("--memory-requests", type=int, help="requests of the leak check (default 100000)")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip: {', '.join(SECTIONS)}")
    parser.add_argument("--only", default="", help="run only these data operations (substrings of their labels)")
    parser.add_argument("--write", action="store_true", help="write README and chart even with --quick")
    parser.add_argument("--no-write", action="store_true", help="do not write README and chart")
    parser.add_argument(
        "--merge", action="store_true", help="keep the saved results of what this run does not measure (re-runs)"
    )
    args = parser.parse_args()

    quick = args.quick
    sizes = [int(n) for n in (args.notes or ("20000" if quick else "20000,200000")).split(",")]
    rounds = args.rounds or (2 if quick else 5)
    lookups = args.lookups or (40 if quick else 200)
    requests = args.requests or (300 if quick else 2000)
    # 100k requests of the mix take about 5 minutes on 2 cores (200k notes).
    memory_requests = args.memory_requests or (10_000 if quick else 100_000)
    skip = {s for s in args.skip.split(",") if s}
    if unknown := skip - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    only = [o for o in args.only.split(",") if o]
    results = Results.load() if args.merge and RESULTS.exists() else Results(quick=quick)
    m = results.machine
    print(f"# AnkiConnect Live benchmarks ({m['cores']} cores, {m['cpu']}, Python {m['python']})", flush=True)
    seeds = {size: seeded_collection(size) for size in sizes}
    largest = max(sizes)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size, seed in seeds.items():
            here = work / str(size)
            here.mkdir()
            if "lookup" not in skip:
                print(f"\n## Yomitan's lookup, {size:,} notes", flush=True)
                figures = bench_lookups(seed, here, size, lookups)
                results.lookups[str(size)] = asdict(figures)
                print(
                    f"first lookup (builds the field index) {figures.first_ms:8.1f} ms "
                    f"(direct {figures.first_direct_ms:.1f} ms)\n"
                    f"per lookup p50 {figures.p50:7.2f} ms  p99 {figures.p99:7.2f} ms   "
                    f"direct p50 {figures.direct_p50:7.1f} ms  p99 {figures.direct_p99:7.1f} ms   "
                    f"ratio p50 {figures.p50 / figures.direct_p50:.3f}x",
                    flush=True,
                )
            if "data" not in skip:
                print(f"\n## Data operations, {size:,} notes (server vs direct pylib, {rounds} rounds)", flush=True)
                data = compare_data_operations(
                    seed, here, size, rounds, lambda label: not only or any(o in label for o in only)
                )
                rows = {row["label"]: row for row in results.data.get(str(size), [])} if args.merge else {}
                for f in data:
                    rows[f.label] = {
                        "label": f.label,
                        "direct_ms": f.direct_ms,
                        "server_ms": f.server_ms,
                        "bare_ms": f.bare_ms,
                    }
                results.data[str(size)] = list(rows.values())
                for f in data:
                    print(
                        f"{f.label:42} server {f.server_ms:8.1f} ms   direct {f.direct_ms:8.1f} ms   "
                        f"ratio {f.ratio:5.2f}x" + (f"   bound {f.bound:5.2f}x" if f.bound is not None else ""),
                        flush=True,
                    )
            if "memory" not in skip and size == largest:
                print(f"\n## Memory, {memory_requests:,} requests on {size:,} notes", flush=True)
                memory = bench_memory_growth(seed, here, size, memory_requests)
                results.memory = {**asdict(memory), "notes": size}
                print(
                    f"RSS after warm-up {memory.after_warmup:.1f} MiB, after {memory.requests:,} requests "
                    f"{memory.after:.1f} MiB (growth {memory.growth:+.1f} MiB, second half "
                    f"{memory.second_half_growth:+.1f} MiB); samples {[round(mib, 1) for _, mib in memory.samples]}",
                    flush=True,
                )
            peaks = [peak for path, peak in SERVER_PEAKS if path.startswith(str(here))]
            if peaks:
                results.peak_rss[str(size)] = max([*peaks, results.peak_rss.get(str(size), 0.0)])
                print(f"peak RSS of the server on {size:,} notes: {max(peaks):.1f} MiB", flush=True)

        seed = seeds[min(sizes)]
        if "latency" not in skip:
            print(f"\n## Transport ({requests} requests per figure)", flush=True)
            with server_process(copy_of(seed, work, "latency")) as server:
                for name, (p50, p99) in bench_latency(server.port, requests).items():
                    results.latency[name] = [p50, p99]
                    print(f"version over {name:20} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms", flush=True)
                t = bench_concurrency(server.port, clients=16, per_client=max(50, requests // 8))
                results.throughput = asdict(t)
                print(
                    f"{t.clients} concurrent clients, {t.action}: {t.per_second:8.0f} req/s   "
                    f"p50 {t.p50:6.3f} ms   p99 {t.p99:6.3f} ms",
                    flush=True,
                )
        if "events" not in skip:
            print("\n## Events: publish -> WebSocket subscribers (in other processes)", flush=True)
            for total, delivery in bench_events(events=60 if quick else 200).items():
                results.events[str(total)] = list(delivery)
                p50, p99, last50, last99, busy = delivery
                print(
                    f"{total:5} subscribers: each delivery p50 {p50:7.3f} ms  p99 {p99:7.3f} ms   "
                    f"last subscriber reached p50 {last50:7.3f} ms  p99 {last99:7.3f} ms   "
                    f"server's work {busy:6.3f} ms",
                    flush=True,
                )
            reply50, reply99, event50, event99 = bench_request_to_event(seed, work)
            results.request_to_event = [reply50, reply99, event50, event99]
            print(
                f"addNote -> note.added at 100 subscribers ({min(sizes):,} notes): reply p50 {reply50:6.3f} ms "
                f"p99 {reply99:6.3f} ms   event p50 {event50:6.3f} ms  p99 {event99:6.3f} ms",
                flush=True,
            )
            burst = bench_burst(seed, work)
            results.burst = burst
            print(
                f"addNotes of {burst['notes']:,} with {burst['subscribers']} subscribers: "
                f"reply {burst['reply_ms']:.0f} ms, last subscriber had every event at {burst['last_ms']:.0f} ms, "
                f"{burst['disconnected']} disconnected; "
                f"version meanwhile p50 {burst['probe_p50_ms']:.2f} ms, max {burst['probe_max_ms']:.1f} ms",
                flush=True,
            )
    if "gui" not in skip:
        print(f"\n## Inside Anki (offscreen), {largest:,} notes", flush=True)
        results.gui = gui_stall(largest)
        g = results.gui
        print(
            f"idle: longest stall {g['idle_max_ms']:.1f} ms\n"
            f"addNotes 10k: {g['addNotes 10k ms']:.0f} ms, longest stall {g['addNotes 10k max stall ms']:.1f} ms\n"
            f"cardsInfo 10k: {g['cardsInfo 10k ms']:.0f} ms, longest stall {g['cardsInfo 10k max stall ms']:.1f} ms\n"
            f"the same addNotes on the main thread: {g['addNotes 10k on the main thread ms']:.0f} ms",
            flush=True,
        )

    writes = (args.write or not quick) and not args.no_write
    # A run that writes no README (unless --merge) must not replace the results the README was made from,
    # which `python bench/report.py` renders again.
    saved = RESULTS if writes or args.merge else RESULTS.with_name("last-run.json")
    results.save(saved)
    print(f"\nresults saved to {saved}")
    if writes:
        from chart import CHART, write_chart

        write_readme(results)
        write_chart(results)
        print(f"README.md Performance section and {CHART} written")
    else:
        print("\n" + markdown(results))


def gui_stall(notes: int) -> dict[str, object]:
    """Run bench/gui_stall.py in its own process (one Anki per process) and read its result."""
    import json

    script = Path(__file__).with_name("gui_stall.py")
    completed = subprocess.run(
        [sys.executable, str(script), "--notes", str(notes)],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        output = completed.stdout[-3000:] + completed.stderr[-3000:]
        raise RuntimeError(f"gui_stall.py failed ({completed.returncode}):\n{output}")
    result: dict[str, object] = json.loads(lines[-1].removeprefix("RESULT "))
    return result


if __name__ == "__main__":
    main()
