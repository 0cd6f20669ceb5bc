"""How actorgraph's cost grows with its data: ingest, training and attribution vs demo-world size.

    python benchmarks/scale.py [--sizes 3000 10000 30000 100000] [--single-query-size 10000]
                               [--gnn-sizes 3000 10000] [--no-gnn]
    python benchmarks/scale.py --sizes 1000000 --gnn-sizes 1000000 \
                               --world 1000000=/data/w1m --merge     # the 1M row, others kept
    python benchmarks/scale.py --sizes 1000000 --world 1000000=/data/w1m \
                               --store 1000000=/data/home1m --merge  # export/train/attribute only

For each size (indicators, passed to the demo world's ``--scale``) on a fresh embedded store:

1. generate the demo world (seed 7), or reuse one written before (``--world SIZE=DIR``: a folder
   that ``actorgraph generate-world --seed 7 --scale SIZE`` filled; 1M takes 7 minutes to write);
2. bulk-load ATT&CK and the world's training bundles (``graph.ingest.bulk``, GRAPH.BULK) into an
   empty store of its own (its own server, stopped and deleted before the next step, so that the
   bulk load's image of the graph and a second server are never in memory at once); then
   (at ``--batched-sizes``, default every size) ingest ATT&CK, then the same bundles through the
   batched path
   (``graph.ingest.ingest_paths``, 5,000 rows per query): STIX objects/s, graph rows/s, wall time
   split into reading (parse + validate) and writing, CPU seconds of the client and the server
   (robust to other load on a shared machine), peak RSS of both;
   (``--ingest-workers``: processes reading files ahead of the writes, default one per core;
   ``--enrich``: with the offline enrichment, as ``actorgraph ingest`` writes by default);
   the bulk load is the same graph, ATT&CK inside its time;
3. at ``--single-query-size`` only, the same bundle through the one-object-per-query path
   (``batch_size=1``) on a second graph of the same server: the baseline, in the same run;
4. at ``--gnn-sizes`` (unless ``--no-gnn``): export the graph and train (seconds, peak RSS),
   on the batched graph (or the bulk one where the batched path did not run), then attribute
   held-out activities repeatedly (at most ``--activities``, evenly spaced over the world's
   list), in process with the model warm: latency p50/p95/p99 and sequential throughput for
   the model (without and with evidence look-ups) beside the TF-IDF baseline on the same
   linked inputs.

Every step runs in its own subprocess, so its peak RSS is its own; each records the load
average before and after it (the machine may be shared). The server's RSS is sampled every
0.1 s by the parent. Results go to ``benchmarks/scale_results.json`` (read by
``benchmarks/plot.py``; ``--merge`` keeps the runs of sizes not measured this time) and are
printed as tables.
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
    t0, c0 = time.perf_counter(), _cpu_s()
    snap = export_graph(store, max_tlp=TLP.RED)
    out["export_seconds"] = round(time.perf_counter() - t0, 2)
    out["export_cpu_seconds"] = round(_cpu_s() - c0, 2)
    out["export_peak_rss_mb"] = _rss_mb()
    t0, c0 = time.perf_counter(), _cpu_s()
    trained = train(snap)
    out["train_seconds"] = round(time.perf_counter() - t0, 2)
    out["train_cpu_seconds"] = round(_cpu_s() - c0, 2)
    out["train_peak_rss_mb"] = _rss_mb()
    out["train_metrics"] = {k: v for k, v in trained.metrics.items() if isinstance(v, (int, float))}
    if args.save_model:
        from actorgraph.gnn import artefacts

        out["model_version"] = artefacts.save(trained, Path(args.home) / "models")
    attributor = Attributor(trained, store)
    tfidf = TfidfBaseline(snap, trained.space)
    files = sorted(Path(args.heldout).glob("*.json"))
    # Evenly spaced over the list, so a large world's many activities cost what a small one's do.
    step = max(1, -(-len(files) // args.activities))
    activities = [load_activity(f) for f in files[::step]]
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
    t0, load0 = time.perf_counter(), os.getloadavg()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        # A process killed for memory (exit -9) leaves no traceback: say so, with its time.
        lines = proc.stderr.strip().splitlines()
        return {
            "error": lines[-1] if lines else f"exit {proc.returncode}",
            "exit": proc.returncode,
            "stderr_tail": lines[-8:],
            "wall_seconds": round(time.perf_counter() - t0, 2),
            "load_before": [round(x, 2) for x in load0],
        }
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - t0, 2)
    result["load_before"] = [round(x, 2) for x in load0]
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    result["ended_utc"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
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


def _world(size: int, work: Path, args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The world's folder and its facts: reused from ``--world`` or generated into ``work``."""
    if size in args.world:
        world = args.world[size]
        manifest = json.loads((world / "world.json").read_text())
        train = [world / f for f in manifest["files"]["train"]]
        return world, {
            "reused": str(world),
            "indicators": manifest["counts"]["indicators"],
            "objects": manifest["counts"]["objects"],
            "train_files": [str(f) for f in train],
            "train_bytes": sum(f.stat().st_size for f in train),
        }
    world = work / f"world-{size}"
    shutil.rmtree(world, ignore_errors=True)
    print(f"[{size}] generating the world", flush=True)
    return world, run_worker("generate", ["--size", str(size), "--out", str(world)], args.timeout)


