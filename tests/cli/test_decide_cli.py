"""``actorgraph decide`` and ``actorgraph audit`` through a real subprocess and store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorgraph.graph.audit import AuditLog, audit_path
from actorgraph.graph.tlp import TLP
from tests.helpers.cli import ag
from tests.helpers.paths import APT28_BUNDLE

CAMPAIGN = "campaign--activity-cli"
SETUP = """
CREATE (a:ThreatActor {id: 'intrusion-set--a', name: 'A'}),
       (b:ThreatActor {id: 'intrusion-set--b', name: 'B'}),
       (c:Campaign {id: 'campaign--activity-cli', name: 'stored', tlp: 'clear', tlp_level: 0}),
       (c)-[:PREDICTED_ACTOR {score: 0.8, rank: 1, model_version: 'v9', tlp_level: 0}]->(a)
"""


@pytest.fixture
def home(tmp_path: Path):
    h = tmp_path / "home"
    ag(h, "store", "start")
    ag(h, "cypher", SETUP, "--write")
    yield h
    ag(h, "store", "stop", check=False)


def test_decide_then_audit(home: Path):
    accepted = json.loads(
        ag(
            home,
            "decide",
            CAMPAIGN,
            "--accept",
            "--reason",
            "known loader",
            "--confidence",
            "65",
            "--json",
        ).stdout
    )
    assert (accepted["actor_id"], accepted["model_version"], accepted["model_rank"]) == (
        "intrusion-set--a",
        "v9",
        1,
    )
    assert accepted["confidence_scales"]["icd203"] == "Likely / Probable"
    text = ag(home, "decide", CAMPAIGN, "--attribute", "intrusion-set--b", "--reason", "re-read")
    assert "attribute intrusion-set--b" in text.stdout and "did not propose" in text.stdout
    refused = ag(home, "decide", "campaign--nope", "--reject", "--reason", "x", check=False)
    assert refused.returncode == 2 and "no campaign 'campaign--nope'" in refused.stderr
    events = json.loads(ag(home, "audit", "--json").stdout)
    assert [(e["action"], e["origin"], e["result"].split(":")[0]) for e in events] == [
        ("decision", "cli", "refused"),
        ("decision", "cli", "ok"),
        ("decision", "cli", "ok"),
    ]
    assert events[1]["who"].startswith("cli:") and events[1]["event"].startswith("decision--")
    attributed = json.loads(
        ag(
            home,
            "cypher",
            "MATCH (:Campaign)-[t:ATTRIBUTED_TO]->(a) RETURN a.id AS a, t.reason AS why",
            "--json",
        ).stdout
    )
    assert attributed == [{"a": "intrusion-set--b", "why": "re-read"}]


def test_keys_ingest_and_training_are_audited(home: Path):
    made = json.loads(
        ag(home, "keys", "create", "--role", "analyst", "--name", "ana", "--json").stdout
    )
    ag(home, "keys", "revoke", made["id"])
    refused = ag(home, "keys", "revoke", "no-such-key", check=False)
    ag(home, "ingest", str(APT28_BUNDLE))
    version = json.loads(ag(home, "train", "--epochs", "2", "--json").stdout)["version"]
    events = json.loads(ag(home, "audit", "--json").stdout)
    assert [(e["action"], e["target"], e["origin"]) for e in events] == [
        ("train", version, "cli"),
        ("ingest", str(APT28_BUNDLE), "cli"),
        ("key.revoke", "no-such-key", "cli"),
        ("key.revoke", made["id"], "cli"),
        ("key.create", made["id"], "cli"),
    ]
    assert refused.returncode == 2
    assert [e["result"].split(":")[0] for e in events] == ["ok", "ok", "error", "ok", "ok"]
    assert events[-1]["detail"] == {"role": "analyst", "tlp": "clear", "name": "ana"}
    assert ag(home, "audit", "--action", "key.create").stdout.count("key.create") == 1
    # Key events reveal no graph data: an admin of any clearance sees them; the rest reads red.
    seen_by_clear = AuditLog(audit_path(home)).events(max_tlp=TLP.CLEAR)
    assert sorted(e["action"] for e in seen_by_clear) == ["key.create", "key.revoke", "key.revoke"]
