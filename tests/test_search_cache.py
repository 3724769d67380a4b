"""Repeated searches come from memory only while the collection is unchanged, and never for clock terms."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from support import RunningServer, basic_note, http_post

from ankiconnect_live.actions import field_index, search_cache

QUERIES = ["", "tag:x", "-tag:x", "is:suspended", "is:new", "deck:Other", "front:word", "note:Basic", "word", "flag:1"]


@pytest.fixture
def col(collection_path: Path) -> Iterator[Collection]:
    collection = Collection(str(collection_path))
    other = collection.decks.id("Other")
    for index, front in enumerate(["word", "other", "word", "third"]):
        note = collection.new_note(collection.models.by_name("Basic"))  # type: ignore[arg-type]
        note["Front"], note["Back"] = front, "back"
        note.tags = ["x"] if index % 2 else []
        collection.add_note(note, other if index == 3 else 1)  # type: ignore[arg-type]
    yield collection
    collection.close()


class Searches:
    """Counts the searches that reach Anki (a spy on the real methods, which still run)."""

    def __init__(self, col: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for name in ("find_notes", "find_cards"):
            real = getattr(col, name)
            monkeypatch.setattr(col, name, self._counting(real))

    def _counting(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def search(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        return search


def _answers(col: Collection, query: str) -> tuple[list[int], list[int]]:
    return field_index.find_notes(col, query), field_index.find_cards(col, query)


def _anki(col: Collection, query: str) -> tuple[list[int], list[int]]:
    return [int(n) for n in Collection.find_notes(col, query)], [int(c) for c in Collection.find_cards(col, query)]


def test_a_repeated_search_reaches_anki_twice(col: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept when asked a second time (a search asked once is not worth keeping), answered from memory after."""
    searches = Searches(col, monkeypatch)
    first = _answers(col, "tag:x")
    assert first == _anki(col, "tag:x") and len(first[0]) == 2
    assert _answers(col, "tag:x") == first
    assert searches.count == 4  # notes and cards are kept apart
    for _ in range(3):
        assert _answers(col, "tag:x") == first
    assert searches.count == 4
    _answers(col, "-tag:x")
    assert _answers(col, "tag:x") == first and searches.count == 6


def _add(col: Collection) -> None:
    note = col.new_note(col.models.by_name("Basic"))  # type: ignore[arg-type]
    note["Front"] = "word"
    col.add_note(note, 1)  # type: ignore[arg-type]


def _edit(col: Collection) -> None:
    note = col.get_note(col.find_notes("front:other")[0])
    note["Front"] = "word"
    col.update_note(note)


def _move(col: Collection) -> None:
    col.set_deck(col.find_cards("front:other"), col.decks.id("Other"))  # type: ignore[arg-type]


def _rename_deck(col: Collection) -> None:
    col.decks.rename(col.decks.id("Other"), "Renamed")  # type: ignore[arg-type]


def _rename_note_type(col: Collection) -> None:
    model = col.models.by_name("Basic")
    assert model is not None
    model["name"] = "Plain"
    col.models.update_dict(model)


def _sql(col: Collection, statement: str) -> None:
    assert col.db is not None
    col.db.execute(statement)


