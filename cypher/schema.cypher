// Neo4j 5 schema for actorgraph: one statement per line, all idempotent.
// Every node is unique by `id`; extra indexes serve lookups by value and name.
CREATE CONSTRAINT threatactor_id IF NOT EXISTS FOR (n:ThreatActor) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT campaign_id IF NOT EXISTS FOR (n:Campaign) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT indicator_id IF NOT EXISTS FOR (n:Indicator) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT infrastructure_id IF NOT EXISTS FOR (n:Infrastructure) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT malware_id IF NOT EXISTS FOR (n:Malware) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT tool_id IF NOT EXISTS FOR (n:Tool) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT technique_id IF NOT EXISTS FOR (n:Technique) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT country_id IF NOT EXISTS FOR (n:Country) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT sector_id IF NOT EXISTS FOR (n:Sector) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT report_id IF NOT EXISTS FOR (n:Report) REQUIRE n.id IS UNIQUE;
CREATE INDEX indicator_value IF NOT EXISTS FOR (n:Indicator) ON (n.value);
CREATE INDEX indicator_kind IF NOT EXISTS FOR (n:Indicator) ON (n.kind);
CREATE INDEX threatactor_name_lc IF NOT EXISTS FOR (n:ThreatActor) ON (n.name_lc);
CREATE INDEX malware_name_lc IF NOT EXISTS FOR (n:Malware) ON (n.name_lc);
CREATE INDEX tool_name_lc IF NOT EXISTS FOR (n:Tool) ON (n.name_lc);
CREATE INDEX technique_external_id IF NOT EXISTS FOR (n:Technique) ON (n.external_id);
CREATE INDEX campaign_first_seen_epoch IF NOT EXISTS FOR (n:Campaign) ON (n.first_seen_epoch);
CREATE INDEX campaign_name IF NOT EXISTS FOR (n:Campaign) ON (n.name);
CREATE INDEX threatactor_country IF NOT EXISTS FOR (n:ThreatActor) ON (n.country);
CREATE INDEX infrastructure_kind IF NOT EXISTS FOR (n:Infrastructure) ON (n.kind);
CREATE INDEX infrastructure_value IF NOT EXISTS FOR (n:Infrastructure) ON (n.value);
CREATE INDEX decision_id IF NOT EXISTS FOR (n:Decision) ON (n.id);
// Ingest bookkeeping (graph/ingest/pending.py): each pending reference is merged and deleted by key.
CREATE INDEX pendingrelationship_pending_id IF NOT EXISTS FOR (n:PendingRelationship) ON (n.pending_id);
