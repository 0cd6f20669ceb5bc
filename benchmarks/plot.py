"""Growth curves from ``benchmarks/scale_results.json`` (written by ``benchmarks/scale.py``).

    python benchmarks/plot.py [--results benchmarks/scale_results.json] [--out benchmarks/scale.png]

Four panels against the demo world's size (indicators, log scale): ingest cost, batched and bulk
(CPU seconds of client and server, and wall seconds), peak memory (ingest client, server,
trainer), export and training (seconds) and attribution latency (GNN with and without evidence
vs TF-IDF, p50 and p99).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _series(runs: list[dict[str, Any]], step: str, key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in runs:
        x = r.get(step) or {}
        if key in x and "error" not in x:
            xs.append(r["size"])
            ys.append(x[key])
    return xs, ys


def _nested(runs: list[dict[str, Any]], method: str, key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in runs:
        g = r.get("gnn") or {}
        if method in g:
            xs.append(r["size"])
            ys.append(g[method][key])
    return xs, ys


def plot(data: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = sorted(data["runs"], key=lambda r: r["size"])
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    m = data.get("machine", {})
    fig.suptitle(
        f"actorgraph cost vs demo-world size ({m.get('nproc', '?')} cores, "
        f"{m.get('memory_gb', '?')} GB, "
        f"{m.get('date_utc', '')})"
    )

    ax = axes[0][0]
    for step, name, color in (
        ("ingest_batched", "batched", "tab:blue"),
        ("ingest_bulk", "bulk", "tab:green"),
    ):
        for key, label, style in (
            ("seconds", "wall s (shared machine)", "o-"),
            ("client_cpu_seconds", "client CPU s", "s--"),
            ("server_cpu_seconds", "server CPU s", "^:"),
        ):
            xs, ys = _series(runs, step, key)
            if xs:
                ax.plot(xs, ys, style, color=color, label=f"{name}: {label}")
    xs, ys = _series(runs, "ingest_single", "seconds")
    if xs:
        ax.plot(xs, ys, "rx", markersize=10, label="one object per query: wall s")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="indicators in the demo world",
        ylabel="seconds",
        title="Ingest of the world's training bundle(s)",
    )
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)

    ax = axes[0][1]
    for step, name in (("ingest_batched", "batched"), ("ingest_bulk", "bulk")):
        for key, label, style in (
            ("client_peak_rss_mb", "ingest process", "o-"),
            ("server_peak_rss_mb", "FalkorDB server", "s-"),
        ):
            xs, ys = _series(runs, step, key)
            if xs:
                ax.plot(xs, ys, style, label=f"{name}: {label}")
    xs, ys = _series(runs, "gnn", "train_peak_rss_mb")
    if xs:
        ax.plot(xs, ys, "^-", label="training process")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="indicators in the demo world",
        ylabel="peak RSS (MB)",
        title="Peak memory",
    )
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)

    ax = axes[1][0]
    for key, label, style in (
        ("export_seconds", "export graph -> tensors, wall s", "o-"),
        ("export_cpu_seconds", "export, CPU s", "o--"),
        ("train_seconds", "train, wall s", "s-"),
        ("train_cpu_seconds", "train, CPU s", "s--"),
    ):
        xs, ys = _series(runs, "gnn", key)
        if xs:
            ax.plot(xs, ys, style, label=label)
    ax.set(xscale="log", xlabel="indicators in the demo world", ylabel="seconds", title="Training")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)

    ax = axes[1][1]
    for method, label, color in (
        ("gnn", "GNN", "tab:blue"),
        ("gnn_with_evidence", "GNN + evidence", "tab:purple"),
        ("tfidf", "TF-IDF", "tab:orange"),
    ):
        for key, style in (("p50_ms", "o-"), ("p99_ms", "^--")):
            xs, ys = _nested(runs, method, key)
            if xs:
                ax.plot(xs, ys, style, color=color, label=f"{label} {key[:3]}")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="indicators in the demo world",
        ylabel="ms per attribution (wall)",
        title="Attribution latency, model warm",
    )
    ax.legend(fontsize=8, ncol=2)
    ax.grid(True, which="both", alpha=0.3)

    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "scale_results.json")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale.png")
    args = p.parse_args(argv)
    plot(json.loads(args.results.read_text()), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
