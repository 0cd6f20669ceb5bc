"""How actorgraph's cost grows with its data: ingest, training and attribution vs demo-world size.

    python benchmarks/scale.py [--sizes 3000 10000 30000 100000] [--single-query-size 10000]
                               [--gnn-sizes 3000 10000] [--no-gnn]

For each size (indicators, passed to the demo world's ``--scale``) on a fresh embedded store:

1. generate the demo world (seed 7);
2. ingest ATT&CK, then the world's training bundle through the batched path
   (``graph.ingest.ingest_paths``, 5,000 rows per query): STIX objects/s, graph rows/s, wall time
   split into reading (parse + validate) and writing, CPU seconds of the client and the server
   (robust to other load on a shared machine), peak RSS of both;
   (``--ingest-workers``: processes reading files ahead of the writes, default one per core;
   ``--enrich``: with the offline enrichment, as ``actorgraph ingest`` writes by default);
   then the same ATT&CK and bundles through the bulk load (``graph.ingest.bulk``, GRAPH.BULK)
   into an empty graph of the same server: the same graph, ATT&CK inside its time;
3. at ``--single-query-size`` only, the same bundle through the one-object-per-query path
   (``batch_size=1``) on a second graph of the same server: the baseline, in the same run;
4. at ``--gnn-sizes`` (unless ``--no-gnn``): export the graph and train (seconds, peak RSS),
   then attribute every held-out activity repeatedly, in process with the model warm: latency
   p50/p95/p99 and sequential throughput for the model (without and with evidence look-ups)
   beside the TF-IDF baseline on the same linked inputs.

Every step runs in its own subprocess, so its peak RSS is its own. The server's RSS is sampled
every 0.1 s by the parent. Results go to ``benchmarks/scale_results.json`` (read by
``benchmarks/plot.py``) and are printed as tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "benchmarks" / "scale_results.json"


# ------------------------------------------------------------------------------ workers
def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process so far: robust to other load on the box."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _children_cpu_s() -> float:
    """CPU seconds of the worker processes that ended (the ingest's readers)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _open(home: Path, graph: str):
    from actorgraph.graph.store import embedded
    from actorgraph.graph.store.falkor import FalkorStore

    store = FalkorStore(embedded.ServerPaths(home.resolve()).socket, graph=graph)
    store.ensure_schema()
    return store


def worker_generate(args: argparse.Namespace) -> dict[str, Any]:
    from actorgraph.world import generate_world

    t0 = time.perf_counter()
    manifest = generate_world(seed=7, scale=args.size).write(args.out)
    seconds = time.perf_counter() - t0
    train = [Path(args.out) / f for f in manifest["files"]["train"]]
    return {
        "seconds": round(seconds, 2),
        "indicators": manifest["counts"]["indicators"],
        "objects": manifest["counts"]["objects"],
        "train_files": [str(f) for f in train],
        "train_bytes": sum(f.stat().st_size for f in train),
        "client_peak_rss_mb": _rss_mb(),
    }


def worker_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.graph.tlp import TLP

    store = _open(Path(args.home), args.graph)
    out: dict[str, Any] = {}
    if args.attack and not args.bulk:
        t0 = time.perf_counter()
        rep = ingest_attack(store)
        out["attack_seconds"] = round(time.perf_counter() - t0, 2)
        out["attack_rows"] = rep.n_nodes + rep.n_relationships
    objects = 0
    for p in args.paths:
        with open(p, encoding="utf-8") as fh:
            objects += len(json.load(fh).get("objects", []))
    t0, c0, w0 = time.perf_counter(), _cpu_s(), _children_cpu_s()
    if args.bulk:
        from actorgraph.graph.ingest.bulk import bulk_ingest

        reports = bulk_ingest(store, args.paths, attack=args.attack, enrich=args.enrich)
    else:
        reports = ingest_paths(
            store,
            args.paths,
            batch_size=args.batch_size,
            max_tlp=TLP.RED,
            enrich=args.enrich,
            workers=args.ingest_workers,
        )
    seconds = time.perf_counter() - t0
    rows = sum(r.n_nodes + r.n_relationships for r in reports)
    write_seconds = sum(r.seconds for r in reports)
    out.update(
        {
            "batch_size": args.batch_size,
            "seconds": round(seconds, 2),
            "read_seconds": round(seconds - write_seconds, 2),
            "write_seconds": round(write_seconds, 2),
            "client_cpu_seconds": round(_cpu_s() - c0, 2),
            "reader_workers_cpu_seconds": round(_children_cpu_s() - w0, 2),
            "bulk": args.bulk,
            "enrich": args.enrich,
            "stix_objects": objects,
            "rows": rows,
            "queries": sum(r.queries for r in reports),
            "objects_per_s": round(objects / seconds, 1),
            "rows_per_s": round(rows / seconds, 1),
            "graph": store.health(),
            "client_peak_rss_mb": _rss_mb(),
        }
    )
    store.close()
    return out


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))], 2)

    return {
        "n": len(ms),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(ms), 2),
        "throughput_per_s": round(len(ms) / (sum(ms) / 1000), 1),
    }


