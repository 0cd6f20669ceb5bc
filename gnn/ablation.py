"""The yardstick: every attribution method on every split, side by side, with intervals.

Methods (``METHODS``): four that need no training (``overlap``, ``tfidf``, ``tfidf_context``,
``label_propagation``: ``gnn.baselines``), the model trained three ways (``MODEL_GRAPH``:
``no_graph``, ``graph_only`` and ``full`` are ``TrainConfig.graph`` "none", "only", "full",
each with the configuration's encoder) and ``gnn``: the learned graph part alone, the evidence
encoder (``gnn.propagation``) trained jointly with the full model, ranking by its own score.

Splits (``SPLITS``):

- ``attack_loco`` (development: it chose the defaults): each attributed ATT&CK campaign is
  removed from the graph, every model is retrained without it and its profile is attributed.
- ``demo_test``, ``infrastructure``, ``infrastructure_control`` (test): a demo world of a seed
  never used in development; the models are trained once on ATT&CK + the world's training
  bundle, then the world's held-out splits (``heldout``, ``heldout_infra``,
  ``heldout_infra_control``) are attributed; only clusters of actors the models know count.
- ``open_set``: whole actors are held out and every model is retrained without them (their
  nodes, hence their labels, and their attributed campaigns). Queries are the ATT&CK campaigns
  (all removed from that training, so a present actor's campaign is as new to the model as an
  absent one's) and the world's held-out clusters. ``auroc``: the unknown score of absent
  actors' queries (positives) against present actors' (negatives); ranking metrics on the
  present actors' queries. A model's unknown score is its "unknown" probability; a baseline's is
  minus its best actor score (nothing matches well: nobody we know).

Every query is an ``Activity`` handled as a user's would be: the models score it through
``Attributor.attribute``, the baselines the same linked entities (exact matches, the input's
own context, what a new indicator's enrichment names). Per method and split:
top-1, top-3, MRR (ties count against the method), a bootstrap interval of top-1 and the paired
wins and losses against ``no_graph`` (per query, a better or worse rank).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from actorgraph.gnn.activity import Activity, EntityLookup, link
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.baselines import (
    LabelPropagation,
    OverlapBaseline,
    TfidfBaseline,
    TfidfContextBaseline,
)
from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.evaluate import (
    attack_campaigns,
    auroc,
    bootstrap_ci,
    campaign_entities,
    map_folds,
    rank_of,
    wins_losses,
)
from actorgraph.gnn.features import EntitySpace
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.train import train
from actorgraph.gnn.world_split import load_heldout
from actorgraph.graph.errors import IngestError, ModelError
from actorgraph.graph.tlp import TLP

SPLITS: tuple[str, ...] = (
    "attack_loco",
    "demo_test",
    "infrastructure",
    "infrastructure_control",
    "open_set",
)
# The demo world's held-out split behind each test split (``gnn.world_split``).
WORLD_SPLITS: dict[str, str] = {
    "demo_test": "heldout",
    "infrastructure": "heldout_infra",
    "infrastructure_control": "heldout_infra_control",
}
BASELINES: tuple[str, ...] = ("overlap", "tfidf", "tfidf_context", "label_propagation")
MODEL_GRAPH: dict[str, str] = {"no_graph": "none", "graph_only": "only", "full": "full"}
ENCODER_ALONE = "gnn"
METHODS: tuple[str, ...] = (*BASELINES, *MODEL_GRAPH, ENCODER_ALONE)
REFERENCE = "no_graph"
OPEN_SET_ACTORS = 20
BOOTSTRAP_RESAMPLES = 1000

_TARGET_FIELD = {
    "indicator": "indicators",
    "infrastructure": "infrastructure",
    "malware": "malware",
    "tool": "tools",
    "technique": "techniques",
    "sector": "targets",
    "country": "targets",
}


@dataclass
class Query:
    """One activity to attribute and the actor behind it (a store id)."""

    activity: Activity
    truth: str


@dataclass
class WorldTest:
    """The test world: the graph the models train on and its held-out queries per split.

    Attributes:
        snapshot: ATT&CK + the world's training bundle.
        queries: split name (``WORLD_SPLITS`` keys) -> queries of actors in the snapshot; a
            split the world does not have is absent.
    """

    snapshot: GraphSnapshot
    queries: dict[str, list[Query]] = field(default_factory=dict)

    @classmethod
    def load(cls, snapshot: GraphSnapshot, world_dir: Path) -> WorldTest:
        """The test world of ``snapshot`` (ATT&CK + the training bundle of the world written
        in ``world_dir``) with that world's held-out splits, each kept to the clusters of
        actors the snapshot holds; a split the world was written without stays absent."""
        world = cls(snapshot)
        actors = snapshot.index("actor")
        for split, folder in WORLD_SPLITS.items():
            try:
                clusters = load_heldout(world_dir, folder)
            except IngestError:
                continue
            world.queries[split] = [Query(a, t) for a, t in clusters if t in actors]
        return world


@dataclass
class Outcome:
    """One method on one query: the true actor's rank (None: the actor is not a candidate)
    and the method's unknown score; for a model that reports signals, ``graph_share``: the
    share of the true actor's evidence (its ``Candidate.signals`` but the prior) that the
    graph's message passing added (None for baselines, or evidence summing to 0)."""

    rank: int | None
    unknown: float
    graph_share: float | None = None


