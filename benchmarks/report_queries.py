"""Attribute a labelled query set with training variants, in process (development protocol).

A query set is a directory with ``queries/*.json`` (STIX bundles or simple JSON, what
``actorgraph attribute`` reads) and ``answers.json`` (query file name -> its actor: ``actor_id``,
``actor_name``, ``actor_aliases`` and any other ``*_names`` list or ``mitre_group``). ``HOME``
holds the training graph, loaded as a user would (``actorgraph ingest --attack``, then the
training bundle). For every ``--variant`` and seed the model is trained on that graph
(``gnn.train.train``, as ``actorgraph train`` trains its RED model) and every query attributed
through ``Attributor.attribute``; a query's rank is that of its first correct candidate (the
answer's id, or one of its names with case and punctuation ignored), and the mean share of the
correct candidate's evidence that the graph added (``Signals.share``). Training and attribution
run in one process: a variant costs seconds per seed instead of a CLI round per seed.

    .venv/bin/python benchmarks/report_queries.py HOME SET_DIR [SET_DIR ...]
        [--seeds 7,8,9,10,11] [--variant shipped] [--variant no_graph:graph=none]
        [--variant fast:lr=0.1,epochs=30] [--json]

Without ``--variant``: the defaults and ``graph=none`` (``train --no-graph``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from config_overrides import variant  # sibling script (run from benchmarks/)

from actorgraph.gnn.activity import Activity, load_activity
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.store import StoreConfig, open_store
from actorgraph.graph.tlp import TLP

DEFAULT_VARIANTS = ("shipped", "no_graph:graph=none")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def names_of(answer: dict[str, Any]) -> set[str]:
    """Every name an answer gives its actor, normalised."""
    out = {answer.get("actor_name"), answer.get("mitre_group")}
    for key, value in answer.items():
        if key.endswith(("aliases", "names")) and isinstance(value, list):
            out.update(value)
    return {_norm(n) for n in out if isinstance(n, str) and n}


def rank(result: AttributionResult, answer: dict[str, Any]) -> int | None:
    """The rank of the first correct candidate, None when none is."""
    names = names_of(answer)
    for c in result.candidates:
        if c.actor_id == answer.get("actor_id") or _norm(c.name) in names:
            return c.rank
    return None


def graph_share(result: AttributionResult, truth_rank: int | None) -> float | None:
    """The share of the correct candidate's evidence that the graph added (``Signals.share``);
    None when it is not listed or reports no signals."""
    truth = next((c for c in result.candidates if c.rank == truth_rank), None)
    return None if truth is None or truth.signals is None else truth.signals.share("graph")


def load_set(folder: Path) -> list[tuple[str, Activity, dict[str, Any]]]:
    answers = json.loads((folder / "answers.json").read_text())
    return [
        (p.name, load_activity(str(p)), answers[p.name])
        for p in sorted((folder / "queries").glob("*.json"))
        if p.name in answers
    ]


def summary(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "top1": sum(r == 1 for r in ranks) / n,
        "top3": sum(r is not None and r <= 3 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--seeds", default="7,8,9,10,11")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:FIELD=VALUE,...")
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="one JSON line per variant and seed")
    args = ap.parse_args()
    try:
        variants = [variant(v) for v in args.variant or DEFAULT_VARIANTS]
    except ValueError as exc:
        ap.error(f"--variant {exc}")
    seeds = [int(s) for s in args.seeds.split(",")]
    store = open_store(StoreConfig(home=args.home))
    snap = export_graph(store, max_tlp=TLP.RED)
    sets = {folder.name: load_set(folder) for folder in args.sets}
    for name, config in variants:
        per_seed: dict[str, list[dict[str, float]]] = {s: [] for s in sets}
        for seed in seeds:
            trained = train(snap, TrainConfig(**{**config, "seed": seed}))
            attributor = Attributor(trained, store)
            row: dict[str, Any] = {"variant": name, "seed": seed}
            for set_name, queries in sets.items():
                results = {
                    q: attributor.attribute(a, max_tlp=TLP.RED, top_k=args.top_k)
                    for q, a, _ in queries
                }
                ranks = {q: rank(results[q], ans) for q, _, ans in queries}
                shares = [graph_share(results[q], r) for q, r in ranks.items()]
                known = [x for x in shares if x is not None]
                row[set_name] = {
                    **summary(list(ranks.values())),
                    "graph_share": sum(known) / (len(known) or 1),
                    "ranks": ranks,
                }
                per_seed[set_name].append(row[set_name])
            if args.json:
                print(json.dumps(row), flush=True)
        for set_name, rows in per_seed.items():
            top1 = " / ".join(f"{r['top1']:.3f}" for r in rows)
            keys = ("top1", "top3", "mrr", "graph_share")
            means = {k: sum(r[k] for r in rows) / len(rows) for k in keys}
            print(
                f"{name:>16s} {set_name:>10s}  top-1 per seed {top1}  mean top-1 "
                f"{means['top1']:.3f} top-3 {means['top3']:.3f} MRR {means['mrr']:.3f} "
                f"graph share {means['graph_share']:.3f}",
                file=sys.stderr if args.json else sys.stdout,
                flush=True,
            )
    store.close()


if __name__ == "__main__":
    main()
