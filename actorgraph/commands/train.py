"""``actorgraph train [--seed N]``: train the attribution model on what the store holds."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the attribution model on the store's graph")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same model)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: config)")
    p.add_argument(
        "--gnn",
        action="store_true",
        help="train the hetero GraphSAGE encoder jointly with the labels instead of "
        "pre-training it by link prediction (the default; joint training "
        "overfits the few labelled campaigns, see gnn/train.py)",
    )
    p.add_argument(
        "--minibatch",
        type=int,
        default=None,
        metavar="EDGES",
        help="pre-train the encoder on mini-batches of EDGES hidden edges over sampled "
        "neighbourhoods, for graphs whose full batch does not fit in memory "
        "(slower per epoch; default: full batch)",
    )
    p.add_argument("--json", action="store_true", help="print metrics as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train

    config = TrainConfig(seed=args.seed, use_gnn=args.gnn, pretrain_batch_size=args.minibatch)
    if args.epochs is not None:
        config.epochs = args.epochs
    snap = export_graph(ctx.store())
    log = None if args.json else (lambda line: print(line, file=sys.stderr))
    trained = train(snap, config, log=log)
    version = artefacts.save(trained, ctx.settings.home / "models")
    metrics = {"version": version, **trained.metrics}
    if args.json:
        ctx.out(metrics)
    else:
        ctx.out(f"model {version} saved to {ctx.settings.home / 'models' / version}")
        ctx.out("\n".join(f"  {k}: {v}" for k, v in metrics.items() if k != "version"))
    return 0
