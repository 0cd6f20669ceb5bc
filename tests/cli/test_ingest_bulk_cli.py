"""``actorgraph ingest --bulk`` builds an empty graph, and refuses one that holds anything."""

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


def test_bulk_loads_an_empty_graph_then_refuses(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(BUNDLE))
    out = json.loads(ag(home, "ingest", "--bulk", str(path), "--json").stdout)
    assert out["totals"]["nodes"] == {"Indicator": 2}
    assert out["reports"][0]["enriched"]["BELONGS_TO"] == 3
    stats = json.loads(ag(home, "stats", "--json").stdout)
    assert stats["nodes"] == {"Indicator": 2, "Infrastructure": 3}
    again = ag(home, "ingest", "--bulk", str(path), check=False)
    assert again.returncode == 2
    assert "the graph is not empty" in again.stderr
    assert json.loads(ag(home, "stats", "--json").stdout)["nodes"] == stats["nodes"]
