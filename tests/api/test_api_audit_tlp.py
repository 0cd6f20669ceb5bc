"""GET /v1/audit by clearance: an admin key sees only the audit events marked at or below its
clearance, so the log tells it nothing about a red cluster, campaign or decision (docs/SECURITY.md);
events logged before events were marked read as red."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.graph.audit import audit_path
from tests.helpers.api_helpers import auth
from tests.helpers.api_world import C_RED, RED_ACTOR

RED_PAIR = ["campaign--audit-secret-red-1", "campaign--audit-secret-red-2"]
CLEAR_PAIR = ["campaign--audit-clear-1", "campaign--audit-clear-2"]
LATER_PAIR = ["campaign--audit-later-1", "campaign--audit-later-2"]
RED_NAME = "UNC-SECRET-RED-7"
CLEAR_NAME = "UNC-AUDIT-CLEAR-1"

# Each pair of unattributed campaigns shares one rare malware of its own marking.
PAIRS = """
UNWIND $pairs AS pair
CREATE (m:Malware {id: pair.malware, name: pair.malware, tlp: pair.tlp, tlp_level: pair.level})
WITH m, pair
UNWIND pair.campaigns AS cid
CREATE (c:Campaign {id: cid, name: cid, tlp: pair.tlp, tlp_level: pair.level})
       -[:USES {tlp: pair.tlp, tlp_level: pair.level}]->(m)
"""

# The audit log's table as it was before events were marked: no tlp_level column.
LEGACY_SCHEMA = """
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('intent', 'outcome', 'done')),
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    origin TEXT,
    result TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX records_event ON records (event);
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
INSERT INTO records (event, phase, at, who, action, target, origin, result, detail)
VALUES ('intrusion-set--legacy-secret', 'done', '2025-01-01T00:00:00.000000Z', 'key:old',
        'cluster.name', 'intrusion-set--legacy-secret', 'testclient', 'ok',
        '{"name": "UNC-SECRET-LEGACY"}');
