"""Does one analyst decision teach the model a held-back actor? Measured on several demo worlds.

The protocol of ``tests/gnn/test_analyst_loop_demo.py``, repeated for every held-back actor of
every development world instead of the one the test picks:

1. Generate the demo world of the seed (``actorgraph demo``'s scale), load ATT&CK and the world's
   training bundles enriched, train as the demo does (``TrainConfig(seed=DEMO_SEED)``): the
   *before* model. Rank each held-back actor (label ``unseen_actor``, at least two activities)
   on each of its activities.
2. For each such actor in turn, on a fresh graph loaded the same way: store every held-back
   actor's first activity with the before model's hypotheses (``Attributor.persist``), record
   one analyst decision attributing this actor's first activity to it (``decide``), retrain:
   the *after* model. One decision per graph, so each actor's gain is its own decision's and the
   other held-back actors stay stored but undecided, which makes them the controls.
3. Measure the actor's rank and probability on each of its later activities before and after,
   and the controls' true-actor rank on each of their activities before and after: a control
   that reaches first place without a decision was learnt from something else (a leak).

A rank is the true actor's place among all candidates (``top_k=1000``); ``None`` when the model
does not rank it at all.

    .venv/bin/python benchmarks/analyst_loop.py [--seeds 7,11,23,31,47] [--scale small]
        [--home DIR] [--json]

Seed 1414 is the ablation world of ``actorgraph evaluate`` and is refused here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from actorgraph.commands.demo import DEMO_SEED
from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import load_activity
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.audit import AuditLog
from actorgraph.graph.decisions import Decider, decide
from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.store import GraphStore, StoreConfig, open_store
from actorgraph.graph.tlp import TLP
from actorgraph.world import generate_world, held_back_activities

CONFIG = TrainConfig(seed=DEMO_SEED)  # what `actorgraph demo` trains
RESERVED_SEEDS = frozenset({1414})  # the ablation world, kept out of development


@dataclass(frozen=True)
class Placing:
    """The true actor's rank (None: not ranked) and probability on one activity."""

    rank: int | None
    score: float


@dataclass
class ActorRun:
    """One held-back actor's decision and what it changed."""

    actor_id: str
    first: str
    first_before: Placing
    decision_model_rank: int | None
    later: dict[str, tuple[Placing, Placing]] = field(default_factory=dict)
    controls: dict[str, tuple[Placing, Placing]] = field(default_factory=dict)
    seconds: float = 0.0


def held_back(world: Path) -> dict[str, list[str]]:
    """The held-back actors' activities (``held_back_activities``) of actors with at least two:
    a single one leaves nothing later to measure."""
    return {a: rels for a, rels in held_back_activities(world).items() if len(rels) >= 2}


def load_world(home: Path, graph: str, world: Path, meta: dict[str, Any]) -> GraphStore:
    """A fresh graph holding ATT&CK and the world's training bundles, enriched, as the demo
    loads them."""
    store = open_store(StoreConfig(home=home, graph=graph))
    store.ensure_schema()
    ingest_attack(store)
    ingest_paths(store, [world / f for f in meta["files"]["train"]], max_tlp=TLP.RED, enrich=True)
    return store


def trained(store: GraphStore, models: Path) -> tuple[Attributor, str]:
    """Train on the whole graph (clearance red) and load the model bound to ``store``."""
    version = artefacts.save(train(export_graph(store, max_tlp=TLP.RED), CONFIG), models)
    return Attributor.load(models, store, version=version, max_tlp=TLP.RED), version


def placing(attributor: Attributor, world: Path, rel: str, actor: str) -> Placing:
    result = attributor.attribute(load_activity(world / rel), max_tlp=TLP.RED, top_k=1000)
    found = [(c.rank, c.score) for c in result.candidates if c.actor_id == actor]
    return Placing(*found[0]) if found else Placing(None, 0.0)


