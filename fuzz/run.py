"""Coverage-guided fuzzing with atheris (libFuzzer) of the three ways input gets in.

    python fuzz/run.py http|ws|params [libFuzzer flags, e.g. -max_total_time=60 -runs=10000]

``http``: bytes to one HTTP connection (the real ``HttpProtocol``), cut into pieces; ``ws``: one WebSocket
text message through the real request path and dispatcher; ``params``: any JSON through the param check of
any action. The drivers are the Hypothesis tests' own (``tests/fuzz_harness.py``), so a failure is an
AssertionError (or any other exception) there, and libFuzzer saves the input that caused it.

Each run starts from the seeds in ``fuzz/seeds/<target>`` copied into a scratch corpus (``FUZZ_CORPUS=dir``
keeps them in ``dir/<target>`` between runs); crash files go where ``-artifact_prefix=`` says (by default
the working directory).
``make fuzz`` runs every target; ``tests/test_fuzz_atheris.py`` runs each for a few seconds in ``make test``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris  # type: ignore[import-untyped]  # (no type information shipped)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

# Coverage is collected only in the modules imported inside this block: ours, and the HTTP and WebSocket
# libraries under them.
with atheris.instrument_imports(include=["ankiconnect_live", "fuzz_harness", "h11", "websockets"]):
    import fuzz_harness

    from ankiconnect_live.actions import ACTIONS
    from ankiconnect_live.wire import WireError, decode_json

ACTION_NAMES = sorted(ACTIONS)


def http_target(data: bytes) -> None:
    """The first byte is the size of the pieces the rest arrives in (0: all at once)."""
    if not data:
        return
    step, stream = data[0], data[1:]
    chunks = [stream] if step == 0 else [stream[i : i + step] for i in range(0, len(stream), step)]
    fuzz_harness.run_http(chunks or [b""])


def ws_target(data: bytes) -> None:
    # A text frame is UTF-8 by the protocol (websockets refuses anything else before it reaches us).
    fuzz_harness.run_ws_message(data.decode("utf-8", "replace"))


def params_target(data: bytes) -> None:
    """The first byte picks the action, the rest is its params as JSON."""
    if not data:
        return
    try:
        params = decode_json(data[1:])
    except WireError:
        return
    fuzz_harness.bind_anything(ACTION_NAMES[data[0] % len(ACTION_NAMES)], params)


TARGETS: dict[str, Callable[[bytes], None]] = {"http": http_target, "ws": ws_target, "params": params_target}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {'|'.join(TARGETS)} [libFuzzer flags]")
    name, flags = argv[1], argv[2:]
    keep = os.environ.get("FUZZ_CORPUS")
    corpus = Path(keep) / name if keep else Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in (HERE / "seeds" / name).iterdir():
        shutil.copy(seed, corpus / seed.name)
    print(f"fuzzing {name}: corpus {corpus}", flush=True)
    atheris.Setup([argv[0], *flags, str(corpus)], TARGETS[name])
    atheris.Fuzz()  # libFuzzer exits the process when it is done (status 0) or finds a failure (non-zero)


if __name__ == "__main__":
    main(sys.argv)
