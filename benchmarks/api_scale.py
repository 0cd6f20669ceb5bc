"""The API's attribution throughput on a large graph against a small one, same client and load.

    python benchmarks/api_scale.py --home-a DEMO_HOME --bodies-a DIR \
                                   --home-b BIG_HOME --bodies-b DIR [--connections 4] [--rounds 3]

Each home (data and a trained model) is served by `actorgraph serve` in turn, never both at
once (the machine's cores and memory are shared), and loaded by `wrk` with attribution posts:
the same connections, duration, workers and Lua script as ``benchmarks/api.py``. Runs alternate
A, B, A, ... (``--rounds``) so that a change in the machine's load shows up as a spread instead
of a bias. Each home answers its own world's held-out activities (the indicators it was trained
around); the big world's list is matched to the small one's by size: for each small bundle the
big bundle with the nearest number of STIX objects, each used once, so both send the same shape
of activity. Printed per run: req/s, p50/p95/p99, errors, CPU ms per request (API processes +
store, from psutil), load average before and after; then B's mean req/s over A's.

Needs `wrk` (Debian: apt-get install -y wrk). Issue 17's target: B within 20 % of A.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent


def _api_bench() -> Any:
    """``benchmarks/api.py``: its wrk script, runner and CPU accounting are reused as they are."""
    spec = importlib.util.spec_from_file_location("api_bench", HERE / "api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _api_bench()


def bundle_size(path: Path) -> int:
    return len(json.loads(path.read_bytes())["objects"])


def matched_bodies(small: list[Path], big: list[Path]) -> list[Path]:
    """For each small bundle (largest first), the unused big bundle nearest in object count."""
    pool = sorted((bundle_size(p), str(p)) for p in big)
    chosen: list[Path] = []
    for size in sorted((bundle_size(p) for p in small), reverse=True):
        best = min(range(len(pool)), key=lambda i: abs(pool[i][0] - size))
        chosen.append(Path(pool.pop(best)[1]))
    return sorted(chosen)


def start_server(
    home: Path, workers: int, ready_within: float = 1200
) -> tuple[subprocess.Popen[bytes], str, float]:
    env = {
        **os.environ,
        "ACTORGRAPH_HOME": str(home),
        "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    port = bench.free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*bench.CLI, "serve", "--port", str(port), "--workers", str(workers)],
        # Not the repository: `python -m` puts the working directory first on sys.path, where
        # the source folders would shadow a staged copy named by PYTHONPATH.
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.perf_counter() - started > ready_within:
            stop_server(server)
            raise RuntimeError(f"the server on {home} did not become ready")
        time.sleep(0.5)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()


def memory_mb(pids: list[int]) -> dict[str, float]:
    """RSS, PSS and USS summed over the processes, in MB. Workers forked from a parent that
    loaded the model share its pages: their RSS counts them once per process, PSS splits each
    shared page between its sharers (the sum is what they hold together), USS is each one's
    own."""
    import psutil

    total = {"rss": 0, "pss": 0, "uss": 0}
    for pid in pids:
        try:
            info = psutil.Process(pid).memory_full_info()
        except psutil.Error:
            continue
        for name in total:
            total[name] += getattr(info, name)
    return {name: round(value / 2**20) for name, value in total.items()}


def load_home(
    home: Path, bodies: list[Path], args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    """Serve ``home``, post ``bodies`` under wrk at each connection count; one result per count."""
    key = json.loads(
        bench.cli(
            home, "keys", "create", "--role", "admin", "--tlp", "red", "--name", "bench", "--json"
        )
    )
    headers = {"Authorization": f"Bearer {key['key']}", "Content-Type": "application/json"}
    listing = tmp / f"bodies-{home.name}.txt"
    listing.write_text("\n".join(str(p) for p in bodies) + "\n")
    script = tmp / "bench.lua"
    script.write_text(bench.WRK_SCRIPT)
    server, base, ready_s = start_server(home, args.workers, args.ready_within)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            first = client.post("/v1/attributions", content=bodies[0].read_bytes())
            if first.status_code != 200:
                raise RuntimeError(f"{home}: attribution answered {first.status_code}")
            nodes = client.post(
                "/v1/cypher", json={"query": "MATCH (n) RETURN count(n) AS n"}
            ).json()["rows"][0]["n"]
        url = base + "/v1/attributions"
        kw = {"threads": args.threads, "headers": headers, "script": script}
        bench.run_wrk(url, "POST", listing, connections=args.connections[0], duration=5, **kw)
        out: dict[str, Any] = {
            "ready_s": round(ready_s, 1),
            "nodes": nodes,
            "memory_ready_mb": memory_mb(bench.server_pids(server, home)[0]),
            "runs": [],
        }
        print(f"  {home.name}: ready after {ready_s:.1f} s, API memory {out['memory_ready_mb']}")
        for conns in args.connections:
            api_pids, store_pids = bench.server_pids(server, home)
            cpu0 = bench.cpu_seconds(api_pids), bench.cpu_seconds(store_pids)
            load0 = os.getloadavg()
            r = bench.run_wrk(url, "POST", listing, connections=conns, duration=args.duration, **kw)
            n = max(r["requests"], 1)
            r["connections"] = conns
            r["api_cpu_ms"] = (bench.cpu_seconds(api_pids) - cpu0[0]) * 1000 / n
            r["store_cpu_ms"] = (bench.cpu_seconds(store_pids) - cpu0[1]) * 1000 / n
            r["load_before"] = [round(x, 2) for x in load0]
            r["load_after"] = [round(x, 2) for x in os.getloadavg()]
            r["api_memory_mb"] = memory_mb(api_pids)
            r["api_processes"] = len(api_pids)
            r["store_rss_mb"] = memory_mb(store_pids)["rss"]
            out["runs"].append(r)
            print(
                f"  {home.name}: {conns} conns {r['req_s']:.1f} req/s, p50 {r['p50']:.0f} "
                f"p95 {r['p95']:.0f} p99 {r['p99']:.0f} ms, errors {r['errors']}, "
                f"CPU {r['api_cpu_ms']:.1f} + {r['store_cpu_ms']:.1f} ms/req, "
                f"load {r['load_before'][0]:.1f}->{r['load_after'][0]:.1f}, API memory "
                f"(RSS/PSS/USS MB) {r['api_memory_mb']}, store RSS {r['store_rss_mb']} MB",
                flush=True,
            )
        return out
    finally:
        stop_server(server)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--home-a", type=Path, required=True, help="the small graph's home (baseline)")
    p.add_argument("--bodies-a", type=Path, required=True, help="its held-out STIX bundles")
    p.add_argument("--home-b", type=Path, required=True, help="the large graph's home")
    p.add_argument("--bodies-b", type=Path, required=True, help="its held-out STIX bundles")
    p.add_argument("--workers", type=int, default=4, help="uvicorn workers (as benchmarks/api.py)")
    p.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    p.add_argument("--connections", default="4", help="comma-separated connection counts")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--rounds", type=int, default=3, help="runs in the order A, B, A, ...")
    p.add_argument(
        "--ready-within",
        type=float,
        default=1200,
        help="seconds a server may take to load its model and answer /readyz",
    )
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    args = p.parse_args(argv)
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    small = sorted(args.bodies_a.glob("*.json"))
    big = matched_bodies(small, sorted(args.bodies_b.glob("*.json")))
    sizes = {"a": [bundle_size(f) for f in small], "b": [bundle_size(f) for f in big]}
    for side, s in sizes.items():
        print(
            f"{side}: {len(s)} bundles, objects min {min(s)} median {statistics.median(s)} "
            f"max {max(s)}, total {sum(s)}"
        )
    tmp = Path(tempfile.mkdtemp(prefix="ag-api-scale-"))
    homes = {"a": (args.home_a.resolve(), small), "b": (args.home_b.resolve(), big)}
    results: list[dict[str, Any]] = []
    for i in range(args.rounds):
        side = "ab"[i % 2]
        home, bodies = homes[side]
        print(f"round {i + 1}: {side} ({home})", flush=True)
        results.append({"side": side, "home": str(home), **load_home(home, bodies, args, tmp)})
    print(
        f"\nattribution under wrk: {os.cpu_count()} CPUs shared by server, store and wrk; "
        f"{args.workers} workers, {args.duration} s per run"
    )
    for conns in args.connections:
        rate = {
            side: [
                x["req_s"]
                for r in results
                if r["side"] == side
                for x in r["runs"]
                if x["connections"] == conns
            ]
            for side in "ab"
        }
        if rate["a"] and rate["b"]:
            a, b = statistics.fmean(rate["a"]), statistics.fmean(rate["b"])
            print(
                f"{conns} connections: A {a:.1f} req/s {rate['a']}, B {b:.1f} req/s "
                f"{rate['b']}: B/A = {b / a:.2f} (target >= 0.80)"
            )
    if args.out:
        args.out.write_text(json.dumps({"sizes": sizes, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
