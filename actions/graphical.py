"""Graphical actions: they drive Anki's windows, so only the desktop add-on can run them.

Each handler declares the action's params (the schema clients are checked against) and hands the call to
the GUI host the add-on provides. Without a GUI (headless) the dispatcher answers ``unsupported action``
before params are even read: clients such as Yomitan fall back on exactly that answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Context
from .registry import Handler, Registry

__all__ = ["registry"]

registry = Registry("graphical")


def gui(name: str) -> Callable[[Handler], Handler]:
    return registry.action(name, gui=True)


@gui("guiBrowse")
def gui_browse(ctx: Context, *, query: str | None = None, reorderCards: Any = None) -> Any:
    """Open the Browser on a search (optionally sorted) and return the matching card ids."""
    return ctx.gui.run("guiBrowse", query=query, reorderCards=reorderCards)


@gui("guiSelectCard")
def gui_select_card(ctx: Context, *, card: int) -> Any:
    """Select a card in the open Browser; false when no Browser is open."""
    return ctx.gui.run("guiSelectCard", card=card)


@gui("guiSelectNote")
def gui_select_note(ctx: Context, *, note: int) -> Any:
    """Deprecated name of guiSelectCard (it always took a card id)."""
    return ctx.gui.run("guiSelectCard", card=note)


@gui("guiSelectedNotes")
def gui_selected_notes(ctx: Context) -> Any:
    """The ids of the notes selected in the open Browser (``[]`` when none is open)."""
    return ctx.gui.run("guiSelectedNotes")


@gui("guiAddCards")
def gui_add_cards(ctx: Context, *, note: Any = None) -> Any:
    """Open the Add dialog, optionally filled in from a note object."""
    return ctx.gui.run("guiAddCards", note=note)


@gui("guiEditNote")
def gui_edit_note(ctx: Context, *, note: int) -> Any:
    """Open an editor for an existing note."""
    return ctx.gui.run("guiEditNote", note=note)


@gui("guiAddNoteSetData")
def gui_add_note_set_data(ctx: Context, *, note: Any, append: bool = False) -> Any:
    """Change the deck, note type, fields or tags of the open Add dialog."""
    return ctx.gui.run("guiAddNoteSetData", note=note, append=append)


@gui("guiCurrentCard")
def gui_current_card(ctx: Context) -> Any:
    """The card under review, with its fields, rendered sides and answer buttons."""
    return ctx.gui.run("guiCurrentCard")


@gui("guiStartCardTimer")
def gui_start_card_timer(ctx: Context) -> Any:
    """Restart the timer of the card under review."""
    return ctx.gui.run("guiStartCardTimer")


@gui("guiShowQuestion")
def gui_show_question(ctx: Context) -> Any:
    """Show the question side of the card under review."""
    return ctx.gui.run("guiShowQuestion")


@gui("guiShowAnswer")
def gui_show_answer(ctx: Context) -> Any:
    """Show the answer side of the card under review."""
    return ctx.gui.run("guiShowAnswer")


@gui("guiAnswerCard")
def gui_answer_card(ctx: Context, *, ease: int) -> Any:
    """Answer the card under review (its answer must be showing)."""
    return ctx.gui.run("guiAnswerCard", ease=ease)


@gui("guiPlayAudio")
def gui_play_audio(ctx: Context) -> Any:
    """Replay the audio of the card under review."""
    return ctx.gui.run("guiPlayAudio")


@gui("guiUndo")
def gui_undo(ctx: Context) -> Any:
    """Undo the last undoable change, as Edit > Undo does."""
    return ctx.gui.run("guiUndo")


@gui("guiDeckOverview")
def gui_deck_overview(ctx: Context, *, name: str) -> Any:
    """Show a deck's overview screen."""
    return ctx.gui.run("guiDeckOverview", name=name)


@gui("guiDeckBrowser")
def gui_deck_browser(ctx: Context) -> Any:
    """Show the deck list."""
    return ctx.gui.run("guiDeckBrowser")


@gui("guiDeckReview")
def gui_deck_review(ctx: Context, *, name: str) -> Any:
    """Start reviewing a deck."""
    return ctx.gui.run("guiDeckReview", name=name)


@gui("guiImportFile")
def gui_import_file(ctx: Context, *, path: str | None = None) -> Any:
    """Open Anki's import dialog for a file (or a file picker)."""
    return ctx.gui.run("guiImportFile", path=path)


@gui("guiExitAnki")
def gui_exit_anki(ctx: Context) -> Any:
    """Close Anki, as File > Exit does."""
    return ctx.gui.run("guiExitAnki")


@gui("guiCheckDatabase")
def gui_check_database(ctx: Context) -> Any:
    """Start Anki's Check Database."""
    return ctx.gui.run("guiCheckDatabase")


@gui("guiReviewActive")
def gui_review_active(ctx: Context) -> Any:
    """Whether a card is being reviewed right now."""
    return ctx.gui.run("guiReviewActive")
