"""``Attributor.persist`` stores an activity's new indicators (``gnn.persist``): with their
set-ups, at the requester's marking, never rewriting or revealing what is stored already.

Before, a stored activity was linked only to the entities it matched, so a decided campaign
taught the next training none of its new domains and addresses.
"""

from __future__ import annotations

from pathlib import Path

from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import activity_from_simple, activity_from_stix
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.audit import AuditLog
from actorgraph.graph.decisions import Decider, decide
from actorgraph.graph.tlp import TLP
from tests.helpers.attribution_world import attribution_world
from tests.helpers.graphs import FixtureGraph, node, write_graph

CONFIG = TrainConfig(seed=3, epochs=40, episodes=4, dim=16)
TRUTH = "intrusion-set--Z"
REGISTRAR = "infrastructure--0b5d6c0e-3c44-4f5e-9d0a-5e2f0c1a7e01"
FRESH = "domain:fresh-c2.example"
FRESH_IP = "ipv4:198.51.100.23"
RED_LATER = "domain:red-later.example"  # stored red after training: hidden from a clear requester
CLEAR_LATER = "domain:clear-later.example"  # stored clear after training, not in the model
WHEN = "2026-11-01T00:00:00.000Z"


def _world(store) -> None:
    world = attribution_world()
    extra = [
        node("Malware", "malware--novaq", name="NovaQ", aliases=["NovaQ"]),
        node("Infrastructure", REGISTRAR, kind="registrar", name="Registrar A"),
    ]
    write_graph(store, FixtureGraph([*world.nodes, *extra], world.rels))


def _bundle(*domains: str, name: str) -> dict:
    """An activity of NovaQ: the domains (the first resolving to a new address, registered with
    the known registrar)."""
    objects: list[dict] = [
        {"type": "campaign", "id": f"campaign--{'0' * 8}-0000-4000-8000-{'0' * 12}", "name": name},
        {
            "type": "malware",
            "id": "malware--11111111-1111-4111-8111-111111111111",
            "name": "NovaQ",
            "is_family": True,
        },
        {"type": "ipv4-addr", "id": _sco(99), "value": FRESH_IP.split(":", 1)[1]},
    ]
    for k, value in enumerate(domains):
        objects.append({"type": "domain-name", "id": _sco(k, "domain-name"), "value": value})
    objects += [
        _rel("resolves-to", _sco(0, "domain-name"), _sco(99), 0),
        _rel("registered-with", _sco(0, "domain-name"), REGISTRAR, 1),
    ]
    stamped = [{**o, "spec_version": "2.1", "created": WHEN, "modified": WHEN} for o in objects]
    return {
        "type": "bundle",
        "id": "bundle--22222222-2222-4222-8222-222222222222",
        "objects": stamped,
    }


def _sco(k: int, kind: str = "ipv4-addr") -> str:
    return f"{kind}--44444444-4444-4444-8444-{k:012d}"


def _rel(kind: str, src: str, dst: str, k: int) -> dict:
    return {
        "type": "relationship",
        "id": f"relationship--33333333-3333-4333-8333-33333333333{k}",
        "relationship_type": kind,
        "source_ref": src,
        "target_ref": dst,
    }


def _trained(store, models: Path, level: TLP = TLP.RED) -> Attributor:
    artefacts.save(train(export_graph(store, max_tlp=level), CONFIG), models)
    return Attributor.load(models, store, max_tlp=level)


def _attribute_to_truth(store, tmp_path: Path, campaign: str) -> None:
    """One analyst decision: the stored campaign is the true actor's."""
    decide(
        store,
        AuditLog(tmp_path / "audit.sqlite"),
        Decider(decided_by="analyst-test", key_id=None, max_tlp=TLP.RED, origin="test"),
        campaign_id=campaign,
        decision="attribute",
        actor_id=TRUTH,
        reason="analyst review",
        confidence=70,
    )


def _stored_clear(store, node_id: str) -> dict:
    """The properties of a node ``persist`` wrote for a ``clear`` requester."""
    props = _node(store, node_id)
    assert props is not None
    assert (props["tlp"], props["tlp_level"], props["sources"]) == (
        "clear",
        0,
        ["actorgraph-attribution"],
    )
    return props