def _on_server(home: Path, step: str, extra: list[str], timeout: float) -> dict[str, Any]:
    """Run one worker step against ``home``'s server; add the server's CPU and peak RSS."""
    from actorgraph.graph.store import embedded

    rss = ServerRss(embedded.status(home)["pid"])
    try:
        rss.reset()
        out = run_worker(step, extra, timeout)
        out["server_peak_rss_mb"] = rss.peak_mb()
        out["server_cpu_seconds"] = rss.cpu_s()
        out["server_rss_mb_after"] = round(rss.proc.memory_info().rss / 2**20, 1)
    finally:
        rss.stop()
    return out


def bench_stored(size: int, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Export, training and attribution on a home that already holds the world (``--store``)."""
    from actorgraph.graph.store import embedded

    world, generate = _world(size, args.work, args)
    result: dict[str, Any] = {"size": size, "generate": generate, "store": str(home)}
    embedded.start(home)
    try:
        print(f"[{size}] export, train and attribute on {home}", flush=True)
        gnn = [
            "--home",
            str(home),
            "--graph",
            args.store_graph,
            "--heldout",
            str(world / "heldout"),
        ]
        result["gnn"] = _on_server(
            home,
            "gnn",
            [
                *[*gnn, "--samples", str(args.samples), "--activities", str(args.activities)],
                *(["--save-model"] if args.save_model else []),
            ],
            args.timeout,
        )
        result["server_final_rss_mb"] = result["gnn"].get("server_rss_mb_after")
    finally:
        embedded.stop(home)
    return result


def bench_size(size: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from actorgraph.graph.store import embedded

    if size in args.store:
        return bench_stored(size, args.store[size], args)
    home = work / f"home-{size}"
    bulk_home = work / f"home-{size}-bulk"
    result: dict[str, Any] = {"size": size}
    world, result["generate"] = _world(size, work, args)
    train_files = result["generate"].get("train_files", [str(world / "train.json")])
    enrich = ["--enrich"] if args.enrich else []
    batched = args.batched_sizes is None or size in args.batched_sizes
    gnn_home = home if batched else bulk_home
    for h in (home, bulk_home):
        shutil.rmtree(h, ignore_errors=True)
    try:
        print(f"[{size}] ingest, bulk load (its own store)", flush=True)
        embedded.start(bulk_home)
        bulk_args = ["--home", str(bulk_home), "--graph", "bench", "--attack", "--bulk", *enrich]
        result["ingest_bulk"] = _on_server(
            bulk_home, "ingest", [*bulk_args, "--paths", *train_files], args.timeout
        )
        if batched:
            embedded.stop(bulk_home)
            shutil.rmtree(bulk_home, ignore_errors=True)
            embedded.start(home)
            print(f"[{size}] ingest, batched", flush=True)
            workers = ["--ingest-workers", str(args.ingest_workers)] if args.ingest_workers else []
            result["ingest_batched"] = _on_server(
                home,
                "ingest",
                [
                    *["--home", str(home), "--graph", "bench", "--attack", "--batch-size", "5000"],
                    *enrich,
                    *workers,
                    *["--paths", *train_files],
                ],
                args.timeout,
            )
        if batched and size == args.single_query_size:
            print(f"[{size}] ingest, one object per query", flush=True)
            single = ["--home", str(home), "--graph", "bench-single", "--attack", "--batch-size"]
            result["ingest_single"] = _on_server(
                home, "ingest", [*single, "1", "--paths", *train_files], args.timeout
            )
        if batched and size in args.write_paths_sizes:
            print(f"[{size}] write paths: atomic vs batched", flush=True)
            result["write_paths"] = _on_server(
                home,
                "write-paths",
                [
                    *["--home", str(home), "--server-pid", str(embedded.status(home)["pid"])],
                    *(["--single"] if size == args.single_query_size else []),
                    *["--paths", *train_files],
                ],
                args.timeout,
            )
        if not args.no_gnn and size in args.gnn_sizes:
            print(f"[{size}] export, train and attribute", flush=True)
            gnn = ["--home", str(gnn_home), "--graph", "bench", "--heldout", str(world / "heldout")]
            result["gnn"] = _on_server(
                gnn_home,
                "gnn",
                [*gnn, "--samples", str(args.samples), "--activities", str(args.activities)],
                args.timeout,
            )
        result["server_final_rss_mb"] = result.get(
            "gnn", result.get("ingest_batched", result["ingest_bulk"])
        ).get("server_rss_mb_after")
    finally:
        for h in (home, bulk_home):
            if h.exists():
                embedded.stop(h)
                if not args.keep:
                    shutil.rmtree(h, ignore_errors=True)
        if not args.keep and size not in args.world:
            shutil.rmtree(world, ignore_errors=True)
    return result


def _load(step: dict[str, Any]) -> str:
    """The 1-minute load average before and after a step."""
    before, after = step.get("load_before"), step.get("load_after")
    return f"{before[0]:.1f} / {after[0]:.1f}" if before and after else ""


def print_tables(data: dict[str, Any]) -> None:
    runs = data["runs"]
    print("\nIngest (ATT&CK loaded first; then the world's train bundles; a fresh store per size)")
    print(
        "| indicators | path | STIX objects | graph rows | wall s (read + write) | objects/s "
        "| rows/s | client CPU s (process + readers) | server CPU s | client peak RSS MB "
        "| server peak RSS MB | load before / after |"
    )
    print("|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    paths = (
        ("ingest_bulk", "bulk load (ATT&CK inside)"),
        ("ingest_batched", "batched, 5,000 rows/query"),
        ("ingest_single", "one object/query"),
    )
    for r in runs:
        for key, name in paths:
            x = r.get(key)
            if not x:
                continue
            if key in r.get("steps_from_earlier_run", []):
                name = f"{name} (an earlier run)"
            if "error" in x:
                print(f"| {r['size']:,} | {name} | {x['error']} | | | | | | | | | |")
                continue
            print(
                f"| {r['size']:,} | {name} | {x['stix_objects']:,} | {x['rows']:,} | "
                f"{x['seconds']} ({x.get('read_seconds', '?')} + {x.get('write_seconds', '?')}) | "
                f"{x['objects_per_s']:,.0f} | {x['rows_per_s']:,.0f} | "
                f"{x.get('client_cpu_seconds', '')} + {x.get('reader_workers_cpu_seconds', 0)} | "
                f"{x.get('server_cpu_seconds', '')} | "
                f"{x['client_peak_rss_mb']:,.0f} | {x['server_peak_rss_mb']:,.0f} | "
                f"{_load(x)} |"
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
    print("\nExport and training (RED, one process: its peak RSS includes the export's)")
    print(
        "| indicators | graph nodes | export s (CPU s) | export peak RSS MB | train s (CPU s) "
        "| trainer peak RSS MB | server peak RSS MB | load before / after |"
    )
    print("|---:|---:|---|---:|---|---:|---:|---|")
    for r in runs:
        g = r.get("gnn")
        if not g or "error" in g:
            continue
        ingest = r.get("ingest_batched") or r.get("ingest_bulk") or {}
        print(
            f"| {r['size']:,} | {ingest.get('graph', {}).get('nodes', 0):,} | "
            f"{g['export_seconds']} ({g.get('export_cpu_seconds', '?')}) | "
            f"{g['export_peak_rss_mb']:,.0f} | {g['train_seconds']} "
            f"({g.get('train_cpu_seconds', '?')}) | {g['train_peak_rss_mb']:,.0f} | "
            f"{g.get('server_peak_rss_mb', 0):,.0f} | {_load(g)} |"
        )
    print("\nAttribution (in process, model warm, one thread, sequential)")
    print(
        "| indicators | activities (median / max objects) | method | p50 ms | p95 ms | p99 ms "
        "| per s |"
    )
    print("|---:|---|---|---:|---:|---:|---:|")
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
            print(f"| {r['size']:,} | | {g['error']} | | | | |")
            continue
        shape = f"{g['activities']} ({g['activity_size_median']} / {g['activity_size_max']})"
        for key, name in methods:
            x = g.get(key)
            if x is None:
                continue
            print(
                f"| {r['size']:,} | {shape} | {name} | {x['p50_ms']} | {x['p95_ms']} "
                f"| {x['p99_ms']} | {x['throughput_per_s']} |"
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
    p.add_argument(
        "--world",
        action="append",
        default=[],
        metavar="SIZE=DIR",
        help="reuse the world generated before in DIR for SIZE instead of generating it "
        "(repeatable; never deleted)",
    )
    p.add_argument(
        "--store",
        action="append",
        default=[],
        metavar="SIZE=HOME",
        help="an embedded home that already holds SIZE's world: skip the ingest steps and "
        "measure export, training and attribution on it (its data is read, never deleted)",
    )
    p.add_argument(
        "--save-model",
        action="store_true",
        help="save the RED model trained on a --store home into its models/ (for the API)",
    )
    p.add_argument(
        "--store-graph",
        default="actorgraph",
        help="the graph of --store homes (default: actorgraph, what `actorgraph ingest` writes)",
    )
    p.add_argument(
        "--batched-sizes",
        type=int,
        nargs="*",
        default=None,
        help="sizes at which to run the batched ingest besides the bulk load (default: every)",
    )
    p.add_argument(
        "--activities",
        type=int,
        default=100,
        help="held-out activities attributed per size, at most (evenly spaced over the list)",
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the runs of other sizes already in --out (each keeps its own machine facts)",
    )
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
    args.world = {int(k): Path(v).resolve() for k, v in (w.split("=", 1) for w in args.world)}
    args.store = {int(k): Path(v).resolve() for k, v in (w.split("=", 1) for w in args.store)}
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args), default=str))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"machine": machine(), "runs": []}
    previous = json.loads(args.out.read_text()) if args.out.exists() else None
    kept = []
    if args.merge and previous is not None:
        kept = [r for r in previous["runs"] if r["size"] not in args.sizes]
        for r in kept:
            r.setdefault("machine", previous.get("machine"))
    measured = []
    before = {r["size"]: r for r in previous["runs"]} if args.merge and previous else {}
    for size in args.sizes:
        run = {**bench_size(size, args.work, args), "machine": machine()}
        # Steps not run this time (e.g. ingest, with --store) are kept from the file, and named.
        for step, value in before.get(size, {}).items():
            if step not in run:
                run[step] = value
                run.setdefault("steps_from_earlier_run", []).append(step)
        measured.append(run)
        data["runs"] = sorted([*kept, *measured], key=lambda r: r["size"])
        # Keep partial results when a later, larger size is interrupted.
        args.out.write_text(json.dumps(data, indent=2, default=str))
    if previous is not None:
        data["previous_machine"] = previous.get("machine")
    args.out.write_text(json.dumps(data, indent=2, default=str))
    print_tables(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
