"""A query's cost follows the activity, not the graph: the per-campaign features read at most
``max_postings`` campaigns per query entity (an entity held by more is left out of their dot
products), and a context edge spreads a match only from an entity with at most ``max_fanout``
edges of its relation. The one-row path (API) and the batch path (training, evaluation) give the
same numbers, bit for bit, on a graph exported from the store."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.features import (
    CONTEXT_MAX_FANOUT,
    FEATURE_NAMES,
    EntitySpace,
    PairFeatures,
    attribution_matrix,
    cluster_items,
    idf_weights,
    profiles,
)
from actorgraph.gnn.hubs import HubList
from actorgraph.graph.tlp import TLP
from tests.helpers.attribution_world import CDN_IP, build_world

X = 1  # actors are exported in id order: intrusion-set--W, X, Y, Z
CAMPAIGN_COLUMNS = [FEATURE_NAMES.index("campaign_cos"), FEATURE_NAMES.index("ctx_campaign_cos")]
# A query resembling actor X's first campaign: its own domain, two of X's techniques, and the
# CDN address and technique that every campaign below shares.
QUERY = [
    "domain:evil-x.example",
    "attack-pattern--T1010",
    "attack-pattern--T1011",
    CDN_IP,
    "attack-pattern--T1059",
]


def _features(
    store, postings: int, fanout: int = CONTEXT_MAX_FANOUT
) -> tuple[EntitySpace, PairFeatures]:
    """The space and features of the store's graph, actor X's row second."""
    snap = export_graph(store, max_tlp=TLP.RED)
    assert snap.index("actor")["intrusion-set--X"] == X
    space = EntitySpace.build(snap, HubList(), max_fanout=fanout)
    camps, attributed = cluster_items(snap, space, "campaign"), attribution_matrix(snap)
    prof = profiles(cluster_items(snap, space, "actor"), camps, attributed)
    idf = idf_weights(space.expand(prof), space.hub)
    return space, PairFeatures(space, prof, idf, camps, attributed, campaign_postings=postings)


def _add_hub_campaigns(store, n: int, start: int) -> None:
    """``n`` campaigns of actor Y that share with the query only the CDN address and T1059."""
    store.query(
        "MATCH (y:ThreatActor {id: 'intrusion-set--Y'}), (cdn:Indicator {id: $cdn}),"
        " (t:Technique {id: 'attack-pattern--T1059'}) UNWIND range($start, $stop) AS i "
        "CREATE (c:Campaign {id: 'campaign--hub' + toString(i), name: 'Hub ' + toString(i)}),"
        " (c)-[:ATTRIBUTED_TO]->(y), (cdn)-[:INDICATES]->(c), (c)-[:USES]->(t)",
        {"cdn": CDN_IP, "start": start, "stop": start + n - 1},
    )


def _row(space: EntitySpace, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.array(sorted(space.pos[i] for i in ids), dtype=np.int64)
    return idx, np.ones(len(idx))


def test_one_row_gives_exactly_the_batch_features_with_the_cap(store):
    build_world(store)
    _add_hub_campaigns(store, 6, 0)
    space, capped = _features(store, postings=3)
    _, uncapped = _features(store, postings=10_000)
    rng = np.random.default_rng(1)
    n = len(space)
    rows = [np.sort(rng.choice(n, size=k, replace=False)) for k in (1, 2, 4, 8, 12, n)]
    rows.append(_row(space, QUERY)[0])
    row_of = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    batch = sp.csr_matrix(
        (np.ones(sum(map(len, rows))), (row_of, np.concatenate(rows))), shape=(len(rows), n)
    )
    together = capped(batch)
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(capped.one(r, np.ones(len(r))), together[i])
    # The cap changed something (the CDN address and its ASN are held by 14 campaigns), and
    # only the per-campaign features.
    assert not np.array_equal(together, uncapped(batch))
    others = [c for c in range(together.shape[-1]) if c not in CAMPAIGN_COLUMNS]
    np.testing.assert_array_equal(together[..., others], uncapped(batch)[..., others])


def test_a_campaign_that_shares_only_common_entities_scores_zero(store):
    build_world(store)
    _add_hub_campaigns(store, 6, 0)
    space, capped = _features(store, postings=3)
    _, uncapped = _features(store, postings=10_000)
    hubs_only = _row(space, [CDN_IP, "attack-pattern--T1059"])
    assert capped.one(*hubs_only)[:, CAMPAIGN_COLUMNS].max() == 0.0
    assert uncapped.one(*hubs_only)[:, CAMPAIGN_COLUMNS].max() > 0.0


def test_campaigns_sharing_only_common_entities_add_nothing_to_read(store):
    build_world(store)
    cap = 8
    read, best = [], set()
    for added, start in ((20, 0), (60, 20)):
        _add_hub_campaigns(store, added, start)
        space, pf = _features(store, postings=cap)
        direct = _row(space, QUERY)
        context = space.expand_row(*direct)
        read.append(pf.campaigns.terms(direct[0], context[0]))
        feats = pf.one(*direct)
        best.update(int(np.argmax(feats[:, c])) for c in CAMPAIGN_COLUMNS)
        assert read[-1] <= cap * (len(direct[0]) + len(context[0]))
    # 20 or 80 campaigns behind the CDN: the same terms read, and X's campaign still the best.
    assert read[0] == read[1] > 0
    assert best == {X}


def _add_c2s(store, n: int, start: int) -> None:
    """``n`` more command-and-control domains of SunSpotX (X's rare malware)."""
    store.query(
        "MATCH (m:Malware {id: 'malware--sunspotx'}) UNWIND range($start, $stop) AS i "
        "CREATE (d:Indicator {id: 'domain:c2-' + toString(i) + '.example', kind: 'domain',"
        " value: 'c2-' + toString(i) + '.example'}), (m)-[:COMMUNICATES_WITH]->(d)",
        {"start": start, "stop": start + n - 1},
    )


def test_a_match_does_not_spread_through_a_relation_past_the_fanout_cap(store):
    build_world(store)
    fanout = 5
    reached = []
    for added, start in ((fanout, 0), (fanout + 1, 100), (50, 200)):
        _add_c2s(store, added, start)
        space, pf = _features(store, postings=3, fanout=fanout)
        query = _row(space, ["malware--sunspotx", "attack-pattern--T1010"])
        idx, _ = space.expand_row(*query)
        reached.append({space.ids[i] for i in idx})
        batch = sp.csr_matrix((query[1], query[0], [0, len(query[0])]), shape=(1, len(space)))
        np.testing.assert_array_equal(np.sort(space.expand(batch).indices), idx)
        np.testing.assert_array_equal(pf.one(*query), pf(sp.vstack([batch, batch]))[0])
    # Five C2 domains are reached; past five, none (the relation's edges of SunSpotX are
    # dropped), and 56 reach no more than 11.
    assert sum(i.startswith("domain:c2-") for i in reached[0]) == fanout
    assert reached[1] == reached[2] == reached[0] - {i for i in reached[0] if "c2-" in i}