def _node(store, node_id: str) -> dict | None:
    rows = store.query("MATCH (n {id: $id}) RETURN properties(n) AS p", {"id": node_id})
    return rows[0]["p"] if rows else None


def _links(store, node_id: str) -> set[tuple[str, str]]:
    rows = store.query(
        "MATCH (n {id: $id})-[r]->(m) RETURN type(r) AS t, m.id AS other", {"id": node_id}
    )
    return {(r["t"], r["other"]) for r in rows}


def test_new_indicators_are_stored_with_their_setups_at_the_requesters_marking(
    backend_store, tmp_path
):
    store = backend_store  # the write rules are each engine's Cypher: both backends
    _world(store)
    before = _trained(store, tmp_path / "models", TLP.CLEAR)
    write_graph(
        store,
        FixtureGraph(
            [
                node("Indicator", RED_LATER, kind="domain", value="red-later.example", tlp=TLP.RED),
                node(
                    "Indicator",
                    CLEAR_LATER,
                    kind="domain",
                    value="clear-later.example",
                    created="2020-01-01T00:00:00.000Z",
                ),
            ],
            [],
        ),
    )
    red_before, clear_before = _node(store, RED_LATER), _node(store, CLEAR_LATER)
    act = activity_from_stix(
        _bundle(FRESH.split(":", 1)[1], "red-later.example", "clear-later.example", name="op")
    )
    cid = before.persist(act, before.attribute(act, max_tlp=TLP.CLEAR), max_tlp=TLP.CLEAR)

    _stored_clear(store, FRESH)
    links = _links(store, FRESH)
    assert {("INDICATES", cid), ("RESOLVES_TO", FRESH_IP), ("REGISTERED_WITH", REGISTRAR)} <= links
    assert ("INDICATES", cid) in _links(store, FRESH_IP)
    # Offline enrichment, as ingest writes it: the new address's /24.
    assert ("BELONGS_TO", "network:198.51.100.0/24") in _links(store, FRESH_IP)
    # Stored already: linked when visible, never rewritten; hidden: untouched and unlinked.
    assert _node(store, CLEAR_LATER) == clear_before
    assert ("INDICATES", cid) in _links(store, CLEAR_LATER)
    assert _node(store, RED_LATER) == red_before
    assert _links(store, RED_LATER) == set()


def test_a_decided_campaigns_new_domain_teaches_the_next_training(store, tmp_path):
    _world(store)
    models = tmp_path / "models"
    before = _trained(store, models)
    first = activity_from_stix(_bundle("fresh-c2.example", name="nova 1"))
    # The next activity shares only the first one's new domain with anything.
    following = activity_from_stix(_bundle("fresh-c2.example", "other.example", name="nova 2"))
    ranks = {c.actor_id: c.rank for c in before.attribute(following, max_tlp=TLP.RED).candidates}
    assert ranks.get(TRUTH, 99) > 1

    result = before.attribute(first, max_tlp=TLP.RED, top_k=4)
    campaign = before.persist(first, result, max_tlp=TLP.RED)
    assert FRESH in export_graph(store, max_tlp=TLP.RED).props  # stored, not yet anyone's
    # The control: stored but undecided, the domain is nobody's (hypotheses are no labels).
    undecided = _trained(store, models).attribute(following, max_tlp=TLP.RED)
    assert {c.actor_id: c.rank for c in undecided.candidates}.get(TRUTH, 99) > 1
    _attribute_to_truth(store, tmp_path, campaign)
    after = _trained(store, models)
    linked = after.attribute(following, max_tlp=TLP.RED, top_k=4)
    assert linked.candidates[0].actor_id == TRUTH
    assert FRESH in {ev.entity.id for ev in linked.evidence if ev.actor_id == TRUTH}


FOO = "malware--66666666-6666-4666-8666-666666666666"
NAME_SERVER = "infrastructure--77777777-7777-4777-8777-777777777777"


