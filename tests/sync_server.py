"""Anki's own sync server (``python -m anki.syncserver``) on loopback, for sync tests."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "Pa55-w0rd-that-must-never-leak"
ACCOUNTS = 24
"""Accounts the sync server knows (user1 … user24); each test takes unused ones."""


@dataclass
class SyncServer:
    endpoint: str
    log: Path
    _accounts: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def account(self) -> str:
        """A user name nobody has synced with yet."""
        number = next(self._accounts)
        assert number <= ACCOUNTS, "raise ACCOUNTS"
        return f"user{number}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """True once the port accepts connections; False if the server exited (e.g. the port was taken)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"the sync server did not start: {log.read_text(errors='replace')}")


@contextmanager
def running_sync_server(folder: Path) -> Iterator[SyncServer]:
    log = folder / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_")}
    env |= {f"SYNC_USER{i}": f"user{i}:{PASSWORD}" for i in range(1, ACCOUNTS + 1)}
    env |= {"SYNC_BASE": str(folder / "base"), "SYNC_HOST": "127.0.0.1", "RUST_LOG": "anki=warn"}
    for _ in range(3):  # the free port may be taken between the check and the server's bind
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "anki.syncserver"],
                env=env | {"SYNC_PORT": str(port)},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_listening(process, port, log):
            break
    else:
        raise AssertionError(f"the sync server did not start: {log.read_text(errors='replace')}")
    try:
        yield SyncServer(f"http://127.0.0.1:{port}/", log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
