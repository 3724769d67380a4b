"""replaceTags and replaceTagsInAllNotes replace a whole tag, in any case, whatever characters it holds (Anki's
find-and-replace reads a pattern: ``c++``, ``a.b``, ``[x]`` or ``$1`` must mean themselves).

The oracle is the same replacement made by hand on a copy of the collection: each note's tags, a tag equal
to the one replaced (ignoring case) swapped for the new one (or dropped when that is empty), saved with
``col.update_note``, which tidies tags as Anki does. One pair of copies lives through every example.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_profiles import examples
from hypothesis import given, settings, strategies as st
from twin_support import seeded_twins, serving, state

TAGS = ["c++", "C++", "a.b", "axb", "[x]", "x", "$1", "a*b", "ab", "x::y", "X::Y", "ß", "^x$", "a|b", "é"]


@pytest.fixture(scope="module")
def twins(empty_collection: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    tmp_path = tmp_path_factory.mktemp("tags")
    template = tmp_path / "template.anki2"
    template.write_bytes(empty_collection.read_bytes())
    served_path, by_hand_path, ids = seeded_twins(template, tmp_path)
    with serving(served_path) as served, serving(by_hand_path) as by_hand:
        yield served, by_hand, sorted(value for key, value in ids.items() if not key.endswith("card"))


def replaced_by_hand(col: Any, note_ids: list[int] | None, old: str, new: str) -> None:
    for note_id in note_ids if note_ids is not None else col.find_notes(""):
        note = col.get_note(note_id)
        tags = [new.strip() if tag.lower() == old.lower() else tag for tag in note.tags] if old.strip() else note.tags
        if tags != note.tags:
            note.tags = [tag for tag in tags if tag]
            col.update_note(note)


@settings(max_examples=examples(60, 20))
@given(data=st.data())
def test_a_whole_tag_is_replaced_whatever_it_holds(twins: tuple[Any, ...], data: st.DataObject) -> None:
    served, by_hand, note_ids = twins
    for note_id in data.draw(st.lists(st.sampled_from(note_ids), max_size=3)):
        tags = data.draw(st.lists(st.sampled_from(TAGS), max_size=3))
        for server in (served, by_hand):
            server.on_collection(lambda col, note_id=note_id, tags=tags: col.tags.bulk_add([note_id], " ".join(tags)))
    old = data.draw(st.sampled_from([*TAGS, "", "x::"]))
    new = data.draw(st.sampled_from([*TAGS, ""]))
    everywhere = data.draw(st.booleans())
    chosen = None if everywhere else data.draw(st.lists(st.sampled_from(note_ids), min_size=1, max_size=3))
    from support import HttpApiClient

    client = HttpApiClient(served.port)
    try:
        if everywhere:
            client.invoke("replaceTagsInAllNotes", tag_to_replace=old, replace_with_tag=new)
        else:
            client.invoke("replaceTags", notes=chosen, tag_to_replace=old, replace_with_tag=new)
    finally:
        client.close()
    by_hand.on_collection(lambda col: replaced_by_hand(col, chosen, old, new))
    assert state(served) == state(by_hand), (old, new, chosen)
