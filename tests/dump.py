"""A full dump of a collection's contents, to prove a failed action changed nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from support import RunningServer


def collection_dump(server: RunningServer) -> dict[str, Any]:
    """Notes, cards, review log, decks, deck options, note types, tags and media files (with content hashes)."""

    def read(col: Any) -> dict[str, Any]:
        media = Path(col.media.dir())
        return {
            "notes": col.db.all("select * from notes order by id"),
            "cards": col.db.all("select * from cards order by id"),
            "revlog": col.db.all("select * from revlog order by id"),
            "graves": col.db.all("select * from graves order by oid"),
            "decks": sorted((d.id, d.name) for d in col.decks.all_names_and_ids()),
            "deck_configs": sorted(str(c) for c in col.decks.all_config()),
            "notetypes": sorted(str(m) for m in col.models.all()),
            "tags": sorted(col.tags.all()),
            "media": sorted((p.name, hashlib.sha1(p.read_bytes()).hexdigest()) for p in media.iterdir() if p.is_file()),
        }

    dump: dict[str, Any] = server.on_collection(read)
    return dump
