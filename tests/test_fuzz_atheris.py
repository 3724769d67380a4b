"""A short, bounded run of each atheris target (``fuzz/run.py``); ``make fuzz`` runs them for minutes.

Each target runs in its own process (libFuzzer ends the process it runs in) from its seeds, for a few
thousand inputs or a few seconds: the run passes when libFuzzer finishes without finding a failing input.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parent.parent / "fuzz" / "run.py"

# Only this skips the runs: atheris installs from a binary wheel where one exists and needs clang elsewhere.
pytest.importorskip("atheris", reason="atheris cannot be imported: no wheel for this platform, `pip install atheris`")


@pytest.mark.parametrize("target", ["http", "ws", "params"])
def test_a_short_atheris_run_finds_nothing(target: str, tmp_path: Path) -> None:
    env = {**os.environ, "FUZZ_CORPUS": str(tmp_path / "corpus")}
    run = subprocess.run(
        [sys.executable, str(RUNNER), target, "-runs=1500", "-max_total_time=8", f"-artifact_prefix={tmp_path}/"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-3000:]
    assert "Done " in log and " runs in " in log, log[-3000:]  # libFuzzer's closing line: it really ran
    assert not list(tmp_path.glob("crash-*")), log[-3000:]
    seeds = {seed.name for seed in (RUNNER.parent / "seeds" / target).iterdir()}
    assert seeds <= {entry.name for entry in (tmp_path / "corpus" / target).iterdir()}  # it started from its seeds
