"""Package actions: exporting a deck to an .apkg file and importing one."""

from __future__ import annotations

from pathlib import Path

from .context import Context
from .errors import ActionError, InvalidParams, NotFound
from .registry import Registry

__all__ = ["registry"]

registry = Registry("packages")
action = registry.action


@action("exportPackage")
def export_package(ctx: Context, *, deck: str, path: str, includeSched: bool = False) -> bool:
    """Write a deck with subdecks and media to an .apkg; scheduling only with `includeSched`; false if no such deck."""
    from anki.collection import DeckIdLimit, ExportAnkiPackageOptions
    from anki.decks import DeckId

    col = ctx.col
    target = _absolute(path)
    if target.suffix.lower() != ".apkg":
        raise InvalidParams(f"path must end in .apkg: {target}")
    if not target.parent.is_dir():
        raise NotFound(f"folder does not exist: {target.parent}")
    if target.is_dir():
        raise InvalidParams(f"path is a folder: {target}")
    deck_id = col.decks.id_for_name(deck)
    if deck_id is None:
        return False
    # The options of AnkiConnect's AnkiPackageExporter on Anki 26 (legacy=True: files older Ankis can read).
    options = ExportAnkiPackageOptions(
        with_scheduling=includeSched, with_deck_configs=includeSched, with_media=True, legacy=True
    )
    try:
        col.export_anki_package(out_path=str(target), options=options, limit=DeckIdLimit(DeckId(deck_id)))
    except Exception as exc:  # disk full, permissions...: say which file
        raise ActionError(f"cannot export to {target}: {exc}") from exc
    return True


@action("importPackage")
def import_package(ctx: Context, *, path: str) -> bool:
    """Import an .apkg file into the open collection, with its scheduling and deck options (note types are merged)."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col = ctx.col
    source = _absolute(path)
    if not source.exists():
        raise NotFound(f"file does not exist: {source}")
    if not source.is_file():
        raise InvalidParams(f"path is not a file: {source}")
    # The options of AnkiConnect's AnkiPackageImporter on Anki 26.
    options = ImportAnkiPackageOptions(merge_notetypes=True, with_scheduling=True, with_deck_configs=True)
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(source), options=options))
    except Exception as exc:  # Anki's texts ("invalid Zip archive...") do not name the file
        raise ActionError(f"cannot import {source}: {exc}") from exc
    return True


def _absolute(path: str) -> Path:
    # The server's working directory means nothing to a client: a relative path would land anywhere.
    if not path or not Path(path).is_absolute():
        raise InvalidParams(f"path must be absolute: {path!r}")
    if "\0" in path:  # no file name holds one; the OS would refuse it halfway through the work
        raise InvalidParams(f"path must not contain a NUL character: {path!r}")
    return Path(path)
