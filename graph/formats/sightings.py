"""Sightings, kept per TLP level on what was sighted, and read within a clearance.

A STIX ``sighting`` carries its own marking, often stricter than the object it sights (a red
report that a clear indicator was seen 42 times). Its count and date are therefore stored per
TLP level of the sightings they come from, never as one total: ``sighting_counts[n]`` is the
number of times sightings marked at level ``n`` saw the object, ``sighting_last[n]`` the latest
of their dates (``""`` when none). A reader cleared for level ``n`` is shown the sum and the
latest date of levels ``0..n`` only (:func:`visible_sightings`), so a sighting above clearance
changes nothing a reader can see.

Each sighting counts once, whatever input brings it: ``sighting_ids`` lists the STIX ids of the
sightings already tallied on a node, and :data:`SIGHTINGS_MERGE` adds to the stored counts only
the sightings not in it (a feed that sends the same sighting again, or a bundle ingested twice,
changes nothing; a new sighting in a later input adds to the earlier ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.tlp import TLP, visible

__all__ = ["RECORDS", "STORED", "SightingTally", "sightings_query", "visible_sightings"]

# The stored properties (lists indexed by TLP level). Generic property readers drop them and
# show :func:`visible_sightings` instead.
STORED = ("sighting_counts", "sighting_last", "sighting_ids")
# The key of a node row holding the sightings it tallies one by one, for SIGHTINGS_MERGE; the
# writer takes it out of the node's properties.
RECORDS = "sightings"
# One total over every level, which a graph written by an older version may still hold: it
# cannot be split by level, so no reader is shown it.
_TOTALS = ("sighting_count", "last_sighted")
_LEVELS = len(TLP)


@dataclass
class SightingTally:
    """The sightings of one object in one input, per TLP level."""

    counts: list[int] = field(default_factory=lambda: [0] * _LEVELS)
    last: list[str] = field(default_factory=lambda: [""] * _LEVELS)
    records: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, level: TLP | None, count: int, seen: str | None, sighting_id: str | None = None
    ) -> None:
        """Record one sighting marked ``level`` (None: unmarked, read as clear); one whose
        ``sighting_id`` was already recorded adds nothing."""
        if sighting_id is not None and any(r["sid"] == sighting_id for r in self.records):
            return
        n = int(level or TLP.CLEAR)
        self.counts[n] += count
        if seen and seen > self.last[n]:
            self.last[n] = seen
        if sighting_id is not None:
            self.records.append(
                {"sid": sighting_id, "level": n, "count": count, "last": seen or ""}
            )

    def props(self) -> dict[str, Any]:
        """The node properties of this tally, and the sightings it adds up (:data:`RECORDS`)."""
        out: dict[str, Any] = {
            "sighting_counts": list(self.counts),
            "sighting_last": list(self.last),
        }
        if self.records:
            out[RECORDS] = [dict(r) for r in self.records]
        return out


# Adds to a stored node the sightings of row.sightings it has not tallied yet. The WHERE comes
# before the SET (a WHERE after a SET can skip its writes on FalkorDB 4), and the new sightings
# are chosen in the WITH, from the stored sighting_ids before any of them is written.
SIGHTINGS_MERGE = """UNWIND $rows AS row
MATCH (n:{label} {{id: row.id}})
WITH n, row, [s IN row.sightings WHERE NOT s.sid IN coalesce(n.sighting_ids, [])] AS fresh
WHERE {visible_n} AND size(fresh) > 0
SET n.sighting_counts = [i IN range(0, {top}) | coalesce(n.sighting_counts[i], 0) +
        reduce(c = 0, s IN fresh | c + CASE WHEN s.level = i THEN s.count ELSE 0 END)],
    n.sighting_last = [i IN range(0, {top}) | reduce(m = coalesce(n.sighting_last[i], ''),
        s IN fresh | CASE WHEN s.level = i AND s.last > m THEN s.last ELSE m END)],
    n.sighting_ids = coalesce(n.sighting_ids, []) + [s IN fresh | s.sid]"""


def sightings_query(label: str) -> str:
    """The statement that adds new sightings to nodes of ``label`` (checked against the schema
    whitelist); its rows are ``{"id": node id, "sightings": [records]}``."""
    return SIGHTINGS_MERGE.format(label=quote_label(label), visible_n=visible("n"), top=_LEVELS - 1)


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
