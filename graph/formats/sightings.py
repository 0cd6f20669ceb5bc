"""Sightings, kept per TLP level on what was sighted, and read within a clearance.

A STIX ``sighting`` carries its own marking, often stricter than the object it sights (a red
report that a clear indicator was seen 42 times). Its count and date are therefore stored per
TLP level of the sightings they come from, never as one total: ``sighting_counts[n]`` is the
number of times sightings marked at level ``n`` saw the object, ``sighting_last[n]`` the latest
of their dates (``""`` when none). A reader cleared for level ``n`` is shown the sum and the
latest date of levels ``0..n`` only (:func:`visible_sightings`), so a sighting above clearance
changes nothing a reader can see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actorgraph.graph.tlp import TLP

__all__ = ["STORED", "SightingTally", "visible_sightings"]

# The stored properties (lists indexed by TLP level). Generic property readers drop them and
# show :func:`visible_sightings` instead.
STORED = ("sighting_counts", "sighting_last")
# One total over every level, as graphs written before issue 18 stored it: it cannot be split by
# level, so no reader is shown it.
_TOTALS = ("sighting_count", "last_sighted")
_LEVELS = len(TLP)


@dataclass
class SightingTally:
    """The sightings of one object in one input, per TLP level."""

    counts: list[int] = field(default_factory=lambda: [0] * _LEVELS)
    last: list[str] = field(default_factory=lambda: [""] * _LEVELS)

    def add(self, level: TLP | None, count: int, seen: str | None) -> None:
        """Record one sighting marked ``level`` (None: unmarked, read as clear)."""
        n = int(level or TLP.CLEAR)
        self.counts[n] += count
        if seen and seen > self.last[n]:
            self.last[n] = seen

    def props(self) -> dict[str, Any]:
        """The node properties that store this tally."""
        return {"sighting_counts": list(self.counts), "sighting_last": list(self.last)}


def visible_sightings(props: dict[str, Any], max_tlp: int) -> dict[str, Any]:
    """``props`` without the per-level lists, with what a reader cleared for ``max_tlp`` sees.

    Adds ``sighting_count`` (the sum over levels ``0..max_tlp``) and ``last_sighted`` (the
    latest date among them) when that reader sees at least one sighting; otherwise neither, as
    for an object never sighted.
    """
    out = {k: v for k, v in props.items() if k not in STORED and k not in _TOTALS}
    upto = max(0, min(int(max_tlp), _LEVELS - 1)) + 1
    counts = [c for c in (props.get("sighting_counts") or [])[:upto] if isinstance(c, int)]
    dates = [d for d in (props.get("sighting_last") or [])[:upto] if isinstance(d, str) and d]
    if sum(counts) > 0:
        out["sighting_count"] = sum(counts)
    if dates:
        out["last_sighted"] = max(dates)
    return out
