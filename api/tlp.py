"""TLP levels: names (1.0 and 2.0 spellings) to the integer order the graph stores as ``tlp_level``.

A key's clearance is one of these levels; every read path shows only objects whose
``coalesce(x.tlp_level, 0) <= clearance`` (a missing marking counts as clear).
"""

from __future__ import annotations

from actorgraph.graph.errors import ValidationError

TLP_LEVELS: dict[str, int] = {"clear": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}
TLP_NAMES: dict[int, str] = {level: name for name, level in TLP_LEVELS.items()}
MAX_LEVEL = TLP_LEVELS["red"]

# TLP 1.0 said "white" for what TLP 2.0 calls "clear".
_ALIASES = {"white": "clear", "tlp:white": "clear"}


def tlp_level(name: str) -> int:
    """Return the level (0..4) of a TLP name such as ``amber+strict`` or ``TLP:RED``.

    Raises:
        ValidationError: the name is not a TLP level.
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    key = key.removeprefix("tlp:")
    if key not in TLP_LEVELS:
        raise ValidationError(
            f"unknown TLP level {name!r}: expected one of {', '.join(TLP_LEVELS)}"
        )
    return TLP_LEVELS[key]


def tlp_name(level: int) -> str:
    """Return the TLP 2.0 name of a level (0..4)."""
    if level not in TLP_NAMES:
        raise ValidationError(f"unknown TLP level {level!r}: expected 0..{MAX_LEVEL}")
    return TLP_NAMES[level]


def cleared_for_everything(level: int) -> bool:
    """True when a clearance sees every object (needed for ad hoc Cypher)."""
    return level >= MAX_LEVEL
