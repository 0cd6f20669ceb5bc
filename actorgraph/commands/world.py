"""``actorgraph generate-world``: write the SYNTHETIC demo world as STIX 2.1 bundles."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate-world",
        help=(
            "write the synthetic demo world (real ATT&CK actors, generated indicators) as STIX 2.1"
        ),
        description=(
            "Write labelled campaigns (train*.json), held-out clusters (heldout/*.json), their "
            "labels and world.json. Indicators and infrastructure are SYNTHETIC; actors, malware, "
            "tools and techniques are real ATT&CK ids (ingest ATT&CK before the world)."
        ),
    )
    p.add_argument(
        "--seed", type=int, default=7, help="random seed (default 7); same seed, same bytes"
    )
    p.add_argument(
        "--scale",
        default="small",
        help=(
            "small (~3k indicators), medium (~30k), large (~300k)"
            " or a number of indicators up to 1000000"
        ),
    )
    p.add_argument("--out", type=Path, help="output directory (default: <home>/world)")
    p.add_argument("--json", action="store_true", help="print world.json's counts as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.world import generate_world  # imported here: other commands start without it

    out = args.out or Path(ctx.settings.home) / "world"
    started = time.perf_counter()
    meta = generate_world(seed=args.seed, scale=args.scale).write(out)
    elapsed = time.perf_counter() - started
    counts = meta["counts"]
    if args.json:
        ctx.out(
            {
                "out": str(out),
                "seconds": round(elapsed, 2),
                "files": meta["files"],
                "counts": counts,
            }
        )
        return 0
    ctx.out(
        f"wrote the SYNTHETIC demo world (seed {args.seed}, scale {args.scale}) to {out}"
        f" in {elapsed:.1f} s\n"
        f"  indicators {counts['indicators']:,}  objects {counts['objects']:,}\n"
        f"  labelled campaigns {counts['train_campaigns']:,}"
        f" (+{counts['train_unattributed_campaigns']} unattributed)"
        f" in {', '.join(meta['files']['train'])}\n"
        f"  held-out clusters {counts['heldout_clusters']:,} in heldout/,"
        " truth in heldout_labels.json\n"
        f"next: actorgraph ingest --attack && actorgraph ingest {out}/train*.json"
    )
    return 0
