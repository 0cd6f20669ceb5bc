"""Infrastructure habits (``gnn.habits``): how often, not only whether, an actor used a hub."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import (
    FEATURE_NAMES,
    EntitySpace,
    PairFeatures,
    feature_names,
    idf_weights,
)
from actorgraph.gnn.habits import HabitShare, habit_counts
from tests.helpers.profiles import space_and_profiles


def _snapshot() -> GraphSnapshot:
    """Actor A registered three domains at registrar X; actor B one at X and two at Y. Each
    domain resolves to an IP in AS 64500."""
    nodes: list[dict[str, Any]] = [
        {"id": "reg-x", "type": "infrastructure", "name": "X", "kind": "registrar"},
        {"id": "reg-y", "type": "infrastructure", "name": "Y", "kind": "registrar"},
        {"id": "as-1", "type": "infrastructure", "name": "AS64500", "kind": "asn"},
    ]
    edges: list[dict[str, Any]] = []
    for actor, registrars in (("a", ("reg-x",) * 3), ("b", ("reg-x", "reg-y", "reg-y"))):
        nodes.append({"id": actor, "type": "actor", "name": actor.upper()})
        for k, registrar in enumerate(registrars):
            domain, ip = f"d-{actor}{k}", f"ip-{actor}{k}"
            nodes += [
                {"id": domain, "type": "indicator", "kind": "domain", "value": f"{actor}{k}.com"},
                {"id": ip, "type": "indicator", "kind": "ipv4", "value": f"{actor}{k}"},
            ]
            edges += [
                {"src": actor, "rel": "USES", "dst": domain},
                {"src": domain, "rel": "REGISTERED_WITH", "dst": registrar},
                {"src": domain, "rel": "RESOLVES_TO", "dst": ip},
                {"src": ip, "rel": "HOSTED_ON", "dst": "as-1"},
            ]
    return GraphSnapshot.from_rows(nodes, edges)


def _space_and_profile() -> tuple[GraphSnapshot, EntitySpace, sp.csr_matrix]:
    snap = _snapshot()
    space, prof = space_and_profiles(snap)
    return snap, space, prof


def test_a_habit_counts_every_past_item_on_the_hub_one_or_two_edges_away() -> None:
    snap, space, prof = _space_and_profile()
    counts = habit_counts(space.families, prof).toarray()
    a, b = snap.index("actor")["a"], snap.index("actor")["b"]
    x, y, asn = (space.pos[n] for n in ("reg-x", "reg-y", "as-1"))
    assert counts[a, x] == 3 and counts[b, x] == 1 and counts[b, y] == 2 and counts[a, y] == 0
    # Domain -> IP -> AS: two edges away, once per past domain.
    assert counts[a, asn] == 3 and counts[b, asn] == 3


def test_the_share_of_a_hub_goes_to_the_actor_whose_habit_it_is() -> None:
    snap, space, prof = _space_and_profile()
    share = HabitShare(habit_counts(space.families, prof))
    q = np.array([space.pos["reg-x"]])
    a, b = snap.index("actor")["a"], snap.index("actor")["b"]
    row = share.row(q, np.ones(1))[0]
    np.testing.assert_allclose(row[[a, b]], [0.75, 0.25])
    # Batch and single-row paths agree.
    batch = sp.csr_matrix((np.ones(1), (np.zeros(1, int), q)), shape=(1, len(space)))
    np.testing.assert_allclose(share(batch)[0], row)


def test_the_scorer_reads_the_share_where_presence_cannot_tell_the_actors_apart() -> None:
    snap, space, prof = _space_and_profile()
    idf = idf_weights(space.expand(prof), space.hub)
    names = feature_names("full", lexical=False, relations=True)
    pf = PairFeatures(space, prof, idf, names=names)
    q = sp.csr_matrix(([1.0], ([0], [space.pos["reg-x"]])), shape=(1, len(space)))
    feats = pf(q)[0]
    one = pf.one(np.array([space.pos["reg-x"]]), np.ones(1))
    np.testing.assert_allclose(feats, one, rtol=1e-6)
    a, b = snap.index("actor")["a"], snap.index("actor")["b"]
    share = names.index("ctx_habit_share")
    # Both actors registered at X (their binary profiles hold it alike); the actor with three
    # domains there has three quarters of it.
    np.testing.assert_allclose(feats[[a, b], share], [0.75, 0.25], rtol=1e-6)


def test_the_habit_share_is_message_passing_a_model_without_the_graph_has_none() -> None:
    assert "ctx_habit_share" in FEATURE_NAMES
    for graph, present in (("full", True), ("only", True), ("none", False)):
        names = feature_names(graph, lexical=True, relations=True)
        assert ("ctx_habit_share" in names) is present
