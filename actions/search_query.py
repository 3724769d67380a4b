"""Which notes an Anki search can possibly match, read from its exact field and tag terms (``"Front:word"``).

A query is parsed as Anki's own parser reads it (terms split by spaces or U+3000 only; quotes, ``key:"quoted"``
values, ``-`` negation, ``( )`` groups, ``and``/``or`` in any case, implicit AND) into a tree. An exact field
term, or a tag term without wildcards (``tag:t1``), names its candidates (through a lookup the caller gives);
the tree combines them so that the result is always a superset of Anki's matches, or None when the query is
not bounded that way:

- a negated node, or any other term, bounds nothing;
- an AND of nodes is bounded by any bounded member (the intersection of those);
- a group holding any OR is bounded only when every member is (the union of all: whatever the precedence,
  an expression of ANDs and ORs can match nothing outside the union of its terms).

Anything this parser is unsure of (a backslash, an unbalanced group, a dangling operator) gives None, and
the caller falls back to Anki's full search.

Deck terms (``deck:X``) bound no notes here; ``required_decks`` names those every match must satisfy, for
``deck_bound.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["Candidates", "DeckTerm", "FieldTerm", "TagTerm", "Term", "bounded_notes", "name_key", "required_decks"]

KEYWORDS = frozenset(
    [
        "added",
        "card",
        "cid",
        "deck",
        "did",
        "dupe",
        "edited",
        "flag",
        "has-cd",
        "introduced",
        "is",
        "mid",
        "nc",
        "nid",
        "note",
        "preset",
        "prop",
        "rated",
        "re",
        "resched",
        "sc",
        "tag",
        "w",
    ]
)
"""Anki's search keywords (``w:``, ``re:``...): a term ``keyword:value`` is no field search."""

_SPACES = " \u3000"
_ENDS_UNQUOTED = _SPACES + '"()'
# Runs found by the regex engine, not a character at a time: a body of a million spaces took 178 ms.
_SPACE_RUN = re.compile(f"[{re.escape(_SPACES)}]*")
_UNQUOTED_RUN = re.compile(f"[^{re.escape(_ENDS_UNQUOTED)}]*")
_WILDCARDS = set("*_")


@dataclass(frozen=True, slots=True)
class FieldTerm:
    """``field:value``, an exact (wildcard-free, plain) field search."""

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class TagTerm:
    """``tag:value`` without wildcards: Anki matches notes with a tag that is the value, or begins with it and
    ``::`` (its child tags), in any case."""

    value: str


Term = FieldTerm | TagTerm


@dataclass(frozen=True, slots=True)
class DeckTerm:
    """``deck:value``: Anki matches cards whose deck, or home deck when in a filtered deck, has that name or is a
    child of it, in any case; ``*`` and ``_`` are wildcards. ``value`` as written (NFC)."""

    value: str


@dataclass(frozen=True, slots=True)
class _Term:
    term: Term | DeckTerm | None


@dataclass(frozen=True, slots=True)
class _Not:
    node: _Node


@dataclass(frozen=True, slots=True)
class _Group:
    nodes: tuple[_Node, ...]
    any_or: bool


_Node = _Term | _Not | _Group


class _Unsure(Exception):
    """The query is not one this parser reads with certainty."""


Candidates = Callable[[Term], "set[int] | None"]
"""The notes the term may match (a superset), or None when that cannot be told."""


def bounded_notes(query: str, candidates: Candidates) -> set[int] | None:
    """A superset of the notes ``query`` matches, from ``candidates`` of its terms; None if unbounded."""
    tree = _parse(query)
    # Checked first: an OR with a wider term ("Front:a or deck:x") must not cost a lookup (the first one builds
    # the index) only to find the query unbounded.
    if tree is None or not _may_bound(tree):
        return None
    return _bound(tree, candidates)


def name_key(text: str) -> str:
    """A tag or deck name as compared here: NFC, case-folded. Whatever Anki's case-insensitive match finds
    equal, this does too (and perhaps a little more, which Anki's own search of the candidates drops)."""
    return unicodedata.normalize("NFC", text).casefold()


def required_decks(query: str) -> list[DeckTerm]:
    """The deck terms every match of ``query`` satisfies: not negated, and joined to the rest by AND only."""
    tree = _parse(query)
    return [] if tree is None else list(_required(tree))


def _required(group: _Group) -> Iterator[DeckTerm]:
    if group.any_or:
        return
    for node in group.nodes:
        if isinstance(node, _Term) and isinstance(node.term, DeckTerm):
            yield node.term
        elif isinstance(node, _Group):
            yield from _required(node)


def _may_bound(node: _Node) -> bool:
    """Whether the query's shape lets its terms bound it (the lookups may still decline)."""
    if isinstance(node, _Term):
        return isinstance(node.term, FieldTerm | TagTerm)
    if isinstance(node, _Not):
        return False
    members = [_may_bound(member) for member in node.nodes]
    return all(members) if node.any_or else any(members)


