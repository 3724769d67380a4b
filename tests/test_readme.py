"""The README stays true: its two commands and its generated action table."""

from __future__ import annotations

from pathlib import Path

from ankiconnect_live.reference import action_table, event_table, readme_events, readme_section

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_starts_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8")[:1500]
    assert "make serve" in head and "make test" in head


def test_action_table_is_current() -> None:
    """Regenerate with: python -m ankiconnect_live.reference README.md"""
    assert readme_section(README.read_text(encoding="utf-8")) == action_table()


def test_event_table_is_current() -> None:
    """Regenerate with: python -m ankiconnect_live.reference README.md"""
    assert readme_events(README.read_text(encoding="utf-8")) == event_table()
