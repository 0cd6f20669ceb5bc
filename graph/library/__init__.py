"""Research Cypher: the documented query library and the guard for ad hoc queries."""
