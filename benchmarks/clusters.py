"""Cluster purity on the demo world: does `actorgraph clusters` group unexplained activity as the
generator made it?

1. Generate the demo world (``actorgraph demo``'s seed and scale by default), load ATT&CK and its
   training bundle (enriched, as the demo loads it), train the demo's model.
2. Attribute every held-out activity and store it with its hypotheses (``attribute --persist``,
   what an operator does with incoming activity).
3. ``find_clusters`` with the default settings, and again without the hub cut (every shared
   entity links, however common), scored against the generator's truth.

The truth, read two ways. A held-out activity belongs to its true actor (a known actor, or one
held out of training entirely). Activity of no actor ("noise", unattributed commodity crimeware,
held out or in the training bundle) is:

- ``noise_as_one``: one group, because the generator draws all of it from one shared profile
  (``world.emit.NOISE_HOSTING``, ``NOISE_REGISTRARS``, ``world.actors.NOISE_WORDS``, the noise
  malware and techniques), as it draws an actor's activity from the actor's habits;
- strict (the top-level scores): a group per campaign, because the generator plans each noise
  cluster on its own, so two noise campaigns put together count as an error.

Campaigns the generator did not make (ATT&CK's) are left out of the counts.

    .venv/bin/python benchmarks/clusters.py [--seed 7] [--scale small] [--home DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from actorgraph.graph.store import GraphStore, StoreConfig, open_store
from actorgraph.graph.tlp import TLP

# The hub cut off: evidence in every campaign links, and so does software every actor uses.
NO_HUB_CUT = {"max_df_share": 1.0, "max_software_users": 1_000_000}
# The true group of activity of no actor: its own (``noise:<file or campaign id>``).
NOISE = "noise:"


def load_world(store: GraphStore, world_dir: Path, *, seed: int, scale: str | int) -> dict:
    """Generate the world into ``world_dir`` and load ATT&CK and its training bundles."""
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.world import generate_world

    meta = generate_world(seed=seed, scale=scale).write(world_dir)
    ingest_attack(store)
    files = [world_dir / f for f in meta["files"]["train"]]
    ingest_paths(store, files, max_tlp=TLP.RED, enrich=True)
    return meta


def persist_heldout(attributor, world_dir: Path) -> dict[str, str]:
    """Attribute and store every held-out activity; returns each stored campaign's true group."""
    from actorgraph.gnn.activity import load_activity

    labels = json.loads((world_dir / "heldout_labels.json").read_text())
    truth = {}
    for rel in sorted(labels):
        activity = load_activity(world_dir / rel)
        result = attributor.attribute(activity, max_tlp=TLP.RED, top_k=5, evidence=False)
        campaign = attributor.persist(activity, result, max_tlp=TLP.RED)
        owner = labels[rel]["true_actor_id"]
        truth[campaign] = owner or f"{NOISE}{rel}"
    return truth


def training_noise(world_dir: Path, meta: dict) -> dict[str, str]:
    """The training bundles' campaigns of no actor (no ``attributed-to``), each its own group."""
    campaigns, attributed = set(), set()
    for name in meta["files"]["train"]:
        for obj in json.loads((world_dir / name).read_text())["objects"]:
            if obj["type"] == "campaign":
                campaigns.add(obj["id"])
            elif obj["type"] == "relationship" and obj["relationship_type"] == "attributed-to":
                attributed.add(obj["source_ref"])
    return {c: f"{NOISE}{c}" for c in campaigns - attributed}


def considered(store: GraphStore, config) -> set[str]:
    """The campaigns ``find_clusters`` considers (unexplained at clearance red)."""
    from actorgraph.graph.clusters import CANDIDATES

    params = {"max_tlp": int(TLP.RED), "threshold": config.threshold, "limit": config.limit}
    return {r["id"] for r in store.query(CANDIDATES, params, read_only=True)}


