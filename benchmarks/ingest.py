"""Load MITRE ATT&CK Enterprise into fresh graphs two ways and compare, in one run.

1. actorgraph's batched path: ``UNWIND $rows AS row MERGE ...`` with thousands of rows a query.
2. One object per query: the same Cypher, one row per round-trip (what a naive importer does).

Both write into fresh graphs on the same embedded FalkorDB server, from the same parsed batch.
The batched path is also timed end to end (reading the package data included) against the
issue's target: all of ATT&CK in under 10 s on 2 cores.

    .venv/bin/python benchmarks/ingest.py [--home DIR] [--single-limit N] [--json]

``--single-limit`` caps the one-per-query run at the first N nodes and N relationships (the
rates are per object, so a sample measures them; 0 = everything).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from actorgraph.graph.formats.attack import read_attack
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.ingest.writer import write_batch
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.tlp import TLP


def sample(batch: IngestBatch, limit: int) -> IngestBatch:
    """The first ``limit`` nodes and ``limit`` relationships; only edges whose ends are kept."""
    if limit <= 0:
        return batch
    out = IngestBatch(source=batch.source)
    kept = 0
    for label, by_id in batch.nodes.items():
        for node_id, props in by_id.items():
            if kept >= limit:
                break
            out.nodes.setdefault(label, {})[node_id] = props
            kept += 1
    kept = 0
    for key, group in batch.edges.items():
        src_label, _, dst_label = key
        for (src, dst), props in group.items():
            if kept >= limit:
                break
            if src in out.nodes.get(src_label, {}) and dst in out.nodes.get(dst_label, {}):
                out.edges.setdefault(key, {})[(src, dst)] = props
                kept += 1
    return out


def timed_write(store: FalkorStore, batch: IngestBatch, batch_size: int) -> dict[str, float]:
    """Write nodes then edges, timing each half separately."""
    nodes_only = IngestBatch(source=batch.source, nodes=batch.nodes)
    edges_only = IngestBatch(source=batch.source, edges=batch.edges)
    t0 = time.perf_counter()
    write_batch(store, nodes_only, batch_size=batch_size, max_tlp=TLP.RED)
    t1 = time.perf_counter()
    write_batch(store, edges_only, batch_size=batch_size, max_tlp=TLP.RED)
    t2 = time.perf_counter()
    return {
        "nodes": batch.n_nodes,
        "relationships": batch.n_edges,
        "node_seconds": t1 - t0,
        "rel_seconds": t2 - t1,
        "objects_per_s": batch.n_nodes / (t1 - t0) if t1 > t0 else 0.0,
        "relationships_per_s": batch.n_edges / (t2 - t1) if t2 > t1 else 0.0,
        "seconds": t2 - t0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, help="data directory for the embedded server")
    parser.add_argument("--single-limit", type=int, default=0, help="cap the one-per-query run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="ag-bench-"))

    base = FalkorStore.embedded(home, graph="bench-batched")
    results: dict[str, dict[str, float]] = {}
    try:
        # End to end, batched: read the package data, validate/normalise, write.
        t0 = time.perf_counter()
        batch = read_attack()
        read_s = time.perf_counter() - t0
        batched = base
        batched.clear()
        batched.ensure_schema()
        results["batched"] = timed_write(batched, batch, batch_size=5000)
        results["batched"]["read_seconds"] = read_s
        results["batched"]["total_seconds"] = read_s + results["batched"]["seconds"]
        counts = batched.counts()

        single = base.with_graph("bench-one-per-query")
        single.clear()
        single.ensure_schema()
        results["one_per_query"] = timed_write(
            single, sample(batch, args.single_limit), batch_size=1
        )
        single.clear()
        single.close()
        batched.clear()
    finally:
        base.close()

    b, s = results["batched"], results["one_per_query"]
    summary = {
        "attack": {
            "nodes": sum(counts["nodes"].values()),
            "relationships": sum(counts["relationships"].values()),
        },
        **results,
        "speedup_objects": b["objects_per_s"] / s["objects_per_s"] if s["objects_per_s"] else None,
        "speedup_relationships": b["relationships_per_s"] / s["relationships_per_s"]
        if s["relationships_per_s"]
        else None,
        "target_met": b["total_seconds"] < 10.0,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(
        f"ATT&CK Enterprise v18.1: {summary['attack']['nodes']:,} nodes, "
        f"{summary['attack']['relationships']:,} relationships"
    )
    print(f"{'':24}{'batched (5000/query)':>22}{'one object per query':>24}")
    print(f"{'objects written':24}{b['nodes']:>22,}{s['nodes']:>24,}")
    print(f"{'objects/s':24}{b['objects_per_s']:>22,.0f}{s['objects_per_s']:>24,.0f}")
    print(f"{'relationships written':24}{b['relationships']:>22,}{s['relationships']:>24,}")
    print(
        f"{'relationships/s':24}{b['relationships_per_s']:>22,.0f}{s['relationships_per_s']:>24,.0f}"
    )
    print(f"{'write seconds':24}{b['seconds']:>22.2f}{s['seconds']:>24.2f}")
    print(
        f"speed-up: {summary['speedup_objects']:.0f}x objects, "
        f"{summary['speedup_relationships']:.0f}x relationships"
    )
    print(
        f"all of ATT&CK, batched, read + write: {b['total_seconds']:.2f} s "
        f"(read {b['read_seconds']:.2f} s) -> target < 10 s "
        f"{'met' if summary['target_met'] else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
