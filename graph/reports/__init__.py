"""Analyst products built from the graph: STIX export, briefings, takedown packages."""
