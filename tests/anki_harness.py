"""Booting real Anki offscreen with the add-on installed, and talking to it from tests (tests/gui).

One AnkiQt per process (a second one crashes), booted once per session. The test body is the Qt main
thread, so a client call whose answer needs the main thread runs in a worker thread while the test spins
Qt's event loop (``AnkiSession.call``).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from study_day import start_study_day_far_from_now

# Before anything imports Qt: offscreen, no Chromium sandbox (root), our own single-instance key.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox --disable-gpu"
os.environ["ANKI_SINGLE_INSTANCE_KEY"] = f"ankiconnect-live-test-{uuid.uuid4()}"
os.environ.setdefault("ANKI_NOHIGHDPI", "1")

T = TypeVar("T")
PACKAGE = "ankiconnect_live_addon"
"""The add-on's folder (and so module) name inside Anki, distinct from the installed package's name."""
REPO = Path(__file__).resolve().parents[1]
ADDON_FILES = ("*.py", "*.json", "*.md", "actions/*.py", "addon/*.py", "events/*.py", "transport/*.py")


def spin(ms: int = 1) -> None:
    from PyQt6.QtTest import QTest

    QTest.qWait(ms)  # type: ignore[call-arg, arg-type]


def wait_until(predicate: Callable[[], object], timeout: float = 10, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        spin(2)


@dataclass
class AnkiSession:
    """The running Anki: its main window, the loaded add-on module and helpers to talk to it."""

    mw: Any
    base: Path
    addon_module: ModuleType
    modal_dialogs: list[str] = field(default_factory=list)

    @property
    def addon(self) -> Any:
        addon = self.addon_module.addon.current()
        assert addon is not None, "the add-on did not start"
        return addon

    @property
    def port(self) -> int:
        assert self.addon.app is not None, self.addon.listen_error
        return int(self.addon.app.server.port)

    def call(self, fn: Callable[[], T], timeout: float = 30) -> T:
        """Run ``fn`` (a client call) in a worker thread while Qt's loop runs here, and return its result."""
        result: list[T] = []
        error: list[BaseException] = []

        def work() -> None:
            try:
                result.append(fn())
            except BaseException as exc:
                error.append(exc)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        wait_until(lambda: not thread.is_alive(), timeout, "the client call")
        if error:
            raise error[0]
        return result[0]

    def invoke(self, action: str, /, **params: Any) -> Any:
        """Run an action over HTTP (version 6) and return its result; an error fails the test."""
        reply = self.request({"action": action, "version": 6, "params": params})
        assert reply["error"] is None, f"{action} failed: {reply['error']}"
        return reply["result"]

    def error(self, action: str, /, **params: Any) -> str:
        reply = self.request({"action": action, "version": 6, "params": params})
        assert reply["error"] is not None, f"{action} unexpectedly succeeded: {reply['result']!r}"
        return str(reply["error"])

    def request(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        from support import http_post

        port = self.port
        reply = self.call(lambda: http_post(port, body, headers=headers))
        assert reply.status == 200, (reply.status, reply.body)
        return reply.json()

    def settle(self) -> None:
        """Let Anki finish what it started (screen refreshes run as background operations)."""
        for _ in range(3):
            wait_until(lambda: self.mw._background_op_count == 0, message="background operations")
            spin(20)

    def close_profile(self) -> None:
        mw = self.mw
        mw.moveToState("deckBrowser")
        self.settle()
        unloaded: list[bool] = []
        mw.unloadProfile(lambda: unloaded.append(True))
        wait_until(lambda: unloaded, message="the profile to close")

    def fresh_profile(self, name: str | None = None, collection: Path | None = None) -> str:
        """Switch Anki to a new profile and wait until it is open: empty, or a copy of ``collection``."""
        name = name or f"p{uuid.uuid4().hex[:8]}"
        mw = self.mw
        if mw.col is not None:
            self.close_profile()
        mw.pm.create(name)
        folder = self.base / name
        folder.mkdir(exist_ok=True)
        if collection is not None:
            shutil.copy(collection, folder / "collection.anki2")
        start_study_day_far_from_now(folder / "collection.anki2")
        mw.pm.load(name)
        mw.pm.profile["autoSync"] = False
        mw.pm.profile["syncMedia"] = False
        mw.loadProfile()
        wait_until(lambda: mw.col is not None and mw.state == "deckBrowser", message="the profile to open")
        return name


def prepare_base(base: Path) -> None:
    from aqt.profiles import ProfileManager, VideoDriver

    pm = ProfileManager(base)
    pm.setupMeta()
    pm.meta.update(
        firstRun=False,
        defaultLang="en_US",
        check_for_updates=False,
        check_for_addon_updates=False,
        last_addon_update_check=int(time.time()),
    )
    assert pm.db is not None
    pm.create("test")
    pm.name = "test"
    pm.profile = pm._unpickle(pm.db.scalar("select cast(data as blob) from profiles where name = 'test'"))
    pm.profile["autoSync"] = False
    pm.profile["syncMedia"] = False
    pm.save()
    pm.db.close()
    (base / "test").mkdir()
    start_study_day_far_from_now(base / "test" / "collection.anki2")
    pm.set_video_driver(VideoDriver.Software)
    addon = base / "addons21" / PACKAGE
    for pattern in ADDON_FILES:
        for source in REPO.glob(pattern):
            target = addon / source.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    (addon / "meta.json").write_text(json.dumps({"config": {"webBindPort": 0}, "disabled": False}))
