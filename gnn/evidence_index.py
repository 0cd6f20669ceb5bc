"""Actor-infrastructure summaries of a model's snapshot: which of an actor's past indicators sit
on a shared host or in a network, which of its campaigns use an entity and which an indicator
indicates, as index arrays.

Built once when a model is loaded (``gnn.attribute.Attributor``), from the snapshot the model
was trained on. That snapshot holds only what the model's clearance may see and no revoked
node (``gnn.dataset``), and a model answers only requesters cleared for at least its level: a
summary never names anything the requester may not see. Evidence look-ups then ask the store
only about the concrete nodes a summary names (index look-ups, ``gnn.evidence``), to confirm
each path is still there, visible at the requester's clearance and not revoked since training;
no look-up walks a node's neighbourhood, so its cost does not grow with the graph.

What each answer costs is bounded by the caps of ``gnn.evidence``: a shared host with more
in-links than ``INFRA_MAX_FANOUT`` or a network with more members than ``ENRICH_MAX_MEMBERS``
is reported as a hub before anything behind it is read, and at most ``INFRA_PER_VIA``
indicators are followed back from any other host.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.sparse_rows import row, row_positions

# Relationships that make up shared hosting (a domain resolving to an IP, an IP hosted on an
# ASN): the hops of the infrastructure path.
HOSTING_RELS = ("RESOLVES_TO", "HOSTED_ON")
# Node types that take part in hosting and enrichment paths.
HOSTING_TYPES = ("indicator", "infrastructure")
# Entity types reached from a campaign by ``USES`` / ``TARGETS``.
CAMPAIGN_RELS = ("USES", "TARGETS")


@dataclass(frozen=True)
class HostingHit:
    """One shared host ``via`` reached from an activity's indicator ``entity``: the host's
    actors among the candidates, each with the indicators (at most 3, by id) to confirm the
    path with, and how many indicators were followed back from the host; or, with ``hub``, a
    host past the fan-out cap, not followed."""

    entity: str
    via: str
    via_type: str
    followed: int
    past: dict[str, list[str]]
    hub: bool = False


class EvidenceIndex:
    """Index arrays over one snapshot (see the module docstring).

    Args:
        snap: the snapshot a model was trained on.
        entity_pos: entity id -> position in the model's entity space (``EntitySpace.pos``).
    """

    def __init__(self, snap: GraphSnapshot, entity_pos: dict[str, int]) -> None:
        self.snap = snap
        self.entity_pos = entity_pos
        self.actors = snap.nodes.get("actor", [])
        self.actor_pos = snap.index("actor")
        self.campaigns = snap.nodes.get("campaign", [])
        indicators = snap.nodes.get("indicator", [])
        self.n_indicators = len(indicators)
        # Hosting nodes: indicators first, then infrastructure.
        self.hosts = [*indicators, *snap.nodes.get("infrastructure", [])]
        n_hosts, n_actors = len(self.hosts), len(self.actors)
        self.host_pos = {nid: i for i, nid in enumerate(self.hosts)}
        offset = {"indicator": 0, "infrastructure": self.n_indicators}
        src: list[np.ndarray] = []
        dst: list[np.ndarray] = []
        for (st, rel, dt), ei in snap.edges.items():
            if rel in HOSTING_RELS and st in offset and dt in offset:
                src.append(ei[0] + offset[st])
                dst.append(ei[1] + offset[dt])
        self.hosting_out = _binary(_cat(src), _cat(dst), (n_hosts, n_hosts))
        self.hosting_in = self.hosting_out.T.tocsr()
        # Enrichment node (as a hosting node) -> its member indicators (BELONGS_TO).
        ei = snap.pairs("indicator", "BELONGS_TO", "infrastructure")
        self.members = _binary(ei[1] + self.n_indicators, ei[0], (n_hosts, self.n_indicators))
        # Indicator -> actors: through an attributed campaign, or indicating the actor itself.
        ind_camp = snap.pairs("indicator", "INDICATES", "campaign")
        camp_actor = snap.pairs("campaign", "ATTRIBUTED_TO", "actor")
        n_camps = len(self.campaigns)
        a = _binary(ind_camp[0], ind_camp[1], (self.n_indicators, n_camps))
        b = _binary(camp_actor[0], camp_actor[1], (n_camps, n_actors))
        self.via_campaign = _nonzero(a @ b)
        direct = snap.pairs("indicator", "INDICATES", "actor")
        self.indicates = _binary(direct[0], direct[1], (self.n_indicators, n_actors))
        self.via_any = _nonzero(self.via_campaign + self.indicates)
        self._pair_campaigns(camp_actor)
        self._indicator_campaigns(ind_camp, b)
        self._direct_uses()

    def _pair_campaigns(self, camp_actor: np.ndarray) -> None:
        """Sorted keys ``actor * E + entity`` -> campaign, for each campaign that uses or
        targets an entity and is attributed to an actor."""
        n_ent = len(self.entity_pos)
        actors_of = _binary(camp_actor[0], camp_actor[1], (len(self.campaigns), len(self.actors)))
        keys: list[np.ndarray] = []
        camps: list[np.ndarray] = []
        for (st, rel, dt), ei in self.snap.edges.items():
            if st != "campaign" or rel not in CAMPAIGN_RELS or dt in ("actor", "campaign"):
                continue
            ids = self.snap.nodes[dt]
            ent = np.array([self.entity_pos.get(ids[d], -1) for d in ei[1]], dtype=np.int64)
            pairs = actors_of[ei[0]].tocoo()  # (edge, actor)
            keep = ent[pairs.row] >= 0
            keys.append(pairs.col[keep].astype(np.int64) * n_ent + ent[pairs.row][keep])
            camps.append(ei[0][pairs.row][keep].astype(np.int64))
        key, camp = _cat(keys), _cat(camps)
        order = np.lexsort((camp, key))
        self._pair_key, self._pair_camp = key[order], camp[order]

    def _direct_uses(self) -> None:
        """Sorted keys ``actor * E + entity``, one per entity an actor itself uses or targets."""
        n_ent = len(self.entity_pos)
        keys: list[np.ndarray] = []
        for (st, rel, dt), ei in self.snap.edges.items():
            if st != "actor" or rel not in CAMPAIGN_RELS or dt in ("actor", "campaign"):
                continue
            ids = self.snap.nodes[dt]
            ent = np.array([self.entity_pos.get(ids[d], -1) for d in ei[1]], dtype=np.int64)
            keep = ent >= 0
            keys.append(ei[0][keep].astype(np.int64) * n_ent + ent[keep])
        self._uses_key = np.unique(_cat(keys))

    def uses_directly(self, actor: str, entity: str) -> bool:
        """Whether the actor itself uses or targets ``entity`` (not only through a campaign)."""
        key = self._pair_key_of(actor, entity)
        if key is None:
            return False
        i = int(np.searchsorted(self._uses_key, key))
        return i < len(self._uses_key) and int(self._uses_key[i]) == key

    def indicates_directly(self, actor: str, indicator: str) -> bool:
        """Whether ``indicator`` indicates the actor itself (not only through a campaign)."""
        a, i = self.actor_pos.get(actor), self.host_pos.get(indicator)
        if a is None or i is None or i >= self.n_indicators:
            return False
        return bool(a in row(self.indicates, i))

    def _indicator_campaigns(self, ind_camp: np.ndarray, actors_of: sp.csr_matrix) -> None:
        """Sorted keys ``actor * I + indicator`` -> campaign, for each campaign an indicator
        indicates that is attributed to an actor: the store confirms these few campaigns by id
        instead of walking every campaign a widely shared indicator indicates."""
        pairs = actors_of[ind_camp[1]].tocoo()  # (INDICATES edge, actor)
        key = pairs.col.astype(np.int64) * self.n_indicators + ind_camp[0][pairs.row]
        camp = ind_camp[1][pairs.row].astype(np.int64)
        order = np.lexsort((camp, key))
        self._ind_key, self._ind_camp = key[order], camp[order]

    def indicator_campaigns(self, actor: str, indicator: str, limit: int) -> list[str]:
        """Up to ``limit`` of the actor's attributed campaigns that ``indicator`` indicates
        (by campaign order of the snapshot)."""
        a, i = self.actor_pos.get(actor), self.host_pos.get(indicator)
        if a is None or i is None or i >= self.n_indicators:
            return []
        key = a * self.n_indicators + i
        lo, hi = np.searchsorted(self._ind_key, [key, key + 1])
        return [self.campaigns[c] for c in self._ind_camp[lo : min(hi, lo + limit)]]

    def campaigns_of(self, actor: str, entity: str, limit: int) -> list[str]:
        """Up to ``limit`` of the actor's attributed campaigns that use or target ``entity``
        (by campaign order of the snapshot)."""
        key = self._pair_key_of(actor, entity)
        if key is None:
            return []
        lo, hi = np.searchsorted(self._pair_key, [key, key + 1])
        return [self.campaigns[c] for c in self._pair_camp[lo : min(hi, lo + limit)]]

    def _pair_key_of(self, actor: str, entity: str) -> int | None:
        """The key ``actor * E + entity`` of ``_pair_key`` and ``_uses_key``, or None when the
        snapshot lacks either end."""
        a, e = self.actor_pos.get(actor), self.entity_pos.get(entity)
        return None if a is None or e is None else a * len(self.entity_pos) + e

    def name(self, node: str) -> str:
        """A node's readable name (its name, value or id)."""
        p = self.snap.props.get(node) or {}
        return str(p.get("name") or p.get("value") or node)

    def in_links(self, node: str) -> int:
        """How many hosting in-links (``RESOLVES_TO``, ``HOSTED_ON``) a node has."""
        i = self.host_pos.get(node)
        return 0 if i is None else int(self.hosting_in.indptr[i + 1] - self.hosting_in.indptr[i])

    def member_count(self, node: str) -> int:
        """How many indicators belong to an enrichment node (network, AS organisation,
        registrable domain)."""
        i = self.host_pos.get(node)
        return 0 if i is None else int(self.members.indptr[i + 1] - self.members.indptr[i])

    def past_members_of(
        self, nodes: list[str], actors: list[str], limit: int
    ) -> dict[str, dict[str, tuple[list[str], int]]]:
        """Per enrichment node, per candidate with past indicators in it: the first ``limit``
        of them (by id) and how many there are. One pass over all the nodes' members."""
        known = [n for n in nodes if n in self.host_pos]
        at = np.array([self.host_pos[n] for n in known], dtype=np.int64)
        pos, lengths = row_positions(self.members, at)
        groups = np.repeat(np.arange(len(known)), lengths)
        found = self._by_actor(groups, self.members.indices[pos], actors, self.via_any, limit)
        return {known[g]: by_actor for g, by_actor in found.items()}

    def hosting(
        self,
        entity: str,
        actors: list[str],
        *,
        max_hops: int,
        max_fanout: int,
        per_via: int,
        max_hosts: int,
    ) -> list[HostingHit]:
        """Shared hosts within ``max_hops`` hosting hops of ``entity`` (the first
        ``max_hosts`` out-links of each node on the way), and the hubs among them (more than
        ``max_fanout`` in-links: nothing behind them is read), in node order.

        From each other host the first ``per_via`` indicators (by id, ``entity`` excluded)
        within ``max_hops`` hops back are followed, and each candidate's among them kept (at
        most 3 per actor, the rest is not needed to show a path). All hosts of ``entity`` are
        walked back together, in one pass of array operations.
        """
        start = self.host_pos.get(entity)
        if start is None:
            return []
        _, hosts = _reach_many(self.hosting_out, np.array([start]), max_hops, max_hosts)
        indptr = self.hosting_in.indptr
        hub = (indptr[hosts + 1] - indptr[hosts]) > max_fanout
        quiet = hosts[~hub]
        # Indicators come first in the node order, so the first ``per_via + 1`` of a row
        # hold its first ``per_via`` indicators other than ``entity``.
        groups, back = _reach_many(self.hosting_in, quiet, max_hops, per_via + 1)
        keep = (back < self.n_indicators) & (back != start)
        groups, back = groups[keep], back[keep]
        keep = _rank_in_runs(groups) < per_via
        groups, back = groups[keep], back[keep]
        followed = np.bincount(groups, minlength=len(quiet))
        past = self._by_actor(groups, back, actors, self.via_campaign, limit=3)
        hits: list[HostingHit] = []
        k = 0
        for y, is_hub in zip(hosts.tolist(), hub.tolist(), strict=True):
            via = self.hosts[y]
            via_type = "indicator" if y < self.n_indicators else "infrastructure"
            if is_hub:
                hits.append(HostingHit(entity, via, via_type, 0, {}, hub=True))
                continue
            ids = {actor: ids for actor, (ids, _) in past.get(k, {}).items()}
            hits.append(HostingHit(entity, via, via_type, int(followed[k]), ids))
            k += 1
        return hits

    def _by_actor(
        self,
        groups: np.ndarray,
        indicators: np.ndarray,
        actors: list[str],
        owner: sp.csr_matrix,
        limit: int,
    ) -> dict[int, dict[str, tuple[list[str], int]]]:
        """(group, indicator) pairs, sorted by group and then indicator, grouped per group by
        the candidate actors ``owner`` names: per actor the first ``limit`` indicators and how
        many there are, actors in the order they first appear."""
        want = np.array(sorted(self.actor_pos[a] for a in actors if a in self.actor_pos))
        if not len(indicators) or not len(want):
            return {}
        pos, lengths = row_positions(owner, indicators)
        group = np.repeat(groups, lengths)
        indicator = np.repeat(indicators, lengths)
        actor = owner.indices[pos]
        keep = np.isin(actor, want)
        group, indicator, actor = group[keep], indicator[keep], actor[keep]
        pair = group * len(self.actors) + actor
        order = np.argsort(pair, kind="stable")
        rank = np.empty(len(pair), dtype=np.int64)
        rank[order] = _rank_in_runs(pair[order])
        counts = dict(zip(*np.unique(pair, return_counts=True), strict=True))
        out: dict[int, dict[str, tuple[list[str], int]]] = {}
        for j in np.flatnonzero(rank < limit).tolist():
            by_actor = out.setdefault(int(group[j]), {})
            name = self.actors[int(actor[j])]
            if name not in by_actor:
                by_actor[name] = ([], int(counts[pair[j]]))
            by_actor[name][0].append(self.hosts[int(indicator[j])])
        return out


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _binary(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def _nonzero(m: sp.csr_matrix) -> sp.csr_matrix:
    m = m.tocsr()
    m.data[:] = 1.0
    m.eliminate_zeros()
    m.sort_indices()
    return m


def _reach_many(
    adj: sp.csr_matrix, starts: np.ndarray, hops: int, per_row: int
) -> tuple[np.ndarray, np.ndarray]:
    """The nodes reached from each of ``starts`` in 1..``hops`` steps, taking the first
    ``per_row`` neighbours (by position) of each node, all walks at once: (group, node) pairs
    sorted by group (the position in ``starts``) and then node; a start itself only when a cycle
    leads back. A walk reads at most ``per_row ** hops`` entries, and the first ``per_row`` nodes
    of a group are exactly those of the uncapped walk (each is among the first of its own row)."""
    width = adj.shape[1]
    group, frontier = np.arange(len(starts), dtype=np.int64), starts.astype(np.int64)
    seen: list[np.ndarray] = []
    for _ in range(hops):
        if not len(frontier):
            break
        pos, lengths = row_positions(adj, frontier, per_row)
        key = np.unique(np.repeat(group, lengths) * width + adj.indices[pos])
        group, frontier = key // width, key % width
        seen.append(key)
    key = np.unique(np.concatenate(seen)) if seen else np.zeros(0, np.int64)
    return key // width, key % width


def _rank_in_runs(keys: np.ndarray) -> np.ndarray:
    """Each element's position within its run of equal ``keys`` (``keys`` sorted)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    new = np.r_[True, keys[1:] != keys[:-1]]
    starts = np.maximum.accumulate(np.where(new, np.arange(len(keys)), 0))
    return np.arange(len(keys)) - starts
