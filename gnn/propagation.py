"""Relation-typed, inductive message passing of actor evidence, trained in the attribution loss.

Each entity's state is a distribution of evidence over actors: at the input, the share of the
actors whose profile holds it (``evidence_inputs``; zero for an entity no actor uses, such as a
/24 network or a registrable domain). Every layer lets each entity read the mean state of its
neighbours along each relation (forward and reverse edges are distinct relations), weighed by a
learned weight per relation and layer and a learned gate computed from the *sender's features*
(``node_features``: entity type, indicator kind, enrichment kind, log degree, warning-list
flag), then adds it to its own state. No parameter belongs to one entity: an indicator the graph
has never held is scored from the entities it joins (the /24, AS organisation or registrable
domain that enrichment names), and actor identity enters only as the evidence channels, which is
what lets two actors' look-alike infrastructure be told apart (type and degree alone cannot).

The activity is a new node joined to its linked entities: its score for an actor is the
rarity-weighted mean of their final states (``pool_queries``), which enters the scorer of
``gnn.model.AttributionModel`` as one input beside the rarity features (``evidence_similarity``).
The whole stack is trained end to end on the training episodes; the final states over the full
graph are stored with the model, so scoring needs no message passing at request time.

Training restricts each episode to the ``layers``-hop neighbourhood of its query entities
(``neighbourhood``), the only part whose states reach a query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from actorgraph.gnn.dataset import ENTITY_TYPES, GraphSnapshot
from actorgraph.gnn.features import EntitySpace

# Node input features: one-hot groups, then log degree and the warning-list flag.
INDICATOR_KINDS: tuple[str, ...] = ("ipv4", "ipv6", "domain", "url", "email", "x509", "hash")
HASH_KINDS: frozenset[str] = frozenset({"md5", "sha1", "sha256", "sha512", "ssdeep", "tlsh"})
ENRICHMENT_KINDS: tuple[str, ...] = ("network", "registrable_domain", "asn", "as_org")
NUM_NODE_FEATURES = len(ENTITY_TYPES) + len(INDICATOR_KINDS) + len(ENRICHMENT_KINDS) + 2


@dataclass
class EntityGraph:
    """The entity-to-entity relations of a snapshot in entity-space order.

    Attributes:
        relations: relation names (``REL`` and ``rev_REL``), in the encoder's parameter order.
        edges: relation -> (2, E_r) source and destination entity-space indices.
        features: (E, ``NUM_NODE_FEATURES``) node input features.
    """

    relations: tuple[str, ...]
    edges: dict[str, np.ndarray]
    features: np.ndarray

    @classmethod
    def build(cls, snap: GraphSnapshot, space: EntitySpace) -> EntityGraph:
        """Every snapshot edge between two entities, grouped by relationship type."""
        pairs: dict[str, list[np.ndarray]] = {}
        for (st, rel, dt), ei in sorted(snap.edges.items()):
            if st not in ENTITY_TYPES or dt not in ENTITY_TYPES or not ei.shape[1]:
                continue
            src = _positions(snap, space, st, ei[0])
            dst = _positions(snap, space, dt, ei[1])
            pairs.setdefault(rel, []).append(np.stack([src, dst]))
            pairs.setdefault(f"rev_{rel}", []).append(np.stack([dst, src]))
        edges = {r: np.concatenate(p, axis=1) for r, p in sorted(pairs.items())}
        return cls(tuple(edges), edges, node_features(snap, space, edges))

    def adjacency(self) -> sp.csr_matrix:
        """(E, E) binary adjacency over every relation, both directions."""
        n = len(self.features)
        if not self.edges:
            return sp.csr_matrix((n, n))
        ei = np.concatenate(list(self.edges.values()), axis=1)
        adj = sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n))
        adj.data[:] = 1.0
        return adj


def _positions(snap: GraphSnapshot, space: EntitySpace, node_type: str, local: np.ndarray):
    ids = snap.nodes[node_type]
    return np.array([space.pos[ids[i]] for i in local], dtype=np.int64)


def node_features(
    snap: GraphSnapshot, space: EntitySpace, edges: dict[str, np.ndarray]
) -> np.ndarray:
    """(E, ``NUM_NODE_FEATURES``): what the gates may read about an entity, never its id."""
    n = len(space)
    x = np.zeros((n, NUM_NODE_FEATURES), dtype=np.float32)
    kind_at = len(ENTITY_TYPES)
    enrich_at = kind_at + len(INDICATOR_KINDS)
    for i, nid in enumerate(space.ids):
        p = snap.props[nid]
        x[i, ENTITY_TYPES.index(p["type"])] = 1.0
        kind = str(p.get("kind") or "")
        kind = "hash" if kind in HASH_KINDS else kind
        if p["type"] == "indicator" and kind in INDICATOR_KINDS:
            x[i, kind_at + INDICATOR_KINDS.index(kind)] = 1.0
        prefix = nid.split(":", 1)[0]
        if p["type"] == "infrastructure" and prefix in ENRICHMENT_KINDS:
            x[i, enrich_at + ENRICHMENT_KINDS.index(prefix)] = 1.0
    degree = np.zeros(n)
    for ei in edges.values():
        degree += np.bincount(ei[1], minlength=n)
    x[:, -2] = np.log1p(degree / 2.0)  # each edge is counted in both directions
    x[:, -1] = (space.hub < 1.0).astype(np.float32)
    return x


def evidence_inputs(profile: sp.csr_matrix) -> np.ndarray:
    """(E, A) input states: each entity's evidence split evenly among the actors using it."""
    held = profile.T.tocsr().astype(np.float32)
    counts = np.asarray(held.sum(axis=1)).ravel()
    scaled = sp.diags(1.0 / np.maximum(counts, 1.0)) @ held
    return np.asarray(scaled.todense(), dtype=np.float32)


