"""What the deciding commands (``decide``, ``clusters name``, ``clusters merge``) share: their
common options, the decider and the audit log."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from actorgraph.graph.tlp import NAMES as TLP_NAMES

if TYPE_CHECKING:  # imported when a command runs, so that `actorgraph --help` starts fast
    from actorgraph.graph.audit import AuditLog
    from actorgraph.graph.decisions import Decider


def add_decision_options(
    p: argparse.ArgumentParser,
    *,
    reason: str,
    marking: str,
    confidence: str = "STIX confidence 0-100",
) -> None:
    """``--reason``, ``--confidence``, ``--max-tlp`` and ``--json``.

    Args:
        p: the command's parser.
        reason: the help of ``--reason``.
        marking: the help of ``--max-tlp`` after "the decider's clearance: what it may see, ".
        confidence: the help of ``--confidence``.
    """
    p.add_argument("--reason", required=True, help=reason)
    p.add_argument("--confidence", type=int, help=confidence)
    p.add_argument(
        "--max-tlp",
        default="clear",
        choices=TLP_NAMES,
        help=f"the decider's clearance: what it may see, {marking} (default: clear)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def cli_decider(args: argparse.Namespace) -> Decider:
    """The decider of a command: ``cli:<user>`` at the command line, cleared for
    ``--max-tlp``."""
    from actorgraph.commands.audit import cli_user
    from actorgraph.graph.decisions import Decider
    from actorgraph.graph.tlp import TLP

    return Decider(
        decided_by=cli_user(), key_id=None, max_tlp=TLP.parse(args.max_tlp), origin="cli"
    )


def audit_log(ctx) -> AuditLog:
    """The audit log of the data directory (``<home>/audit.sqlite``)."""
    from actorgraph.graph.audit import AuditLog, audit_path

    return AuditLog(audit_path(ctx.settings.home))
