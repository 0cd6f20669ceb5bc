"""The demo worlds' held-out splits for training variants, in process (development protocol).

For every ``--worlds`` seed: a scratch graph in ``HOME`` gets ATT&CK and the world's training
bundle (generated, enriched, as ``actorgraph evaluate --ablation`` loads its test world), then
every ``--variant`` trains the full model once (``gnn.ablation.held_out``, the code of the
ablation) and attributes the world's ``demo_test``, ``infrastructure`` and
``infrastructure_control`` clusters. Top-1 per world and split, their means, and the mean share
of the true actor's evidence that the graph added (``Signals.share``). Use it on
development seeds (the defaults), never on the test world (``ABLATION_WORLD_SEED``).

    .venv/bin/python benchmarks/world_splits.py HOME [--worlds 7,11,23,31,47]
        [--variant shipped] [--variant slow:lr=0.02] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from config_overrides import variant  # sibling script (run from benchmarks/)

from actorgraph.commands.evaluate import ABLATION_WORLD_SEED
from actorgraph.gnn.ablation import WORLD_SPLITS, WorldTest, held_out
from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.hubs import HubList
from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.store import StoreConfig, open_store
from actorgraph.graph.tlp import TLP
from actorgraph.world import generate_world

SPLITS = tuple(WORLD_SPLITS)


def load_world(home: Path, seed: int, scale: str) -> WorldTest:
    """ATT&CK + the world's training bundle, exported, with its held-out clusters."""
    store = open_store(StoreConfig(home=home, graph=f"world{seed}"))
    try:
        store.clear()
        store.ensure_schema()
        ingest_attack(store)
        folder = home / f"world-{seed}-{scale}"
        meta = generate_world(seed=seed, scale=scale).write(folder)
        files = [folder / f for f in meta["files"]["train"]]
        ingest_paths(store, files, max_tlp=TLP.RED, enrich=True)
        return WorldTest.load(export_graph(store, max_tlp=TLP.RED), folder)
    finally:
        store.clear()
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--worlds", default="7,11,23,31,47")
    ap.add_argument("--scale", default="small")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:FIELD=VALUE,...")
    ap.add_argument("--json", action="store_true", help="one JSON line per variant and world")
    args = ap.parse_args()
    try:
        variants = [variant(v) for v in args.variant or ["shipped"]]
    except ValueError as exc:
        ap.error(f"--variant {exc}")
    worlds = [int(s) for s in args.worlds.split(",")]
    if ABLATION_WORLD_SEED in worlds:
        ap.error(f"world {ABLATION_WORLD_SEED} is the test world: development runs stay off it")
    args.home.mkdir(parents=True, exist_ok=True)
    hubs = HubList.load()
    top1: dict[str, dict[str, list[float]]] = {n: {s: [] for s in SPLITS} for n, _ in variants}
    shares: dict[str, dict[str, list[float]]] = {n: {s: [] for s in SPLITS} for n, _ in variants}
    for seed in worlds:
        world = load_world(args.home, seed, args.scale)
        for name, config in variants:
            per_split, _ = held_out(world, SPLITS, ["full"], TrainConfig(**config), hubs)
            row: dict[str, Any] = {"variant": name, "world": seed}
            for split in SPLITS:
                outcomes = per_split.get(split, {}).get("full", [])
                ranks = [o.rank for o in outcomes]
                row[split] = {
                    "top1": sum(r == 1 for r in ranks) / (len(ranks) or 1),
                    "ranks": ranks,
                    "graph_share": [o.graph_share for o in outcomes],
                }
                top1[name][split].append(row[split]["top1"])
                shares[name][split] += [
                    o.graph_share for o in outcomes if o.graph_share is not None
                ]
            if args.json:
                print(json.dumps(row), flush=True)
    out = sys.stderr if args.json else sys.stdout
    for name, splits in top1.items():
        for split, values in splits.items():
            each = " / ".join(f"{v:.3f}" for v in values)
            share = shares[name][split]
            print(
                f"{name:>16s} {split:>24s}  top-1 per world {each}  mean "
                f"{sum(values) / len(values):.3f}  graph share of the truth's evidence "
                f"{sum(share) / (len(share) or 1):.3f} (n={len(share)})",
                file=out,
            )


if __name__ == "__main__":
    main()
