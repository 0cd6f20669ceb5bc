"""Offline enrichment of indicator values (networks, AS organisations, registrable domains),
the same for ingest and for the activity being attributed. No network access: the data come
from installed packages (``geoip2fast``, ``publicsuffixlist``)."""

from actorgraph.graph.enrich.facts import KINDS, PREFIX, REL, Fact, facts

__all__ = ["KINDS", "PREFIX", "REL", "Fact", "facts"]
