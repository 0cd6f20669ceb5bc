"""The ingest report as ``actorgraph ingest`` prints it: the objects add up, each one not landed
is named (actorgraph/commands/ingest.py)."""

from __future__ import annotations

import json

from actorgraph.commands.ingest import _as_json, _as_text
from actorgraph.graph.ingest import ingest_paths
from actorgraph.graph.tlp import TLP
from tests.helpers.paths import FIXTURES

EMAIL = FIXTURES / "real" / "oasis-stix21" / "malicious-email-indicator-with-attachment.json"
DANGLING = FIXTURES / "stix" / "dangling_ref.json"


def test_text_and_json_account_for_every_object(store) -> None:
    reports = ingest_paths(store, [EMAIL, DANGLING], max_tlp=TLP.RED)
    text = _as_text(reports)
    assert "objects: 6 in = 2 landed + 0 merged + 0 pending + 4 rejected" in text
    assert "indicator--8cf9236f-1b96-493d-98be-0c1c1e8b62d7: pattern names no value" in text
    assert "email-message:subject MATCHES" in text
    assert "objects: 2 in = 1 landed + 0 merged + 1 pending + 0 rejected" in text
    assert "relationship--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d uses -> malware--deadbeef" in text
    out = json.loads(json.dumps(_as_json(reports, None)))
    assert out["totals"]["objects"] == {
        "in": 8,
        "landed": 3,
        "merged": 0,
        "pending": 1,
        "rejected": 4,
    }
    [email, dangling] = out["reports"]
    assert len(email["objects_rejected"]) == 4
    assert dangling["pending"][0]["missing"] == "malware--deadbeef-0000-4000-8000-000000000000"