def store_firsts(
    attributor: Attributor, world: Path, actors: dict[str, list[str]]
) -> dict[str, str]:
    """Persist every held-back actor's first activity with the model's hypotheses; the
    campaign id per actor."""
    stored = {}
    for actor, rels in actors.items():
        activity = load_activity(world / rels[0])
        result = attributor.attribute(activity, max_tlp=TLP.RED, top_k=5)
        stored[actor] = attributor.persist(activity, result, max_tlp=TLP.RED)
    return stored


def one_decision(
    store: GraphStore,
    models: Path,
    audit: Path,
    world: Path,
    actors: dict[str, list[str]],
    actor: str,
    before: dict[tuple[str, str], Placing],
    before_version: str,
) -> ActorRun:
    """Steps 2-3 for ``actor`` on ``store`` (freshly loaded, nothing stored yet)."""
    t0 = time.perf_counter()
    base = Attributor.load(models, store, version=before_version, max_tlp=TLP.RED)
    stored = store_firsts(base, world, actors)
    made = decide(
        store,
        AuditLog(audit),
        Decider(decided_by="analyst-bench", key_id=None, max_tlp=TLP.RED, origin="benchmark"),
        campaign_id=stored[actor],
        decision="attribute",
        actor_id=actor,
        reason="the analyst recognised the actor's tooling",
        confidence=70,
    )
    after, _ = trained(store, models)
    run = ActorRun(actor, actors[actor][0], before[(actor, actors[actor][0])], made.model_rank)
    for rel in actors[actor][1:]:
        run.later[rel] = (before[(actor, rel)], placing(after, world, rel, actor))
    for other, rels in actors.items():
        if other != actor:
            for rel in rels:
                run.controls[rel] = (before[(other, rel)], placing(after, world, rel, other))
    run.seconds = time.perf_counter() - t0
    return run