def _bound(node: _Node, candidates: Candidates) -> set[int] | None:
    if isinstance(node, _Term):
        return candidates(node.term) if isinstance(node.term, FieldTerm | TagTerm) else None
    if isinstance(node, _Not):
        return None
    if node.any_or:
        union: set[int] = set()
        for member in node.nodes:
            found = _bound(member, candidates)
            if found is None:
                return None
            union |= found
        return union
    result: set[int] | None = None  # an AND: bounded by each member that is bounded
    for member in node.nodes:
        found = _bound(member, candidates)
        if found is not None:
            result = found if result is None else result & found
            if not result:
                break  # nothing can match
    return result


# parsing


def _parse(query: str) -> _Group | None:
    if "\\" in query:  # escapes: rare in lookups, and a trailing one would escape our own ")" when restricting
        return None
    try:
        parser = _Parser(query)
        tree = parser.group_inner()
        if parser.at < len(query) or not tree.nodes:
            return None
        return tree
    except _Unsure:
        return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def group_inner(self) -> _Group:
        """Nodes and operators up to a ``)`` or the end; an operator must stand between two nodes."""
        nodes: list[_Node] = []
        any_or = False
        expect_node = True
        while True:
            self._skip_spaces()
            if self.at >= len(self.text) or self.text[self.at] == ")":
                break
            operator = self._operator()
            if operator is not None:
                if expect_node:
                    raise _Unsure
                any_or = any_or or operator == "or"
                expect_node = True
                continue
            nodes.append(self._node())
            expect_node = False
        if nodes and expect_node:  # a dangling operator
            raise _Unsure
        return _Group(tuple(nodes), any_or)

    def _skip_spaces(self) -> None:
        self.at = _SPACE_RUN.match(self.text, self.at).end()  # type: ignore[union-attr]  # matches the empty run

    def _operator(self) -> str | None:
        end = self._unquoted_end(self.at)
        word = self.text[self.at : end].lower()
        if word in ("and", "or"):
            self.at = end
            return word
        return None

    def _node(self) -> _Node:
        if self.text[self.at] == "-":
            self.at += 1
            if self.at >= len(self.text) or self.text[self.at] in _SPACES + ")":
                raise _Unsure
            return _Not(self._group_or_text())
        return self._group_or_text()

    def _group_or_text(self) -> _Node:
        if self.text[self.at] == "(":
            self.at += 1
            group = self.group_inner()
            if self.at >= len(self.text) or self.text[self.at] != ")" or not group.nodes:
                raise _Unsure
            self.at += 1
            return group
        if self.text[self.at] == '"':
            return _Term(_term(self._quoted()))
        start = self.at
        end = self._unquoted_end(start)
        if end == start:
            raise _Unsure
        self.at = end
        run = self.text[start:end]
        if run.endswith(":") and run.count(":") == 1 and self.text.startswith('"', end):
            return _Term(_term(run + self._quoted()))  # key:"quoted value"
        return _Term(_term(run))

    def _quoted(self) -> str:
        end = self.text.find('"', self.at + 1)
        if end <= self.at + 1:  # unterminated or empty
            raise _Unsure
        inner = self.text[self.at + 1 : end]
        self.at = end + 1
        return inner

    def _unquoted_end(self, start: int) -> int:
        return _UNQUOTED_RUN.match(self.text, start).end()  # type: ignore[union-attr]  # matches the empty run


def _term(text: str) -> Term | DeckTerm | None:
    """The exact field, tag or deck search a term's text is, or None (another keyword, plain text, wildcards...)."""
    name, colon, value = text.partition(":")
    if not colon or not name or not value:
        return None
    if name.lower() == "tag":
        return _tag_term(value)
    if name.lower() == "deck":
        return _deck_term(value)
    if name.lower() in KEYWORDS:
        return None
    if _WILDCARDS & set(name) or _WILDCARDS & set(value) or ":" in value or '"' in value:
        return None
    return FieldTerm(name, unicodedata.normalize("NFC", value))


def _tag_term(value: str) -> TagTerm | None:
    # "re:" and "nc:" start other kinds of tag search, "none" finds untagged notes; "*" and "_" are wildcards.
    if value.lower().startswith(("re:", "nc:")) or value.lower() == "none" or (_WILDCARDS | {'"'}) & set(value):
        return None
    return TagTerm(unicodedata.normalize("NFC", value))


def _deck_term(value: str) -> DeckTerm | None:
    # "current" and "filtered" are no deck names to Anki; a quote inside a value is Anki's to read.
    if value.lower() in ("current", "filtered") or '"' in value:
        return None
    return DeckTerm(unicodedata.normalize("NFC", value))
