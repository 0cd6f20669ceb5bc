"""The embedded FalkorDB and Neo4j 5 side by side: the same data, the same queries, one run.

1. Load: MITRE ATT&CK Enterprise, then the demo world (``generate_world(seed=7, scale=N)``: its
   training bundle(s) and held-out bundles through ``ingest_paths``), into a fresh graph on each
   backend; wall seconds and the counts (which must be identical).
2. Pivots: four indicator-pivot queries of the research library, each run with 100 indicator
   values taken from the graph (the same values on both backends), after a warm-up: p50/p99 of
   ``run_query`` and whether both backends returned the same rows.
3. Attribution (``--attribution``): one model trained on the FalkorDB graph, then every held-out
   activity attributed with evidence through each backend: p50/p95 and whether the top-3 agree.

Neo4j is the one ``make neo4j-up`` started (``--neo4j-env``, default
``$ACTORGRAPH_HOME/neo4j/neo4j.env``); its database is emptied first, so it must be a throwaway
one (``--clear`` confirms a database that holds data may be emptied).

    make neo4j-up
    .venv/bin/python benchmarks/backends.py [--scale 30000] [--attribution] [--clear] [--json]

Results: printed as a Markdown table; ``--out FILE`` also writes the JSON. (Not named
``neo4j.py``: run as a script, that name would shadow the ``neo4j`` driver package.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.library import queries as ql
from actorgraph.graph.store import GraphStore, StoreConfig, open_store
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.tlp import TLP

# (query, parameter, indicator kind the values are drawn from; None: any kind)
PIVOTS = (
    ("indicator_to_campaigns_and_malware", "value", None),
    ("indicator_to_actors_with_path", "value", None),
    ("domain_resolutions_and_hosting", "domain", "domain"),
    ("ip_reverse_resolution", "ip", "ipv4"),
)
VALUES = """MATCH (i:Indicator) WHERE $kind IS NULL OR i.kind = $kind
RETURN i.value AS v ORDER BY v"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def neo4j_store(env_file: Path, clear: bool) -> GraphStore:
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    store = open_store(
        StoreConfig(
            neo4j_uri=values["NEO4J_URI"],
            neo4j_user=values.get("NEO4J_USER", "neo4j"),
            neo4j_password=values["NEO4J_PASSWORD"],
        )
    )
    nodes = store.query("MATCH (n) RETURN count(n) AS c", read_only=True)[0]["c"]
    if nodes and not clear:
        sys.exit(f"Neo4j at {values['NEO4J_URI']} holds {nodes} nodes: pass --clear to empty it")
    store.clear()
    return store


def load(store: GraphStore, world: Path) -> dict[str, Any]:
    say(f"loading ATT&CK and the world into {store.backend}")
    store.ensure_schema()
    t0 = time.perf_counter()
    ingest_attack(store)
    attack_s = time.perf_counter() - t0
    attack_counts = store.counts()
    files = sorted(world.glob("train*.json")) + sorted((world / "heldout").glob("*.json"))
    t0 = time.perf_counter()
    ingest_paths(store, files, max_tlp=TLP.RED)
    world_s = time.perf_counter() - t0
    counts = store.counts()
    return {
        "attack_s": round(attack_s, 2),
        "world_s": round(world_s, 2),
        "files": len(files),
        "attack_counts": attack_counts,
        "counts": counts,
        "nodes": sum(counts["nodes"].values()),
        "relationships": sum(counts["relationships"].values()),
    }


def pct(xs: list[float], *qs: int) -> dict[str, float]:
    return {f"p{q}_ms": round(float(np.percentile(xs, q)) * 1000, 2) for q in qs}