def run_world(seed: int, scale: str, home: Path) -> dict[str, Any]:
    """The whole protocol on one world; the first actor reuses the graph the before model was
    trained on, the others get a fresh graph each."""
    t0 = time.perf_counter()
    work = home / f"seed{seed}"
    world, models = work / "world", work / "models"
    meta = generate_world(seed=seed, scale=scale).write(world)
    actors = held_back(world)
    store = load_world(home, f"loop-{seed}-0", world, meta)
    base, version = trained(store, models)
    before = {(a, rel): placing(base, world, rel, a) for a, rels in actors.items() for rel in rels}
    runs = []
    for i, actor in enumerate(actors):
        if i:
            store.close()
            store = load_world(home, f"loop-{seed}-{i}", world, meta)
        audit = work / f"audit-{i}.sqlite"
        runs.append(one_decision(store, models, audit, world, actors, actor, before, version))
        print(f"  seed {seed}: actor {i + 1}/{len(actors)} done", file=sys.stderr, flush=True)
    store.close()
    return {
        "seed": seed,
        "scale": scale,
        "actors": [asdict(r) for r in runs],
        "summary": summarise(runs),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _mean_rank(ranks: list[int | None]) -> float | None:
    ranked = [r for r in ranks if r is not None]
    return round(sum(ranked) / len(ranked), 2) if ranked else None


def _median_rank(ranks: list[int | None]) -> float | None:
    """The median with an unranked activity placed last."""
    ordered = sorted(ranks, key=lambda r: float("inf") if r is None else r)
    if not ordered:
        return None
    low, high = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    return None if low is None or high is None else (low + high) / 2


def summarise(runs: list[ActorRun]) -> dict[str, Any]:
    """Later activities first before/after, mean ranks (of those ranked at all), mean
    probability, and controls promoted to first place."""
    later = [pair for r in runs for pair in r.later.values()]
    controls = [pair for r in runs for pair in r.controls.values()]
    n = len(later)
    return {
        "actors": len(runs),
        "later": n,
        "first_before": sum(b.rank == 1 for b, _ in later),
        "first_after": sum(a.rank == 1 for _, a in later),
        "mean_rank_before": _mean_rank([b.rank for b, _ in later]),
        "mean_rank_after": _mean_rank([a.rank for _, a in later]),
        "median_rank_before": _median_rank([b.rank for b, _ in later]),
        "median_rank_after": _median_rank([a.rank for _, a in later]),
        "unranked_before": sum(b.rank is None for b, _ in later),
        "unranked_after": sum(a.rank is None for _, a in later),
        "mean_p_before": round(sum(b.score for b, _ in later) / n, 4) if n else None,
        "mean_p_after": round(sum(a.score for _, a in later) / n, 4) if n else None,
        "controls": len(controls),
        "controls_promoted": sum(a.rank == 1 and b.rank != 1 for b, a in controls),
        "controls_first_after": sum(a.rank == 1 for _, a in controls),
    }


def totals(worlds: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary over all worlds, from the per-actor records."""
    runs = [
        ActorRun(
            a["actor_id"],
            a["first"],
            Placing(**a["first_before"]),
            a["decision_model_rank"],
            {k: (Placing(**b), Placing(**x)) for k, (b, x) in a["later"].items()},
            {k: (Placing(**b), Placing(**x)) for k, (b, x) in a["controls"].items()},
        )
        for w in worlds
        for a in w["actors"]
    ]
    return summarise(runs)


def _fmt(rank: int | None) -> str:
    return "-" if rank is None else str(rank)


def format_tables(worlds: list[dict[str, Any]], total: dict[str, Any]) -> str:
    lines = []
    for w in worlds:
        lines.append(f"\nworld seed {w['seed']} ({w['scale']}, {w['seconds']} s)")
        lines.append("| actor | first (rank) | later: rank before -> after (p) | controls -> |")
        lines.append("|---|---|---|---|")
        for a in w["actors"]:
            later = ", ".join(
                f"{_fmt(b['rank'])}->{_fmt(x['rank'])} ({b['score']:.3f}->{x['score']:.3f})"
                for b, x in a["later"].values()
            )
            ctrl = ", ".join(
                f"{_fmt(b['rank'])}->{_fmt(x['rank'])}" for b, x in a["controls"].values()
            )
            first = f"{a['first']} ({_fmt(a['first_before']['rank'])})"
            lines.append(f"| {a['actor_id'][:22]} | {first} | {later} | {ctrl} |")
    rows = [(f"seed {w['seed']}", w["summary"]) for w in worlds] + [("total", total)]
    lines.append("")
    lines.append(
        "| world | actors | later | 1st before | 1st after | mean rank before | mean rank after "
        "| median before | median after | mean p before | mean p after | controls | promoted |"
    )
    lines.append("|---" * 13 + "|")
    for name, s in rows:
        lines.append(
            f"| {name} | {s['actors']} | {s['later']} | {s['first_before']} | {s['first_after']} "
            f"| {s['mean_rank_before']} | {s['mean_rank_after']} | {s['median_rank_before']} "
            f"| {s['median_rank_after']} | {s['mean_p_before']} "
            f"| {s['mean_p_after']} | {s['controls']} | {s['controls_promoted']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="7,11,23,31,47", help="world seeds, comma-separated")
    p.add_argument("--scale", default="small", help="world scale (the demo's: small)")
    p.add_argument("--home", type=Path, help="data directory (default: a temporary one)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if RESERVED_SEEDS & set(seeds):
        p.error(f"seeds {sorted(RESERVED_SEEDS)} are held out of development")
    from actorgraph.graph.store import embedded

    with tempfile.TemporaryDirectory(prefix="analyst-loop-") as tmp:
        home = args.home or Path(tmp)
        try:
            worlds = [run_world(seed, args.scale, home) for seed in seeds]
        finally:
            embedded.stop(home)
    total = totals(worlds)
    config = {"train_seed": DEMO_SEED, "scale": args.scale}
    report = {"config": config, "worlds": worlds, "total": total}
    print(json.dumps(report, indent=1) if args.json else format_tables(worlds, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
