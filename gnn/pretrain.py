"""Self-supervised pre-training of the GraphSAGE encoder by link prediction.

Labelled clusters are scarce (a few dozen attributed campaigns), but the graph itself holds
thousands of "who uses what" edges: actor -> malware/tool/technique and malware/tool ->
technique. Hiding a random share of those edges and asking the encoder to find them again
(dot product of the two end embeddings against random negatives of the same type) teaches it
which entities go together, without touching a label. The encoder then only supplies one
extra similarity feature to the log-linear scorer (see ``gnn.train``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from actorgraph.gnn.dataset import ENTITY_TYPES
from actorgraph.gnn.model import HeteroSAGE
from actorgraph.gnn.optim import Adam

EdgeKey = tuple[str, str, str]


def supervision_keys(edges: dict[EdgeKey, Tensor]) -> list[EdgeKey]:
    """Forward "uses" edges worth predicting: actor -> entity and software -> technique."""
    keys = []
    for st, rel, dt in edges:
        if rel.startswith("rev_"):
            continue
        if (st == "actor" and dt in ENTITY_TYPES) or (rel == "USES" and st in ("malware", "tool")):
            keys.append((st, rel, dt))
    return keys


def pretrain_link_prediction(
    encoder: HeteroSAGE,
    edges: dict[EdgeKey, Tensor],
    epochs: int,
    lr: float,
    seed: int,
    hide_frac: float = 0.3,
    weight_decay: float = 1e-4,
    log=None,
    batch_size: int | None = None,
    fanouts: tuple[int, ...] | None = None,
) -> list[float]:
    """Train ``encoder`` in place to predict hidden "uses" edges; returns the loss per epoch.

    Each epoch hides ``hide_frac`` of the supervision edges from message passing (forward and
    reverse), so an actor's embedding cannot simply copy the entity it is asked about.

    Args:
        batch_size: None (the default) trains full batch, one step per epoch over all hidden
            edges. An integer trains on mini-batches of that many hidden edges, one step each,
            embedding only their end points (and negatives) over sampled neighbourhoods
            (``gnn.sampling``): activations follow the sampled sub-graph, while parameters,
            gradients and optimiser state (the entity embedding table) still follow the graph.
            Not chosen automatically: it changes the optimisation (many steps per epoch,
            sampled neighbourhoods) and costs far more CPU per epoch than the memory it saves
            is worth at the sizes measured (benchmarks/RESULTS.md, "Training: full batch vs
            mini-batch").
        fanouts: in-neighbours sampled per node and relation at each hop, one per encoder
            layer (default 10 each); only with ``batch_size``.
    """
    gen = torch.Generator().manual_seed(seed)
    keys = supervision_keys(edges)
    params = [p for p in encoder.parameters() if p.requires_grad]
    opt = Adam(params, lr=lr)
    losses: list[float] = []
    if not keys:
        return losses
    if batch_size is not None:
        return _pretrain_sampled(
            encoder,
            edges,
            keys,
            epochs,
            opt,
            params,
            gen,
            hide_frac,
            weight_decay,
            log,
            batch_size,
            fanouts,
        )
    for epoch in range(epochs):
        msg, targets = _hide_targets(edges, keys, hide_frac, gen)
        opt.zero_grad()
        h = encoder(msg)
        loss = torch.zeros(())
        n = 0
        for (st, _, dt), pos in targets:
            if pos.shape[1] == 0:
                continue
            neg_dst = torch.randint(0, encoder.num_nodes[dt], (pos.shape[1],), generator=gen)
            ps = (h[st][pos[0]] * h[dt][pos[1]]).sum(-1)
            ns = (h[st][pos[0]] * h[dt][neg_dst]).sum(-1)
            loss = loss + nn.functional.binary_cross_entropy_with_logits(
                torch.cat([ps, ns]),
                torch.cat([torch.ones_like(ps), torch.zeros_like(ns)]),
                reduction="sum",
            )
            n += 2 * pos.shape[1]
        loss = loss / max(n, 1)
        if weight_decay:
            loss = loss + weight_decay * sum((p**2).sum() for p in params)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if log and (epoch % 25 == 0 or epoch == epochs - 1):
            log(f"pretrain epoch {epoch:3d} loss {losses[-1]:.4f}")
    return losses


def _hide_targets(
    edges: dict[EdgeKey, Tensor],
    keys: list[EdgeKey],
    hide_frac: float,
    gen: torch.Generator,
) -> tuple[dict[EdgeKey, Tensor], list[tuple[EdgeKey, Tensor]]]:
    """One epoch's message-passing graph and the hidden edges to predict, per key."""
    msg = dict(edges)
    targets: list[tuple[EdgeKey, Tensor]] = []
    for key in keys:
        ei = edges[key]
        if ei.shape[1] < 2:
            continue
        hide = torch.rand(ei.shape[1], generator=gen) < hide_frac
        kept = ei[:, ~hide]
        msg[key] = kept
        st, rel, dt = key
        msg[(dt, f"rev_{rel}", st)] = kept.flip(0)
        targets.append((key, ei[:, hide]))
    return msg, targets


def _pretrain_sampled(
    encoder: HeteroSAGE,
    edges: dict[EdgeKey, Tensor],
    keys: list[EdgeKey],
    epochs: int,
    opt: Adam,
    params: list[nn.Parameter],
    gen: torch.Generator,
    hide_frac: float,
    weight_decay: float,
    log,
    batch_size: int,
    fanouts: tuple[int, ...] | None,
) -> list[float]:
    """``pretrain_link_prediction`` over mini-batches of hidden edges (neighbour sampling)."""
    from actorgraph.gnn.sampling import NeighborSampler, embed_sampled

    if batch_size < 1:
        raise ValueError(f"'batch_size' (got {batch_size}) must be a positive number of edges")
    fanouts = tuple(fanouts) if fanouts is not None else (10,) * len(encoder.self_lin)
    if len(fanouts) != len(encoder.self_lin):
        raise ValueError(
            f"'fanouts' (got {fanouts}) needs one entry per encoder layer ({len(encoder.self_lin)})"
        )
    losses: list[float] = []
    for epoch in range(epochs):
        msg, targets = _hide_targets(edges, keys, hide_frac, gen)
        targets = [(k, pos) for k, pos in targets if pos.shape[1]]
        sampler = NeighborSampler(msg, encoder.num_nodes, fanouts, gen)
        which = torch.cat(
            [torch.full((pos.shape[1],), i) for i, (_, pos) in enumerate(targets)]
            or [torch.zeros(0, dtype=torch.long)]
        )
        column = torch.cat(
            [torch.arange(pos.shape[1]) for _, pos in targets] or [torch.zeros(0, dtype=torch.long)]
        )
        order = torch.randperm(len(which), generator=gen)
        total, n_total = 0.0, 0
        for lo in range(0, len(order), batch_size):
            sel = order[lo : lo + batch_size]
            # Per key: positive (src, dst), negative dst; seeds are every end point of the batch.
            parts = []  # (src type, dst type, edges, first src seed, first dst seed)
            seeds: dict[str, list[Tensor]] = {}
            at: dict[str, int] = {}
            for i, ((st, _, dt), pos) in enumerate(targets):
                cols = column[sel[which[sel] == i]]
                m = len(cols)
                if not m:
                    continue
                neg = torch.randint(0, encoder.num_nodes[dt], (m,), generator=gen)
                s_at = at.get(st, 0)
                seeds.setdefault(st, []).append(pos[0, cols])
                at[st] = s_at + m
                d_at = at.get(dt, 0)
                seeds.setdefault(dt, []).append(torch.cat([pos[1, cols], neg]))
                at[dt] = d_at + 2 * m
                parts.append((st, dt, m, s_at, d_at))
            sub = sampler.sample({t: torch.cat(v) for t, v in seeds.items()})
            out = embed_sampled(encoder, sub)
            h = {t: out[t][sub.seed_index[t]] for t in seeds}
            opt.zero_grad()
            loss = torch.zeros(())
            n = 0
            for st, dt, m, s_at, d_at in parts:
                hs, hd = h[st][s_at : s_at + m], h[dt][d_at : d_at + 2 * m]
                ps = (hs * hd[:m]).sum(-1)
                ns = (hs * hd[m:]).sum(-1)
                loss = loss + nn.functional.binary_cross_entropy_with_logits(
                    torch.cat([ps, ns]),
                    torch.cat([torch.ones_like(ps), torch.zeros_like(ns)]),
                    reduction="sum",
                )
                n += 2 * m
            loss = loss / max(n, 1)
            if weight_decay:
                loss = loss + weight_decay * sum((p**2).sum() for p in params)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * n
            n_total += n
        losses.append(total / max(n_total, 1))
        if log and (epoch % 25 == 0 or epoch == epochs - 1):
            log(f"pretrain epoch {epoch:3d} loss {losses[-1]:.4f} (mini-batch)")
    return losses


def fit_similarity_weight(base: Tensor, sim: Tensor, target: Tensor) -> tuple[float, float]:
    """Weight of the similarity feature added to fixed logits, fitted by NLL on held-out views.

    Returns ``(weight, nll_gain)``: the weight (>= 0, a similarity that hurts gets 0) and how
    much it lowered the validation NLL (per view), so callers can log whether it helped.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import logsumexp

    z = base.detach().double().numpy()
    s = np.concatenate([sim.detach().double().numpy(), np.zeros((len(z), 1))], axis=1)
    y = target.numpy()

    def nll(w: float) -> float:
        zz = z + w * s
        return float(np.mean(logsumexp(zz, axis=1) - zz[np.arange(len(y)), y]))

    best = minimize_scalar(nll, bounds=(0.0, 50.0), method="bounded")
    w = float(best.x) if best.fun < nll(0.0) else 0.0
    return w, nll(0.0) - nll(w)
