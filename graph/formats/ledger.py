"""What became of every object of one input: the account an ingest report gives.

Each object a reader is handed ends in exactly one of four outcomes, so the counts always add
up (``in = landed + merged + pending + rejected``):

- **landed**: it made a node, a relationship or a property of one (a TLP marking applied to the
  objects it marks, an identity named as their source, a sighting tallied);
- **merged**: everything it made was already made by another object of the same input (a second
  version of an object, a second indicator of the same value, a second identity of one sector);
- **pending**: a relationship whose other end is neither in the input nor visible in the store;
  it is kept as a pending reference (graph/ingest/pending.py) that a later input completes;
- **rejected**: nothing of it was kept (revoked, a type the graph model has no place for, an
  indicator none of whose values is valid), each with its reason.

An object with several outcomes (a relationship with one new and one known edge) counts once, by
the first of the order above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("landed", "merged", "pending", "rejected")
_RANK = {name: rank for rank, name in enumerate(OUTCOMES)}


@dataclass(frozen=True)
class PendingRef:
    """A reference from a kept object to one neither in its input nor visible in the store.

    Attributes:
        object_id: the object holding the reference (a relationship, a report).
        rel: the STIX ``relationship_type``, or the reference property of an embedded reference
            (``object_refs``, ``resolves_to_refs``, ``belongs_to_refs``).
        src_ref: the STIX id of the source end.
        dst_ref: the STIX id of the target end.
        missing: the end that was not found (``src_ref`` or ``dst_ref``'s value).
        props: the properties the relationship will carry (provenance, marking, times).
    """

    object_id: str
    rel: str
    src_ref: str
    dst_ref: str
    missing: str
    props: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, str]:
        return {"object_id": self.object_id, "rel": self.rel, "missing": self.missing}


@dataclass
class ObjectLedger:
    """The outcome of every object of one input, with the reason of each one not landed."""

    outcomes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    duplicates: int = 0  # further copies of an id already counted: merged into it

    def note(self, object_id: str, stix_type: str, outcome: str, reason: str | None = None) -> None:
        """Record an outcome of ``object_id``; the better of two outcomes stands.

        Raises:
            ValueError: ``outcome`` is not one of ``OUTCOMES``.
        """
        if outcome not in _RANK:
            raise ValueError(f"'outcome' (got {outcome!r}) must be one of {OUTCOMES}")
        old = self.outcomes.get(object_id)
        if old is None or _RANK[outcome] < _RANK[old[1]]:
            self.outcomes[object_id] = (stix_type, outcome, reason)

    def counts(self) -> dict[str, int]:
        """``{"in": n, "landed": .., "merged": .., "pending": .., "rejected": ..}``."""
        out = dict.fromkeys(OUTCOMES, 0)
        for _, outcome, _ in self.outcomes.values():
            out[outcome] += 1
        out["merged"] += self.duplicates
        return {"in": len(self.outcomes) + self.duplicates, **out}

    def noted(self) -> list[dict[str, str]]:
        """The objects kept (landed or merged) with a reason, in input order: what was kept
        otherwise than it came (stored red for a marking no definition resolves)."""
        return [
            {"object_id": oid, "type": stix_type, "reason": reason}
            for oid, (stix_type, got, reason) in self.outcomes.items()
            if got in ("landed", "merged") and reason
        ]

    def named(self, outcome: str) -> list[dict[str, str]]:
        """The objects of one outcome with their type and reason, in input order."""
        return [
            {"object_id": oid, "type": stix_type, "reason": reason or outcome}
            for oid, (stix_type, got, reason) in self.outcomes.items()
            if got == outcome
        ]
