"""Analyst products built from the graph: STIX export, briefings, takedown packages.

``selection`` finds an actor and picks what a product covers (within clearance), ``export``
writes a selection as a STIX bundle, ``attribution_stix`` writes an attribution result as STIX,
``briefing`` and ``takedown`` build on the same selection helpers.
"""