def pivots(stores: dict[str, GraphStore], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    first = next(iter(stores.values()))
    for name, param, kind in PIVOTS:
        say(f"pivot {name}")
        q = ql.get_query(name)
        values = [r["v"] for r in first.query(VALUES, {"kind": kind}, read_only=True)]
        picked = values[:: max(1, len(values) // n)][:n]
        rows: dict[str, list] = {}
        result: dict[str, Any] = {"values": len(picked)}
        for backend, store in stores.items():

            def run(value: str, store: GraphStore = store, q: Any = q, param: str = param) -> list:
                return ql.run_query(
                    store, q, {param: value}, timeout_ms=30_000, row_cap=1000, tlp_clearance=4
                )

            for value in picked[:5]:  # warm-up: plans, caches
                run(value)
            times, got = [], []
            for value in picked:
                t0 = time.perf_counter()
                got.append(run(value))
                times.append(time.perf_counter() - t0)
            rows[backend] = got
            result[backend] = pct(times, 50, 99)
            result["mean_rows"] = round(sum(map(len, got)) / max(1, len(got)), 1)
        a, b = rows.values()
        result["same_rows"] = all(_bag(x) == _bag(y) for x, y in zip(a, b, strict=True))
        out[name] = result
    return out


def attribution(stores: dict[str, GraphStore], world: Path, home: Path) -> dict[str, Any]:
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.attribute import Attributor
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train
    from actorgraph.gnn.world_split import load_heldout

    first = next(iter(stores.values()))
    say("training the model")
    t0 = time.perf_counter()
    trained = train(export_graph(first, max_tlp=TLP.RED), TrainConfig())
    version = artefacts.save(trained, home / "models")
    out: dict[str, Any] = {"train_s": round(time.perf_counter() - t0, 1)}
    held = [activity for activity, _ in load_heldout(world)]
    top3: dict[str, list[list[str]]] = {}
    for backend, store in stores.items():
        say(f"attributing {len(held)} held-out activities through {backend}")
        attributor = Attributor.load(home / "models", store, version=version, max_tlp=TLP.RED)
        for activity in held[:3]:  # warm-up
            attributor.attribute(activity, max_tlp=TLP.RED)
        times, ranks = [], []
        for activity in held:
            t0 = time.perf_counter()
            result = attributor.attribute(activity, max_tlp=TLP.RED)
            times.append(time.perf_counter() - t0)
            ranks.append([c.actor_id for c in result.candidates[:3]])
        out[backend] = pct(times, 50, 95)
        top3[backend] = ranks
    a, b = top3.values()
    out["activities"] = len(held)
    out["same_top3"] = sum(x == y for x, y in zip(a, b, strict=True))
    return out


def _bag(rows: list[dict[str, Any]]) -> list[str]:
    def canonical(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 9)
        if isinstance(v, dict):
            return {k: canonical(x) for k, x in v.items()}
        if isinstance(v, list):
            return sorted((canonical(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True))
        return v

    return sorted(json.dumps(canonical(r), sort_keys=True) for r in rows)


def table(report: dict[str, Any]) -> str:
    f, n = report["load"]["falkordb"], report["load"]["neo4j"]
    lines = [
        "| measure | FalkorDB (embedded) | Neo4j 5.26 (Bolt) |",
        "|---|---|---|",
        f"| ATT&CK load (s) | {f['attack_s']} | {n['attack_s']} |",
        f"| demo world ingest, {report['scale']:,} indicators, {f['files']} bundles (s) "
        f"| {f['world_s']} | {n['world_s']} |",
        f"| nodes / relationships | {f['nodes']:,} / {f['relationships']:,} "
        f"| {n['nodes']:,} / {n['relationships']:,} |",
    ]
    for name, r in report["pivots"].items():
        lines.append(
            f"| `{name}` p50 / p99 (ms) | {r['falkordb']['p50_ms']} / {r['falkordb']['p99_ms']} "
            f"| {r['neo4j']['p50_ms']} / {r['neo4j']['p99_ms']} |"
        )
    if "attribution" in report:
        a = report["attribution"]
        lines.append(
            f"| attribution with evidence, {a['activities']} held-out activities, p50 / p95 (ms) "
            f"| {a['falkordb']['p50_ms']} / {a['falkordb']['p95_ms']} "
            f"| {a['neo4j']['p50_ms']} / {a['neo4j']['p95_ms']} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    home_default = Path(os.environ.get("ACTORGRAPH_HOME", ".actorgraph"))
    ap.add_argument("--neo4j-env", type=Path, default=home_default / "neo4j" / "neo4j.env")
    ap.add_argument("--scale", type=int, default=30_000, help="demo world indicators")
    ap.add_argument("--pivot-values", type=int, default=100)
    ap.add_argument("--attribution", action="store_true", help="train once, attribute on both")
    ap.add_argument("--clear", action="store_true", help="Neo4j may hold data: empty it")
    ap.add_argument("--home", type=Path, default=None, help="work folder (default: a temp dir)")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="ag-bench-neo4j-"))
    from actorgraph.world import generate_world

    world = home / "world"
    if not (world / "heldout_labels.json").exists():
        generate_world(seed=7, scale=args.scale).write(world)
    stores: dict[str, GraphStore] = {
        "falkordb": FalkorStore.embedded(home / "falkordb", graph="bench"),
        "neo4j": neo4j_store(args.neo4j_env, args.clear),
    }
    stores["falkordb"].clear()
    report: dict[str, Any] = {"scale": args.scale, "load_average_start": os.getloadavg()}
    report["load"] = {backend: load(store, world) for backend, store in stores.items()}
    f, n = report["load"]["falkordb"], report["load"]["neo4j"]
    report["same_counts"] = {
        "attack": f["attack_counts"] == n["attack_counts"],
        "world": f["counts"] == n["counts"],
    }
    report["pivots"] = pivots(stores, args.pivot_values)
    if args.attribution:
        report["attribution"] = attribution(stores, world, home)
    report["load_average_end"] = os.getloadavg()
    for store in stores.values():
        store.close()
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(table(report))
        print(f"same counts: {report['same_counts']}")
        print("same pivot rows:", {k: v["same_rows"] for k, v in report["pivots"].items()})
        if "attribution" in report:
            a = report["attribution"]
            print(f"same top-3: {a['same_top3']} of {a['activities']}; train {a['train_s']} s")
        print(f"load average {report['load_average_start']} -> {report['load_average_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
