"""Load-test the HTTP API with a real load generator (wrk) and print req/s and p50/p95/p99.

Scenarios: attribution (POST /v1/attributions with the demo world's held-out STIX bundles) and
indicator pivots (GET /v1/indicators/{value} over indicators sampled from the graph), each
against `actorgraph serve` running in its own processes, as deployed.

    python benchmarks/api.py                      # builds a demo home first (ATT&CK, world, model)
    python benchmarks/api.py --home .actorgraph   # reuses a home that `make demo` filled

Needs `wrk` (Debian: apt-get install -y wrk). Targets on 2 cores with the demo graph:
attribution >= 100 req/s with p99 < 150 ms; pivots p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

# -P: ``python -m`` would put the working directory first on sys.path, where a checkout's own
# folders (run from the repository root) shadow a PYTHONPATH naming a staged copy of the package.
CLI = [sys.executable, "-P", "-m", "actorgraph.cli"]

WRK_SCRIPT = r"""
local bodies, paths = {}, {}
local method, counter = "GET", 0
function init(args)
  method = args[1]
  local list = io.open(args[2])
  for line in list:lines() do
    if method == "POST" then
      local f = io.open(line, "rb"); bodies[#bodies + 1] = f:read("*a"); f:close()
    else
      paths[#paths + 1] = line
    end
  end
  list:close()
  counter = math.random(1, 1000)
end
function request()
  counter = counter + 1
  if method == "POST" then
    return wrk.format("POST", wrk.path, nil, bodies[counter % #bodies + 1])
  end
  return wrk.format("GET", paths[counter % #paths + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f %.3f %.3f\n",
    summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
"""


def cli(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    started = time.perf_counter()
    out = subprocess.run(
        [*CLI, "--home", str(home), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(f"  actorgraph {' '.join(args)[:70]}: {time.perf_counter() - started:.1f} s", flush=True)
    return out


def build_home(home: Path) -> None:
    """ATT&CK, the small demo world and a trained model, with the CLI (as a user would)."""
    print(f"building a demo home in {home}", flush=True)
    cli(home, "ingest", "--attack", "--json")
    cli(home, "generate-world", "--out", str(home / "world"), "--json")
    cli(home, "ingest", *map(str, sorted((home / "world").glob("train*.json"))), "--json")
    cli(home, "train", "--json")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (psutil, as benchmarks/scale.py)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:  # exited
            continue
        total += times.user + times.system
    return total


def server_pids(server: subprocess.Popen[bytes], home: Path) -> tuple[list[int], list[int]]:
    """(the API's processes: its parent and workers, the embedded FalkorDB server). The store is
    a child of the parent too: it is left out of the first list, so that its CPU is not counted
    twice."""
    import psutil

    store_file = home / "falkordb.pid"
    store = [int(store_file.read_text())] if store_file.exists() else []
    children = [c.pid for c in psutil.Process(server.pid).children()]
    return [server.pid, *(c for c in children if c not in store)], store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_wrk(
    url: str,
    method: str,
    items: Path,
    *,
    threads: int,
    connections: int,
    duration: int,
    headers: dict[str, str],
    script: Path,
) -> dict[str, float]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd += [url, "--", method, str(items)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    n, dur_us, errors, p50, p95, p99, pmax, mean = line.split()[1:]
    seconds = int(dur_us) / 1e6
    return {
        "requests": int(n),
        "errors": int(errors),
        "req_s": int(n) / seconds,
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(pmax),
        "mean": float(mean),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--home", type=Path, help="an actorgraph home with data and a model (default: build one)"
    )
    # Two workers per core: a worker computes behind its GIL and also waits on the store, and
    # wrk's keep-alive connections split unevenly over few workers (RESULTS.md: 2 workers gave
    # 73-132 req/s at 4 connections, 4 workers 121-173).
    parser.add_argument("--workers", type=int, default=4, help="uvicorn workers (default 4)")
    parser.add_argument(
        "--duration", type=int, default=15, help="seconds per scenario (default 15)"
    )
    parser.add_argument(
        "--connections",
        default="4,8",
        help="concurrent connections, comma-separated for several runs (default 4,8)",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)
    connections = [int(c) for c in str(args.connections).split(",") if c.strip()]
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="ag-bench-"))
    home = (args.home or tmp / "home").resolve()
    if not (home / "models").exists():
        build_home(home)
    env = {
        **os.environ,
        "ACTORGRAPH_HOME": str(home),
        "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    key = json.loads(
        cli(
            home,
            "keys",
            "create",
            "--role",
            "admin",
            "--tlp",
            "red",
            "--name",
            "benchmark",
            "--json",
        )
    )
    headers = {"Authorization": f"Bearer {key['key']}", "Content-Type": "application/json"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.perf_counter() - started > 180:
                print("the server did not become ready", file=sys.stderr)
                return 1
            time.sleep(0.5)
        print(f"server ready in {time.perf_counter() - started:.1f} s ({args.workers} workers)")
        client = httpx.Client(base_url=base, headers=headers, timeout=30)
        rows = client.post(
            "/v1/cypher",
            json={
                "query": "MATCH (i:Indicator)-[:INDICATES]->() "
                "RETURN DISTINCT i.value AS v LIMIT 2000"
            },
        ).json()["rows"]
        values = [r["v"] for r in rows if r["v"]]
        random.Random(7).shuffle(values)
        pivots = tmp / "pivots.txt"
        pivots.write_text(
            "\n".join(f"/v1/indicators/{quote(v, safe='')}" for v in values[:500]) + "\n"
        )
        # `actorgraph demo` writes world/seed<N>-<scale>/, `generate-world` world/ by default.
        bodies = sorted((home / "world").glob("**/heldout/*.json"))[:200]
        if not bodies:
            print(f"no held-out bundles under {home / 'world'}", file=sys.stderr)
            return 1
        listing = tmp / "bodies.txt"
        listing.write_text("\n".join(str(p) for p in bodies) + "\n")
        sizes = [len(json.loads(p.read_text())["objects"]) for p in bodies]
        # Check the scenarios answer 200 before loading them.
        assert client.post("/v1/attributions", content=bodies[0].read_bytes()).status_code == 200
        assert client.get(pivots.read_text().splitlines()[0]).status_code == 200
        script = tmp / "bench.lua"
        script.write_text(WRK_SCRIPT)
        results = {}
        for name, method, path, items in (
            ("attribution", "POST", "/v1/attributions", listing),
            ("indicator pivot", "GET", "/v1/indicators/", pivots),
        ):
            run_wrk(
                base + path,
                method,
                items,
                threads=args.threads,
                connections=connections[0],
                duration=3,
                headers=headers,
                script=script,
            )  # warm-up
            for conns in connections:
                api_pids, store_pids = server_pids(server, home)
                before = cpu_seconds(api_pids), cpu_seconds(store_pids)
                results[(name, conns)] = r = run_wrk(
                    base + path,
                    method,
                    items,
                    threads=args.threads,
                    connections=conns,
                    duration=args.duration,
                    headers=headers,
                    script=script,
                )
                # CPU per request, the quantity that caps throughput on a shared machine.
                n = max(r["requests"], 1)
                r["api_cpu_ms"] = (cpu_seconds(api_pids) - before[0]) * 1000 / n
                r["store_cpu_ms"] = (cpu_seconds(store_pids) - before[1]) * 1000 / n
        stats = client.post("/v1/cypher", json={"query": "MATCH (n) RETURN count(n) AS n"}).json()[
            "rows"
        ][0]["n"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"\nactorgraph API under wrk: {os.cpu_count()} CPUs (server, store and wrk share them), "
        f"{args.workers} workers, {args.duration} s per run, graph of {stats:,} nodes"
    )
    print(
        f"attribution bodies: {len(bodies)} held-out STIX bundles, "
        f"{min(sizes)}-{max(sizes)} objects; "
        f"pivots: {min(len(values), 500)} indicators\n"
    )
    print(
        f"{'scenario':<16} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>7} {'CPU ms/req (api+store)':>23}  target"
    )
    targets = {"attribution": ">= 100 req/s, p99 < 150 ms", "indicator pivot": "p99 < 50 ms"}
    for (name, conns), r in results.items():
        print(
            f"{name:<16} {conns:>5} {r['req_s']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} "
            f"{r['p99']:>8.1f} {r['max']:>8.1f} {r['errors']:>7} "
            f"{r['api_cpu_ms']:>14.1f} + {r['store_cpu_ms']:>4.1f}  {targets[name]}"
        )
    if args.json:
        print(
            json.dumps(
                [{"scenario": n, "connections": c, **r} for (n, c), r in results.items()], indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
