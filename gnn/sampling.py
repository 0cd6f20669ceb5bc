"""Neighbour sampling for the GraphSAGE encoder, in plain torch (no pyg-lib, no torch-sparse).

Full-batch message passing keeps every node's activations of every layer for the backward
pass, so its memory grows with the whole graph. For a batch of seed nodes, an L-layer encoder
only needs their L-hop neighbourhood; ``NeighborSampler`` draws at most ``fanouts[i]``
in-neighbours per node and relation at hop ``i`` (uniformly, without replacement) and returns
that computation graph re-indexed, and ``embed_sampled`` runs the encoder's own weights over it.
With fan-outs at least the largest in-degree nothing is dropped and the seeds' embeddings equal
the full-batch ones (up to float summation order).

Sub-graph layout (as PyG's ``NeighborLoader`` with ``trim_to_layer``): per node type, the
seeds come first, then the nodes first reached at hop 1, hop 2, ...; per relation, the edges
sampled for hop-0 destinations first, then hop 1, ... Layer ``l`` then only computes the nodes
that a later layer still reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from actorgraph.gnn.model import HeteroSAGE

EdgeKey = tuple[str, str, str]


@dataclass
class SampledGraph:
    """The computation graph of a batch of seeds.

    Attributes:
        node_ids: node type -> global node ids, local order (seeds first, then hop by hop).
        edges: relation -> (2, E) local edge index (row 0 source, row 1 destination).
        node_offsets: node type -> cumulative node counts after hop 0 (the seeds), 1, ..., L.
        edge_offsets: relation -> cumulative edge counts for destinations of hop 0, ..., L - 1.
        seed_index: node type -> local index of every seed as passed to ``sample``
            (duplicates allowed there; the sub-graph holds each node once).
    """

    node_ids: dict[str, Tensor]
    edges: dict[EdgeKey, Tensor]
    node_offsets: dict[str, list[int]]
    edge_offsets: dict[EdgeKey, list[int]]
    seed_index: dict[str, Tensor]

    @property
    def num_nodes(self) -> int:
        return sum(len(v) for v in self.node_ids.values())

    @property
    def num_edges(self) -> int:
        return sum(e.shape[1] for e in self.edges.values())


class NeighborSampler:
    """Seeded uniform neighbour sampling over a heterogeneous graph.

    Args:
        edges: ``(src, rel, dst)`` -> (2, E) global edge index, as the encoder takes it.
        num_nodes: node type -> number of nodes.
        fanouts: in-neighbours kept per node and relation at each hop; its length is the number
            of hops (the encoder's number of layers). ``-1`` keeps them all.
        generator: the random source (seed it for reproducible batches).
    """

    def __init__(
        self,
        edges: dict[EdgeKey, Tensor],
        num_nodes: dict[str, int],
        fanouts: tuple[int, ...] | list[int],
        generator: torch.Generator | None = None,
    ) -> None:
        if not fanouts or any(k == 0 or k < -1 for k in fanouts):
            raise ValueError(
                f"'fanouts' (got {tuple(fanouts)}) must be positive or -1, one per hop"
            )
        self.fanouts = tuple(int(k) for k in fanouts)
        self.num_nodes = dict(num_nodes)
        self.gen = generator if generator is not None else torch.Generator().manual_seed(0)
        # In-neighbour CSR per relation: destination -> sources.
        self.csr: dict[EdgeKey, tuple[Tensor, Tensor]] = {}
        for key, ei in edges.items():
            src, _, dst = key
            if ei.numel() == 0:
                continue
            if dst not in self.num_nodes or src not in self.num_nodes:
                raise ValueError(f"relation {key!r} has a node type missing from 'num_nodes'")
            order = torch.argsort(ei[1], stable=True)
            rowptr = torch.zeros(self.num_nodes[dst] + 1, dtype=torch.long)
            rowptr[1:] = torch.cumsum(torch.bincount(ei[1], minlength=self.num_nodes[dst]), 0)
            self.csr[key] = (rowptr, ei[0][order].contiguous())
        # Global -> local ids of the sub-graph being built; -1 outside it (reset after each batch).
        self._local = {t: torch.full((n,), -1, dtype=torch.long) for t, n in self.num_nodes.items()}

    def sample(self, seeds: dict[str, Tensor]) -> SampledGraph:
        """The sampled L-hop computation graph of ``seeds`` (node type -> global ids)."""
        node_parts: dict[str, list[Tensor]] = {t: [] for t in self.num_nodes}
        count = dict.fromkeys(self.num_nodes, 0)
        seed_index: dict[str, Tensor] = {}
        frontier: dict[str, Tensor] = {}
        for t, ids in seeds.items():
            if t not in self.num_nodes:
                raise ValueError(
                    f"seed node type {t!r} is not in the graph ({sorted(self.num_nodes)})"
                )
            uniq, inverse = torch.unique(ids.long(), return_inverse=True)
            self._local[t][uniq] = torch.arange(len(uniq))
            node_parts[t].append(uniq)
            count[t] = len(uniq)
            seed_index[t] = inverse
            frontier[t] = uniq
        node_offsets = {t: [count[t]] for t in self.num_nodes}
        edge_parts: dict[EdgeKey, list[Tensor]] = {k: [] for k in self.csr}
        edge_offsets: dict[EdgeKey, list[int]] = {k: [] for k in self.csr}
        try:
            for k in self.fanouts:
                new: dict[str, list[Tensor]] = {}
                for key, (rowptr, col) in self.csr.items():
                    src, _, dst = key
                    done = edge_offsets[key][-1] if edge_offsets[key] else 0
                    nodes = frontier.get(dst)
                    if nodes is None or not len(nodes):
                        edge_offsets[key].append(done)
                        continue
                    dst_pos, src_ids = _sample_in_neighbours(rowptr, col, nodes, k, self.gen)
                    fresh = torch.unique(src_ids[self._local[src][src_ids] < 0])
                    self._local[src][fresh] = torch.arange(count[src], count[src] + len(fresh))
                    count[src] += len(fresh)
                    node_parts[src].append(fresh)
                    new.setdefault(src, []).append(fresh)
                    edge_parts[key].append(
                        torch.stack([self._local[src][src_ids], self._local[dst][nodes][dst_pos]])
                    )
                    edge_offsets[key].append(done + len(src_ids))
                frontier = {t: torch.cat(v) for t, v in new.items()}
                for t in self.num_nodes:
                    node_offsets[t].append(count[t])
            node_ids = {
                t: torch.cat(v) if v else torch.zeros(0, dtype=torch.long)
                for t, v in node_parts.items()
            }
        finally:
            for t, parts in node_parts.items():
                for p in parts:
                    self._local[t][p] = -1
        edges = {
            k: torch.cat(v, 1) if v else torch.zeros(2, 0, dtype=torch.long)
            for k, v in edge_parts.items()
        }
        return SampledGraph(node_ids, edges, node_offsets, edge_offsets, seed_index)


def _sample_in_neighbours(
    rowptr: Tensor, col: Tensor, nodes: Tensor, k: int, gen: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Up to ``k`` in-neighbours of each node, uniformly without replacement.

    Returns ``(position of the destination in nodes, source id)`` per sampled edge. Nodes of
    degree <= k keep all their edges; the others draw k distinct positions by Floyd's algorithm,
    k vectorised steps over all of them at once (cost O(n k^2), whatever the degrees).
    """
    start = rowptr[nodes]
    deg = rowptr[nodes + 1] - start
    small = deg <= k if k > 0 else torch.ones_like(deg, dtype=torch.bool)
    # All edges of the small-degree nodes.
    s_deg = deg[small]
    s_pos = torch.nonzero(small).squeeze(1).repeat_interleave(s_deg)
    first = torch.cumsum(s_deg, 0) - s_deg
    within = torch.arange(len(s_pos)) - first.repeat_interleave(s_deg)
    s_edge = start[small].repeat_interleave(s_deg) + within
    big = torch.nonzero(~small).squeeze(1)
    if not len(big):
        return s_pos, col[s_edge]
    b_deg = deg[big]
    picks = torch.empty(len(big), k, dtype=torch.long)
    for i in range(k):
        # Floyd: draw t in [0, d - k + i]; if already taken, take d - k + i itself (never taken).
        top = b_deg - k + i
        t = (torch.rand(len(big), generator=gen, dtype=torch.float64) * (top + 1)).long()
        t = torch.minimum(t, top)
        taken = (picks[:, :i] == t.unsqueeze(1)).any(1)
        picks[:, i] = torch.where(taken, top, t)
    b_edge = (start[big].unsqueeze(1) + picks).reshape(-1)
    pos = torch.cat([s_pos, big.repeat_interleave(k)])
    return pos, col[torch.cat([s_edge, b_edge])]


def embed_sampled(encoder: HeteroSAGE, sub: SampledGraph) -> dict[str, Tensor]:
    """The encoder's output for the seeds of ``sub`` (node type -> (num seeds, dim)).

    The same computation as ``HeteroSAGE.forward`` on the sub-graph, with each layer trimmed
    to the nodes later layers read. Index the result with ``sub.seed_index[t]`` to get the
    seeds in the order they were passed to ``sample``.
    """
    hops = len(encoder.self_lin)
    if any(len(v) != hops + 1 for v in sub.node_offsets.values()):
        raise ValueError(
            f"the sub-graph has {len(next(iter(sub.node_offsets.values()))) - 1} "
            f"hops, the encoder {hops} layers"
        )
    h = {}
    for t in encoder.node_types:
        ids = sub.node_ids.get(t, torch.zeros(0, dtype=torch.long))
        emb = encoder.emb[t]
        h[t] = emb[ids] if t in encoder.learned_types else emb.expand(len(ids), -1)
    layers = []
    for layer in range(hops):
        keep = hops - 1 - layer  # outputs needed: nodes of hops 0..keep
        size = {t: sub.node_offsets[t][keep] if t in sub.node_offsets else 0 for t in h}
        edges = {et: ei[:, : sub.edge_offsets[et][keep]] for et, ei in sub.edges.items()}
        layers.append((edges, size))
    return encoder.propagate(h, layers)