Outcomes = dict[str, list[Outcome]]


def campaign_query(snap: GraphSnapshot, campaign: str) -> Query:
    """An attributed campaign of ``snap`` as new activity: its entities by store id."""
    activity = Activity(name=str(snap.props[campaign].get("name") or campaign))
    for entity in campaign_entities(snap, campaign):
        getattr(activity, _TARGET_FIELD[snap.props[entity]["type"]]).append(entity)
    return Query(activity, snap.labels()[campaign])


def score_queries(
    snap: GraphSnapshot,
    queries: Sequence[Query],
    methods: Sequence[str],
    config: TrainConfig,
    hubs: HubList,
) -> tuple[Outcomes, dict[str, str]]:
    """Train what needs training on ``snap`` and score every query with every method.

    Returns:
        Method -> one outcome per query, in order; and method -> error for a model that could
        not be trained (``ModelError``), which then has no outcomes.
    """
    actors = snap.nodes.get("actor", [])
    where = snap.index("actor")
    truths = [where.get(q.truth) for q in queries]
    out: Outcomes = {}
    errors: dict[str, str] = {}
    baselines = [m for m in methods if m in BASELINES]
    if baselines:
        space = EntitySpace.build(snap, hubs)
        lookup = EntityLookup(snap, space.ids)
        scorers = {m: _baseline(m, snap, space) for m in baselines}
        for m in baselines:
            out[m] = []
        for q, ti in zip(queries, truths, strict=True):
            linked = link(q.activity, lookup)
            # The entities the model is given (``Attributor.attribute``): matched, reached
            # through the input's own context, or named by a new indicator's enrichment.
            entities = sorted({space.pos[e] for e in linked.known()})
            for m, scorer in scorers.items():
                scores = np.asarray(scorer.scores(entities), dtype=float)
                best = float(scores.max()) if len(scores) else 0.0
                out[m].append(Outcome(_rank(scores, ti), -best))
    models: dict[str, Attributor | ModelError] = {}
    for m in methods:
        if m not in MODEL_GRAPH and m != ENCODER_ALONE:
            continue
        cfg = (
            replace(config, graph=MODEL_GRAPH[m])
            if m in MODEL_GRAPH
            else replace(config, graph="full", encoder="evidence")
        )
        key = repr(cfg)  # ``full`` and ``gnn`` share one training when the encoder is on
        if key not in models:
            try:
                models[key] = Attributor(train(snap, cfg, hubs), None)
            except ModelError as exc:
                models[key] = exc
        attributor = models[key]
        if isinstance(attributor, ModelError):
            errors[m] = str(attributor)
            continue
        out[m] = []
        if m == ENCODER_ALONE:
            space = attributor.trained.space
            for q, ti in zip(queries, truths, strict=True):
                linked = link(q.activity, attributor.lookup)
                entities = sorted({space.pos[e] for e in linked.known()})
                scores = attributor.scorer.evidence_scores([entities])[0]
                best = float(scores.max()) if len(scores) else 0.0
                out[m].append(Outcome(_rank(scores, ti), -best))
            continue
        for q, ti in zip(queries, truths, strict=True):
            result = attributor.attribute(
                q.activity, max_tlp=TLP.RED, top_k=max(1, len(actors)), evidence=False
            )
            scores = np.zeros(len(actors))
            for c in result.candidates:
                scores[where[c.actor_id]] = c.score
            truth = next((c for c in result.candidates if c.actor_id == q.truth), None)
            signals = None if truth is None else truth.signals
            share = None if signals is None else signals.share("graph")
            out[m].append(Outcome(_rank(scores, ti), float(result.unknown), share))
    return out, errors


