"""Every sample request of AnkiConnect's README, replayed: the reply must have the documented shape.

The samples (tests/fixtures/ankiconnect_readme_samples.json) name note, card and deck ids of their
author's collection. Each test builds a collection where those ids exist (every large number in the
samples is both a note id and a card id), rewrites internet URLs and file paths to local ones, and checks
the reply's shape against the documented result: same JSON types, the documented keys present.
Actions this server does not provide yet, and graphical ones headless, must answer exactly ``unsupported action``.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ApiClient, RunningServer

from ankiconnect_live.actions import ACTIONS

SAMPLES: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).with_name("fixtures") / "ankiconnect_readme_samples.json").read_text(encoding="utf-8")
)
# Keys the README spells differently from what AnkiConnect really sends (and clients read).
REAL_SPELLING = {"requireApiKey": "requireApikey"}
# Deck-option keys of the README's 2017 sample that Anki no longer has (AnkiConnect on Anki 26 lacks them too).
REMOVED_BY_ANKI = {"separate", "minSpace", "fuzz"}
# Samples whose documented reply is wrong for AnkiConnect itself: checked in their own tests below.
DOCUMENTED_WRONG = {("multi", 0), ("setSpecificValueOfCard", 0)}
# Samples that need an outside service: without it they must fail with a clear explanation.
NEEDS_SERVICE = {("sync", 0): "sync: auth not configured"}  # tests/test_sync.py replays it against a server
CASES = [
    (action, index)
    for action, samples in sorted(SAMPLES.items())
    for index in range(len(samples))
    if (action, index) not in DOCUMENTED_WRONG
]


@pytest.fixture(scope="module")
def media_site() -> Iterator[str]:
    """A local HTTP server standing in for the internet addresses of the samples."""
    handler = functools.partial(_BytesHandler)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/file.mp3"
    httpd.shutdown()
    httpd.server_close()


class _BytesHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"sample media bytes"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(("action", "index"), CASES, ids=[f"{a}-{i}" for a, i in CASES])
def test_readme_sample(
    action: str, index: int, client: ApiClient, server: RunningServer, media_site: str, tmp_path: Path
) -> None:
    sample = SAMPLES[action][index]
    request = _localised(sample["request"], media_site, tmp_path)
    if action not in ACTIONS or ACTIONS[action].gui:  # graphical actions need Anki's window
        assert client.call(request) == (None, "unsupported action")
        return
    if (action, index) in NEEDS_SERVICE:
        result, error = client.call(request)
        assert result is None and isinstance(error, str) and error.startswith(NEEDS_SERVICE[action, index])
        return
    _build_world(server, sample["request"])
    if action == "importPackage":  # the sample imports a package exported earlier
        exported = client.call(
            {"action": "exportPackage", "version": 6, "params": {"deck": "Default", **request["params"]}}
        )
        assert exported == (True, None)
    result, error = client.call(request)
    expected = sample["result"]
    assert error is None, f"{action}: {error}"
    _assert_same_shape(expected["result"], result, path=action)


def test_readme_multi_sample_as_anki_connect_really_answers(client: ApiClient) -> None:
    """The README's multi sample uses 'browse' (renamed findCards in 2017) and shows deckNames as a string.

    Sub-requests without a version get bare results; the old name is unsupported, as in AnkiConnect.
    """
    result, error = client.call(SAMPLES["multi"][0]["request"])
    assert error is None
    assert result == [["Default"], {"result": None, "error": "unsupported action"}]


def test_readme_protected_card_value_sample_needs_warning_check(client: ApiClient, server: RunningServer) -> None:
    """The README sets `odue` without warning_check, which AnkiConnect itself refuses with a plain false."""
    request = SAMPLES["setSpecificValueOfCard"][0]["request"]
    _build_world(server, request)
    assert client.call(request) == (False, None)
    checked = {**request, "params": {**request["params"], "warning_check": True}}
    assert client.call(checked) == ([True, True], None)


def _assert_same_shape(expected: Any, actual: Any, path: str) -> None:
    """Same JSON type; lists compared by their first elements; records must carry the documented keys."""
    if expected is None or actual is None:
        return  # null stands for "no value" in the samples (e.g. a skipped media file)
    if isinstance(expected, bool) or isinstance(actual, bool):
        assert isinstance(actual, bool) and isinstance(expected, bool), f"{path}: {actual!r} vs {expected!r}"
    elif isinstance(expected, int | float):
        assert isinstance(actual, int | float), f"{path}: expected a number, got {actual!r}"
    elif isinstance(expected, str):
        assert isinstance(actual, str), f"{path}: expected a string, got {actual!r}"
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if expected and actual:
            _assert_same_shape(expected[0], actual[0], f"{path}[0]")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        if _is_record(expected):
            if actual == {} and expected != {}:
                return  # an unknown id gives {} in AnkiConnect too
            expected = {REAL_SPELLING.get(key, key): value for key, value in expected.items()}
            missing = set(expected) - set(actual) - REMOVED_BY_ANKI
            assert not missing, f"{path}: missing keys {sorted(missing)}"
            for key in set(expected) & set(actual):
                _assert_same_shape(expected[key], actual[key], f"{path}.{key}")
        elif expected and actual:  # keyed by data (deck names, ids): compare the values
            _assert_same_shape(next(iter(expected.values())), next(iter(actual.values())), f"{path}.*")


def _is_record(value: dict[str, Any]) -> bool:
    # Records have identifier keys; maps keyed by data have names with spaces, "::" or digits.
    return all(key.replace("_", "").isalpha() for key in value)


def _large_numbers(value: Any) -> set[int]:
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value} if value > 10**11 else set()
    if isinstance(value, list):
        return set().union(*(_large_numbers(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_large_numbers(v) for v in value.values())) if value else set()
    return set()


def _model_names(params: dict[str, Any]) -> set[str]:
    names = {params["modelName"]} if isinstance(params.get("modelName"), str) else set()
    model = params.get("model")
    if isinstance(model, dict) and isinstance(model.get("name"), str):
        names.add(model["name"])
    return names


def _deck_names(params: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for key in ("deck", "deckName"):
        if isinstance(params.get(key), str):
            names.add(params[key])
    if isinstance(params.get("decks"), list):
        names.update(d for d in params["decks"] if isinstance(d, str))
    for note in [params.get("note"), *(params.get("notes") or [])]:
        if isinstance(note, dict) and isinstance(note.get("deckName"), str):
            names.add(note["deckName"])
    return names


def _build_world(server: RunningServer, request: dict[str, Any]) -> None:
    """Make the ids, decks and media files a sample refers to exist."""
    params = request.get("params") or {}
    ids = sorted(_large_numbers(params))
    decks = _deck_names(params)
    models = _model_names(params) if request["action"] != "createModel" else set()

    def build(col: Any) -> None:
        from anki.collection import AddNoteRequest

        for name in decks:
            col.decks.id(name, create=True)
        for name in models:
            if col.models.by_name(name) is None:
                copy = col.models.copy(col.models.by_name("Basic"), add=False)
                copy["name"] = name
                col.models.add_dict(copy)
        model = col.models.by_name("Basic")
        notes = []
        for number in ids:
            note = col.new_note(model)
            note["Front"] = f"sample {number}"
            note["Back"] = "back"
            note.tags = ["european-languages"]
            notes.append(note)
        default_deck = col.decks.id_for_name("Default")
        col.add_notes([AddNoteRequest(note, default_deck) for note in notes])
        for note, number in zip(notes, ids, strict=True):
            col.db.execute("update cards set id = ?, nid = ? where nid = ?", number, number, note.id)
            col.db.execute("update notes set id = ? where id = ?", number, note.id)
        col.media.write_data("_hello.txt", b"Hello, world!")

    server.on_collection(build)


def _localised(value: Any, url: str, tmp_path: Path) -> Any:
    """The request with internet URLs and absolute file paths pointing at local stand-ins."""
    if isinstance(value, dict):
        out = {k: _localised(v, url, tmp_path) for k, v in value.items()}
        if isinstance(out.get("url"), str):
            out["url"] = url
        if isinstance(value.get("path"), str) and value["path"].startswith("/path/"):
            local = tmp_path / "sample-file.txt"
            local.write_bytes(b"Hello, world!")
            out["path"] = str(local)
        elif isinstance(value.get("path"), str) and value["path"].endswith(".apkg"):
            out["path"] = str(tmp_path / Path(value["path"]).name)  # the samples' /data/ folder is theirs
        return out
    if isinstance(value, list):
        return [_localised(v, url, tmp_path) for v in value]
    return value
