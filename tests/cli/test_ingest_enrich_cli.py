"""``actorgraph ingest`` enriches indicators by default; ``--no-enrich`` writes no enrichment."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import ag
from tests.helpers.stix import bundle, sdo

BUNDLE = bundle(
    sdo(
        "indicator",
        1,
        pattern="[ipv4-addr:value = '8.8.8.8'] OR [domain-name:value = 'mail.example.co.uk']",
        pattern_type="stix",
        valid_from="2024-01-01T00:00:00Z",
    )
)
ENRICHED = (
    "MATCH (:Indicator)-[r:BELONGS_TO]->(n:Infrastructure) "
    "RETURN n.id AS id, r.sources AS sources ORDER BY id"
)


def test_ingest_enriches_unless_told_not_to(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(BUNDLE))
    out = json.loads(ag(home, "ingest", str(path), "--no-enrich", "--json").stdout)
    assert out["reports"][0]["enriched"] == {}
    assert json.loads(ag(home, "cypher", ENRICHED, "--json").stdout) == []
    out = json.loads(ag(home, "ingest", str(path), "--json").stdout)
    assert out["reports"][0]["enriched"]["BELONGS_TO"] == 3
    rows = json.loads(ag(home, "cypher", ENRICHED, "--json").stdout)
    assert [r["id"] for r in rows] == [
        "as_org:google",
        "network:8.8.8.0/24",
        "registrable_domain:example.co.uk",
    ]
    assert all(r["sources"][0].startswith("enrichment:") for r in rows)
    assert "enrichment" in ag(home, "ingest", str(path)).stdout