def worker_gnn(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from actorgraph.gnn.activity import link, load_activity
    from actorgraph.gnn.attribute import Attributor
    from actorgraph.gnn.baselines import TfidfBaseline
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import train
    from actorgraph.graph.tlp import TLP

    store = _open(Path(args.home), args.graph)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    snap = export_graph(store, max_tlp=TLP.RED)
    out["export_seconds"] = round(time.perf_counter() - t0, 2)
    out["export_peak_rss_mb"] = _rss_mb()
    t0, c0 = time.perf_counter(), _cpu_s()
    trained = train(snap)
    out["train_seconds"] = round(time.perf_counter() - t0, 2)
    out["train_cpu_seconds"] = round(_cpu_s() - c0, 2)
    out["train_peak_rss_mb"] = _rss_mb()
    out["train_metrics"] = {k: v for k, v in trained.metrics.items() if isinstance(v, (int, float))}
    attributor = Attributor(trained, store)
    tfidf = TfidfBaseline(snap, trained.space)
    files = sorted(Path(args.heldout).glob("*.json"))
    activities = [load_activity(f) for f in files]
    # Warm up (first calls pay lazy imports and caches), then measure.
    for act in activities[:3]:
        attributor.attribute(act, max_tlp=TLP.RED, evidence=True)
    model, model_ev, base, model_cpu, base_cpu = [], [], [], [], []
    reps = max(1, -(-args.samples // max(1, len(activities))))
    for _ in range(reps):
        for act in activities:
            t0, c0 = time.perf_counter(), time.process_time()
            attributor.attribute(act, max_tlp=TLP.RED, evidence=False)
            model.append(time.perf_counter() - t0)
            model_cpu.append(time.process_time() - c0)
            t0 = time.perf_counter()
            attributor.attribute(act, max_tlp=TLP.RED, evidence=True)
            model_ev.append(time.perf_counter() - t0)
            t0, c0 = time.perf_counter(), time.process_time()
            linked = link(act, attributor.lookup)
            pos = trained.space.pos
            entities = sorted({pos[e] for e in linked.known() if e in pos})
            scores = tfidf.scores(entities)
            _best = np.argmax(scores) if len(scores) else None
            base.append(time.perf_counter() - t0)
            base_cpu.append(time.process_time() - c0)
    sizes = [a.size() for a in activities]
    out.update(
        {
            "activities": len(activities),
            "activity_size_median": statistics.median(sizes) if sizes else 0,
            "activity_size_max": max(sizes) if sizes else 0,
            "gnn": _percentiles(model),
            "gnn_with_evidence": _percentiles(model_ev),
            "tfidf": _percentiles(base),
            # CPU time per call: what the latency would be on an otherwise idle machine.
            "gnn_cpu": _percentiles(model_cpu),
            "tfidf_cpu": _percentiles(base_cpu),
            "client_peak_rss_mb": _rss_mb(),
        }
    )
    store.close()
    return out


def worker_write_paths(args: argparse.Namespace) -> dict[str, Any]:
    """The same validated batch written three ways on fresh graphs of one server: one atomic
    query, batches of 5,000 rows, and (``--single``) one row per query. Reading is done once,
    outside the timing; each write is timed with the client's CPU seconds."""
    import psutil

    from actorgraph.graph.formats.stix_validate import load_json
    from actorgraph.graph.ingest import ingest_attack, read_any
    from actorgraph.graph.ingest.writer import write_batch
    from actorgraph.graph.tlp import TLP

    server = psutil.Process(int(args.server_pid))
    modes = [("atomic", True, 5000), ("batched", False, 5000)]
    if args.single:
        modes.append(("single", False, 1))
    out: dict[str, Any] = {}
    for name, atomic, batch_size in modes:
        store = _open(Path(args.home), f"write-{name}")
        ingest_attack(store)
        batches = [
            read_any(load_json(p), source=Path(p).name, store=store, max_tlp=TLP.RED)[0]
            for p in args.paths
        ]
        rows = sum(
            sum(len(v) for v in b.nodes.values()) + sum(len(v) for v in b.edges.values())
            for b in batches
        )
        t = server.cpu_times()
        s0, t0, c0 = t.user + t.system, time.perf_counter(), _cpu_s()
        queries = sum(
            write_batch(store, b, max_tlp=TLP.RED, batch_size=batch_size, atomic=atomic).queries
            for b in batches
        )
        seconds = time.perf_counter() - t0
        t = server.cpu_times()
        out[name] = {
            "rows": rows,
            "queries": queries,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds, 1),
            "client_cpu_seconds": round(_cpu_s() - c0, 2),
            "server_cpu_seconds": round(t.user + t.system - s0, 2),
            "server_rss_mb_after": round(server.memory_info().rss / 2**20, 1),
        }
        store.clear()
        store.close()
    out["client_peak_rss_mb"] = _rss_mb()
    return out


WORKERS = {
    "generate": worker_generate,
    "ingest": worker_ingest,
    "gnn": worker_gnn,
    "write-paths": worker_write_paths,
}


# ------------------------------------------------------------------------------ parent
class ServerRss:
    """Samples the FalkorDB server's RSS in the background; ``peak()`` since the last reset."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._peak = max(self._peak, self.proc.memory_info().rss)
            except Exception:
                return
            time.sleep(0.1)

    def reset(self) -> None:
        self._peak = self.proc.memory_info().rss
        t = self.proc.cpu_times()
        self._cpu0 = t.user + t.system

    def cpu_s(self) -> float:
        """Server CPU seconds since the last reset."""
        t = self.proc.cpu_times()
        return round(t.user + t.system - self._cpu0, 2)

    def peak_mb(self) -> float:
        return round(self._peak / 2**20, 1)

    def stop(self) -> None:
        self._stop.set()


def run_worker(kind: str, extra: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", kind, *extra]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"exit {proc.returncode}"
        }
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - t0, 2)
    return result


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def bench_size(size: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from actorgraph.graph.store import embedded

    world = work / f"world-{size}"
    home = work / f"home-{size}"
    shutil.rmtree(world, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    result: dict[str, Any] = {"size": size}
    print(f"[{size}] generating the world", flush=True)
    result["generate"] = run_worker(
        "generate", ["--size", str(size), "--out", str(world)], args.timeout
    )
    embedded.start(home)
    pid = embedded.status(home)["pid"]
    rss = ServerRss(pid)
    try:
        print(f"[{size}] ingest, batched", flush=True)
        rss.reset()
        result["ingest_batched"] = run_worker(
            "ingest",
            [
                "--home",
                str(home),
                "--graph",
                "bench",
                "--attack",
                "--batch-size",
                "5000",
                *(["--enrich"] if args.enrich else []),
                *(["--ingest-workers", str(args.ingest_workers)] if args.ingest_workers else []),
                "--paths",
                *result["generate"].get("train_files", [str(world / "train.json")]),
            ],
            args.timeout,
        )
        result["ingest_batched"]["server_peak_rss_mb"] = rss.peak_mb()
        result["ingest_batched"]["server_cpu_seconds"] = rss.cpu_s()
        print(f"[{size}] ingest, bulk load", flush=True)
        rss.reset()
        result["ingest_bulk"] = run_worker(
            "ingest",
            [
                "--home",
                str(home),
                "--graph",
                "bench-bulk",
                "--attack",
                "--bulk",
                *(["--enrich"] if args.enrich else []),
                "--paths",
                *result["generate"].get("train_files", [str(world / "train.json")]),
            ],
            args.timeout,
        )
        result["ingest_bulk"]["server_peak_rss_mb"] = rss.peak_mb()
        result["ingest_bulk"]["server_cpu_seconds"] = rss.cpu_s()
        if size == args.single_query_size:
            print(f"[{size}] ingest, one object per query", flush=True)
            rss.reset()
            result["ingest_single"] = run_worker(
                "ingest",
                [
                    "--home",
                    str(home),
                    "--graph",
                    "bench-single",
                    "--attack",
                    "--batch-size",
                    "1",
                    "--paths",
                    *result["generate"].get("train_files", [str(world / "train.json")]),
                ],
                args.timeout,
            )
            result["ingest_single"]["server_peak_rss_mb"] = rss.peak_mb()
            result["ingest_single"]["server_cpu_seconds"] = rss.cpu_s()
        if size in args.write_paths_sizes:
            print(f"[{size}] write paths: atomic vs batched", flush=True)
            rss.reset()
            result["write_paths"] = run_worker(
                "write-paths",
                [
                    "--home",
                    str(home),
                    "--server-pid",
                    str(pid),
                    *(["--single"] if size == args.single_query_size else []),
                    "--paths",
                    *result["generate"].get("train_files", [str(world / "train.json")]),
                ],
                args.timeout,
            )
            result["write_paths"]["server_peak_rss_mb"] = rss.peak_mb()
        if not args.no_gnn and size in args.gnn_sizes:
            print(f"[{size}] train and attribute", flush=True)
            rss.reset()
            result["gnn"] = run_worker(
                "gnn",
                [
                    "--home",
                    str(home),
                    "--graph",
                    "bench",
                    "--heldout",
                    str(world / "heldout"),
                    "--samples",
                    str(args.samples),
                ],
                args.timeout,
            )
            result["gnn"]["server_peak_rss_mb"] = rss.peak_mb()
            result["gnn"]["server_cpu_seconds"] = rss.cpu_s()
        result["server_final_rss_mb"] = round(rss.proc.memory_info().rss / 2**20, 1)
    finally:
        rss.stop()
        embedded.stop(home)
        if not args.keep:
            shutil.rmtree(world, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)
    return result


def print_tables(data: dict[str, Any]) -> None:
    runs = data["runs"]
    print("\nIngest (ATT&CK loaded first; then the world's train.json; a fresh store per size)")
    print(
        "| indicators | path | STIX objects | graph rows | wall s (read + write) | objects/s "
        "| rows/s | client CPU s | server CPU s | client peak RSS MB | server peak RSS MB |"
    )
    print("|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    paths = (
        ("ingest_batched", "batched, 5,000 rows/query"),
        ("ingest_bulk", "bulk load (ATT&CK inside)"),
        ("ingest_single", "one object/query"),
    )
    for r in runs:
        for key, name in paths:
            x = r.get(key)
            if not x:
                continue
            if "error" in x:
                print(f"| {r['size']:,} | {name} | {x['error']} | | | | | | | | |")
                continue
            print(
                f"| {r['size']:,} | {name} | {x['stix_objects']:,} | {x['rows']:,} | "
                f"{x['seconds']} ({x.get('read_seconds', '?')} + {x.get('write_seconds', '?')}) | "
                f"{x['objects_per_s']:,.0f} | {x['rows_per_s']:,.0f} | "
                f"{x.get('client_cpu_seconds', '')} | {x.get('server_cpu_seconds', '')} | "
                f"{x['client_peak_rss_mb']:,.0f} | {x['server_peak_rss_mb']:,.0f} |"
            )
    if any("write_paths" in r for r in runs):
        print("\nWrite paths, same validated batch (reading excluded), fresh graph each")
        print(
            "| indicators | path | rows | queries | wall s | rows/s | client CPU s | server CPU s |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for r in runs:
            w = r.get("write_paths")
            if not w or "error" in (w or {}):
                continue
            for mode in ("atomic", "batched", "single"):
                x = w.get(mode)
                if x:
                    print(
                        f"| {r['size']:,} | {mode} | {x['rows']:,} | {x['queries']:,} "
                        f"| {x['seconds']} | {x['rows_per_s']:,.0f} "
                        f"| {x['client_cpu_seconds']} | {x['server_cpu_seconds']} |"
                    )
    if not any("gnn" in r for r in runs):
        return
    print("\nTraining and attribution (in process, model warm, one thread, sequential)")
    print(
        "| indicators | graph nodes | export s | train s (CPU s) | train peak RSS MB | method "
        "| p50 ms | p95 ms | p99 ms | per s |"
    )
    print("|---:|---:|---:|---|---:|---|---:|---:|---:|---:|")
    methods = (
        ("gnn", "GNN"),
        ("gnn_cpu", "GNN, CPU time"),
        ("gnn_with_evidence", "GNN + evidence"),
        ("tfidf", "TF-IDF"),
        ("tfidf_cpu", "TF-IDF, CPU time"),
    )
    for r in runs:
        g = r.get("gnn")
        if not g:
            continue
        if "error" in g:
            print(f"| {r['size']:,} | | | | | {g['error']} | | | | |")
            continue
        nodes = r["ingest_batched"].get("graph", {}).get("nodes", 0)
        for key, name in methods:
            x = g.get(key)
            if x is None:
                continue
            print(
                f"| {r['size']:,} | {nodes:,} | {g['export_seconds']} | {g['train_seconds']} "
                f"({g.get('train_cpu_seconds', '?')}) | {g['train_peak_rss_mb']:,.0f} | {name} | "
                f"{x['p50_ms']} | {x['p95_ms']} | {x['p99_ms']} | {x['throughput_per_s']} |"
            )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[3_000, 10_000, 30_000, 100_000])
    p.add_argument(
        "--gnn-sizes",
        type=int,
        nargs="*",
        default=[3_000, 10_000, 30_000],
        help="sizes at which to train and attribute (training is the slow step)",
    )
    p.add_argument("--single-query-size", type=int, default=10_000)
    p.add_argument("--no-gnn", action="store_true")
    p.add_argument("--samples", type=int, default=300, help="attributions measured per size")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per step")
    p.add_argument("--work", type=Path, default=Path("/tmp/actorgraph-bench"))
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--keep", action="store_true", help="keep the generated worlds and stores")
    # worker mode (internal)
    p.add_argument("--worker", choices=sorted(WORKERS))
    p.add_argument("--size", type=int)
    p.add_argument("--home")
    p.add_argument("--graph", default="bench")
    p.add_argument("--attack", action="store_true")
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--paths", nargs="*", default=[])
    p.add_argument("--heldout")
    p.add_argument("--server-pid")
    p.add_argument("--single", action="store_true")
    p.add_argument("--bulk", action="store_true")
    p.add_argument(
        "--enrich", action="store_true", help="ingest with the offline enrichment (CLI default)"
    )
    p.add_argument(
        "--ingest-workers",
        type=int,
        default=None,
        help="processes reading files ahead of the writes (default: one per core)",
    )
    p.add_argument(
        "--write-paths-sizes",
        type=int,
        nargs="*",
        default=[],
        help="also compare atomic / batched / (at --single-query-size) single-row writes here",
    )
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args), default=str))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    data = {"machine": machine(), "runs": []}
    previous = json.loads(args.out.read_text()) if args.out.exists() else None
    for size in args.sizes:
        data["runs"].append(bench_size(size, args.work, args))
        # Keep partial results when a later, larger size is interrupted.
        args.out.write_text(json.dumps(data, indent=2, default=str))
    if previous is not None:
        data["previous_machine"] = previous.get("machine")
    args.out.write_text(json.dumps(data, indent=2, default=str))
    print_tables(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
