"""``actorgraph evaluate``: the model and the built-in baselines on the same splits, side by side.

Splits: leave-one-campaign-out over MITRE ATT&CK's attributed campaigns in the store, and, with
``--heldout DIR``, a demo world's held-out clusters (``DIR/heldout/*.json`` +
``DIR/heldout_labels.json``) attributed by the latest model. Both evaluate at clearance ``red``
(the whole graph, the latest version's ``red`` model): an operator's measurement, never shown
to a key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="model vs TF-IDF and overlap baselines on the same splits")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--epochs", type=int, default=None, help="training epochs per fold (default: config)"
    )
    p.add_argument(
        "--heldout",
        type=Path,
        default=None,
        help="demo world directory with heldout/*.json and heldout_labels.json",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="train the leave-one-out folds in N processes (same numbers, ~1/N the time)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.evaluate import format_table, leave_one_campaign_out
    from actorgraph.gnn.train import TrainConfig
    from actorgraph.graph.tlp import TLP

    snap = export_graph(ctx.store(), max_tlp=TLP.RED)
    log = None if args.json else (lambda line: print(line, file=sys.stderr))
    config = TrainConfig(seed=args.seed)
    if args.epochs is not None:
        config.epochs = args.epochs
    results = [leave_one_campaign_out(snap, config, log=log, jobs=max(1, args.jobs))]
    if args.heldout is not None:
        from actorgraph.gnn import artefacts
        from actorgraph.gnn.evaluate import evaluate_heldout
        from actorgraph.gnn.world_split import load_heldout

        trained = artefacts.load(ctx.settings.home / "models", max_tlp=TLP.RED)
        results.append(evaluate_heldout(trained, load_heldout(args.heldout)))
    if args.json:
        ctx.out(results)
    else:
        ctx.out(format_table(results))
    return 0
