"""exportPackage and importPackage: a real .apkg round trip between two collections, and clear path errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dump import collection_dump
from profile_support import client_for, copy_collection, running
from support import ApiClient, RunningServer

SOUND = "lang-sound.mp3"


def _build_deck(col: Any) -> None:
    """A deck with a subdeck, two-card notes, a media file, answered cards; and a note outside the deck."""
    from anki.collection import AddNoteRequest

    lang, sub = col.decks.id("Lang"), col.decks.id("Lang::Sub")
    model = col.models.by_name("Basic (and reversed card)")
    requests = []
    for i in range(4):
        note = col.new_note(model)
        note["Front"], note["Back"] = f"front {i}", f"back {i} [sound:{SOUND}]" if i == 0 else f"back {i}"
        note.tags = ["lang"]
        requests.append(AddNoteRequest(note, sub if i == 3 else lang))
    col.add_notes(requests)
    col.media.write_data(SOUND, b"sound bytes")
    outside = col.new_note(col.models.by_name("Basic"))
    outside["Front"] = "not exported"
    col.add_note(outside, col.decks.id("Default"))
    col.decks.select(lang)
    for ease in (4, 4, 3, 1, 4):  # Easy graduates to review (ivl, due in days); Good/Again stay in learning
        card = col.sched.getCard()
        col.sched.answerCard(card, ease)


def _deck_contents(col: Any) -> dict[str, Any]:
    """What a package must carry over: notes, cards with their scheduling and deck, the review log, media."""
    return {
        "notes": col.db.all("select id, guid, mid, flds, tags from notes order by id"),
        "cards": [
            [*row[:-1], col.decks.name(row[-1])]
            for row in col.db.all(
                "select id, nid, ord, type, queue, due, ivl, factor, reps, lapses, left, did from cards order by id"
            )
        ],
        "revlog": col.db.all("select id, cid, ease, ivl, lastIvl, factor, time, type from revlog order by id"),
        "sound": (Path(col.media.dir()) / SOUND).read_bytes() if (Path(col.media.dir()) / SOUND).exists() else None,
    }


def _in_lang(col: Any) -> dict[str, Any]:
    contents = _deck_contents(col)
    outside = set(col.find_notes("deck:Default"))
    contents["notes"] = [n for n in contents["notes"] if n[0] not in outside]
    contents["cards"] = [c for c in contents["cards"] if c[1] not in outside]
    return contents


def test_round_trip_with_scheduling(
    client: ApiClient, server: RunningServer, empty_collection: Path, tmp_path: Path
) -> None:
    server.on_collection(_build_deck)
    expected = server.on_collection(_in_lang)
    assert {c[4] for c in expected["cards"]} == {0, 1, 2}  # new, learning and review cards
    assert any(c[6] > 0 for c in expected["cards"]) and len(expected["revlog"]) == 5
    package = tmp_path / "Lang.apkg"
    assert client.invoke("exportPackage", deck="Lang", path=str(package), includeSched=True) is True
    assert package.stat().st_size > 0

    with running(copy_collection(empty_collection, tmp_path / "Fresh")) as fresh, client_for(client, fresh) as api:
        assert api.invoke("importPackage", path=str(package)) is True
        assert fresh.on_collection(_deck_contents) == expected
        assert api.invoke("deckNames") == ["Default", "Lang", "Lang::Sub"]


def test_without_scheduling_the_cards_arrive_new(
    client: ApiClient, server: RunningServer, empty_collection: Path, tmp_path: Path
) -> None:
    server.on_collection(_build_deck)
    expected = server.on_collection(_in_lang)
    package = tmp_path / "Lang.apkg"
    assert client.invoke("exportPackage", deck="Lang", path=str(package)) is True

    with running(copy_collection(empty_collection, tmp_path / "Fresh")) as fresh, client_for(client, fresh) as api:
        assert api.invoke("importPackage", path=str(package)) is True
        got = fresh.on_collection(_deck_contents)
    assert [n[:4] for n in got["notes"]] == [n[:4] for n in expected["notes"]]
    assert {(c[3], c[4], c[6], c[8]) for c in got["cards"]} == {(0, 0, 0, 0)}  # type, queue, ivl, reps
    assert got["revlog"] == [] and got["sound"] == b"sound bytes"


def test_importing_the_same_package_again_adds_nothing(
    client: ApiClient, server: RunningServer, tmp_path: Path
) -> None:
    server.on_collection(_build_deck)
    package = tmp_path / "Lang.apkg"
    assert client.invoke("exportPackage", deck="Lang", path=str(package), includeSched=True) is True
    before = collection_dump(server)
    assert client.invoke("importPackage", path=str(package)) is True
    assert collection_dump(server)["notes"] == before["notes"]
    assert collection_dump(server)["cards"] == before["cards"]


def test_an_unknown_deck_is_false_and_writes_nothing(client: ApiClient, tmp_path: Path) -> None:
    package = tmp_path / "none.apkg"
    assert client.invoke("exportPackage", deck="Nope", path=str(package)) is False
    assert not package.exists()
    assert client.invoke("exportPackage", deck="default", path=str(package)) is True  # names as Anki matches them


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("Lang.apkg", "path must be absolute: 'Lang.apkg'"),
        ("~/Lang.apkg", "path must be absolute: '~/Lang.apkg'"),
        ("", "path must be absolute: ''"),
        ("{tmp}/Lang.zip", "path must end in .apkg: {tmp}/Lang.zip"),
        ("{tmp}/missing/Lang.apkg", "folder does not exist: {tmp}/missing"),
        ("{tmp}/folder.apkg", "path is a folder: {tmp}/folder.apkg"),
    ],
)
def test_export_path_errors(client: ApiClient, tmp_path: Path, path: str, error: str) -> None:
    out = tmp_path / "out"
    (out / "folder.apkg").mkdir(parents=True)
    path, error = path.format(tmp=out), error.format(tmp=out)
    assert client.error("exportPackage", deck="Default", path=path) == error
    assert [p.name for p in out.iterdir()] == ["folder.apkg"]


def test_import_errors_change_nothing(client: ApiClient, server: RunningServer, tmp_path: Path) -> None:
    junk = tmp_path / "junk.apkg"
    junk.write_bytes(b"not a zip file")
    before = collection_dump(server)
    assert client.error("importPackage", path=str(tmp_path / "missing.apkg")) == (
        f"file does not exist: {tmp_path / 'missing.apkg'}"
    )
    assert client.error("importPackage", path=str(tmp_path)) == f"path is not a file: {tmp_path}"
    assert client.error("importPackage", path="junk.apkg") == "path must be absolute: 'junk.apkg'"
    assert client.error("importPackage", path=str(junk)).startswith(f"cannot import {junk}: invalid Zip archive")
    assert collection_dump(server) == before


def test_paths_with_a_nul_character_are_refused(client: ApiClient, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    bad = f"{out}/a\0.apkg"
    assert client.error("exportPackage", deck="Default", path=bad) == f"path must not contain a NUL character: {bad!r}"
    assert client.error("importPackage", path=bad) == f"path must not contain a NUL character: {bad!r}"
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("kind", ["pipe", "device", "folder"])
def test_import_reads_only_regular_files(client: ApiClient, server: RunningServer, tmp_path: Path, kind: str) -> None:
    """A pipe would block the collection thread forever and a device never ends: both are refused unread."""
    import os

    path = tmp_path / "x.apkg"
    if kind == "pipe":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        path.mkdir()
    before = collection_dump(server)
    assert client.error("importPackage", path=str(path)) == f"path is not a file: {path}"
    assert collection_dump(server) == before


def test_export_replaces_a_planted_link_and_never_writes_through_it(client: ApiClient, tmp_path: Path) -> None:
    """The package is written beside the target and renamed over it: a symlink there is replaced, not followed."""
    out = tmp_path / "out"
    out.mkdir()
    victim = out / "victim.apkg"
    victim.write_bytes(b"keep me")
    link = out / "out.apkg"
    link.symlink_to(victim)
    assert client.invoke("exportPackage", deck="Default", path=str(link)) is True
    assert victim.read_bytes() == b"keep me"
    assert not link.is_symlink() and link.stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == ["out.apkg", "victim.apkg"]  # no temporary file left
