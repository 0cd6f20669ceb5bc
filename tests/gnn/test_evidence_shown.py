"""With a model's summaries the store confirms only the evidence paths that can be shown (per
candidate the ``per_actor`` strongest, ``gnn.evidence_select``), however many the activity
shares with the actor; a path refused since training (revoked, or marked above the requester's
clearance) makes room for the next, and the result is the one confirming everything gives."""

from __future__ import annotations

from typing import Any

from actorgraph.gnn.dataset import ENTITY_TYPES, export_graph
from actorgraph.gnn.evidence import ENRICH_CONFIRM, evidence_paths
from actorgraph.gnn.evidence_index import EvidenceIndex
from actorgraph.graph.tlp import TLP
from tests.helpers.recording import RecordingStore

ACTOR = "intrusion-set--00000000-0000-4000-8000-0000000000a1"
MANY = 12
MALWARE = [f"malware--m{k:02d}" for k in range(MANY)]
NETS = [f"network:203.0.{k}.0/24" for k in range(MANY)]


def _rarity(entity: str) -> dict[str, Any]:
    """The lower the number in the id, the rarer. Through the campaign (0.9 of the weight) the
    malware come to 0.63, 0.621, 0.612, 0.603, 0.594, ...; the networks, as enrichment (0.6),
    to 0.6, 0.594, ...: the fifth strongest path is the first network's."""
    if entity.startswith("malware"):
        return {"weight": 0.7 - int(entity[-2:]) / 100, "actors_sharing": 1, "hub": None}
    return {"weight": 1.0 - int(entity.split(".")[1]) / 100, "actors_sharing": 1, "hub": None}


def _world(store) -> None:
    """Actor X's campaign used ``MANY`` malware, and has ``ENRICH_CONFIRM`` past indicators in
    each of ``MANY`` networks."""
    store.query(
        "CREATE (:ThreatActor {id: $a, name: 'X'})<-[:ATTRIBUTED_TO]-"
        "(c:Campaign {id: 'campaign--c1', name: 'C1'}) WITH c UNWIND range(0, $last) AS k "
        "CREATE (c)-[:USES]->(:Malware {id: $malware[k], name: $malware[k]}),"
        " (net:Infrastructure {id: $nets[k], name: $nets[k], kind: 'network'})"
        " WITH c, k, net UNWIND range(1, $past) AS j "
        "CREATE (i:Indicator {id: 'ipv4:203.0.' + toString(k) + '.' + toString(j),"
        " kind: 'ipv4'}), (i)-[:BELONGS_TO]->(net), (i)-[:INDICATES]->(c)",
        {"a": ACTOR, "last": MANY - 1, "malware": MALWARE, "nets": NETS, "past": ENRICH_CONFIRM},
    )


def _index(store, max_tlp: int) -> EvidenceIndex:
    snap = export_graph(store, max_tlp=max_tlp)
    ids = [n for t in ENTITY_TYPES for n in snap.nodes.get(t, [])]
    return EvidenceIndex(snap, {n: i for i, n in enumerate(ids)})


def _evidence(store, index: EvidenceIndex, per_actor: int, max_tlp: int = TLP.RED) -> list[str]:
    items = evidence_paths(
        store,
        [ACTOR],
        {m: m for m in MALWARE},
        _rarity,
        max_tlp=max_tlp,
        per_actor=per_actor,
        shortlist={ACTOR: [(m, "Malware") for m in MALWARE]},
        infra_ids=[],
        enriched={net: "ipv4:" + net[8:].replace("0/24", "99") for net in NETS},
        index=index,
    )
    return [e["entity"]["id"] for e in items]


def _rows_sent(params: dict[str, Any]) -> int:
    return sum(len(v) for v in params.values() if isinstance(v, list))


def test_only_what_can_be_shown_is_confirmed(store):
    _world(store)
    index = _index(store, TLP.RED)
    everything = _evidence(store, index, per_actor=2 * MANY)
    recording = RecordingStore(store)
    shown = _evidence(recording, index, per_actor=3)  # type: ignore[arg-type]
    assert shown == everything[:3] == MALWARE[:3]
    (sent,) = recording.sent  # one round-trip
    assert [r["x"] for r in sent["campaign_malware"]] == MALWARE[:3]
    assert "enrichment" not in sent  # no network is among the three strongest: none asked
    # Five shown: the fifth is the first network, whose past indicators alone are asked.
    recording = RecordingStore(store)
    shown = _evidence(recording, index, per_actor=5)  # type: ignore[arg-type]
    assert shown == everything[:5] == [*MALWARE[:4], NETS[0]]
    (sent,) = recording.sent
    assert {r["x"] for r in sent["enrichment"]} == {NETS[0]}
    assert _rows_sent(sent) == 4 + ENRICH_CONFIRM < MANY * (1 + ENRICH_CONFIRM)


def test_a_path_refused_since_training_makes_room_for_the_next(store):
    _world(store)
    index = _index(store, TLP.CLEAR)
    store.query("MATCH (m:Malware {id: $m}) SET m.revoked = true", {"m": MALWARE[0]})
    store.query(
        "MATCH (:Campaign)-[r:USES]->(:Malware {id: $m}) SET r.tlp_level = $red",
        {"m": MALWARE[1], "red": int(TLP.RED)},
    )
    everything = _evidence(store, index, per_actor=3 * MANY, max_tlp=TLP.CLEAR)
    recording = RecordingStore(store)
    shown = _evidence(recording, index, per_actor=3, max_tlp=TLP.CLEAR)  # type: ignore[arg-type]
    assert MALWARE[0] not in everything and MALWARE[1] not in everything
    assert shown == everything[:3] == [MALWARE[2], MALWARE[3], NETS[0]]
    assert len(recording.sent) == 2  # the refused two made room in a second round-trip
    # The red requester sees the re-marked path (the revoked malware stays hidden).
    assert MALWARE[1] in _evidence(store, index, per_actor=3, max_tlp=TLP.RED)
