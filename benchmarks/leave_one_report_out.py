"""Leave one report out of a labelled STIX bundle: every report a query, as a full and as an
IOC-only activity, for the full model and ``--no-graph`` (development protocol).

The Unit 42 development split holds out one report per actor (19 queries); this reads its
training bundle instead and, for every campaign of an actor with at least two, builds a fold
graph (ATT&CK plus the bundle without the campaign and without the indicators that indicate it
alone, enriched as ``actorgraph ingest`` does), trains the model of each ``--modes`` at
``--seed``, and attributes the campaign the way ``actorgraph attribute`` does (a STIX bundle
through ``Attributor.attribute``): once with its indicators, software and techniques, once with
its indicators only (``benchmarks/ioc_only.py``). One JSON line per fold: the true actor's
rank per model and query form (None: not ranked). ``--worker K/N`` runs every N-th fold from
the K-th, so that N processes share the folds (each on a graph of its own in ``HOME``).

    .venv/bin/python benchmarks/leave_one_report_out.py TRAIN_JSON HOME [--seed 7]
        [--modes full,none] [--worker 0/1] [--set lr=0.02 ...] > folds.jsonl

``--set FIELD=VALUE`` (repeatable) overrides a ``TrainConfig`` field for every model of the run,
so that a variant is measured without editing the defaults.
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path
from typing import Any

# Sibling scripts (this file runs as a script, from benchmarks/).
from config_overrides import overrides
from ioc_only import ioc_only

from actorgraph.gnn.activity import activity_from_stix
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.store import StoreConfig, open_store
from actorgraph.graph.tlp import TLP


def folds_of(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    """(campaign, actor) for every campaign attributed to an actor with at least two."""
    attributed = collections.defaultdict(list)
    for o in bundle["objects"]:
        if (
            o["type"] == "relationship"
            and o["relationship_type"] == "attributed-to"
            and o["source_ref"].startswith("campaign--")
        ):
            attributed[o["target_ref"]].append(o["source_ref"])
    return sorted((c, a) for a, cs in attributed.items() if len(cs) >= 2 for c in cs)


def split(bundle: dict[str, Any], campaign: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fold's training bundle, and the campaign as a query: renamed and without its
    description, with its indicators and the software and techniques it uses."""
    objs = bundle["objects"]
    rels = [o for o in objs if o["type"] == "relationship"]
    indicates = collections.defaultdict(set)
    for r in rels:
        if r["relationship_type"] == "indicates" and r["target_ref"].startswith("campaign--"):
            indicates[r["source_ref"]].add(r["target_ref"])
    mine = {i for i, cs in indicates.items() if campaign in cs}
    only = {i for i in mine if indicates[i] == {campaign}}
    gone = only | {campaign}
    train_objs = [
        o
        for o in objs
        if o["id"] not in gone
        and not (
            o["type"] == "relationship" and (o["source_ref"] in gone or o["target_ref"] in gone)
        )
    ]
    by_id = {o["id"]: o for o in objs}
    camp = dict(by_id[campaign], name="Unattributed activity")
    camp.pop("description", None)
    uses = [r for r in rels if r["source_ref"] == campaign and r["relationship_type"] == "uses"]
    software = [by_id[r["target_ref"]] for r in uses if r["target_ref"] in by_id]
    ind_rels = [
        r
        for r in rels
        if r["relationship_type"] == "indicates"
        and r["source_ref"] in mine
        and r["target_ref"] == campaign
    ]
    inds = [by_id[i] for i in sorted(mine)]
    full = {
        "type": "bundle",
        "id": bundle["id"],
        "objects": [camp, *inds, *ind_rels, *software, *uses],
    }
    return {**bundle, "objects": train_objs}, full


def rank(result: AttributionResult, actor: str) -> int | None:
    for c in result.candidates:
        if c.actor_id == actor:
            return c.rank
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("train_json", type=Path)
    ap.add_argument("home", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--worker", default="0/1")
    ap.add_argument("--modes", default="full,none")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = ap.parse_args()
    try:
        config = overrides(args.set)
    except ValueError as exc:
        ap.error(f"--set {exc}")
    k, n = (int(x) for x in args.worker.split("/"))
    bundle = json.loads(args.train_json.read_text())
    folds = folds_of(bundle)
    store = open_store(StoreConfig(home=args.home, graph=f"loro{k}"))
    for i, (campaign, actor) in enumerate(folds):
        if i % n != k:
            continue
        t0 = time.perf_counter()
        train_b, full_q = split(bundle, campaign)
        store.clear()
        store.ensure_schema()
        ingest_attack(store)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.json"
            path.write_text(json.dumps(train_b))
            ingest_paths(store, [path], max_tlp=TLP.RED, enrich=True)
        snap = export_graph(store, max_tlp=TLP.RED)
        row = {"fold": i, "campaign": campaign, "actor": actor}
        for mode in args.modes.split(","):
            trained = train(snap, TrainConfig(**{**config, "seed": args.seed, "graph": mode}))
            att = Attributor(trained, store)
            for name, q in (("full", full_q), ("ioc", ioc_only(full_q))):
                if q is None:  # no indicator: nothing to attribute as an IOC report
                    row[f"{mode}_{name}"] = "empty"
                    continue
                res = att.attribute(activity_from_stix(q, name=name), max_tlp=TLP.RED, top_k=1000)
                row[f"{mode}_{name}"] = rank(res, actor)
        row["seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(row), flush=True)
    store.close()


if __name__ == "__main__":
    main()
