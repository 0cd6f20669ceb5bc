"""Training at scale: full batch against mini-batch episodes, on a loaded demo world.

    python benchmarks/train_scale.py HOME WORLD [--bounds full 512 256] [--json OUT]

HOME is an actorgraph home holding a demo world (``actorgraph demo``, or ``ingest --bulk`` of a
``generate-world`` folder); WORLD is that world's folder (its held-out splits). The graph is
exported once at TLP:RED (``gnn.dataset.export_graph``, read page by page); then, for each bound,
one model is trained with the same seed (``TrainConfig.batch_campaigns``: ``full`` is None, the
full batch) and evaluated on the world's three held-out splits (``gnn.world_split``), the same
clusters for every bound. Printed per bound: training wall and CPU seconds (``getrusage``: the
machine may be shared), peak RSS so far, and top-1 / top-3 / MRR on every split.

``actorgraph train`` trains one such model per TLP level that has data (``gnn.clearances``);
its cost and peak memory are measured by ``benchmarks/scale.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.evaluate import evaluate_heldout
from actorgraph.gnn.train import train
from actorgraph.gnn.world_split import HELDOUT_SPLITS, load_heldout
from actorgraph.graph.enrich.warninglists import use_cache_dir
from actorgraph.graph.store import open_store
from actorgraph.graph.tlp import TLP
from actorgraph.settings import Settings


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(home: Path, world: Path, bounds: list[str]) -> dict[str, Any]:
    settings = Settings(home=home)
    use_cache_dir(settings.cache_dir())
    store = open_store(settings.store_config())
    try:
        t0, c0 = time.perf_counter(), _cpu()
        snap = export_graph(store, max_tlp=TLP.RED)
        export = {"wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(_cpu() - c0, 1)}
    finally:
        store.close()
    splits = {split: load_heldout(world, split) for split in HELDOUT_SPLITS}
    rows: dict[str, Any] = {}
    for bound in bounds:
        config = TrainConfig(batch_campaigns=None if bound == "full" else int(bound))
        t0, c0 = time.perf_counter(), _cpu()
        trained = train(snap, config)
        row: dict[str, Any] = {
            "train_wall_s": round(time.perf_counter() - t0, 1),
            "train_cpu_s": round(_cpu() - c0, 1),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
        for split, clusters in splits.items():
            metrics = evaluate_heldout(trained, clusters)["metrics"]["model"]
            row[split] = {k: metrics[k] for k in ("n", "top1", "top3", "mrr")}
        rows[bound] = row
        print(bound, json.dumps(row), flush=True)
    return {"export": export, "bounds": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("world", type=Path)
    parser.add_argument("--bounds", nargs="+", default=["full", "512"])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.home, args.world, args.bounds)
    print(f"export at red: {result['export']['wall_s']} s wall, {result['export']['cpu_s']} s CPU")
    print(
        "| bound | train wall s | train CPU s | peak RSS MB | " + " | ".join(HELDOUT_SPLITS) + " |"
    )
    print("|---|---:|---:|---:|" + "---|" * len(HELDOUT_SPLITS))
    for bound, row in result["bounds"].items():
        cells = [
            f"{row[s]['top1']:.3f} / {row[s]['top3']:.3f} / {row[s]['mrr']:.3f}"
            for s in HELDOUT_SPLITS
        ]
        print(
            f"| {bound} | {row['train_wall_s']} | {row['train_cpu_s']} | {row['peak_rss_mb']} | "
            + " | ".join(cells)
            + " |"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
