"""Data operations through the server against the same work done directly with the ``anki`` pylib.

Both sides run on their own copy of the same seeded collection, warmed up once, in alternating rounds
(``compare.py``: quick operations take their rounds in turn, each beside a bare server's round trip); the
figure is the median. The server side is timed from sending the encoded request to receiving the
whole reply, so it includes HTTP, JSON and the thread hop: everything a client pays for. The direct side
is the honest pylib equivalent of the action (the calls a script using ``anki`` would make, building the
same result), and the server's result is checked against it where the two can be compared.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from hashlib import sha1
from pathlib import Path
from typing import Any

from bare_server import bare_server
from common import DECKS, checked, copy_of, post, server_process
from compare import DataFigure, Operation, compare_all

__all__ = ["compare_data_operations", "direct_add_notes", "direct_can_add", "direct_cards_info", "note_batch"]

# the direct floors


def note_batch(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"deckName": "Default", "modelName": "Basic", "fields": {"Front": f"{tag} {i}", "Back": "b"}}
        for i in range(count)
    ]


def direct_add_notes(col: Any, specs: list[dict[str, Any]], *, check: bool = False) -> list[int]:
    """The same notes built and added with one ``col.add_notes`` call; with ``check``, each first goes through
    Anki's own empty/duplicate check (``note.fields_check()``), as addNotes must refuse duplicates."""
    from anki.collection import AddNoteRequest
    from anki.notes import NoteFieldsCheckResult

    model = col.models.by_name("Basic")
    deck_ids = {name: col.decks.id_for_name(name) for name in {spec["deckName"] for spec in specs}}
    requests = []
    for spec in specs:
        note = col.new_note(model)
        for name, value in spec["fields"].items():
            note[name] = value
        if check and note.fields_check() != NoteFieldsCheckResult.NORMAL:
            raise RuntimeError(f"{spec} cannot be added")
        requests.append(AddNoteRequest(note, deck_ids[spec["deckName"]]))
    col.add_notes(requests)
    return [request.note.id for request in requests]


def direct_can_add(col: Any, specs: list[dict[str, Any]]) -> list[bool]:
    """Whether each note could be added, the pylib way (as upstream AnkiConnect checks).

    Collection scope, same note type: Anki's own ``note.fields_check()``. Deck scope or every note type: the
    notes with the same first-field checksum (``csum``, indexed), then the decks of their cards.
    """
    from anki.collection import StripHtmlMode
    from anki.notes import NoteFieldsCheckResult

    def field_checksum(text: str) -> int:  # anki.utils.field_checksum, without the GUI's i18n object
        stripped = col._backend.strip_html(text=text, mode=StripHtmlMode.PRESERVE_MEDIA_FILENAMES)
        return int(sha1(stripped.encode("utf-8")).hexdigest()[:8], 16)

    results = []
    for spec in specs:
        note = col.new_note(col.models.by_name(spec["modelName"]))
        for name, value in spec["fields"].items():
            note[name] = value
        options = spec.get("options") or {}
        scope = options.get("duplicateScopeOptions") or {}
        deck_scope, all_models = options.get("duplicateScope") == "deck", scope.get("checkAllModels", False)
        if not deck_scope and not all_models:
            results.append(note.fields_check() == NoteFieldsCheckResult.NORMAL)
            continue
        if not note.fields[0].strip():
            results.append(False)
            continue
        decks = None
        if deck_scope:
            deck_id = col.decks.id_for_name(scope.get("deckName") or spec["deckName"])
            if deck_id is None:
                results.append(True)
                continue
            decks = set(col.decks.deck_and_child_ids(deck_id)) if scope.get("checkChildren") else {deck_id}
        sql, args = "select id from notes where csum = ?", [field_checksum(note.fields[0])]
        if not all_models:
            sql, args = sql + " and mid = ?", [*args, note.mid]
        duplicate = False
        for note_id in col.db.list(sql, *args):
            if decks is None or decks & set(col.db.list("select did from cards where nid = ?", note_id)):
                duplicate = True
                break
        results.append(not duplicate)
    return results


