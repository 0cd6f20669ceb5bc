"""Splits and metrics: the model and both baselines on the same queries, side by side.

- ``leave_one_campaign_out``: for every MITRE ATT&CK attributed campaign (``external_id``
  C0xxx), drop the campaign from the graph, train on everything else (other campaigns
  included), and attribute its profile as new activity. The same fold, with the true actor
  hidden from the candidates, measures "unknown": activity of an actor the model cannot name.
- ``evaluate_heldout``: held-out clusters (the demo world's), attributed by an already trained
  model; truth ``"unknown"`` means an actor absent from training.

Metrics: top-1, top-3, MRR (ties count against the model: rank = 1 + #better + #equal others),
macro-F1 of the top-1 label, ECE of the model's top-1 confidence, mean unknown score on known
vs removed actors and the AUROC of unknown separating them; bootstrap intervals and paired
wins/losses for comparing two methods on the same queries. ``map_folds`` runs independent folds
in worker processes.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from actorgraph.gnn.activity import Activity, EntityLookup, link
from actorgraph.gnn.baselines import OverlapBaseline, TfidfBaseline
from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import cluster_items
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.scoring import Scorer
from actorgraph.gnn.train import train
from actorgraph.gnn.trained import Trained

METHODS = ("model", "tfidf", "overlap")
T = TypeVar("T")
R = TypeVar("R")


def rank_of(scores: np.ndarray, truth: int) -> int:
    """Pessimistic rank of the true actor (ties count against it)."""
    s = scores[truth]
    return int(1 + (scores > s).sum() + ((scores == s).sum() - 1))


def attack_campaigns(snap: GraphSnapshot) -> list[str]:
    """Attributed campaigns that come from MITRE ATT&CK (external id C0001...)."""
    labels = snap.labels()
    return sorted(c for c in labels if str(snap.props[c].get("external_id") or "").startswith("C0"))


def analyst_campaigns(snap: GraphSnapshot) -> list[str]:
    """Attributed campaigns whose attribution an analyst decided (``graph.decisions``)."""
    labels = snap.labels()
    return sorted(c for c in snap.analyst_labelled if c in labels)


def summarise(
    ranks: list[int], preds: list[str], truths: list[str], confidences: list[float] | None = None
) -> dict[str, Any]:
    """top-1, top-3, MRR, macro-F1 (and ECE when confidences are given)."""
    from sklearn.metrics import f1_score

    r = np.array(ranks, dtype=float)
    out: dict[str, Any] = {
        "n": len(r),
        "top1": round(float((r == 1).mean()), 4) if len(r) else None,
        "top3": round(float((r <= 3).mean()), 4) if len(r) else None,
        "mrr": round(float((1.0 / r).mean()), 4) if len(r) else None,
        "macro_f1": round(
            float(
                f1_score(
                    truths, preds, labels=sorted(set(truths)), average="macro", zero_division=0
                )
            ),
            4,
        )
        if len(r)
        else None,
    }
    if confidences is not None and len(r):
        conf = np.array(confidences)
        correct = (r == 1).astype(float)
        ece, edges = 0.0, np.linspace(0, 1, 11)
        for lo, hi in itertools.pairwise(edges):
            sel = (conf > lo) & (conf <= hi)
            if sel.any():
                ece += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
        out["ece"] = round(float(ece), 4)
    return out


def auroc(positive: list[float], negative: list[float]) -> float | None:
    """Probability that a random positive scores above a random negative (ties half)."""
    if not positive or not negative:
        return None
    p, n = np.array(positive)[:, None], np.array(negative)[None, :]
    return round(float((p > n).mean() + 0.5 * (p == n).mean()), 4)


def leave_one_campaign_out(
    snap: GraphSnapshot,
    config: TrainConfig | None = None,
    hubs: HubList | None = None,
    campaigns: list[str] | None = None,
    log: Callable[[str], None] | None = None,
    jobs: int = 1,
    split: str = "attack-loco",
) -> dict[str, Any]:
    """Run the LOCO split; returns per-method metrics, unknown behaviour, per-fold rows, timing.

    ``campaigns`` defaults to ATT&CK's attributed campaigns; ``split`` names the result (e.g.
    ``analyst-loco`` over ``analyst_campaigns``).

    ``jobs`` > 1 trains the folds in that many worker processes (each fold is independent and
    single-threaded on graphs this small): the same rows, in campaign order, in about 1/jobs of
    the time; the numbers do not depend on ``jobs``.
    """
    config = config or TrainConfig()
    hubs = hubs or HubList.load()
    campaigns = attack_campaigns(snap) if campaigns is None else campaigns
    folds = map_folds(
        _loco_work, campaigns, (snap, config, hubs), jobs, lambda row: _log_fold(row, log)
    )
    return {**summarise_loco(folds), "split": split}


def map_folds(
    work: Callable[[Any, T], R],
    items: Sequence[T],
    shared: Any,
    jobs: int = 1,
    on_result: Callable[[R], None] | None = None,
) -> list[R]:
    """``work(shared, item)`` for every item, results in item order.

    With ``jobs`` > 1 the items run in that many worker processes; ``shared`` (the snapshot,
    the configuration) is sent once per worker, not once per item, and ``work`` must be a
    module-level function. ``on_result`` sees each result as it arrives, in order.
    """
    out: list[R] = []
    if jobs > 1 and len(items) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: a child forked after torch ran a parallel op hangs in its first op
        # (the OpenMP pool is not fork-safe: a test run blocked in query_normalise that way).
        with ProcessPoolExecutor(
            min(jobs, len(items)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_set_shared,
            initargs=(shared,),
        ) as pool:
            for result in pool.map(functools.partial(_work_in_worker, work), items):
                out.append(result)
                if on_result:
                    on_result(result)
    else:
        for item in items:
            out.append(work(shared, item))
            if on_result:
                on_result(out[-1])
    return out


def loco_fold(
    snap: GraphSnapshot, campaign: str, config: TrainConfig, hubs: HubList
) -> dict[str, Any]:
    """One fold: train without ``campaign``, attribute its profile; the fold's row."""
    truth = snap.labels()[campaign]
    fold = snap.without_campaign(campaign)
    t0 = time.perf_counter()
    trained = train(fold, config, hubs)
    train_seconds = time.perf_counter() - t0
    entities = [
        fold_id for fold_id in campaign_entities(snap, campaign) if fold_id in trained.space.pos
    ]
    q = [trained.space.pos[e] for e in entities]
    actors = fold.nodes["actor"]
    ti = fold.index("actor")[truth]
    scorer = Scorer(trained)
    probs = scorer.probabilities([q])[0]
    hidden = np.zeros(len(actors), dtype=bool)
    hidden[ti] = True
    removed = scorer.probabilities([q], hidden_actors=hidden)[0]
    row: dict[str, Any] = {
        "campaign": snap.props[campaign].get("name"),
        "truth": snap.props[truth].get("name"),
        "n_entities": len(q),
        "truth_id": truth,
    }
    for m, scores in (
        ("model", probs[:-1]),
        ("tfidf", TfidfBaseline(fold, trained.space).scores(q)),
        ("overlap", OverlapBaseline(fold, trained.space).scores(q)),
    ):
        row[f"{m}_rank"] = rank_of(scores, ti)
        row[f"{m}_top"] = actors[int(np.argmax(scores))]
    row["confidence"] = float(probs[:-1].max())
    row["unknown"] = round(float(probs[-1]), 4)
    row["unknown_if_removed"] = round(float(removed[-1]), 4)
    row["train_seconds"] = round(train_seconds, 2)
    return row


