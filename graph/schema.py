"""Labels, relationship types and the schema DDL of each backend.

The DDL lives as data in ``cypher/schema.cypher`` (Neo4j 5) and ``cypher/schema.falkordb.cypher``
(FalkorDB, whose uniqueness constraints are a server command, not Cypher). Label and type names are
whitelisted here because Cypher cannot take them as parameters: code that puts a label into a
query string checks it with ``label()`` / ``rel_type()`` first. TLP levels live in
``actorgraph.graph.tlp``.
"""

from __future__ import annotations

from typing import Literal

from actorgraph.cypher import CYPHER_DIR
from actorgraph.graph.errors import ValidationError

LABELS: tuple[str, ...] = (
    "ThreatActor",
    "Campaign",
    "Indicator",
    "Infrastructure",
    "Malware",
    "Tool",
    "Technique",
    "Country",
    "Sector",
    "Report",
    # An analyst's decision on a campaign's attribution (graph/decisions.py); not model input.
    "Decision",
)

# Infrastructure kinds of the graph model (cypher/README.md): the `kind` of an
# Infrastructure node; a STIX object may name one in ``x_actorgraph_kind``.
INFRA_KINDS: tuple[str, ...] = (
    "asn",
    "hosting_provider",
    "registrar",
    "name_server",
    "certificate",
    "c2_server",
    "bulletproof_hoster",
    "cdn",
    "sinkhole",
    "vps",
    "other",
    # Written by offline enrichment (graph/enrich): an IP's /24 or /48, the AS organisation
    # announcing it, a name's registrable domain under the Public Suffix List.
    "network",
    "as_org",
    "registrable_domain",
)

REL_TYPES: tuple[str, ...] = (
    "ATTRIBUTED_TO",
    "PREDICTED_ACTOR",
    "USES",
    "INDICATES",
    "RESOLVES_TO",
    "HOSTED_ON",
    "REGISTERED_WITH",
    "USES_NAMESERVER",
    "PRESENTS_CERT",
    "COMMUNICATES_WITH",
    "TARGETS",
    "ORIGINATES_FROM",
    "SUBTECHNIQUE_OF",
    "REPORTED_IN",
    "VARIANT_OF",
    "CONSISTS_OF",
    "RELATED_TO",
    "BELONGS_TO",
    "DECIDES",
)


def label(name: str) -> str:
    """Return ``name`` backtick-quoted if it is a known label, else raise ValidationError."""
    if name not in LABELS:
        raise ValidationError(f"unknown label {name!r}; expected one of {', '.join(LABELS)}")
    return f"`{name}`"


def rel_type(name: str) -> str:
    """Return ``name`` backtick-quoted if it is a known relationship type."""
    if name not in REL_TYPES:
        raise ValidationError(f"unknown relationship type {name!r}")
    return f"`{name}`"


def _statements(filename: str) -> list[str]:
    text = (CYPHER_DIR / filename).read_text()
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("//"):
            out.append(line.rstrip(";"))
    return out


def neo4j_statements() -> list[str]:
    """The Neo4j 5 DDL (constraints and indexes, all IF NOT EXISTS)."""
    return _statements("schema.cypher")


# One FalkorDB DDL statement: Cypher text, or the arguments of a server command.
FalkorStatement = tuple[Literal["cypher"], str] | tuple[Literal["command"], list[str]]


def falkordb_statements(graph: str) -> list[FalkorStatement]:
    """FalkorDB DDL as ("cypher", text) or ("command", args) for GRAPH.CONSTRAINT lines."""
    out: list[FalkorStatement] = []
    for stmt in _statements("schema.falkordb.cypher"):
        if stmt.startswith("GRAPH."):
            out.append(("command", stmt.replace("{graph}", graph).split()))
        else:
            out.append(("cypher", stmt))
    return out