"""


def _pair(campaigns: list[str], tlp: str, level: int) -> dict:
    return {
        "campaigns": campaigns,
        "malware": f"malware--{campaigns[0]}",
        "tlp": tlp,
        "level": level,
    }


@pytest.fixture(scope="module", autouse=True)
def pairs(world):
    pairs = [
        _pair(RED_PAIR, "red", 4),
        _pair(CLEAR_PAIR, "clear", 0),
        _pair(LATER_PAIR, "clear", 0),
    ]
    world.query(PAIRS, {"pairs": pairs})


@pytest.fixture(scope="module")
def admins(api_settings, keys) -> dict[str, str]:
    """Admin keys cleared for clear and for red (the shared ``keys`` hold only a red admin)."""
    store = KeyStore(api_settings.home / "keys.sqlite")
    return {
        tlp: store.create("admin", tlp=tlp, name=f"test-audit-admin-{tlp}")[1]
        for tlp in ("clear", "red")
    }


@pytest.fixture(scope="module")
def named(client, keys) -> dict[str, str]:
    """A red cluster named by a red analyst, a clear one by a clear analyst, and a red analyst's
    refused decision on a red campaign: actor ids by marking."""
    ids = {}
    for tlp, campaigns, name in (("red", RED_PAIR, RED_NAME), ("clear", CLEAR_PAIR, CLEAR_NAME)):
        body = {"campaigns": campaigns, "name": name, "reason": "same rare loader"}
        r = client.post("/v1/clusters", json=body, headers=auth(keys[f"analyst_{tlp}"]))
        assert r.status_code == 201, r.text
        ids[tlp] = r.json()["actor"]["id"]
    # C_RED is attributed by a source: the refusal says so, which only red may learn.
    refused = client.post(
        f"/v1/campaigns/{C_RED}/decisions",
        json={"decision": "attribute", "actor_id": RED_ACTOR, "reason": "red habits"},
        headers=auth(keys["analyst_red"]),
    )
    assert refused.status_code == 422, refused.text
    return ids


def _audit(client, key: str, action: str | None = None) -> list[dict]:
    params = {"limit": 10_000, **({"action": action} if action else {})}
    r = client.get("/v1/audit", params=params, headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _told(events: list[dict]) -> str:
    """What the events tell a reader, less what a clear key typed itself and was refused as
    missing (other modules sharing the log try red ids with clear keys: the id is their own
    input, and the answer is the one a missing campaign or actor gets)."""
    return json.dumps([e for e in events if not e["result"].startswith("refused: no ")])


def test_a_clear_admin_sees_no_red_cluster_name(client, admins, named):
    clear_events = _audit(client, admins["clear"], "cluster.name")
    text = json.dumps(clear_events)
    assert RED_NAME not in text and named["red"] not in text
    assert not any(cid in text for cid in RED_PAIR)
    # The log is the home's, shared by both backends' runs: other clear namings may be there.
    seen = [(e["target"], e["tlp"]) for e in clear_events]
    assert (named["clear"], "clear") in seen and {tlp for _, tlp in seen} == {"clear"}
    # The same key gets 404 on the red campaign the log must not name either.
    campaign = client.get(f"/v1/campaigns/{RED_PAIR[0]}", headers=auth(admins["clear"]))
    assert campaign.status_code == 404
    # The control: a red admin sees both namings, each with its marking.
    red_events = _audit(client, admins["red"], "cluster.name")
    assert {(e["target"], e["tlp"]) for e in red_events} >= {
        (named["red"], "red"),
        (named["clear"], "clear"),
    }


def test_a_clear_admin_sees_no_red_decision_or_refusal(client, admins, named):
    clear_events = _audit(client, admins["clear"], "decision")
    text = _told(clear_events)
    assert named["red"] not in text and C_RED not in text and RED_ACTOR not in text
    assert not any(cid in text for cid in RED_PAIR)
    # The log is shared with other modules' clear decisions: this one's are there, all clear.
    seen = {(e["target"], e["tlp"]) for e in clear_events}
    assert {(c, "clear") for c in CLEAR_PAIR} <= seen and {tlp for _, tlp in seen} == {"clear"}
    # The control: a red admin sees the red decisions and the refusal.
    red_text = json.dumps(_audit(client, admins["red"], "decision"))
    assert named["red"] in red_text and C_RED in red_text and RED_PAIR[0] in red_text


def test_every_event_a_clear_admin_sees_is_marked_clear(client, admins, named):
    everything = _audit(client, admins["clear"])
    text = _told(everything)
    assert named["red"] not in text and RED_NAME not in text and C_RED not in text
    assert everything and {e["tlp"] for e in everything} == {"clear"}
    assert "red" in {e["tlp"] for e in _audit(client, admins["red"])}


def test_an_audit_log_from_before_markings_reads_as_red(
    api_settings, world, keys, admins, tmp_path
):
    # A data directory whose audit log was written by the previous version.
    with closing(sqlite3.connect(audit_path(tmp_path))) as db:
        db.executescript(LEGACY_SCHEMA)
    store = KeyStore(tmp_path / "keys.sqlite")
    token = {
        name: store.create(role, tlp=tlp, name=f"test-legacy-{name}")[1]
        for name, role, tlp in (
            ("admin_clear", "admin", "clear"),
            ("admin_red", "admin", "red"),
            ("analyst_clear", "analyst", "clear"),
        )
    }
    settings = api_settings.model_copy(update={"home": tmp_path})
    with TestClient(create_app(settings, store=world, load_model=False)) as client:
        body = {"campaigns": LATER_PAIR, "name": "UNC-AUDIT-LATER", "reason": "same loader"}
        named = client.post("/v1/clusters", json=body, headers=auth(token["analyst_clear"]))
        assert named.status_code == 201, named.text
        red = _audit(client, token["admin_red"], "cluster.name")
        clear = _audit(client, token["admin_clear"], "cluster.name")
    later = named.json()["actor"]["id"]
    assert [e["target"] for e in clear] == [later]
    assert [(e["target"], e["tlp"]) for e in red] == [
        (later, "clear"),
        ("intrusion-set--legacy-secret", "red"),
    ]
    # The old records are kept as they were: the log stays append-only.
    legacy = closing(sqlite3.connect(audit_path(tmp_path)))
    with legacy as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE records SET tlp_level = 0")