def direct_notes_info(col: Any, note_ids: list[int]) -> list[dict[str, Any]]:
    infos = []
    for note_id in note_ids:
        note = col.get_note(note_id)
        model = note.note_type()
        infos.append(
            {
                "noteId": note.id,
                "tags": note.tags,
                "fields": {f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]} for f in model["flds"]},
                "modelName": model["name"],
                "mod": note.mod,
                "cards": note.card_ids(),
            }
        )
    return infos


def direct_cards_info(col: Any, card_ids: list[int]) -> list[dict[str, Any]]:
    """cardsInfo the pylib way: each card, its note, its rendering and its next intervals."""
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    infos = []
    for card_id in card_ids:
        card = col.get_card(card_id)
        note = card.note()
        model = note.note_type()
        states = col._backend.get_scheduling_states(card.id)
        infos.append(
            {
                "cardId": card.id,
                "fields": {f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]} for f in model["flds"]},
                "fieldOrder": card.ord,
                "question": card.question(),
                "answer": card.answer(),
                "modelName": model["name"],
                "ord": card.ord,
                "deckName": names[card.did],
                "css": model["css"],
                "factor": card.factor,
                "interval": card.ivl,
                "note": card.nid,
                "type": card.type,
                "queue": card.queue,
                "due": card.due,
                "reps": card.reps,
                "lapses": card.lapses,
                "left": card.left,
                "mod": card.mod,
                "nextReviews": list(col._backend.describe_next_states(states)),
                "flags": card.flags,
            }
        )
    return infos


def direct_get_decks(col: Any, card_ids: list[int]) -> dict[str, list[int]]:
    decks: dict[str, list[int]] = {}
    names = {d.id: d.name for d in col.decks.all_names_and_ids()}
    for card_id, deck_id in col.db.all(f"select id, did from cards where id in ({','.join(map(str, card_ids))})"):
        decks.setdefault(names[deck_id], []).append(card_id)
    return decks


def direct_deck_stats(col: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """The due counts of the named decks from Anki's deck tree."""
    wanted = {col.decks.id_for_name(name) for name in names}
    stats: dict[str, dict[str, Any]] = {}
    stack = [col.sched.deck_due_tree()]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.deck_id in wanted:
            stats[str(node.deck_id)] = {
                "deck_id": node.deck_id,
                "name": node.name,
                "new_count": node.new_count,
                "learn_count": node.learn_count,
                "review_count": node.review_count,
                "total_in_deck": node.total_in_deck,
            }
    for deck_id in wanted - {int(key) for key in stats}:  # Anki's tree leaves an empty Default deck out
        name = col.decks.name(deck_id).rsplit("::", 1)[-1]
        stats[str(deck_id)] = {"deck_id": deck_id, "name": name} | dict.fromkeys(_COUNTS, 0)
    return stats


_COUNTS = ("new_count", "learn_count", "review_count", "total_in_deck")


# the operations


def _can_add_notes(notes: int, scope: str) -> list[dict[str, Any]]:
    """100 notes, half of them duplicates somewhere, checked with one duplicate scope."""
    options: dict[str, Any] = {"allowDuplicate": False}
    if scope == "deck":
        options |= {"duplicateScope": "deck"}
    elif scope == "deck + children":
        options |= {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "Seed", "checkChildren": True}}
    elif scope == "all note types":
        options |= {"duplicateScopeOptions": {"checkAllModels": True}}
    specs = []
    for i in range(100):
        word = f"word{i * (notes // 100)}" if i % 2 == 0 else f"absent{i}"
        deck = f"Seed::Deck {i % DECKS}"
        specs.append(
            {"deckName": deck, "modelName": "Basic", "fields": {"Front": word, "Back": "b"}, "options": options}
        )
    return specs


def _same(server: Any, direct: Any) -> bool:
    return bool(server == direct)


def _same_set(server: Any, direct: Any) -> bool:
    return sorted(server) == sorted(direct)


