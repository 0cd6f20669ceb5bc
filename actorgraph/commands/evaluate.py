"""``actorgraph evaluate``: the model and the built-in baselines on the same splits, side by side.

Splits: leave-one-campaign-out over MITRE ATT&CK's attributed campaigns in the store, and, with
``--heldout DIR``, a demo world's held-out clusters (``DIR/heldout/*.json`` +
``DIR/heldout_labels.json``) attributed by the latest model. Both evaluate at clearance ``red``
(the whole graph, the latest version's ``red`` model): an operator's measurement, never shown
to a key.

With ``--ablation``: the yardstick (``gnn.ablation``), every baseline and the model trained three
ways, on ATT&CK's campaigns (development) and on a demo world of a seed development never used
(``ABLATION_WORLD_SEED``; test). It builds its own graphs from packaged data in a scratch graph
of the embedded store under the home (``ABLATION_GRAPH``, emptied before and after), whatever
store the settings name: the numbers do not depend on what the operator has loaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# A demo-world seed development never used (the demo and every tuning run use 7).
ABLATION_WORLD_SEED = 1414
ABLATION_GRAPH = "ablation-scratch"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="model vs TF-IDF and overlap baselines on the same splits")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--epochs", type=int, default=None, help="training epochs per fold (default: config)"
    )
    p.add_argument(
        "--heldout",
        type=Path,
        default=None,
        help="demo world directory with heldout/*.json and heldout_labels.json",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="train the leave-one-out folds in N processes (same numbers, ~1/N the time)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--ablation",
        action="store_true",
        help="the yardstick: baselines and the model with/without the graph on all splits",
    )
    p.add_argument(
        "--splits",
        default=None,
        help="with --ablation: comma-separated subset of attack_loco, demo_test, infrastructure, "
        "infrastructure_control, open_set (default: all)",
    )
    p.add_argument(
        "--methods",
        default=None,
        help="with --ablation: comma-separated subset of overlap, tfidf, tfidf_context, "
        "label_propagation, no_graph, graph_only, gnn (the learned graph part alone), full "
        "(default: all)",
    )
    p.add_argument(
        "--world-seed",
        type=int,
        default=ABLATION_WORLD_SEED,
        help=f"with --ablation: the test world's seed (default {ABLATION_WORLD_SEED})",
    )
    p.add_argument(
        "--scale", default="small", help="with --ablation: the test world's size (default small)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    if args.ablation:
        return run_ablation(args, ctx)
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.evaluate import analyst_campaigns, format_table, leave_one_campaign_out
    from actorgraph.gnn.train import TrainConfig
    from actorgraph.graph.tlp import TLP

    snap = export_graph(ctx.store(), max_tlp=TLP.RED)
    log = None if args.json else (lambda line: print(line, file=sys.stderr))
    config = TrainConfig(seed=args.seed)
    if args.epochs is not None:
        config.epochs = args.epochs
    results = [leave_one_campaign_out(snap, config, log=log, jobs=max(1, args.jobs))]
    # Activity an analyst decided is reported apart: how the model does on what people judged.
    decided = analyst_campaigns(snap)
    if decided:
        results.append(
            leave_one_campaign_out(
                snap,
                config,
                campaigns=decided,
                log=log,
                jobs=max(1, args.jobs),
                split="analyst-loco",
            )
        )
    if args.heldout is not None:
        from actorgraph.gnn import artefacts
        from actorgraph.gnn.evaluate import evaluate_heldout
        from actorgraph.gnn.world_split import load_heldout

        trained = artefacts.load(ctx.settings.home / "models", max_tlp=TLP.RED)
        results.append(evaluate_heldout(trained, load_heldout(args.heldout)))
    if args.json:
        ctx.out(results)
    else:
        ctx.out(format_table(results))
    return 0


def run_ablation(args: argparse.Namespace, ctx) -> int:
    from actorgraph.gnn.ablation import METHODS, SPLITS, WORLD_SPLITS, format_ablation
    from actorgraph.gnn.ablation import run_ablation as ablate
    from actorgraph.gnn.train import TrainConfig

    splits = _subset("split", args.splits, SPLITS)
    methods = _subset("method", args.methods, METHODS)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    config = TrainConfig(seed=args.seed)
    if args.epochs is not None:
        config.epochs = args.epochs
    need_world = any(s in splits for s in (*WORLD_SPLITS, "open_set"))
    attack, world = _ablation_graphs(ctx, args, need_world, log)
    result = ablate(
        attack if "attack_loco" in splits else None,
        world,
        splits=splits,
        methods=methods,
        config=config,
        jobs=max(1, args.jobs),
        seed=args.seed,
        log=log,
    )
    result["world"] = {"seed": args.world_seed, "scale": args.scale}
    if args.json:
        ctx.out(result)
    else:
        ctx.out(f"test world: seed {args.world_seed}, scale {args.scale}\n")
        ctx.out(format_ablation(result))
    return 0


def _subset(what: str, given: str | None, known: tuple[str, ...]) -> list[str]:
    """A comma-separated choice among ``known`` (all of them when not given)."""
    from actorgraph.graph.errors import ValidationError

    if not given:
        return list(known)
    chosen = [x.strip() for x in given.split(",") if x.strip()]
    bad = [x for x in chosen if x not in known]
    if bad:
        raise ValidationError(f"unknown {what}(s) {bad}; expected some of {list(known)}")
    return chosen


def _ablation_graphs(ctx, args: argparse.Namespace, need_world: bool, log) -> tuple[Any, Any]:
    """ATT&CK alone, and ATT&CK + the test world's training bundle with its held-out queries,
    loaded through the ordinary ingest path into a scratch graph."""
    from actorgraph.gnn.ablation import WorldTest
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.graph.store import StoreConfig, open_store
    from actorgraph.graph.tlp import TLP

    store = open_store(StoreConfig(home=ctx.settings.home, graph=ABLATION_GRAPH))
    try:
        store.clear()
        store.ensure_schema()
        log("ablation: loading MITRE ATT&CK into a scratch graph")
        ingest_attack(store)
        attack = export_graph(store, max_tlp=TLP.RED)
        if not need_world:
            return attack, None
        from actorgraph.world import generate_world

        world_dir = ctx.settings.home / "world" / f"ablation-seed{args.world_seed}-{args.scale}"
        log(f"ablation: test world seed {args.world_seed}, scale {args.scale}, in {world_dir}")
        meta = generate_world(seed=args.world_seed, scale=args.scale).write(world_dir)
        files = [world_dir / f for f in meta["files"]["train"]]
        ingest_paths(store, files, max_tlp=TLP.RED, enrich=True)  # as `actorgraph ingest` does
        # A split the world lacks is absent from the queries and reported as skipped.
        return attack, WorldTest.load(export_graph(store, max_tlp=TLP.RED), world_dir)
    finally:
        store.clear()
        store.close()
