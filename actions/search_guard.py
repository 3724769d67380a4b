"""Searches Anki cannot parse without crashing, refused with a clear error before they reach it.

Anki's search parser recurses once for each bracket ``(`` opened inside another: some thousands of levels
(about 7,000 with Linux's 8 MB thread stacks, fewer where threads get less) overflow its thread's stack, and
the whole process dies with it, Anki's window included. No real search nests a hundred deep.
"""

from __future__ import annotations

import re

from .errors import InvalidParams

__all__ = ["MAX_DEPTH", "checked_search"]

MAX_DEPTH = 100
_MARKS = re.compile(r'\\.|["()]', re.DOTALL)
"""What decides the nesting: brackets, quotes (brackets inside are text) and escaped characters."""


def checked_search(query: str) -> str:
    """The query, unless its brackets nest more than ``MAX_DEPTH`` deep (counted as Anki reads them)."""
    depth = 0
    quoted = False
    for mark in _MARKS.finditer(query):
        text = mark.group()
        if text == '"':
            quoted = not quoted
        elif quoted or len(text) == 2:
            continue  # a bracket inside quotes, or an escaped character
        elif text == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidParams(f"Invalid search: brackets `(` nested more than {MAX_DEPTH} deep.")
        else:
            depth = max(0, depth - 1)
    return query
