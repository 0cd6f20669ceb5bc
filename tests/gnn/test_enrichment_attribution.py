"""A never-seen indicator counts through offline enrichment (graph/enrich): an actor whose past
C2 addresses sat in one /24 is ranked first for new activity from another address of that /24,
and the evidence names the enrichment; without enrichment, or from an unrelated /24, it is not."""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.commands.attribute import format_result
from actorgraph.gnn import evidence as evidence_module
from actorgraph.gnn.activity import EntityLookup, activity_from_simple, link
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP
from tests.helpers.stix import bundle, sdo

CONFIG = TrainConfig(seed=3, epochs=40, episodes=4, dim=16)
# Each actor's C2 servers live in one /24 of its own; techniques overlap between actors.
NETS = {"A": "100.64.9", "B": "192.0.2", "C": "203.0.113", "D": "198.51.100"}
TECHS = ["T1071", "T1059", "T1105", "T1566", "T1027", "T1204"]
SECRET = "campaign--00000000-0000-4000-8000-000000000332"  # one of D's campaigns, marked red


def _world() -> dict[str, Any]:
    objects: list[dict[str, Any]] = []
    techs = {}
    for k, t in enumerate(TECHS):
        ref = {"source_name": "mitre-attack", "external_id": t}
        techs[t] = sdo("attack-pattern", 900 + k, name=t, external_references=[ref])
    objects += techs.values()
    n = 0
    for i, (actor, net) in enumerate(NETS.items()):
        a = sdo("intrusion-set", 100 + i, name=f"Actor {actor}")
        objects.append(a)
        for c in range(3):
            camp = sdo("campaign", 300 + 10 * i + c, name=f"Op {actor}{c}")
            if camp["id"] == SECRET:
                camp["object_marking_refs"] = [TLP2_IDS["red"]]
            mark = {k: v for k, v in camp.items() if k == "object_marking_refs"}
            objects.append(camp)
            objects.append(_rel(n := n + 1, "attributed-to", camp, a, **mark))
            for t in (TECHS[(i + c) % len(TECHS)], TECHS[(i + c + 1) % len(TECHS)]):
                objects.append(_rel(n := n + 1, "uses", camp, techs[t], **mark))
            for host in (10 + 2 * c, 11 + 2 * c):
                pattern = f"[ipv4-addr:value = '{net}.{host}']"
                ind = sdo(
                    "indicator",
                    500 + n,
                    pattern=pattern,
                    pattern_type="stix",
                    valid_from="2024-01-01T00:00:00Z",
                    **mark,
                )
                objects.append(ind)
                objects.append(_rel(n := n + 1, "indicates", ind, camp, **mark))
    return bundle(*objects)


def _rel(n: int, verb: str, src: dict[str, Any], dst: dict[str, Any], **extra: Any):
    ends = {"relationship_type": verb, "source_ref": src["id"], "target_ref": dst["id"]}
    return sdo("relationship", 700 + n, **ends, **extra)


def _attributor(store, *, enrich: bool, max_tlp: TLP = TLP.RED) -> Attributor:
    ingest_object(store, _world(), "world", max_tlp=TLP.RED, enrich=enrich)
    return Attributor(train(export_graph(store, max_tlp=max_tlp), CONFIG), store)


NEW_IP = {"indicators": ["198[.]51[.]100[.]77"]}  # never seen; in actor D's /24


@pytest.fixture
def enriched(store) -> Attributor:
    return _attributor(store, enrich=True)


def test_a_new_ip_in_the_actor_s_network_ranks_it_first(enriched: Attributor) -> None:
    res = enriched.attribute(activity_from_simple(NEW_IP), max_tlp=TLP.RED, top_k=4)
    assert res.model.matched == 0 and res.model.unmatched == 1
    assert res.model.via_enrichment == 1
    assert res.candidates[0].name == "Actor D", res.to_dict()
    assert res.candidates[0].score > 2 * res.candidates[1].score
    (ev,) = [e for e in res.evidence if e.kind == "enrichment"]
    assert ev.actor_id == res.candidates[0].actor_id
    assert ev.entity.id == "network:198.51.100.0/24" and ev.input == "ipv4:198.51.100.77"
    assert ev.path == (
        "new IP 198.51.100.77",
        "-BELONGS_TO->",
        "network 198.51.100.0/24",
        "<-BELONGS_TO-",
        "6 of the actor's past indicators",
        "-INDICATES->",
        "ThreatActor:Actor D",
    )
    assert res.to_dict()["model"]["via_enrichment"] == 1


def test_an_ip_in_an_unrelated_network_gets_no_such_signal(enriched: Attributor) -> None:
    new = enriched.attribute(activity_from_simple(NEW_IP), max_tlp=TLP.RED, top_k=4)
    other = enriched.attribute(
        activity_from_simple({"indicators": ["198.18.0.77"]}), max_tlp=TLP.RED, top_k=4
    )
    assert other.model.via_enrichment == 0 and other.evidence == ()
    d = {c.name: c.score for c in other.candidates}["Actor D"]
    assert d < new.candidates[0].score / 2
    assert max(c.score for c in other.candidates) - min(c.score for c in other.candidates) < 0.1


def test_linking_without_enrichment_reaches_nothing(enriched: Attributor) -> None:
    act = activity_from_simple(NEW_IP)
    assert link(act, enriched.lookup).via_enrichment == {
        "network:198.51.100.0/24": "ipv4:198.51.100.77"
    }
    assert link(act, enriched.lookup, enrich=False).via_enrichment == {}


def test_a_graph_ingested_without_enrichment_does_not_know_the_network(store) -> None:
    plain = _attributor(store, enrich=False)
    res = plain.attribute(activity_from_simple(NEW_IP), max_tlp=TLP.RED, top_k=4)
    assert res.model.via_enrichment == 0 and res.evidence == ()
    assert max(c.score for c in res.candidates) - min(c.score for c in res.candidates) < 0.1
    lookup: EntityLookup = plain.lookup
    assert not any(e.startswith("network:") for e in lookup.ids)


def test_the_evidence_counts_only_what_the_requester_may_see(store) -> None:
    # D's third campaign and its two indicators are red: a model trained on the clear graph,
    # answering a clear requester, counts 4 past indicators, not 6.
    clear = _attributor(store, enrich=True, max_tlp=TLP.CLEAR)
    res = clear.attribute(activity_from_simple(NEW_IP), max_tlp=TLP.CLEAR, top_k=4)
    assert res.candidates[0].name == "Actor D"
    (ev,) = [e for e in res.evidence if e.kind == "enrichment"]
    assert ev.path[4] == "4 of the actor's past indicators"


def test_a_network_past_the_evidence_cap_is_named_as_a_skipped_hub(
    enriched: Attributor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The actor's network holds 6 past indicators: under a cap of 3 it is a hub to evidence.
    monkeypatch.setattr(evidence_module, "ENRICH_MAX_MEMBERS", 3)
    res = enriched.attribute(activity_from_simple(NEW_IP), max_tlp=TLP.RED, top_k=4)
    assert res.candidates[0].name == "Actor D"  # the ranking is the model's, not the evidence's
    assert [e for e in res.evidence if e.kind == "enrichment"] == []
    (hub,) = res.hubs_skipped
    assert hub.id == "network:198.51.100.0/24" and "3" in hub.reason
    assert res.to_dict()["hubs_skipped"] == [{"id": hub.id, "name": hub.name, "reason": hub.reason}]
    assert AttributionResult.from_dict(res.to_dict()) == res
    assert f"{hub.name}: {hub.reason}" in format_result(res)