CHANGES: dict[str, Callable[[Collection], Any]] = {
    "add a note": _add,
    "edit a field": _edit,
    "delete a note": lambda col: col.remove_notes(col.find_notes("front:word")[:1]),
    "add a tag": lambda col: col.tags.bulk_add(col.find_notes("-tag:x"), "x"),
    "remove a tag": lambda col: col.tags.bulk_remove(col.find_notes("tag:x"), "x"),
    "suspend": lambda col: col.sched.suspend_cards(col.find_cards("front:word")),
    "flag": lambda col: col.set_user_flag_for_cards(1, col.find_cards("front:third")),
    "move to a deck": _move,
    "rename a deck": _rename_deck,
    "rename the note type": _rename_note_type,
    # An add-on writing SQL of its own: no undo step, no col.mod, nothing but the row.
    "raw SQL": lambda col: _sql(col, "update notes set tags = ' x ' where tags = ''"),
    "raw SQL on cards": lambda col: _sql(col, "update cards set queue = -1"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_to_the_rows_is_searched_anew(col: Collection, change: str) -> None:
    before = {query: _answers(col, query) for query in QUERIES}
    assert before == {query: _anki(col, query) for query in QUERIES}
    CHANGES[change](col)
    after = {query: _answers(col, query) for query in QUERIES}
    assert after == {query: _anki(col, query) for query in QUERIES}
    assert after != before  # each change moves at least one of the queries


CLOCK_QUERIES = [
    "is:due",
    "-IS:Due",
    '"is:due"',
    "i\\s:due",
    "(tag:x or is:due)",
    "is:learn is:due",
    "rated:1",
    "RATED:1:3",
    "added:1",
    "edited:1",
    "introduced:1",
    "resched:1",
    "prop:due=0",
    "prop:ivl>1",
    "prop:r<0.9",
    '"front:x" -"prop:rated=-1"',
    '"front:a is:due"',  # Anki reads this as text in the Front field; kept out all the same
    "is:",
]


@pytest.mark.parametrize("query", CLOCK_QUERIES)
def test_clock_terms_are_searched_every_time(col: Collection, monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    assert not search_cache.timeless(query)
    searches = Searches(col, monkeypatch)
    # Three times: a timeless search would reach Anki twice (kept on its second asking), then come from memory.
    for _ in range(3):
        # An invalid search (``is:``) fails each time; what matters is that it reached Anki each time.
        with contextlib.suppress(Exception):
            field_index.find_cards(col, query)
    assert searches.count == 3


@pytest.mark.parametrize(
    "query",
    ["tag:x", "is:new", "is:suspended -is:buried", '"deck:Due Soon"', "front:12:30", "front:rated", '"is:new"'],
)
def test_timeless_queries(query: str) -> None:
    assert search_cache.timeless(query)


def test_a_wrong_search_fails_every_time(col: Collection) -> None:
    for _ in range(2):
        with pytest.raises(Exception, match="(?i)invalid|unknown|expected"):
            field_index.find_notes(col, "flag:9")


def test_a_result_is_the_callers_own(col: Collection) -> None:
    first = field_index.find_notes(col, "")
    first.clear()
    assert field_index.find_notes(col, "") == _anki(col, "")[0] != []


def _changes(col: Collection) -> int:
    """SQLite's count of rows written through the collection's connection (what the cache compares)."""
    return int(col._backend.db_query("select total_changes()", [], True)[0][0])


def _count_up_to(col: Collection, target: int) -> None:
    """Write harmless rows (a temporary table) until the connection has counted ``target`` changes."""
    assert col.db is not None
    col.db.execute("create temp table if not exists padding (x)")
    while _changes(col) < target:
        col.db.execute("insert into temp.padding values (1)")


def test_a_reopened_collection_is_searched_anew(col: Collection, tmp_path: Path) -> None:
    """A full sync swaps the file under the same Collection (as here, by hand), and its new connection counts
    changes from zero again: here it is brought to the very count the kept result was stamped with, so only
    telling the connections apart keeps the old result out."""
    _count_up_to(col, _changes(col) + 500)  # well beyond what opening the replacement counts
    for _ in range(3):  # the first search may write; the next is remembered as asked; the third is kept
        before = field_index.find_notes(col, "")
    stamped = _changes(col)
    col.close_for_full_sync()
    col._backend.close_collection(downgrade_to_schema11=False)
    replacement = tmp_path / "replacement.anki2"
    shutil.copy(col.path, replacement)
    other = Collection(str(replacement))
    _add(other)
    other.close()
    shutil.copy(replacement, col.path)
    col.reopen()
    assert _changes(col) < stamped
    _count_up_to(col, stamped)
    assert _changes(col) == stamped
    after = field_index.find_notes(col, "")
    assert after == _anki(col, "")[0] and len(after) == len(before) + 1


def test_memory_is_bounded(col: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_cache, "MAX_ENTRIES", 2)
    monkeypatch.setattr(search_cache, "MAX_IDS", 3)
    searches = Searches(col, monkeypatch)
    for _ in range(3):
        field_index.find_notes(col, "")  # four notes: more than may be kept
    assert searches.count == 3
    for query in ("tag:x", "front:word", "front:third"):  # kept on their second time; the oldest of three goes
        field_index.find_notes(col, query)
        field_index.find_notes(col, query)
    searches.count = 0
    field_index.find_notes(col, "front:third")
    field_index.find_notes(col, "front:word")
    assert searches.count == 0
    field_index.find_notes(col, "tag:x")
    assert searches.count == 1


def test_searches_asked_once_are_forgotten_first(col: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_cache, "MAX_SEEN", 2)
    searches = Searches(col, monkeypatch)
    for query in ("tag:x", "front:word", "front:third", "tag:x"):  # tag:x was forgotten: this is its first time
        field_index.find_notes(col, query)
    searches.count = 0
    field_index.find_notes(col, "tag:x")  # its second time: searched, and kept
    field_index.find_notes(col, "tag:x")
    assert searches.count == 1


def test_the_server_answers_a_search_after_its_own_write(server: RunningServer) -> None:
    def find(query: str) -> list[int]:
        reply: list[int] = http_post(
            server.port, {"action": "findNotes", "version": 6, "params": {"query": query}}
        ).json()["result"]
        return reply

    assert find("front:new") == []
    added = http_post(server.port, {"action": "addNote", "version": 6, "params": {"note": basic_note("new")}}).json()
    assert find("front:new") == [added["result"]]
    server.on_collection(lambda col: col.db.execute("update notes set flds = 'renamed\x1fback'"))
    assert find("front:new") == []


def test_a_multi_sees_its_own_writes(server: RunningServer) -> None:
    find = {"action": "findNotes", "params": {"query": "front:multi"}}
    add = {"action": "addNote", "params": {"note": basic_note("multi")}}
    for _ in range(2):  # kept from here on
        assert http_post(server.port, {"action": "multi", "version": 6, "params": {"actions": [find]}}).json() == {
            "result": [[]],
            "error": None,
        }
    reply = http_post(server.port, {"action": "multi", "version": 6, "params": {"actions": [find, add, find]}}).json()
    before, added, after = reply["result"]
    assert before == [] and after == [added]