def _can_add_operation(notes: int, scope: str) -> Operation:
    specs = _can_add_notes(notes, scope)
    return Operation(
        f"canAddNotes 100, {scope}",
        lambda r: {"action": "canAddNotes", "version": 6, "params": {"notes": specs}},
        lambda col, r: direct_can_add(col, specs),
        _same,
    )


def _search_operations(action: str, query: str) -> list[Operation]:
    """The search as clients repeat it (the server answers from memory while nothing changed), and a search
    new to the server in each round (the same query spelled with one more trailing space each time)."""

    def direct(col: Any, r: int) -> list[int]:
        return list(col.find_notes(query) if action == "findNotes" else col.find_cards(query))

    def request(r: int, spaces: bool) -> dict[str, Any]:
        return {"action": action, "version": 6, "params": {"query": query + " " * (r + 2) if spaces else query}}

    return [
        Operation(f"{action} {query}, repeated", lambda r: request(r, False), direct, _same_set),
        Operation(f"{action} {query}, new each time", lambda r: request(r, True), direct, _same_set),
    ]


def _deck_stats_operations(deck_names: list[str], note_id: int) -> list[Operation]:
    """As a dashboard polls: again with nothing changed (the server keeps Anki's deck tree while it cannot
    change), and with a change between polls (a tag added through the server, untimed, before each round)."""
    label = f"getDeckStats {len(deck_names)} decks"

    def request(r: int) -> dict[str, Any]:
        return {"action": "getDeckStats", "version": 6, "params": {"decks": deck_names}}

    def direct(col: Any, r: int) -> dict[str, dict[str, Any]]:
        return direct_deck_stats(col, deck_names)

    def change(connection: http.client.HTTPConnection, r: int) -> None:
        checked(
            post(connection, {"action": "addTags", "version": 6, "params": {"notes": [note_id], "tags": f"poll{r}"}}),
            "addTags",
        )

    return [
        Operation(f"{label}, repeated", request, direct, _same),
        # Run with the writes, after every read: each change makes the server search anew too.
        Operation(f"{label}, after a change", request, direct, _same, writes=True, prepare=change),
    ]


