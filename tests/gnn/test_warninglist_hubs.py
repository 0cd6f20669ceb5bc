"""Warninglisted values are hubs: damped in the ranking, with the list's name as the reason."""

from __future__ import annotations

import numpy as np

from actorgraph.gnn.baselines import TfidfContextBaseline
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import EntitySpace
from actorgraph.gnn.hubs import HUB_WEIGHT, HubList

DNS = "List of known IPv4 public DNS resolvers"
GOOGLE_DNS = "ipv4:8.8.8.8"
RARE_IP = "ipv4:198.51.100.77"  # documentation space: flagged (RFC 5735), never damped


def _ip(node_id: str) -> dict[str, str]:
    return {"id": node_id, "type": "indicator", "kind": "ipv4", "value": node_id.split(":", 1)[1]}


# The "resolver" actor shares only 8.8.8.8 with the activity; the "rare" actor shares a rare
# address but uses three more things, so without damping its profile looks less like the query.
NODES = [
    {"id": "resolver", "type": "actor", "name": "Resolver Group"},
    {"id": "rare", "type": "actor", "name": "Rare Group"},
    _ip(GOOGLE_DNS),
    _ip(RARE_IP),
    {"id": "m1", "type": "malware", "name": "One"},
    {"id": "m2", "type": "malware", "name": "Two"},
    {"id": "m3", "type": "malware", "name": "Three"},
]
EDGES = [
    {"src": GOOGLE_DNS, "rel": "INDICATES", "dst": "resolver"},
    {"src": RARE_IP, "rel": "INDICATES", "dst": "rare"},
    {"src": "rare", "rel": "USES", "dst": "m1"},
    {"src": "rare", "rel": "USES", "dst": "m2"},
    {"src": "rare", "rel": "USES", "dst": "m3"},
]


def _ranking(hubs: HubList) -> list[str]:
    snap = GraphSnapshot.from_rows(NODES, EDGES)
    space = EntitySpace.build(snap, hubs)
    scores = TfidfContextBaseline(snap, space).scores([space.pos[GOOGLE_DNS], space.pos[RARE_IP]])
    actors = snap.nodes["actor"]
    return [actors[i] for i in np.argsort(-scores, kind="stable")]


def test_google_dns_is_a_hub_named_after_its_warninglist():
    hubs = HubList.load()
    props = _ip(GOOGLE_DNS)
    assert hubs.reason(GOOGLE_DNS, props) == DNS
    assert hubs.weight(GOOGLE_DNS, props) == HUB_WEIGHT
    # Listed only as reserved space: flagged at ingest, not damped.
    assert hubs.reason(RARE_IP, _ip(RARE_IP)) is None
    assert HubList().reason(GOOGLE_DNS, props) is None  # an empty list knows no warninglist


def test_an_actor_sharing_only_google_dns_does_not_win_over_a_rare_ip():
    assert _ranking(HubList())[0] == "resolver"  # undamped, the resolver looks like the query
    assert _ranking(HubList.load())[0] == "rare"


def test_the_space_carries_the_reason_evidence_shows():
    snap = GraphSnapshot.from_rows(NODES, EDGES)
    space = EntitySpace.build(snap, HubList.load())
    assert space.hub_reason[space.pos[GOOGLE_DNS]] == DNS
    assert space.hub[space.pos[GOOGLE_DNS]] == HUB_WEIGHT
    assert space.pos[RARE_IP] not in space.hub_reason
