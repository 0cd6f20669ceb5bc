"""``actorgraph audit [--json]``: the audit log of the data directory, newest first."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from actorgraph.graph.audit import ACTIONS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit", help="show the audit log: decisions, keys, ingests and training runs"
    )
    p.add_argument(
        "--limit", type=_limit, default=100, help="events to show (1 to 10,000; default 100)"
    )
    p.add_argument("--action", choices=ACTIONS, help="only this kind of action")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def _limit(text: str) -> int:
    """``--limit``: the API's bounds, refused with argparse's one-line usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be 1 to 10,000 (got {text})")
    return value


def cli_user() -> str:
    """The audit log's name for whoever runs an ``actorgraph`` command: ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in this environment (some containers)
        return "cli:unknown"


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.audit import AuditLog, audit_path
    from actorgraph.graph.reconcile import reconcile

    log = AuditLog(audit_path(ctx.settings.home))
    reconcile(ctx.store(), log)
    events = log.events(limit=args.limit, action=args.action)
    if args.json:
        ctx.out(events)
        return 0
    if not events:
        ctx.out("the audit log is empty")
        return 0
    lines = [f"{'at':<27}  {'action':<10}  {'who':<28}  {'origin':<15}  target / result"]
    for e in events:
        lines.append(
            f"{e['at']:<27}  {e['action']:<10}  {e['who']:<28}  {e['origin'] or '':<15}  "
            f"{_short(e['target'] or '')}: {e['result']}"
        )
    ctx.out("\n".join(lines))
    return 0


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# The commands the audit log records when run from the command line (``actorgraph decide``
# records its own, with the decision's intent and outcome).
_AUDITED = {
    ("ingest", None): "ingest",
    ("train", None): "train",
    ("keys", "create"): "key.create",
    ("keys", "revoke"): "key.revoke",
}
_NOT_DETAIL = {"handler", "command", "keys_command", "json", "audit_target", "home"}


def record_command(home: Path, args: argparse.Namespace, result: str) -> None:
    """Append an audited command's record: who, what (its arguments), from where (``cli``),
    and its result. A command names what it made in ``args.audit_target`` (a key id, a model
    version); otherwise the target is its paths or its key id argument."""
    action = _AUDITED.get((args.command, getattr(args, "keys_command", None)))
    if action is None:
        return
    from actorgraph.graph.audit import AuditLog, audit_path
    from actorgraph.graph.tlp import TLP

    target = getattr(args, "audit_target", None) or getattr(args, "id", None)
    if target is None and getattr(args, "paths", None):
        target = ", ".join(str(p) for p in args.paths)
    if target is None and getattr(args, "attack", False):
        target = "ATT&CK"
    detail = {
        k: [str(x) for x in v] if isinstance(v, list) else v
        for k, v in vars(args).items()
        if k not in _NOT_DETAIL and v is not None and not callable(v)
    }
    # A key event reveals who holds a key of which role and clearance, no graph data: admins of
    # every clearance see it, so that key management is auditable by all of them. What the other
    # commands touched (the files ingested, the model trained) is not known more precisely than
    # the operator's red.
    level = TLP.CLEAR if action.startswith("key.") else None
    AuditLog(audit_path(home)).record(
        who=cli_user(),
        action=action,
        target=str(target) if target is not None else None,
        origin="cli",
        result=result,
        detail={
            k: v if isinstance(v, str | int | float | bool | list) else str(v)
            for k, v in detail.items()
        },
        tlp=level,
    )