def _baseline(
    method: str, snap: GraphSnapshot, space: EntitySpace
) -> OverlapBaseline | TfidfBaseline | TfidfContextBaseline | LabelPropagation:
    if method == "overlap":
        return OverlapBaseline(snap, space)
    if method == "tfidf":
        return TfidfBaseline(snap, space)
    if method == "tfidf_context":
        return TfidfContextBaseline(snap, space)
    return LabelPropagation(snap, space)


def _rank(scores: np.ndarray, truth: int | None) -> int | None:
    return None if truth is None else rank_of(scores, truth)


# -- splits --------------------------------------------------------------------------------------
def attack_loco(
    snap: GraphSnapshot,
    methods: Sequence[str],
    config: TrainConfig,
    hubs: HubList,
    campaigns: Sequence[str] | None = None,
    jobs: int = 1,
    log: Callable[[str], None] | None = None,
) -> tuple[Outcomes, dict[str, str]]:
    """Leave-one-campaign-out over the attributed ATT&CK campaigns (every model retrained per
    fold, in ``jobs`` worker processes)."""
    campaigns = list(attack_campaigns(snap) if campaigns is None else campaigns)
    done = [0]

    def progress(fold: tuple[str, Outcomes, dict[str, str]]) -> None:
        done[0] += 1
        if log:
            ranks = " ".join(f"{m} #{o[0].rank}" for m, o in fold[1].items())
            log(f"attack_loco {done[0]}/{len(campaigns)} {fold[0]}: {ranks}")

    folds = map_folds(_loco_fold, campaigns, (snap, tuple(methods), config, hubs), jobs, progress)
    out: Outcomes = {m: [] for m in methods}
    errors: dict[str, str] = {}
    for _, outcomes, errs in folds:
        errors.update(errs)
        for m, o in outcomes.items():
            out[m].extend(o)
    return {m: o for m, o in out.items() if m not in errors}, errors


def _loco_fold(
    shared: tuple[GraphSnapshot, tuple[str, ...], TrainConfig, HubList], campaign: str
) -> tuple[str, Outcomes, dict[str, str]]:
    snap, methods, config, hubs = shared
    query = campaign_query(snap, campaign)
    outcomes, errors = score_queries(
        snap.without_campaign(campaign), [query], methods, config, hubs
    )
    return query.activity.name, outcomes, errors


def held_out(
    world: WorldTest,
    splits: Sequence[str],
    methods: Sequence[str],
    config: TrainConfig,
    hubs: HubList,
) -> tuple[dict[str, Outcomes], dict[str, str]]:
    """The world's held-out splits, all scored by models trained once on the world's graph."""
    names = [s for s in splits if s in world.queries]
    queries = [q for s in names for q in world.queries[s]]
    outcomes, errors = score_queries(world.snapshot, queries, methods, config, hubs)
    per_split: dict[str, Outcomes] = {}
    start = 0
    for s in names:
        n = len(world.queries[s])
        per_split[s] = {m: o[start : start + n] for m, o in outcomes.items()}
        start += n
    return per_split, errors


def open_set(
    snap: GraphSnapshot,
    queries: Sequence[Query],
    methods: Sequence[str],
    config: TrainConfig,
    hubs: HubList,
    n_absent: int = OPEN_SET_ACTORS,
    seed: int = 0,
) -> tuple[Outcomes, dict[str, str], list[str]]:
    """Hold ``n_absent`` actors out (sampled with ``seed`` among the queries' actors), retrain
    without them and without the query campaigns, score every query.

    Returns:
        Outcomes (rank None for an absent actor's query), model errors, the absent actors.

    Raises:
        ModelError: fewer than ``n_absent + 1`` actors have queries (no present actor left).
    """
    candidates = sorted({q.truth for q in queries if q.truth in snap.index("actor")})
    if len(candidates) <= n_absent:
        raise ModelError(
            f"open set: {len(candidates)} actors have queries; holding out {n_absent} "
            "leaves no present actor to compare with"
        )
    rng = np.random.default_rng(seed)
    absent = sorted(rng.choice(candidates, size=n_absent, replace=False).tolist())
    fold = holdout_actors(snap, absent, attack_campaigns(snap))
    outcomes, errors = score_queries(fold, queries, methods, config, hubs)
    return outcomes, errors, absent


def holdout_actors(
    snap: GraphSnapshot, actors: Sequence[str], campaigns: Sequence[str] = ()
) -> GraphSnapshot:
    """A copy of ``snap`` without ``actors``, the campaigns attributed to them and
    ``campaigns``, and every edge touching any of them."""
    gone = set(actors)
    gone |= {c for c, a in snap.labels().items() if a in gone}
    gone |= set(campaigns)
    nodes, edges = snap.to_rows()
    return GraphSnapshot.from_rows(
        [n for n in nodes if n["id"] not in gone],
        [e for e in edges if e["src"] not in gone and e["dst"] not in gone],
        max_tlp=snap.max_tlp,
    )


# -- the whole run -------------------------------------------------------------------------------
def run_ablation(
    attack: GraphSnapshot | None,
    world: WorldTest | None,
    *,
    splits: Sequence[str] = SPLITS,
    methods: Sequence[str] = METHODS,
    config: TrainConfig | None = None,
    hubs: HubList | None = None,
    jobs: int = 1,
    n_absent: int = OPEN_SET_ACTORS,
    seed: int = 0,
    campaigns: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run ``methods`` over ``splits`` and summarise.

    Args:
        attack: the development graph (ATT&CK) for ``attack_loco``; None skips that split.
        world: the test world for the other splits; None skips them (``open_set`` needs it).
        splits, methods: subsets of ``SPLITS`` and ``METHODS``.
        config: the models' training configuration (its ``graph`` is set per method).
        hubs: the warning list (default: the packaged one).
        jobs: worker processes for the leave-one-campaign-out folds.
        n_absent: actors held out in ``open_set``.
        seed: draws the open set's absent actors and the bootstrap resamples.
        campaigns: restrict ``attack_loco`` to these campaigns (default: every ATT&CK one).
        log: progress lines (one per fold and per split).

    Returns:
        ``{"splits": {split: {method: metrics}}, "skipped": {what: why}, "seconds": {...}}``
        (seconds per split; the three world splits share one training, so one figure);
        ``open_set`` also holds ``auroc`` and ``n_absent`` (queries of absent actors) per
        method, and ``open_set_absent_actors`` the held-out actors.
    """
    for name, given, known in (("split", splits, SPLITS), ("method", methods, METHODS)):
        bad = [x for x in given if x not in known]
        if bad:
            raise ModelError(f"unknown {name}(s) {bad}; expected some of {list(known)}")
    config = config or TrainConfig()
    hubs = hubs or HubList.load()
    say = log or (lambda _: None)
    result: dict[str, Any] = {"splits": {}, "skipped": {}, "seconds": {}}

    def record(split: str, outcomes: Outcomes, errors: dict[str, str], t0: float) -> None:
        result["splits"][split] = summarise_split(outcomes, seed=seed)
        for m, why in errors.items():
            result["skipped"][f"{split}/{m}"] = why
        result["seconds"][split] = round(time.perf_counter() - t0, 1)
        say(f"{split}: done in {result['seconds'][split]} s")

    if "attack_loco" in splits:
        t0 = time.perf_counter()
        if attack is None:
            result["skipped"]["attack_loco"] = "no ATT&CK graph given"
        else:
            outcomes, errors = attack_loco(attack, methods, config, hubs, campaigns, jobs, log)
            record("attack_loco", outcomes, errors, t0)
    wanted = [s for s in WORLD_SPLITS if s in splits]
    if wanted and world is None:
        result["skipped"].update({s: "no test world given" for s in wanted})
    elif wanted:
        assert world is not None
        t0 = time.perf_counter()
        say(f"{', '.join(wanted)}: training on the test world's graph")
        per_split, errors = held_out(world, wanted, methods, config, hubs)
        for s in wanted:
            if s not in per_split:
                result["skipped"][s] = (
                    f"the test world has no {WORLD_SPLITS[s]!r} split (regenerate it with a "
                    "generator that writes one)"
                )
                continue
            record(s, per_split[s], errors, t0)
    if "open_set" in splits:
        t0 = time.perf_counter()
        if world is None:
            result["skipped"]["open_set"] = "no test world given"
        else:
            queries = [
                campaign_query(world.snapshot, c) for c in attack_campaigns(world.snapshot)
            ] + list(world.queries.get("demo_test", []))
            say(f"open_set: holding {n_absent} actors out, retraining")
            try:
                outcomes, errors, absent = open_set(
                    world.snapshot, queries, methods, config, hubs, n_absent, seed
                )
            except ModelError as exc:
                result["skipped"]["open_set"] = str(exc)
            else:
                record("open_set", outcomes, errors, t0)
                result["open_set_absent_actors"] = absent
    return result


# -- summaries -----------------------------------------------------------------------------------
def summarise_split(
    outcomes: Outcomes, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES
) -> dict[str, dict[str, Any]]:
    """Per method: n, top-1, top-3, MRR, top-1 interval, wins/losses and the top-1 gain
    (``top1_gain``) against ``REFERENCE``; for a model that reports signals, ``graph_share``
    (the mean share of the true actor's evidence that the graph added); with ``auroc`` when
    some queries' actors were absent (the open set)."""
    reference = outcomes.get(REFERENCE)
    open_set_split = any(o.rank is None for outs in outcomes.values() for o in outs)
    out: dict[str, dict[str, Any]] = {}
    for m in METHODS:
        if m not in outcomes:
            continue
        outs = outcomes[m]
        ranks = np.array([o.rank for o in outs if o.rank is not None], dtype=float)
        hits = (ranks == 1).astype(float)
        row: dict[str, Any] = {
            "n": len(ranks),
            "top1": _round(hits.mean()) if len(ranks) else None,
            "top3": _round((ranks <= 3).mean()) if len(ranks) else None,
            "mrr": _round((1.0 / ranks).mean()) if len(ranks) else None,
            "top1_ci": bootstrap_ci(hits.tolist(), resamples=resamples, seed=seed),
        }
        if reference is not None and m != REFERENCE:
            pairs = [
                (o.rank, r.rank)
                for o, r in zip(outs, reference, strict=True)
                if o.rank is not None and r.rank is not None
            ]
            row["vs_no_graph"] = wins_losses([p[0] for p in pairs], [p[1] for p in pairs])
            # What the graph adds on the same queries: on the infrastructure control it must
            # vanish, whatever the channels both share (the naming habits of new values) score.
            row["top1_gain"] = (
                _round(float(np.mean([(a == 1) - float(b == 1) for a, b in pairs])))
                if pairs
                else None
            )
        shares = [o.graph_share for o in outs if o.graph_share is not None]
        if shares:
            # How much of the true actor's evidence the graph carried (``Signals.share``).
            row["graph_share"] = _round(float(np.mean(shares)))
        if open_set_split:
            row["auroc"] = auroc(
                [o.unknown for o in outs if o.rank is None],
                [o.unknown for o in outs if o.rank is not None],
            )
            row["n_absent"] = sum(o.rank is None for o in outs)
        out[m] = row
    return out


def _round(x: float) -> float:
    return round(float(x), 4)


def format_ablation(result: dict[str, Any]) -> str:
    """The text table: one line per split and method."""
    lines = [
        f"{'split':<24}{'method':<19}{'n':>4}{'top1':>7}{'95% CI':>15}{'top3':>7}{'mrr':>7}"
        f"{'W/L vs no_graph':>17}{'auroc':>7}{'graph':>7}"
    ]
    for split, methods in result["splits"].items():
        for m, x in methods.items():
            ci, vs = x.get("top1_ci"), x.get("vs_no_graph")
            interval = f"[{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "-"
            paired = f"{vs['wins']}/{vs['losses']}" if vs else "-"
            lines.append(
                f"{split:<24}{m:<19}{x['n']:>4}{_f(x['top1'])}{interval:>15}"
                f"{_f(x['top3'])}{_f(x['mrr'])}{paired:>17}{_f(x.get('auroc'))}"
                f"{_f(x.get('graph_share'))}"
            )
        lines.append("")
    for what, why in result.get("skipped", {}).items():
        lines.append(f"skipped {what}: {why}")
    return "\n".join(lines).rstrip()


def _f(x: float | None, width: int = 7) -> str:
    return f"{'-':>{width}}" if x is None else f"{x:>{width}.3f}"
