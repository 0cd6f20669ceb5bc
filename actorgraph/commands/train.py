"""``actorgraph train [--seed N]``: train the attribution models on what the store holds.

One model per TLP clearance that has data (``gnn.dataset.export_levels``), each trained only on
what a key of that clearance may see; a level whose visible graph is the same as the level
below shares that level's model. All of them are saved as one version (``gnn.artefacts``).
"""

from __future__ import annotations

import argparse
import sys

from actorgraph.gnn.config import ENCODERS, GRAPH_MODES


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
        help="add the encoder pre-trained by link prediction (off by default), on mini-batches "
        "of EDGES hidden edges over sampled neighbourhoods, for graphs whose full batch does "
        "not fit in memory",
    )
    graph = p.add_mutually_exclusive_group()
    graph.add_argument(
        "--no-graph",
        dest="graph",
        action="store_const",
        const="none",
        help="the same pipeline without message passing: direct overlap only, no context "
        "propagation and no encoder (measures what the graph adds on your data)",
    )
    graph.add_argument(
        "--graph",
        dest="graph",
        choices=GRAPH_MODES,
        help="full (default): direct overlap and message passing; none: as --no-graph; "
        "only: the propagated features alone",
    )
    p.add_argument(
        "--encoder",
        choices=ENCODERS,
        default=None,
        help="the learned graph part: none (default) or evidence (relation-typed message "
        "passing of actor evidence, trained jointly in the attribution loss; ignored with "
        "--no-graph)",
    )
    batch = p.add_mutually_exclusive_group()
    batch.add_argument(
        "--batch-campaigns",
        type=int,
        default=None,
        metavar="N",
        help="mini-batch training: each episode draws about N campaign queries when the "
        "labelled campaigns would give more (default: the config's, 512; smaller graphs train "
        "exactly as with --full-batch)",
    )
    batch.add_argument(
        "--full-batch",
        action="store_true",
        help="every episode draws from all labelled campaigns, at any graph size",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="train the clearance levels in N worker processes side by side: the same models, "
        "sooner on idle cores, with each worker holding its own level in memory (default 1)",
    )
    p.add_argument("--json", action="store_true", help="print metrics as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.clearances import train_per_clearance
    from actorgraph.gnn.train import TrainConfig

    config = TrainConfig(
        seed=args.seed,
        use_gnn=args.gnn,
        pretrain_gnn=args.minibatch is not None,
        pretrain_batch_size=args.minibatch,
        graph=args.graph or "full",
    )
    if args.encoder is not None:
        config.encoder = args.encoder
    if args.epochs is not None:
        config.epochs = args.epochs
    if args.full_batch:
        config.batch_campaigns = None
    elif args.batch_campaigns is not None:
        config.batch_campaigns = args.batch_campaigns
    log = None if args.json else (lambda line: print(line, file=sys.stderr))
    models = train_per_clearance(ctx.store(), config, log=log, jobs=args.jobs)
    version = artefacts.save(list(models.values()), ctx.settings.home / "models")
    args.audit_target = version  # the audit log's target (actorgraph.commands.audit)
    served = {
        level.label: model.label if model is not None else None
        for level, model in artefacts.serving(models).items()
    }
    top = models[max(models)]
    # The highest model's metrics at the top level, as before per-clearance models.
    metrics = {
        "version": version,
        **top.metrics,
        "clearances": served,
        "models": {level.label: t.metrics for level, t in models.items()},
    }
    if args.json:
        ctx.out(metrics)
    else:
        ctx.out(f"model {version} saved to {ctx.settings.home / 'models' / version}")
        for level, model in served.items():
            ctx.out(f"  clearance {level:<13} {'model ' + model if model else 'no model'}")
        ctx.out(f"metrics of the {top.snapshot.max_tlp.label} model:")
        ctx.out("\n".join(f"  {k}: {v}" for k, v in top.metrics.items()))
    return 0