def summarise_loco(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """The LOCO result (metrics per method, unknown behaviour, timing) from fold rows."""
    truths = [f["truth_id"] for f in folds]
    metrics = {
        m: summarise(
            [f[f"{m}_rank"] for f in folds],
            [f[f"{m}_top"] for f in folds],
            truths,
            [f["confidence"] for f in folds] if m == "model" else None,
        )
        for m in METHODS
    }
    unk_known = [f["unknown"] for f in folds]
    unk_removed = [f["unknown_if_removed"] for f in folds]
    train_times = [f["train_seconds"] for f in folds]
    return {
        "split": "attack-loco",
        "metrics": metrics,
        "unknown": {
            "mean_when_actor_known": round(float(np.mean(unk_known)), 4) if unk_known else None,
            "mean_when_actor_removed": (
                round(float(np.mean(unk_removed)), 4) if unk_removed else None
            ),
            "auroc_removed_vs_known": auroc(unk_removed, unk_known),
        },
        "train_seconds_mean": round(float(np.mean(train_times)), 2) if train_times else None,
        "folds": folds,
    }


def bootstrap_ci(
    values: Sequence[float], resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> list[float] | None:
    """Percentile bootstrap interval of a mean (queries resampled with replacement).

    Deterministic for a seed; ``None`` without values.
    """
    x = np.asarray(values, dtype=float)
    if not len(x):
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(means, [tail, 100.0 - tail])
    return [round(float(lo), 4), round(float(hi), 4)]


def wins_losses(ranks: Sequence[int], reference: Sequence[int]) -> dict[str, int]:
    """Paired comparison per query: ``wins`` where the rank is better (smaller) than the
    reference's on the same query, ``losses`` where worse, ``ties`` where equal."""
    if len(ranks) != len(reference):
        raise ValueError(f"paired ranks differ in length ({len(ranks)} vs {len(reference)})")
    r, ref = np.asarray(ranks), np.asarray(reference)
    return {
        "wins": int((r < ref).sum()),
        "losses": int((r > ref).sum()),
        "ties": int((r == ref).sum()),
    }


_SHARED: Any = None


def _set_shared(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _work_in_worker(work: Callable[[Any, T], R], item: T) -> R:
    return work(_SHARED, item)


def _loco_work(shared: tuple[GraphSnapshot, TrainConfig, HubList], campaign: str) -> dict[str, Any]:
    snap, config, hubs = shared
    return loco_fold(snap, campaign, config, hubs)


def _log_fold(row: dict[str, Any], log: Callable[[str], None] | None) -> None:
    if log:
        log(
            f"{row['campaign']:<40} truth {row['truth']:<24} model #{row['model_rank']:<4} "
            f"tfidf #{row['tfidf_rank']:<4} overlap #{row['overlap_rank']}"
        )


def evaluate_heldout(trained: Trained, clusters: list[tuple[Activity, str]]) -> dict[str, Any]:
    """Attribute held-out clusters with a trained model; truth is an actor id or ``"unknown"``.

    Known-actor clusters give the ranking metrics; ``"unknown"`` clusters give the unknown
    behaviour (mean unknown score, AUROC against the known ones).
    """
    lookup = EntityLookup(trained.snapshot, trained.space.ids)
    scorer = Scorer(trained)
    fold = trained.snapshot
    space = trained.space
    tfidf, overlap = TfidfBaseline(fold, space), OverlapBaseline(fold, space)
    actors = fold.nodes["actor"]
    aidx = fold.index("actor")
    ranks: dict[str, list[int]] = {m: [] for m in METHODS}
    preds: dict[str, list[str]] = {m: [] for m in METHODS}
    truths: list[str] = []
    conf: list[float] = []
    unk_known: list[float] = []
    unk_unknown: list[float] = []
    for activity, truth in clusters:
        linked = link(activity, lookup)
        # What ``Attributor.attribute`` gives the scorer (at clearance red, nothing hidden).
        q = sorted({space.pos[e] for e in linked.known()})
        probs = scorer.probabilities([q], new_values=[linked.new_indicators()])[0]
        if truth not in aidx:
            unk_unknown.append(float(probs[-1]))
            continue
        unk_known.append(float(probs[-1]))
        ti = aidx[truth]
        for m, scores in (
            ("model", probs[:-1]),
            ("tfidf", tfidf.scores(q)),
            ("overlap", overlap.scores(q)),
        ):
            ranks[m].append(rank_of(scores, ti))
            preds[m].append(actors[int(np.argmax(scores))])
        truths.append(truth)
        conf.append(float(probs[:-1].max()))
    return {
        "split": "heldout",
        "metrics": {
            m: summarise(ranks[m], preds[m], truths, conf if m == "model" else None)
            for m in METHODS
        },
        "unknown": {
            "n_unknown_clusters": len(unk_unknown),
            "mean_when_actor_known": round(float(np.mean(unk_known)), 4) if unk_known else None,
            "mean_when_actor_unknown": (
                round(float(np.mean(unk_unknown)), 4) if unk_unknown else None
            ),
            "auroc_unknown_vs_known": auroc(unk_unknown, unk_known),
        },
    }


def campaign_entities(snap: GraphSnapshot, campaign: str) -> list[str]:
    """The entity ids a campaign uses, targets or is indicated by (its profile as a query)."""
    from actorgraph.gnn.features import EntitySpace

    space = EntitySpace.build(snap, HubList())
    row = cluster_items(snap, space, "campaign")[snap.index("campaign")[campaign]]
    return [space.ids[j] for j in row.indices]


def format_table(results: list[dict[str, Any]]) -> str:
    """Side-by-side text table of the splits' metrics."""
    lines = [
        f"{'split':<14}{'method':<10}{'n':>4}{'top1':>8}{'top3':>8}{'mrr':>8}"
        f"{'macroF1':>9}{'ece':>8}"
    ]
    for res in results:
        for m in METHODS:
            x = res["metrics"][m]
            lines.append(
                f"{res['split']:<14}{m:<10}{x['n']:>4}{_f(x['top1'])}{_f(x['top3'])}"
                f"{_f(x['mrr'])}{_f(x['macro_f1'], 9)}{_f(x.get('ece'))}"
            )
        u = res.get("unknown") or {}
        lines.append(f"{'':<14}unknown: " + ", ".join(f"{k}={v}" for k, v in u.items()))
    return "\n".join(lines)


def _f(x: float | None, width: int = 8) -> str:
    return f"{'-':>{width}}" if x is None else f"{x:>{width}.3f}"
