"""The ``ankiconnect-live`` command: ``serve`` runs the headless server on a collection file."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .settings import SYNC_PASSWORD_ENV, Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from .headless import ProfileListing

__all__ = ["default_collection", "main"]

EXIT_USAGE = 2


def default_collection() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ankiconnect-live" / "collection.anki2"


def anki_base_folder() -> Path:
    """Where Anki keeps its profiles (``ANKI_BASE`` overrides, as in Anki itself)."""
    if base := os.environ.get("ANKI_BASE"):
        return Path(base)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "Anki2"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Anki2"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "Anki2"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ankiconnect-live", description="AnkiConnect-compatible API server.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a collection file without Anki's window")
    where = serve.add_mutually_exclusive_group()
    where.add_argument(
        "--collection",
        type=Path,
        action="append",
        help=f"collection file (default: {default_collection()}); repeat it to let loadProfile switch between "
        "several (the first is opened)",
    )
    where.add_argument(
        "--profile",
        help="open this Anki profile's collection from Anki's base folder; loadProfile can switch to the others",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, which also serves ::1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8765; 0 picks a free port)")
    serve.add_argument("--api-key", help="require this key in every request")
    serve.add_argument("--sync-endpoint", help="sync server URL for the sync action (default: AnkiWeb)")
    serve.add_argument(
        "--sync-user", help=f"sync account user name; the password is read from ${SYNC_PASSWORD_ENV}, never from flags"
    )
    serve.add_argument("--config", type=Path, help="JSON file with add-on config keys (see config.md)")
    serve.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = _settings(args)
        path, profiles = _profiles(args)
    except (SettingsError, OSError, ValueError) as exc:
        return _fail(str(exc))
    return serve(settings, path, args.profile, profiles)


def serve(settings: Settings, path: Path, profile: str | None, profiles: ProfileListing | None = None) -> int:
    """Open the collection, serve until SIGINT/SIGTERM, then shut down cleanly."""
    from .app import App
    from .headless import HeadlessRuntime, ProfileError
    from .transport.server import PortInUse

    runtime = HeadlessRuntime(settings, path, profile, profiles)
    try:
        runtime.open()
    except ProfileError as exc:
        runtime.close()
        return _fail(str(exc))
    app = App(runtime, runtime.post)
    try:
        app.open_request_log()
    except OSError as exc:
        runtime.close()
        return _fail(exc.strerror or str(exc))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        app.start()
    except PortInUse as exc:
        runtime.close()
        return _fail(f"{exc.strerror}; is AnkiConnect or another server running? Use --port to pick another")
    except OSError as exc:
        runtime.close()
        return _fail(f"cannot listen on {settings.webBindAddress}:{settings.webBindPort}: {exc.strerror}")
    print(f"listening on {app.server.url}", flush=True)
    while not stop.wait(1):
        pass
    app.stop()
    runtime.close()
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    sources: list[dict[str, Any]] = []
    if args.config is not None:
        loaded = json.loads(args.config.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise SettingsError(f"{args.config} must hold a JSON object")
        sources.append(loaded)
    overrides: dict[str, Any] = {}
    if args.host is not None:
        overrides["webBindAddress"] = args.host
    if args.port is not None:
        overrides["webBindPort"] = args.port
    if args.api_key is not None:
        overrides["apiKey"] = args.api_key
    if args.sync_endpoint is not None:
        overrides["syncEndpoint"] = args.sync_endpoint
    if args.sync_user is not None:
        overrides["syncUser"] = args.sync_user
    return load_settings(*sources, overrides)


def _profiles(args: argparse.Namespace) -> tuple[Path, ProfileListing | None]:
    """The collection to open and the profiles loadProfile may switch to.

    ``--profile``: every folder of Anki's base folder holding a collection, looked up again on each request so
    profiles created later appear. ``--collection`` (repeatable): those files. Neither: the default file alone.
    """
    from .headless import collection_profiles, folder_profiles

    if args.profile is not None:
        profile: str = args.profile
        base = anki_base_folder()
        folder = base / profile
        if not folder.is_dir():
            raise ValueError(f"no Anki profile named {profile!r} in {base}")
        return folder / "collection.anki2", folder_profiles(base)
    if args.collection is None:
        return default_collection().expanduser().resolve(), None
    paths = [Path(p).expanduser().resolve() for p in args.collection]
    named = collection_profiles(paths)
    return paths[0], lambda: named


def _fail(message: str) -> int:
    print(f"ankiconnect-live: error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE
