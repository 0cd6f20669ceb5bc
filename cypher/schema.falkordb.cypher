// FalkorDB schema for actorgraph: one statement per line.
// Range index on `id` first (a unique constraint needs it), then GRAPH.CONSTRAINT (not Cypher).
// FalkorDB DDL is not idempotent: 'already indexed' errors are ignored by graph/schema.py's caller.
CREATE INDEX FOR (n:ThreatActor) ON (n.id)
CREATE INDEX FOR (n:Campaign) ON (n.id)
CREATE INDEX FOR (n:Indicator) ON (n.id)
CREATE INDEX FOR (n:Infrastructure) ON (n.id)
CREATE INDEX FOR (n:Malware) ON (n.id)
CREATE INDEX FOR (n:Tool) ON (n.id)
CREATE INDEX FOR (n:Technique) ON (n.id)
CREATE INDEX FOR (n:Country) ON (n.id)
CREATE INDEX FOR (n:Sector) ON (n.id)
CREATE INDEX FOR (n:Report) ON (n.id)
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE ThreatActor PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Campaign PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Indicator PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Infrastructure PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Malware PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Tool PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Technique PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Country PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Sector PROPERTIES 1 id
GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE Report PROPERTIES 1 id
CREATE INDEX FOR (n:Indicator) ON (n.value)
CREATE INDEX FOR (n:Indicator) ON (n.kind)
CREATE INDEX FOR (n:ThreatActor) ON (n.name_lc)
CREATE INDEX FOR (n:Malware) ON (n.name_lc)
CREATE INDEX FOR (n:Tool) ON (n.name_lc)
CREATE INDEX FOR (n:Technique) ON (n.external_id)
CREATE INDEX FOR (n:Campaign) ON (n.first_seen_epoch)
CREATE INDEX FOR (n:Campaign) ON (n.name)
CREATE INDEX FOR (n:ThreatActor) ON (n.country)
CREATE INDEX FOR (n:Infrastructure) ON (n.kind)
CREATE INDEX FOR (n:Infrastructure) ON (n.value)
CREATE INDEX FOR (n:Decision) ON (n.id)
CREATE INDEX FOR (n:PendingRelationship) ON (n.pending_id)
