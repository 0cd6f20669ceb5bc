"""The training configuration, stored with every model artefact.

Its own module so that inference (``gnn.artefacts``, ``gnn.scoring``) can read a stored
configuration without importing the trainer. The measurements behind the defaults are in
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    """Hyper-parameters of ``gnn.train.train``; stored with every artefact."""

    seed: int = 7
    epochs: int = 60
    episodes: int = 6
    views: int = 3
    query_frac: tuple[float, float] = (0.3, 0.6)
    view_frac: tuple[float, float] = (0.4, 1.0)
    # Share of an actor-item view made of items its profile still holds (drawn uniformly in
    # this range); the rest are the cut, novel items. At 0 a view shares nothing directly with
    # its actor, like new activity made only of new indicators, so the scorer also learns to
    # rank on propagated evidence alone. (0.0, 0.9) against (0.2, 0.9): better on every
    # development split (benchmarks/RESULTS.md, stop 14).
    known_share: tuple[float, float] = (0.0, 0.9)
    # Weight of the hard-negative term (``gnn.train.rejection_loss``): actors an analyst
    # rejected for a campaign that is now attributed to another; 0 ignores rejections.
    rejection_weight: float = 1.0
    campaign_query_prob: float = 0.5
    unknown_frac: float = 0.2
    val_frac: float = 0.15
    dim: int = 32
    layers: int = 2
    # A log-linear scorer by default (hidden=0): a hidden layer, like an encoder trained jointly
    # on the labels (``use_gnn``), overfits the few labelled clusters, so both are opt-in.
    hidden: int = 0
    # Adam's step. The scorer sees 60 steps (``epochs``), and Adam moves every weight by about
    # ``lr`` per step whatever its gradient, so at 0.02 the weights stop near where a few steps
    # of equal size leave them: the many propagated features together outweigh the direct and
    # naming ones whatever the data say. At 0.06 the same 60 steps reach the fit that 200 steps
    # at 0.02 reach (Unit 42 development split, IOC-only queries: top-1 0.467 -> 0.611; leave
    # one report out 0.463 -> 0.659; benchmarks/RESULTS.md, stop 21).
    lr: float = 0.06
    use_gnn: bool = False
    freeze_embeddings: bool = False
    # An encoder pre-trained by link prediction (used when ``use_gnn`` is off): GraphSAGE learns
    # on the "uses" edges (no labels to overfit), the scorer trains without it, and one weight
    # for its similarity is fitted on the validation views. Off by default: that weight came out
    # at 0.000 on ATT&CK, the demo world and the Unit 42 development split while the stage took
    # half of each training (benchmarks/RESULTS.md); the graph enters through the propagated
    # features instead.
    pretrain_gnn: bool = False
    pretrain_epochs: int = 100
    # None: full batch. An integer: mini-batches of that many hidden edges over sampled
    # neighbourhoods (``gnn.sampling``; fan-out per layer in ``pretrain_fanouts``, default 10),
    # for graphs whose full batch does not fit in memory, at many times the CPU per epoch.
    pretrain_batch_size: int | None = None
    pretrain_fanouts: tuple[int, ...] | None = None
    # "nearest" (embedding-space overlap with the actor's profile), "cosine" or "dot" (of the
    # pooled query); chosen by validation NLL gain on ATT&CK and ATT&CK + demo world.
    gnn_similarity: str = "nearest"
    weight_decay: float = 0.0
    # Evidence only adds: the log-linear scorer's weight on every overlap feature (all but the
    # profile-size prior ``log_profile``) is kept at or above 0 after each step
    # (``gnn.model.AttributionModel.clamp_evidence``), so no overlap counts against an actor.
    # Unconstrained, correlated features pull some weights below 0, and on a small graph they
    # can decide: the analyst loop's test world learned -1.0 on the naming overlap and -0.5 on
    # the software overlap, and ranked an actor sharing nothing above the one whose decided
    # campaign held the activity's malware. Equal or better on every development split
    # (benchmarks/RESULTS.md, stop 22).
    monotone: bool = True
    # Share of a view's entities dropped from the encoder's pooled query in each step (an
    # encoder, ``use_gnn`` or ``encoder="evidence"``, only: the scorer's features are computed
    # before any step and see every entity; 0.1 and 0.25 leave the default model unchanged).
    entity_dropout: float = 0.0
    early_stop: bool = False
    # Share of an episode's loss carried by the campaign-query views (None: by their count,
    # about 1 in 15 views on ATT&CK), so the scorer is fitted to the task it serves and not
    # only to the actor-item proxy; and the per-campaign features (best match among the
    # actor's other attributed campaigns, ``gnn.features.CampaignMatch``). 0.7 against 0.5,
    # with ``monotone``: ATT&CK leave-one-campaign-out top-1 0.583 -> 0.667, Unit 42 newest
    # report 0.695 -> 0.726; without ``monotone`` it cost the analyst loop one activity
    # (benchmarks/RESULTS.md, stops 21-22).
    campaign_loss_share: float | None = 0.7
    campaign_features: bool = True
    # Every feature also enters min-max scaled over the query's candidates (LETOR's query-level
    # normalisation, ``gnn.model.query_normalise``): it trades some top-1 for top-3 on ATT&CK
    # leave-one-campaign-out. False gives the model without it.
    query_norm: bool = True
    # Which evidence the scorer may use (``GRAPH_MODES``): "full" (direct overlap plus message
    # passing over the graph's relations), "none" (``train --no-graph``: direct overlap only,
    # no propagation and no encoder) or "only" (the graph part alone, no direct overlap).
    graph: str = "full"
    # The naming-habit cosine (``gnn.lexical``): hashed n-grams of domains, URLs and e-mail
    # addresses, the one input that carries evidence for values the graph has never held.
    lexical: bool = True
    # One propagated feature per relation family (``gnn.features.RELATION_FAMILIES``), so the
    # scorer learns each family's weight in the attribution loss.
    relations: bool = True
    # The learned graph part (``ENCODERS``): "none", or "evidence" for relation-typed message
    # passing of actor evidence over the entity graph (``gnn.propagation``), trained jointly
    # with the scorer in the attribution loss; its score is one more scorer input. Off under
    # graph "none" (``train --no-graph``: no message passing at all). Off by default: on the
    # development splits it moved one or two queries either way and, beside ``infra_views``,
    # ranked 6 of 60 control clusters first that no other model could (RESULTS.md, stop 15).
    encoder: str = "none"
    encoder_layers: int = 2
    # Share of the encoder's messages dropped in each training step.
    encoder_dropout: float = 0.1
    # Share of campaign views shown as new infrastructure would be: their indicators replaced
    # by the infrastructure they sit on (network, AS, registrar, name server), so the model
    # also learns from activity that shares only hosting habits with its actor. 0.5: seed 7
    # infrastructure split 0.817 -> 0.933 top-1, the rest of development equal or better; a
    # graph without such infrastructure trains exactly as at 0 (RESULTS.md, stop 15).
    infra_views: float = 0.5
    # Mini-batch training on large graphs: an episode draws about this many campaign queries
    # (``campaign_query_prob`` lowered to fit) when the labelled campaigns outnumber it, so an
    # episode's views, features and every step's cost stay bounded as the graph grows; below
    # it every episode is drawn exactly as without the bound. None: full batch at every size.
    batch_campaigns: int | None = 512


ENCODERS: tuple[str, ...] = ("none", "evidence")
GRAPH_MODES: tuple[str, ...] = ("full", "none", "only")