def _with_new_objects(bundle: dict) -> dict:
    """``bundle`` with a family and a name server the graph has never held, the first domain
    using that name server."""
    new = [
        {
            "type": "malware",
            "id": FOO,
            "name": "FooRAT",
            "aliases": ["FooLoader"],
            "is_family": True,
        },
        {"type": "infrastructure", "id": NAME_SERVER, "name": "ns1.foo-dns.example"},
        _rel("uses-name-server", _sco(0, "domain-name"), NAME_SERVER, 5),
    ]
    stamped = [{**o, "spec_version": "2.1", "created": WHEN, "modified": WHEN} for o in new]
    return {**bundle, "objects": [*bundle["objects"], *stamped]}


def test_new_software_and_infrastructure_are_stored_and_known_ones_not_duplicated(
    backend_store, tmp_path
):
    store = backend_store
    _world(store)
    before = _trained(store, tmp_path / "models", TLP.CLEAR)
    act = activity_from_stix(_with_new_objects(_bundle("fresh-c2.example", name="foo 1")))
    cid = before.persist(act, before.attribute(act, max_tlp=TLP.CLEAR), max_tlp=TLP.CLEAR)

    assert _stored_clear(store, FOO)["name"] == "FooRAT"
    assert _node(store, NAME_SERVER) is not None
    assert ("USES_NAMESERVER", NAME_SERVER) in _links(store, FRESH)
    uses = {other for t, other in _links(store, cid) if t == "USES"}
    # NovaQ's object has a new id but a known name: it is the known family, not a new node.
    assert {FOO, NAME_SERVER, "malware--novaq"} <= uses
    assert _node(store, "malware--11111111-1111-4111-8111-111111111111") is None


def test_a_decided_campaigns_new_family_teaches_the_next_training(store, tmp_path):
    _world(store)
    models = tmp_path / "models"
    before = _trained(store, models)
    first = activity_from_stix(_with_new_objects(_bundle("fresh-c2.example", name="foo 1")))
    # The next activity names only the new family, by an alias.
    following = activity_from_simple({"malware": ["FooLoader"]})
    campaign = before.persist(first, before.attribute(first, max_tlp=TLP.RED), max_tlp=TLP.RED)
    undecided = _trained(store, models).attribute(following, max_tlp=TLP.RED)
    assert undecided.model.matched == 1  # stored, but nobody's until decided
    assert {c.actor_id: c.rank for c in undecided.candidates}.get(TRUTH, 99) > 1
    _attribute_to_truth(store, tmp_path, campaign)
    linked = _trained(store, models).attribute(following, max_tlp=TLP.RED, top_k=4)
    assert linked.candidates[0].actor_id == TRUTH
    assert FOO in {ev.entity.id for ev in linked.evidence if ev.actor_id == TRUTH}


def test_a_family_the_simple_form_names_is_stored_once_and_teaches_the_next_training(
    store, tmp_path
):
    _world(store)
    models = tmp_path / "models"
    before = _trained(store, models)
    # Known names and references make no node: NovaQ is the known family, S9999 a reference.
    first = activity_from_simple(
        {"indicators": ["fresh-c2.example"], "malware": ["QuuxRAT", "NovaQ", "S9999"]}
    )
    campaign = before.persist(first, before.attribute(first, max_tlp=TLP.RED), max_tlp=TLP.RED)
    stored = store.query(
        "MATCH (:Campaign {id: $c})-[:USES]->(m:Malware) RETURN m.id AS id, m.name AS name",
        {"c": campaign},
    )
    assert sorted(r["name"] for r in stored) == ["NovaQ", "QuuxRAT"]
    quux = next(r["id"] for r in stored if r["name"] == "QuuxRAT")
    # The same name in another case, persisted again, is the same node.
    again = activity_from_simple({"malware": ["quuxrat"], "indicators": ["other-c2.example"]})
    assert list(again.objects["Malware"]) == [quux]
    following = activity_from_simple({"malware": ["quuxrat"]})
    undecided = _trained(store, models).attribute(following, max_tlp=TLP.RED)
    assert {c.actor_id: c.rank for c in undecided.candidates}.get(TRUTH, 99) > 1
    _attribute_to_truth(store, tmp_path, campaign)
    linked = _trained(store, models).attribute(following, max_tlp=TLP.RED, top_k=4)
    assert linked.candidates[0].actor_id == TRUTH
    assert quux in {ev.entity.id for ev in linked.evidence if ev.actor_id == TRUTH}
