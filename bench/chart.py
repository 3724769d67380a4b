"""The small chart of the README (docs/benchmarks.png), drawn with matplotlib from the results."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from report import LOOKUP_TARGET_MS, RATIO_TARGET, ROOT, STALL_TARGET_MS, Results

__all__ = ["CHART", "write_chart"]

CHART = ROOT / "docs" / "benchmarks.png"
SERVER, DIRECT, TARGET = "#3b7dd8", "#b0b0b0", "#d84b3b"


def write_chart(results: Results, path: Path = CHART) -> None:
    # Through importlib: matplotlib is a bench-only dependency, and `make test` type-checks bench/ without it.
    importlib.import_module("matplotlib").use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")

    panels = (_ratios, _lookups, _stalls)
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 5.2), gridspec_kw={"width_ratios": [2.3, 1, 1.2]})
    for panel, ax in zip(panels, axes, strict=True):
        panel(ax, results)
    m = results.machine
    fig.suptitle(f"AnkiConnect Live benchmarks: {m['cores']} cores, {m['cpu']}, Python {m['python']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _ratios(ax: Any, results: Results) -> None:
    sizes = sorted(results.data, key=int)
    if not sizes:
        ax.set_visible(False)
        return
    labels = [row["label"] for row in results.data[sizes[-1]]]
    height = 0.8 / len(sizes)
    colors = ["#8fb8ef", SERVER, "#1d4f96"]
    for n, size in enumerate(sizes):
        rows = {row["label"]: row for row in results.data[size]}
        ratios = [rows[label]["server_ms"] / rows[label]["direct_ms"] if label in rows else 0 for label in labels]
        positions = [i + n * height for i in range(len(labels))]
        ax.barh(positions, ratios, height=height, color=colors[n % len(colors)], label=f"{int(size):,} notes")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(RATIO_TARGET, color=TARGET, linestyle="--", linewidth=1, label=f"target {RATIO_TARGET}x")
    ax.set_yticks([i + height * (len(sizes) - 1) / 2 for i in range(len(labels))], labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("server time / direct pylib time (lower is better)", fontsize=8)
    ax.set_title("Data operations vs the anki pylib", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    ax.tick_params(axis="x", labelsize=8)


def _lookups(ax: Any, results: Results) -> None:
    sizes = sorted(results.lookups, key=int)
    if not sizes:
        ax.set_visible(False)
        return
    x = range(len(sizes))
    server = [results.lookups[s]["p50"] for s in sizes]
    direct = [results.lookups[s]["direct_p50"] for s in sizes]
    ax.bar([i - 0.2 for i in x], server, width=0.4, color=SERVER, label="server p50")
    ax.bar([i + 0.2 for i in x], direct, width=0.4, color=DIRECT, label="direct p50 (Anki's search)")
    ax.axhline(LOOKUP_TARGET_MS, color=TARGET, linestyle="--", linewidth=1, label=f"target {LOOKUP_TARGET_MS:.0f} ms")
    ax.set_yscale("log")
    ax.set_xticks(list(x), [f"{int(s):,} notes" for s in sizes], fontsize=8)
    _plain_log_ticks(ax)
    ax.set_ylabel("ms per looked-up word (log)", fontsize=8)
    ax.set_title("Yomitan's lookup", fontsize=9)
    ax.legend(fontsize=7)
    ax.tick_params(axis="y", labelsize=8)


def _stalls(ax: Any, results: Results) -> None:
    g = results.gui
    if not g:
        ax.set_visible(False)
        return
    labels = ["idle", "addNotes", "cardsInfo", "addNotes on\nmain thread"]
    values = [
        g["idle_max_ms"],
        g["addNotes 10k max stall ms"],
        g["cardsInfo 10k max stall ms"],
        g["addNotes 10k on the main thread ms"],
    ]
    ax.bar(range(len(values)), values, color=[DIRECT, SERVER, SERVER, DIRECT])
    ax.axhline(STALL_TARGET_MS, color=TARGET, linestyle="--", linewidth=1, label=f"target {STALL_TARGET_MS:.0f} ms")
    ax.set_yscale("log")
    ax.set_xticks(range(len(values)), labels, fontsize=7)
    _plain_log_ticks(ax)
    ax.set_ylabel("longest Qt event loop stall, ms (log)", fontsize=8)
    ax.set_title("Inside Anki (10k notes/cards)", fontsize=9)
    ax.legend(fontsize=7)
    ax.tick_params(axis="y", labelsize=8)


def _plain_log_ticks(ax: Any) -> None:
    """Log axes labelled 10, 30, 100 rather than 3x10^1."""
    ticker: Any = importlib.import_module("matplotlib.ticker")
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