def neighbourhood(adj: sp.csr_matrix, seeds: np.ndarray, hops: int) -> np.ndarray:
    """Sorted entity indices within ``hops`` edges of ``seeds``."""
    mask = np.zeros(adj.shape[0], dtype=bool)
    mask[seeds] = True
    frontier = mask.copy()
    for _ in range(hops):
        frontier = (adj.T @ frontier.astype(np.float32)) > 0
        frontier &= ~mask
        if not frontier.any():
            break
        mask |= frontier
    return np.flatnonzero(mask)


class SparseMatmul(torch.autograd.Function):
    """``op @ h`` for a sparse (N x N) ``op`` given as (2, E) [row, column] indices and (E,)
    values, differentiable in the values and in ``h`` without a dense (N x N) gradient (which
    ``torch.sparse.mm`` builds for a COO operand: 91 GB at 100k indicators); the values'
    gradient is one dot product per edge, in chunks."""

    CHUNK = 1 << 16

    @staticmethod
    def forward(ctx: Any, index: Tensor, values: Tensor, h: Tensor) -> Tensor:
        ctx.save_for_backward(index, values, h)
        return torch.sparse.mm(_coo(index, values, h.shape[0]), h)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        index, values, h = ctx.saved_tensors
        grad_h = None
        if ctx.needs_input_grad[2]:
            grad_h = torch.sparse.mm(_coo(index.flip(0), values, h.shape[0]), grad)
        grad_values = None
        if ctx.needs_input_grad[1]:
            grad_values = torch.empty_like(values)
            for start in range(0, len(values), SparseMatmul.CHUNK):
                rows, cols = index[:, start : start + SparseMatmul.CHUNK]
                grad_values[start : start + len(rows)] = (grad[rows] * h[cols]).sum(-1)
        return None, grad_values, grad_h


def _coo(index: Tensor, values: Tensor, n: int) -> Tensor:
    return torch.sparse_coo_tensor(index, values, (n, n), check_invariants=False)


class EvidencePropagation(nn.Module):
    """``layers`` rounds of relation-typed evidence passing.

    Per relation, a node reads the mean of its neighbours' gated states (GraphSAGE's mean
    aggregator without a weight matrix: the states are evidence over actors, shared by every
    actor); the relations' means are summed with one learned weight each. A layer is computed
    as one sparse (N x N) operator times the states, the relations' edges stacked with their
    weight, gate and 1/degree as values: gathering a message per edge (PyG's
    ``MessagePassing``) would hold edges x actors floats per relation for the backward pass,
    6.7 GB at 100k indicators.

    Args:
        relations: relation names, one weight per relation and layer.
        num_features: width of the node input features (the gates' input).
        layers: rounds of message passing.
        dropout: share of messages dropped while training.
    """

    def __init__(
        self, relations: tuple[str, ...], num_features: int, layers: int = 2, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.relations = tuple(relations)
        self.layers = layers
        self.dropout = dropout
        # softplus(-0.43) = 0.5: every relation starts at half weight, as the hand-set context
        # weights did on average.
        self.rel_weight = nn.Parameter(
            torch.full((layers, len(relations)), math.log(math.e**0.5 - 1))
        )
        self.gate = nn.Linear(num_features, len(relations))
        nn.init.zeros_(self.gate.weight)
        nn.init.constant_(self.gate.bias, 2.0)
        # Each actor's states are divided by its profile size to a learned power in [0, 1]
        # (sigmoid; 0.5 at the start, a cosine's norm): an actor with many indicators gathers
        # evidence on every hub it touched.
        self.actor_norm = nn.Parameter(torch.zeros(()))

    def forward(
        self,
        h0: Tensor,
        x: Tensor,
        edges: dict[str, Tensor],
        actor_sizes: Tensor,
        keep_input: bool = True,
    ) -> Tensor:
        """Final states (N, A) from input states ``h0`` (N, A), node features ``x`` (N, F) and
        the actors' profile sizes (A,); without ``keep_input`` the input states are subtracted
        (propagated evidence only)."""
        gates = torch.sigmoid(self.gate(x))
        weights = nn.functional.softplus(self.rel_weight)
        n = h0.shape[0]
        h = h0
        for layer in range(self.layers):
            index, values = [], []
            for r, rel in enumerate(self.relations):
                ei = edges.get(rel)
                if ei is None or not ei.numel():
                    continue
                if self.training and self.dropout:
                    ei = ei[:, torch.rand(ei.shape[1]) >= self.dropout]
                src, dst = ei
                degree = torch.bincount(dst, minlength=n).clamp_min(1).to(h0.dtype)
                index.append(torch.stack([dst, src]))
                values.append(weights[layer, r] * gates[src, r] / degree[dst])
            if index:
                h = h + SparseMatmul.apply(torch.cat(index, 1), torch.cat(values), h)
        h = h if keep_input else h - h0
        return h / actor_sizes.clamp_min(1.0) ** torch.sigmoid(self.actor_norm)
