"""The ``ankiconnect-live serve`` command run as a user runs it, in a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SCRIPT", "listening", "serve_env", "serving"]

SCRIPT = Path(sys.executable).with_name("ankiconnect-live")


def serve_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose data folders are under ``tmp_path``."""
    env = dict(os.environ)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env["ANKI_BASE"] = str(tmp_path / "anki-base")
    return env


@contextmanager
def listening(process: subprocess.Popen[str], stop_within: float = 20) -> Iterator[int]:
    """The port a starting ``serve`` process announces (its one 'listening on' line); SIGTERM at the end."""
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), (line, process.stderr.read())
        yield int(line.rsplit(":", 1)[1])
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(stop_within)


@contextmanager
def serving(args: list[str], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Start the server, wait until it listens, stop it with SIGTERM at the end."""
    command = [str(SCRIPT), "serve", "--port", "0", *args]
    with (
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as process,
        listening(process) as port,
    ):
        yield process, port
