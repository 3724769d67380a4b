"""Hypothesis strategies for Anki searches: terms combined with spaces, AND, OR, groups and negation."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["searches"]


def _combine(parts: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from([" ", " or ", " OR ", " and ", "\u3000", "  "]).map(lambda joint: joint.join(parts))


def searches(atoms: list[str], max_leaves: int = 8) -> st.SearchStrategy[str]:
    """Queries made of ``atoms``, joined and nested as Anki's parser reads them."""
    return st.recursive(
        st.sampled_from(atoms),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=4).flatmap(_combine),
            inner.map(lambda q: f"({q})"),
            inner.map(lambda q: f"-({q})"),
        ),
        max_leaves=max_leaves,
    )