def measure(store: GraphStore, truth: dict[str, str]) -> dict[str, Any]:
    """Clusters with the default settings and without the hub cut, scored against ``truth``."""
    from actorgraph.graph.clusters import ClusterConfig, find_clusters, score_clusters

    out: dict[str, Any] = {}
    for name, config in (
        ("default", ClusterConfig()),
        ("no_hub_cut", replace(ClusterConfig(), **NO_HUB_CUT)),
    ):
        started = time.perf_counter()
        clusters, n = find_clusters(store, max_tlp=TLP.RED, config=config)
        seconds = time.perf_counter() - started
        seen = considered(store, config)
        known = {c: g for c, g in truth.items() if c in seen}
        as_one = {c: "noise" if g.startswith(NOISE) else g for c, g in known.items()}
        out[name] = {
            "considered": n,
            "considered_known_truth": len(known),
            "clusters_proposed": len(clusters),
            "seconds": round(seconds, 2),
            **score_clusters(clusters, known),
            "noise_as_one": score_clusters(clusters, as_one),
            "proposed": [sorted(known.get(c["id"], "?") for c in k.campaigns) for k in clusters],
        }
    return out


def run(store: GraphStore, models: Path, world_dir: Path, *, seed: int, scale: str | int) -> dict:
    """The whole benchmark on an empty ``store``: load, train, store the held-out activity,
    cluster and score. Returns the scores and the time of each step."""
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.attribute import Attributor
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train

    times: dict[str, float] = {}
    started = time.perf_counter()
    meta = load_world(store, world_dir, seed=seed, scale=scale)
    times["load"] = time.perf_counter() - started
    started = time.perf_counter()
    trained = train(export_graph(store, max_tlp=TLP.RED), TrainConfig(seed=seed))
    version = artefacts.save(trained, models)
    times["train"] = time.perf_counter() - started
    started = time.perf_counter()
    attributor = Attributor.load(models, store, version=version, max_tlp=TLP.RED)
    truth = persist_heldout(attributor, world_dir)
    truth.update(training_noise(world_dir, meta))
    times["persist"] = time.perf_counter() - started
    result = measure(store, truth)
    return {
        "seed": seed,
        "scale": scale,
        "seconds": {k: round(v, 1) for k, v in times.items()},
        **result,
    }


def _report(result: dict) -> str:
    lines = [
        f"demo world seed {result['seed']}, scale {result['scale']}; "
        f"load {result['seconds']['load']} s, train {result['seconds']['train']} s, "
        f"persist held-out {result['seconds']['persist']} s"
    ]
    for name in ("default", "no_hub_cut"):
        r = result[name]
        purity = "n/a" if r["purity"] is None else f"{r['purity']:.2f}"
        complete = "n/a" if r["completeness"] is None else f"{r['completeness']:.2f}"
        lines.append(
            f"  {name:<10}  considered {r['considered']} ({r['considered_known_truth']} of known "
            f"truth)  clusters {r['clusters_proposed']}  purity {r['pure']}/{r['clustered']} = "
            f"{purity}  true groups {r['groups']} (clustered {r['groups_clustered']})  "
            f"completeness {complete}  [{r['seconds']} s]"
        )
        one = r["noise_as_one"]
        lines.append(
            f"  {'':<10}  noise as one group: purity {one['pure']}/{one['clustered']}, "
            f"true groups {one['groups']} (clustered {one['groups_clustered']})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from actorgraph.commands.demo import DEMO_SEED

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    p.add_argument("--scale", default="small")
    p.add_argument("--home", type=Path, help="data directory (default: a temporary one)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    scale: str | int = int(args.scale) if str(args.scale).isdigit() else args.scale
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp) / "home"
        store = open_store(StoreConfig(home=home, graph=f"clusters-{args.seed}-{scale}"))
        try:
            store.clear()
            store.ensure_schema()
            result = run(store, home / "models", Path(tmp) / "world", seed=args.seed, scale=scale)
        finally:
            store.close()
    print(json.dumps(result, indent=2) if args.json else _report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
