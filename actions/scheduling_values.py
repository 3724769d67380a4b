"""Card values set by hand: ease factors and setSpecificValueOfCard's raw card fields.

Values are checked against the type of the card field they go to before anything is written, and every write
is one ``update_cards`` operation: undoable, and marked modified (usn -1, mod now) for the next sync.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .context import Context
from .errors import ActionError, InvalidParams
from .registry import Registry
from .scheduling import as_integer, card_rows, get_card

if TYPE_CHECKING:
    from anki.cards import Card
    from anki.collection import Collection

__all__ = ["PROTECTED_KEYS", "SETTABLE", "registry"]

registry = Registry("scheduling")
action = registry.action

PROTECTED_KEYS = frozenset(
    {"did", "id", "ivl", "lapses", "left", "mod", "nid", "odid", "odue", "ord", "queue", "reps", "type", "usn"}
)
"""Keys setSpecificValueOfCard changes only with ``warning_check``: they can break a card or the collection."""


@dataclass(frozen=True, slots=True)
class _Kind:
    """What one card field holds, after the backend card message field it is saved to."""

    name: str
    low: int = 0
    high: int = 0
    nullable: bool = False

    def check(self, key: str, value: Any) -> Any:
        """The value to store, or an ActionError naming the key."""
        if value is None and self.nullable:
            return None
        if self.name == "string":
            if isinstance(value, str):
                return value
        elif self.name == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        else:
            number = _integer(value)
            if number is not None:
                if not self.low <= number <= self.high:
                    raise ActionError(f"{key} must be between {self.low} and {self.high}, not {number}")
                return number
        article = "an" if self.name == "integer" else "a"
        accepted = f"{article} {self.name}" + (" or null" if self.nullable else "")
        raise ActionError(f"{key} must be {accepted}, not {json.dumps(value)}")


def _integer(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # Digit strings too: the README's own example sends ["1", "-100"].
    return as_integer(value)


_I32 = _Kind("integer", -(2**31), 2**31 - 1)
_U32 = _Kind("integer", 0, 2**32 - 1)
_I64 = _Kind("integer", -(2**63), 2**63 - 1)

SETTABLE: dict[str, _Kind] = {
    "did": _I64,
    "due": _I32,
    "factor": _U32,
    "flags": _U32,
    "ivl": _U32,
    "lapses": _U32,
    "left": _U32,
    "nid": _I64,
    "odid": _I64,
    "odue": _I32,
    "ord": _U32,
    "queue": _I32,
    "reps": _U32,
    "type": _U32,
    "original_position": _Kind("integer", 0, 2**32 - 1, nullable=True),
    "last_review_time": _Kind("integer", -(2**63), 2**63 - 1, nullable=True),
    "custom_data": _Kind("string"),
    "desired_retention": _Kind("number", nullable=True),
    "decay": _Kind("number", nullable=True),
}
"""Card attributes that can be set, with the range of the backend field each is saved to (anki cards.proto)."""

_FIXED = {
    "id": "id identifies the card and cannot be changed",
    "mod": "mod is set by Anki to the time of every change",
    "usn": "usn is set by Anki on every change (-1: to be synced)",
}
"""Accepted by upstream and then silently overwritten (mod, usn) or written over another card (id)."""


@action("getEaseFactors")
def get_ease_factors(ctx: Context, *, cards: list[int]) -> list[int | None]:
    """Each card's ease factor in permille (2500 = 250 %); null where a card does not exist."""
    factors = card_rows(ctx.col, cards, "factor")
    return [factors[cid][0] if cid in factors else None for cid in cards]


@action("setEaseFactors")
def set_ease_factors(ctx: Context, *, cards: list[int], easeFactors: list[int]) -> list[bool]:
    """Set each card's ease factor (permille); false where a card does not exist."""
    if len(easeFactors) != len(cards):
        # Upstream fails half-way with IndexError when the list is short and ignores extra values.
        raise InvalidParams(f"easeFactors must have one value per card: {len(cards)} cards, {len(easeFactors)} values")
    for index, factor in enumerate(easeFactors):
        if not _U32.low <= factor <= _U32.high:
            raise InvalidParams(f"easeFactors[{index}] must be between 0 and {_U32.high} (permille), not {factor}")
    col = ctx.col
    existing = card_rows(col, cards, "id")
    changed: dict[int, Card] = {}
    for card_id, factor in zip(cards, easeFactors, strict=True):
        if card_id in existing:
            if card_id not in changed:  # a card listed twice gets its last factor
                changed[card_id] = get_card(col, card_id)
            changed[card_id].factor = factor
    if changed:
        col.update_cards(list(changed.values()))  # one undo step; upstream skipped the undo entry
    return [card_id in existing for card_id in cards]


@action("setSpecificValueOfCard")
def set_specific_value_of_card(
    ctx: Context, *, card: Any, keys: Any, newValues: Any, warning_check: bool = False
) -> Any:
    """Set raw fields of one card (some need ``warning_check``); one ``true`` or ``[false, reason]`` per key."""
    # Upstream's plain-false cases, in its order.
    if isinstance(card, list) or not isinstance(keys, list) or not isinstance(newValues, list):
        return False
    if len(keys) != len(newValues):
        return False
    if not warning_check and any(key in PROTECTED_KEYS for key in keys if isinstance(key, str)):
        return False
    if not keys:
        return []
    # All keys are applied in one update or none is, so every entry reports the same outcome. Upstream answers
    # a one-element list whatever the number of keys (D12); one entry per key is what its README shows.
    try:
        _update_card(ctx.col, card, keys, newValues)
    except ActionError as exc:
        return [[False, exc.message] for _ in keys]
    return [True for _ in keys]


def _update_card(col: Collection, card_id: Any, keys: list[Any], values: list[Any]) -> None:
    from anki.errors import AnkiException

    number = _integer(card_id)
    if number is None:
        raise ActionError(f"card must be a card id, not {json.dumps(card_id)}")
    card = get_card(col, number)
    for key, value in zip(keys, values, strict=True):
        kind = SETTABLE.get(key) if isinstance(key, str) else None  # keys may be any JSON value
        if kind is None:
            reason = _FIXED.get(key) if isinstance(key, str) else None
            raise ActionError(reason or f"card has no value named {json.dumps(key)}")
        setattr(card, key, kind.check(key, value))
    try:
        col.update_card(card)
    except (AnkiException, ValueError, TypeError) as exc:  # the backend's own checks (queue, custom data...)
        raise ActionError(str(exc) or type(exc).__name__) from exc