def operations(notes: int, note_ids: list[int], card_ids: list[int], deck_names: list[str]) -> list[Operation]:
    batch = 10_000
    some_notes, some_cards = note_ids[:batch], card_ids[:batch]
    ops: list[Operation] = []
    for scope in ("collection", "deck", "deck + children", "all note types"):
        ops.append(_can_add_operation(notes, scope))
    ops += [
        Operation(
            "notesInfo 10k",
            lambda r: {"action": "notesInfo", "version": 6, "params": {"notes": some_notes}},
            lambda col, r: direct_notes_info(col, some_notes),
            lambda server, direct: [n["fields"] for n in server] == [n["fields"] for n in direct],
        ),
        Operation(
            "cardsInfo 10k",
            lambda r: {"action": "cardsInfo", "version": 6, "params": {"cards": some_cards}},
            lambda col, r: direct_cards_info(col, some_cards),
            lambda server, direct: (
                [(c["question"], c["answer"], c["nextReviews"]) for c in server]
                == [(c["question"], c["answer"], c["nextReviews"]) for c in direct]
            ),
            rounds=3,
        ),
    ]
    for action, query in (
        ("findNotes", "deck:Seed*"),
        ("findNotes", "tag:t1"),
        ("findNotes", '"deck:Seed::Deck 1"'),
        ("findCards", "is:new"),
        ("findCards", '"deck:Seed::Deck 1" front:word1*'),
    ):
        ops += _search_operations(action, query)
    ops += _deck_stats_operations(deck_names, note_ids[0])
    ops += [
        Operation(
            "getDecks 10k cards",
            lambda r: {"action": "getDecks", "version": 6, "params": {"cards": some_cards}},
            lambda col, r: direct_get_decks(col, some_cards),
            lambda server, direct: (
                {k: sorted(v) for k, v in server.items()} == {k: sorted(v) for k, v in direct.items()}
            ),
        ),
        # Last: they change the collection (each side gets its own new notes, with their own ids). The server
        # checks every note for duplicates, as upstream does: the first floor does that check Anki's way, the
        # second is the bare add (no check at all), the least any server could do.
        Operation(
            "addNotes 10k",
            lambda r: {"action": "addNotes", "version": 6, "params": {"notes": note_batch(batch, f"round{r}")}},
            lambda col, r: direct_add_notes(col, note_batch(batch, f"round{r}"), check=True),
            lambda server, direct: len(server) == batch and all(server),
            rounds=3,
            writes=True,
        ),
        Operation(
            "addNotes 10k, against the bare add",
            lambda r: {"action": "addNotes", "version": 6, "params": {"notes": note_batch(batch, f"bare{r}")}},
            lambda col, r: direct_add_notes(col, note_batch(batch, f"bare{r}")),
            lambda server, direct: len(server) == batch and all(server),
            rounds=3,
            writes=True,
        ),
        # Clients that sync notes from elsewhere send a multi of one addNote, or one updateNoteFields, per note.
        # After the 10k adds: the collection they grow would change what those measure.
        Operation(
            "multi of 1,000 addNote",
            lambda r: {
                "action": "multi",
                "version": 6,
                "params": {"actions": _each("addNote", note_batch(1000, f"m{r}"))},
            },
            lambda col, r: direct_add_notes(col, note_batch(1000, f"m{r}"), check=True),
            lambda server, direct: len(server) == len(direct) and all(type(i) is int for i in server),
            rounds=5,
            writes=True,
        ),
        Operation(
            "multi of 1,000 updateNoteFields",
            lambda r: {"action": "multi", "version": 6, "params": {"actions": _edits(note_ids[:1000], r)}},
            lambda col, r: direct_update_fields(col, note_ids[:1000], r),
            lambda server, direct: server == [None] * len(direct),
            rounds=5,
            writes=True,
        ),
    ]
    return ops


def _each(action: str, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"action": action, "params": {"note": note}} for note in notes]


def _edits(note_ids: list[int], r: int) -> list[dict[str, Any]]:
    return _each("updateNoteFields", [{"id": nid, "fields": {"Back": f"edit {r} {nid}"}} for nid in note_ids])


def direct_update_fields(col: Any, note_ids: list[int], r: int) -> list[None]:
    """The same fields set on each note and every note written with one ``col.update_notes`` call."""
    notes = [col.get_note(nid) for nid in note_ids]
    for note in notes:
        note["Back"] = f"edit {r} {note.id}"
    col.update_notes(notes)
    return [None] * len(notes)


def compare_data_operations(
    seed: Path, work: Path, notes: int, rounds: int, only: Callable[[str], bool] = lambda label: True
) -> list[DataFigure]:
    """Each operation through a real server and directly, on copies of ``seed``; the server's peak RSS is
    recorded in ``common.SERVER_PEAKS``."""
    from anki.collection import Collection

    col = Collection(str(copy_of(seed, work, f"direct-{notes}")))
    # The server reads the due counts when it opens a collection (for its events), which builds Anki's queues
    # and their load balancer, which in turn shifts the next intervals cardsInfo shows: do the same here.
    col.sched.counts()
    try:
        note_ids = sorted(int(n) for n in col.find_notes(""))
        card_ids = sorted(int(c) for c in col.find_cards(""))
        deck_names = sorted(d.name for d in col.decks.all_names_and_ids())
        chosen = [op for op in operations(notes, note_ids, card_ids, deck_names) if only(op.label)]
        with server_process(copy_of(seed, work, f"served-{notes}")) as server, bare_server() as bare:
            connection = http.client.HTTPConnection("127.0.0.1", server.port)
            results = compare_all(chosen, rounds, col, connection, bare)
            connection.close()
    finally:
        col.close()
    for figure in results:
        bound = f" (bound {figure.bound:.2f}x)" if figure.bound is not None else ""
        print(f"  {figure.label}: {figure.ratio:.2f}x{bound}", flush=True)
    return results
