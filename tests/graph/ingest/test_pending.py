"""References to objects outside an input: kept pending, completed by a later input, counted.

Covers graph/ingest/pending.py and the unit resolution of ``ingest_paths``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actorgraph.graph.ingest import ingest_object, ingest_paths
from actorgraph.graph.ingest.pending import count_pending
from actorgraph.graph.tlp import TLP
from tests.helpers.stix import T0, bundle, sdo

ACTOR = sdo("intrusion-set", 1, name="Lonely Actor")
TOOL = sdo("tool", 2, name="Late Tool")
USES = sdo(
    "relationship", 3, relationship_type="uses", source_ref=ACTOR["id"], target_ref=TOOL["id"]
)
SECTOR = sdo("identity", 4, name="Banks", identity_class="class", sectors=["financial-services"])
TARGETS = sdo(
    "relationship", 5, relationship_type="targets", source_ref=ACTOR["id"], target_ref=SECTOR["id"]
)
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def edges(store, rel: str) -> list[tuple[str, str]]:
    rows = store.query(f"MATCH (a)-[r:{rel}]->(b) RETURN a.id AS a, b.id AS b ORDER BY a, b")
    return [(r["a"], r["b"]) for r in rows]


def adds_up(report: Any) -> bool:
    o = report.objects
    return o["in"] == o["landed"] + o["merged"] + o["pending"] + o["rejected"]


def test_dangling_reference_lands_the_rest_and_a_later_bundle_completes_it(store) -> None:
    first = ingest_object(store, bundle(ACTOR, USES), "first.json", max_tlp=TLP.RED)
    assert store.counts()["nodes"]["ThreatActor"] == 1
    assert edges(store, "USES") == []
    assert first.objects == {"in": 2, "landed": 1, "merged": 0, "pending": 1, "rejected": 0}
    assert first.pending == [{"object_id": USES["id"], "rel": "uses", "missing": TOOL["id"]}]
    assert count_pending(store) == 1

    second = ingest_object(store, bundle(TOOL), "second.json", max_tlp=TLP.RED)
    assert second.completed == 1
    assert edges(store, "USES") == [(ACTOR["id"], TOOL["id"])]
    assert count_pending(store) == 0
    stix_id = store.query("MATCH ()-[r:USES]->() RETURN r.stix_id AS s")[0]["s"]
    assert stix_id == USES["id"]  # the edge carries its relationship's provenance


def test_pending_records_are_never_visible_to_readers(store) -> None:
    ingest_object(store, bundle(ACTOR, USES), "first.json", max_tlp=TLP.RED)
    visible = store.query(
        "MATCH (n) WHERE coalesce(n.tlp_level, 0) <= $max_tlp RETURN count(n) AS c",
        {"max_tlp": int(TLP.RED)},
    )
    assert visible[0]["c"] == 1  # the actor only


def test_sending_the_same_dangling_bundle_twice_keeps_one_pending(store) -> None:
    ingest_object(store, bundle(ACTOR, USES), "a.json", max_tlp=TLP.RED)
    ingest_object(store, bundle(ACTOR, USES), "a.json", max_tlp=TLP.RED)
    assert count_pending(store) == 1


def test_files_given_together_resolve_whatever_their_order(store, tmp_path: Path) -> None:
    # a_companies.json sorts first and points at b_sectors.json, like OpenCTI's datasets.
    (tmp_path / "a_companies.json").write_text(json.dumps(bundle(ACTOR, TARGETS, USES)))
    (tmp_path / "b_sectors.json").write_text(json.dumps(bundle(SECTOR, TOOL)))
    reports = ingest_paths(store, [tmp_path], max_tlp=TLP.RED)
    assert [r.source for r in reports] == ["a_companies.json", "b_sectors.json"]
    assert edges(store, "TARGETS") == [(ACTOR["id"], "sector:financial-services")]
    assert edges(store, "USES") == [(ACTOR["id"], TOOL["id"])]
    companies, sectors = reports
    assert companies.pending == [] and companies.objects["pending"] == 0
    assert companies.objects == {"in": 3, "landed": 3, "merged": 0, "pending": 0, "rejected": 0}
    assert sectors.completed == 2
    assert all(adds_up(r) for r in reports)
    assert count_pending(store) == 0


def test_a_pending_reference_is_never_completed_above_its_senders_clearance(store) -> None:
    clear_actor = dict(ACTOR, object_marking_refs=[CLEAR])
    clear_uses = dict(USES, object_marking_refs=[CLEAR])
    ingest_object(store, bundle(clear_actor, clear_uses), "clear.json", max_tlp=TLP.CLEAR)
    red_tool = dict(TOOL, object_marking_refs=[RED])
    report = ingest_object(store, bundle(red_tool), "red.json", max_tlp=TLP.RED)
    # The clear sender could not see the red tool: no edge onto it, the reference waits.
    assert report.completed == 0
    assert edges(store, "USES") == []
    assert count_pending(store) == 1


def test_report_refs_and_indicator_relationships_complete_later(store) -> None:
    camp = sdo("campaign", 6, name="C")
    ind = sdo(
        "indicator",
        7,
        pattern="[ipv4-addr:value = '198.51.100.7']",
        pattern_type="stix",
        valid_from=T0,
    )
    indicates = sdo(
        "relationship",
        8,
        relationship_type="indicates",
        source_ref=ind["id"],
        target_ref=camp["id"],
    )
    report = sdo(
        "report", 9, name="R", published=T0, report_types=["x"], object_refs=[camp["id"], ind["id"]]
    )
    first = ingest_object(store, bundle(camp, indicates, report), "r.json", max_tlp=TLP.RED)
    assert first.objects["pending"] == 1 and len(first.pending) == 2
    second = ingest_object(store, bundle(ind), "i.json", max_tlp=TLP.RED)
    assert second.completed == 2
    assert edges(store, "INDICATES") == [("ipv4:198.51.100.7", camp["id"])]
    assert ("ipv4:198.51.100.7", report["id"]) in edges(store, "REPORTED_IN")
    assert count_pending(store) == 0


def test_a_lower_writer_cannot_lower_a_stricter_pending_reference(store) -> None:
    red_uses = dict(USES, object_marking_refs=[RED])
    ingest_object(store, bundle(ACTOR, red_uses), "red.json", max_tlp=TLP.RED)
    clear_uses = dict(USES, object_marking_refs=[CLEAR])
    ingest_object(store, bundle(ACTOR, clear_uses), "clear.json", max_tlp=TLP.CLEAR)
    ingest_object(store, bundle(TOOL), "tool.json", max_tlp=TLP.RED)
    rows = store.query("MATCH ()-[r:USES]->() RETURN r.tlp_level AS level, r.sources AS sources")
    assert rows == [{"level": int(TLP.RED), "sources": ["red.json"]}]
