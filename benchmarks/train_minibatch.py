"""Link-prediction pre-training of the GraphSAGE encoder: full batch vs mini-batch, by graph size.

    python benchmarks/train_minibatch.py [--sizes 10000 50000 200000] [--edges-per-node 5]
                                         [--mini 1024:10,10 256:5,5] [--threads 1]

On synthetic heterogeneous graphs of six node types (indicator, campaign, malware, technique,
tool, actor; ten "uses"-style relations plus their ``rev_`` reverses, skewed in-degrees so that
hubs exist) it runs ``gnn.pretrain.pretrain_link_prediction`` as the trainer does (dim 32,
two layers, 30 % of the supervision edges hidden per epoch) in three modes:

- ``full``: the default full-batch path (one step per epoch over all hidden edges);
- ``mini``: ``batch_size`` hidden edges per step over neighbourhoods sampled with the given
  fan-outs per hop and relation (``gnn.sampling``), an epoch being one pass over the same hidden
  edges (one run per ``--mini BATCH:FANOUT,FANOUT`` setting);
- ``embed``: one no-grad full-batch forward, the cost of embedding every node afterwards
  (what ``gnn.train`` does with the encoder once it is trained).

Each (size, mode) runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own; the
peak after building the graph and the encoder is reported beside it. CPU seconds
(``getrusage``, user + system) are reported beside wall seconds because the machine may be
shared. Results go to ``benchmarks/train_minibatch.json`` and are printed as one table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "benchmarks" / "train_minibatch.json"

# Share of the nodes per type, and of the forward edges per relation.
NODE_SHARES = {
    "indicator": 0.55,
    "campaign": 0.10,
    "malware": 0.12,
    "technique": 0.10,
    "tool": 0.05,
    "actor": 0.08,
}
EDGE_SHARES = {
    ("indicator", "INDICATES", "malware"): 0.25,
    ("indicator", "INDICATES", "campaign"): 0.15,
    ("campaign", "USES", "malware"): 0.10,
    ("campaign", "USES", "technique"): 0.10,
    ("campaign", "ATTRIBUTED_TO", "actor"): 0.02,
    ("actor", "USES", "malware"): 0.08,
    ("actor", "USES", "technique"): 0.10,
    ("actor", "USES", "tool"): 0.05,
    ("malware", "USES", "technique"): 0.10,
    ("tool", "USES", "technique"): 0.05,
}


def synthetic_graph(num_nodes: int, edges_per_node: float, seed: int = 0):
    """(node counts, edge dict with ``rev_`` reverses) of about ``num_nodes`` nodes.

    Sources are uniform; destinations follow ``floor(n * u**2)``, a skew that gives the first
    destinations of each type hub-sized in-degrees. Duplicate edges are dropped.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    nodes = {t: max(2, int(num_nodes * s)) for t, s in NODE_SHARES.items()}
    edges = {}
    for (st, rel, dt), share in EDGE_SHARES.items():
        m = int(num_nodes * edges_per_node * share)
        src = torch.randint(0, nodes[st], (m,), generator=gen)
        dst = (torch.rand(m, generator=gen) ** 2 * nodes[dt]).long().clamp_max(nodes[dt] - 1)
        code = torch.unique(src * nodes[dt] + dst)
        ei = torch.stack([code // nodes[dt], code % nodes[dt]])
        edges[(st, rel, dt)] = ei
        edges[(dt, f"rev_{rel}", st)] = ei.flip(0)
    return nodes, edges


# ------------------------------------------------------------------------------ worker
def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def worker(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from actorgraph.gnn.dataset import ENTITY_TYPES
    from actorgraph.gnn.model import HeteroSAGE
    from actorgraph.gnn.pretrain import pretrain_link_prediction, supervision_keys

    torch.set_num_threads(args.threads)
    nodes, edges = synthetic_graph(args.nodes, args.edges_per_node)
    torch.manual_seed(0)
    encoder = HeteroSAGE(
        nodes, list(edges), dim=args.dim, layers=len(args.fanouts), learned_types=ENTITY_TYPES
    )
    forward_edges = sum(
        ei.shape[1] for (_, rel, _), ei in edges.items() if not rel.startswith("rev_")
    )
    sup = sum(edges[k].shape[1] for k in supervision_keys(edges))
    row: dict[str, Any] = {
        "mode": args.mode,
        "nodes": sum(nodes.values()),
        "edges": forward_edges,
        "message_edges": 2 * forward_edges,
        "supervision_edges": sup,
        "base_peak_rss_mb": _peak_mb(),
    }
    cpu0, t0 = _cpu_s(), time.perf_counter()
    if args.mode == "embed":
        with torch.no_grad():
            encoder(edges)
        epochs = 1
    else:
        batch = args.batch_size if args.mode == "mini" else None
        losses = pretrain_link_prediction(
            encoder,
            edges,
            epochs=args.epochs,
            lr=0.01,
            seed=1,
            batch_size=batch,
            fanouts=tuple(args.fanouts),
        )
        epochs = len(losses)
        row["losses"] = [round(x, 4) for x in losses]
        if batch:
            # The first epoch's hidden edges, drawn exactly as the run drew them (seed 1).
            from actorgraph.gnn.pretrain import _hide_targets

            _, hidden = _hide_targets(
                edges, supervision_keys(edges), 0.3, torch.Generator().manual_seed(1)
            )
            row["steps_per_epoch"] = -(-sum(p.shape[1] for _, p in hidden) // batch)
    row["epoch_s"] = round((time.perf_counter() - t0) / epochs, 3)
    row["epoch_cpu_s"] = round((_cpu_s() - cpu0) / epochs, 3)
    row["epochs"] = epochs
    row["peak_rss_mb"] = _peak_mb()
    if args.mode == "mini":
        row.update(_sampling_cost(encoder, edges, nodes, args, sup))
    return row


def _sampling_cost(encoder, edges, nodes, args, sup: int) -> dict[str, Any]:
    """Mean sub-graph size and sampling time of a few batches like the training ones."""
    import torch

    from actorgraph.gnn.pretrain import supervision_keys
    from actorgraph.gnn.sampling import NeighborSampler

    gen = torch.Generator().manual_seed(2)
    t0 = time.perf_counter()
    sampler = NeighborSampler(edges, nodes, tuple(args.fanouts), gen)
    build_s = time.perf_counter() - t0
    keys = supervision_keys(edges)
    per_key = max(1, args.batch_size // len(keys))
    sizes, secs = [], []
    for _ in range(5):
        seeds: dict[str, list] = {}
        for key in keys:
            st, _, dt = key
            ei = edges[key]
            pick = torch.randint(0, ei.shape[1], (per_key,), generator=gen)
            seeds.setdefault(st, []).append(ei[0, pick])
            seeds.setdefault(dt, []).append(
                torch.cat([ei[1, pick], torch.randint(0, nodes[dt], (per_key,), generator=gen)])
            )
        t0 = time.perf_counter()
        sub = sampler.sample({t: torch.cat(v) for t, v in seeds.items()})
        secs.append(time.perf_counter() - t0)
        sizes.append((sub.num_nodes, sub.num_edges))
    return {
        "sampler_build_s": round(build_s, 3),
        "sample_ms_per_batch": round(1000 * sum(secs) / len(secs), 1),
        "subgraph_nodes": round(sum(s[0] for s in sizes) / len(sizes)),
        "subgraph_edges": round(sum(s[1] for s in sizes) / len(sizes)),
    }


# ------------------------------------------------------------------------------ driver
def run_one(
    args: argparse.Namespace, nodes: int, mode: str, epochs: int, mini: str = "1024:10,10"
) -> dict[str, Any]:
    batch, fanouts = mini.split(":")
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--mode",
        mode,
        "--nodes",
        str(nodes),
        "--epochs",
        str(epochs),
        "--edges-per-node",
        str(args.edges_per_node),
        "--batch-size",
        batch,
        "--threads",
        str(args.threads),
        "--dim",
        str(args.dim),
        "--fanouts",
        *fanouts.split(","),
    ]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=args.timeout)
    if out.returncode:
        return {"mode": mode, "target_nodes": nodes, "error": out.stderr.strip()[-400:]}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    if mode == "mini":
        row["batch_size"], row["fanouts"] = int(batch), [int(k) for k in fanouts.split(",")]
    row["target_nodes"] = nodes
    row["process_wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| nodes | edges (fwd) | mode | epoch s | epoch CPU s | steps/epoch | CPU s/step "
        "| sub-graph nodes / edges | peak RSS MB | after graph + encoder MB |"
    )
    lines = [head, "|" + "---:|" * 2 + "---|" + "---:|" * 7]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['target_nodes']:,} | | {r['mode']} | failed: {r['error'][-80:]} "
                "| | | | | | |"
            )
            continue
        steps = r.get("steps_per_epoch", 1 if r["mode"] == "full" else "-")
        if r["mode"] == "mini":
            label = f"mini-batch {r['batch_size']}, fan-out {tuple(r['fanouts'])}"
            sub = f"{r['subgraph_nodes']:,} / {r['subgraph_edges']:,}"
        else:
            label = {"full": "full batch", "embed": "embed all (no grad)"}[r["mode"]]
            sub = f"{r['nodes']:,} / {r['message_edges']:,}"
        per_step = round(r["epoch_cpu_s"] / steps, 3) if steps != "-" else "-"
        lines.append(
            f"| {r['nodes']:,} | {r['edges']:,} | {label} | {r['epoch_s']} | "
            f"{r['epoch_cpu_s']} | {steps} | {per_step} | {sub} | "
            f"{r['peak_rss_mb']:,.0f} | {r['base_peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    ap.add_argument("--edges-per-node", type=float, default=5.0)
    ap.add_argument(
        "--mini",
        nargs="+",
        default=["1024:10,10", "256:5,5"],
        help="mini-batch settings, BATCH_SIZE:FANOUT,FANOUT (one run each)",
    )
    ap.add_argument("--batch-size", type=int, default=1024, help=argparse.SUPPRESS)
    ap.add_argument("--fanouts", type=int, nargs="+", default=[10, 10], help=argparse.SUPPRESS)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per run (1: CPU seconds are the work, not spinning)",
    )
    ap.add_argument("--epochs", type=int, default=3, help="full-batch epochs per run")
    ap.add_argument("--mini-epochs", type=int, default=1, help="mini-batch epochs per run")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", choices=["full", "mini", "embed"], default="full")
    ap.add_argument("--nodes", type=int, default=10_000)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_before = os.getloadavg()
    rows = []
    for n in args.sizes:
        rows.append(run_one(args, n, "full", args.epochs))
        for mini in args.mini:
            rows.append(run_one(args, n, "mini", args.mini_epochs, mini))
        rows.append(run_one(args, n, "embed", 1))
    import torch

    result = {
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "platform": platform.platform(),
        },
        "settings": {
            "edges_per_node": args.edges_per_node,
            "mini": args.mini,
            "dim": args.dim,
            "threads": args.threads,
            "weight_decay": 1e-4,
            "full_epochs": args.epochs,
            "mini_epochs": args.mini_epochs,
            "hide_frac": 0.3,
            "lr": 0.01,
        },
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(rows))
    print(
        f"\n{started} -> {result['finished']}, load average {result['load_average_before']} -> "
        f"{result['load_average_after']}; results in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
