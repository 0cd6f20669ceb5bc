"""An actor's assessed origin as a reader of one clearance sees it: the one Cypher expression.

An origin comes from two kinds of data with different markings:

- a relationship (STIX ``located-at`` / ``originates-from``), stored as an ``ORIGINATES_FROM``
  edge with the relationship's own marking and no ``country_source``;
- the actor's own data (its STIX object's ``x_actorgraph_country``, its MISP galaxy cluster, or
  a country derived from its own aliases or description), stored as the actor's ``country`` and
  ``country_source`` properties, marked as the actor is, with an ``ORIGINATES_FROM`` edge that
  says the same.

So the country is never read from the actor's ``country`` property alone: a reader gets, in this
order, the country of a *visible* stated relationship (``country_source`` ``stix``), else the
actor's own country, else the country of any visible ``ORIGINATES_FROM`` edge. A relationship
above the reader's clearance changes nothing the reader sees. The query files of
``cypher/queries`` spell the same expression out (they cannot import it); the library's lint
refuses a query that reads ``x.country`` anywhere but inside ``origin("x")``.
"""

from __future__ import annotations

from actorgraph.graph.tlp import visible_all

__all__ = ["origin", "origins"]


def origin(actor: str) -> str:
    """A Cypher expression: the map ``{code, source}`` of ``actor``'s origin, or null.

    Where the reader sees two stated origins (or, with neither a stated origin nor the actor's
    own, two origin edges), the one with the smaller code: the engines list a node's
    relationships in different orders, and the answer must not depend on which engine, or on
    the order the edges were written (``origins`` lists every claim).

    Args:
        actor: the Cypher variable of a ``ThreatActor`` (code, never user input). The
            expression uses the reader's ``$max_tlp`` and introduces only variables named after
            ``actor`` (``<actor>_of``, ``<actor>_oc``, ``<actor>_ox``, ``<actor>_oy``,
            ``<actor>_ow``), so it cannot capture a variable of the query around it.

    Raises:
        ValueError: ``actor`` is not a Cypher identifier.
    """
    if not actor.isidentifier():
        raise ValueError(f"'actor' (got {actor!r}) must be a Cypher identifier")
    rel, country, x, y, w = (f"{actor}_{s}" for s in ("of", "oc", "ox", "oy", "ow"))
    edges = (
        f"[({actor})-[{rel}:ORIGINATES_FROM]->({country}:Country) "
        f"WHERE {visible_all(rel, country)} "
        f"| {{code: {country}.code, source: {rel}.country_source}}]"
    )
    stated = f"[{w} IN {edges} WHERE {w}.source IS NULL | {{code: {w}.code, source: 'stix'}}]"

    def least(claims: str) -> str:  # the claim with the smallest code; null when none has one
        return (
            f"reduce({x} = null, {y} IN {claims} | CASE WHEN {y}.code IS NOT NULL AND "
            f"({x} IS NULL OR {y}.code < {x}.code) THEN {y} ELSE {x} END)"
        )

    own = (
        f"CASE WHEN {actor}.country IS NOT NULL THEN "
        f"{{code: {actor}.country, source: {actor}.country_source}} END"
    )
    return f"coalesce({least(stated)}, {own}, {least(edges)})"


def origins(actor: str) -> str:
    """A Cypher expression: every visible origin claim of ``actor``, one map per country
    (``{code, source, sources, confidence}``; ``source`` is ``stix`` for a stated relationship).

    Sources that disagree (ATT&CK's text, MISP's galaxy, a report) each keep their own
    ``ORIGINATES_FROM`` edge, so more than one entry is a conflict a reader should see. Variables:
    ``<actor>_os`` and ``<actor>_oz`` only.

    Raises:
        ValueError: ``actor`` is not a Cypher identifier.
    """
    if not actor.isidentifier():
        raise ValueError(f"'actor' (got {actor!r}) must be a Cypher identifier")
    rel, country = f"{actor}_os", f"{actor}_oz"
    return (
        f"[({actor})-[{rel}:ORIGINATES_FROM]->({country}:Country) "
        f"WHERE {visible_all(rel, country)} "
        f"| {{code: {country}.code, source: coalesce({rel}.country_source, 'stix'), "
        f"sources: {rel}.sources, confidence: {rel}.confidence}}]"
    )
