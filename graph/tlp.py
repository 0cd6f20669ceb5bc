"""The Traffic Light Protocol, defined once: levels, names, parsing and the Cypher visibility test.

The graph stores a marking as ``tlp`` (the TLP 2.0 name) and ``tlp_level`` (this enum's value) on
nodes and relationships. A missing marking reads as ``clear``. A reader cleared for level ``n``
sees an element when ``coalesce(x.tlp_level, 0) <= n``; :func:`visible` writes that condition so
that no query spells it by hand, and the clearance always travels as the parameter ``$max_tlp``.

Library functions take the clearance as a keyword-only ``max_tlp`` with no default, so a caller
who forgets it gets a ``TypeError`` rather than everything; a caller who means "everything" says
``max_tlp=TLP.RED``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any, Literal, cast

from actorgraph.graph.errors import ValidationError

__all__ = ["NAMES", "PARAM", "SPELLINGS", "TLP", "Label", "marking", "visible", "visible_all"]

# The Cypher parameter every read path uses for the reader's clearance.
PARAM = "max_tlp"

Label = Literal["clear", "green", "amber", "amber+strict", "red"]
"""A TLP 2.0 name, as a type (what :attr:`TLP.label` gives)."""


class TLP(IntEnum):
    """TLP 2.0 levels in order of restriction (``TLP.RED`` is the most restricted)."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> Label:
        """The TLP 2.0 name: ``clear``, ``green``, ``amber``, ``amber+strict`` or ``red``."""
        return cast(Label, self.name.lower().replace("_", "+"))

    @classmethod
    def parse(cls, value: str | int | TLP) -> TLP:
        """A level from user text or a number: the one parser of CLI options, API fields and keys.

        Accepts the TLP 2.0 and 1.0 names in any case, with or without a ``TLP:`` prefix
        (``amber+strict``, ``TLP:RED``, ``white``), ``amber_strict``/``amber-strict``/
        ``amber strict``, a digit ``"0"``..``"4"``, an int 0..4 or a ``TLP``.

        Raises:
            ValidationError: the value is not a TLP level.
        """
        if isinstance(value, TLP):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if 0 <= value <= cls.RED:
                return cls(value)
            raise ValidationError(f"unknown TLP level {value!r}: expected 0..{int(cls.RED)}")
        found = cls.lookup(value)
        if found is None:
            raise ValidationError(
                f"unknown TLP level {value!r}: expected one of {', '.join(NAMES)} or 0..4"
            )
        return found

    @classmethod
    def lookup(cls, text: object) -> TLP | None:
        """Like :meth:`parse` for names found in data (``TLP:AMBER+STRICT``, ``tlp:white``,
        ``amber_strict``, a digit): None instead of an error when it is not a TLP name."""
        if isinstance(text, TLP):
            return text
        if text is None or isinstance(text, bool):
            return None
        key = str(text).strip().lower()
        key = key.removeprefix("tlp:").removeprefix("tlp ").strip()
        if key.isdigit() and len(key) == 1 and int(key) <= cls.RED:
            return cls(int(key))
        for separator in ("_", "-", " "):
            key = key.replace(separator, "+")
        return _BY_NAME.get(key)

    @classmethod
    def strictest(cls, values: Iterable[object]) -> TLP | None:
        """The most restrictive of several names or levels (an object marked green and amber is
        amber); None when none of them is a TLP level."""
        levels = [level for level in map(cls.lookup, values) if level is not None]
        return max(levels) if levels else None


_BY_NAME: dict[str, TLP] = {level.label: level for level in TLP}
_BY_NAME["white"] = TLP.CLEAR  # TLP 1.0 said "white" for what TLP 2.0 calls "clear".

NAMES: tuple[str, ...] = tuple(level.label for level in TLP)
"""The TLP 2.0 names, least restricted first."""

SPELLINGS: tuple[str, ...] = tuple(_BY_NAME)
"""Every bare name :meth:`TLP.lookup` knows: the TLP 2.0 names and TLP 1.0's ``white``."""


def marking(level: TLP | None) -> dict[str, Any]:
    """The properties that mark a node or relationship: ``{"tlp": name, "tlp_level": n}``.

    Returns ``{}`` for an unmarked element (which reads as clear). ``tlp_level`` is a plain
    int, as the stores expect.
    """
    if level is None:
        return {}
    return {"tlp": level.label, "tlp_level": int(level)}


def level_of(props: Mapping[str, Any]) -> int:
    """The TLP level of a stored node's or relationship's properties (``tlp_level``); an
    unmarked element reads as clear (0)."""
    return int(props.get("tlp_level") or 0)


def visible(variable: str, param: str = PARAM) -> str:
    """The Cypher condition under which ``variable`` (a node or relationship) is visible.

    ``variable`` is a Cypher identifier written by the caller's code, never user input;
    the clearance itself always travels as the parameter ``$max_tlp``.

    Raises:
        ValueError: ``variable`` or ``param`` is not an identifier.
    """
    for name, text in (("variable", variable), ("param", param)):
        if not text.isidentifier():
            raise ValueError(f"'{name}' (got {text!r}) must be a Cypher identifier")
    return f"coalesce({variable}.tlp_level, 0) <= ${param}"


def visible_all(*variables: str, param: str = PARAM) -> str:
    """:func:`visible` for several variables, joined with ``AND``."""
    if not variables:
        raise ValueError("'variables' (got none) must name at least one Cypher variable")
    return " AND ".join(visible(v, param) for v in variables)
