"""``actorgraph keys create|list|revoke``: API keys, stored hashed in ``<home>/keys.sqlite``."""

from __future__ import annotations

import argparse

from actorgraph.api.keys import ROLES, KeyStore
from actorgraph.graph.tlp import NAMES as TLP_NAMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="create, list and revoke API keys for `actorgraph serve`")
    keys = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = keys.add_parser("create", help="create a key and print it once")
    create.add_argument(
        "--role", required=True, choices=ROLES, help="reader < analyst < ingest < admin"
    )
    create.add_argument(
        "--tlp",
        default="clear",
        choices=TLP_NAMES,
        help="TLP clearance: objects marked above it are invisible (default: clear)",
    )
    create.add_argument("--name", help="who or what uses the key")
    create.add_argument("--json", action="store_true", help="machine-readable output")
    listing = keys.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    revoke = keys.add_parser("revoke", help="revoke a key by its id; effective at the next request")
    revoke.add_argument("id", help="the key id shown by `keys list`")
    revoke.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    store = KeyStore(ctx.settings.home / "keys.sqlite")
    if args.keys_command == "create":
        record, token = store.create(args.role, tlp=args.tlp, name=args.name)
        args.audit_target = record.id  # the audit log's target (actorgraph.commands.audit)
        if args.json:
            ctx.out({**record.to_dict(), "key": token})
        else:
            ctx.out(
                f"{token}\n\nkey id {record.id} ({record.name}): role {record.role}, "
                f"TLP clearance {record.tlp}. The key is shown only this once; "
                "the server keeps only its hash."
            )
        return 0
    if args.keys_command == "list":
        keys = store.list()
        if args.json:
            ctx.out([k.to_dict() for k in keys])
            return 0
        if not keys:
            ctx.out("no API keys; create one with `actorgraph keys create --role reader`")
            return 0
        lines = [f"{'id':<12}  {'role':<8}  {'tlp':<12}  {'created':<25}  {'status':<8}  name"]
        for k in keys:
            status = "revoked" if k.revoked else "active"
            lines.append(
                f"{k.id:<12}  {k.role:<8}  {k.tlp:<12}  {k.created:<25}  {status:<8}  {k.name}"
            )
        ctx.out("\n".join(lines))
        return 0
    record = store.revoke(args.id)
    ctx.out(
        record.to_dict()
        if args.json
        else f"revoked key {record.id} ({record.name}) at {record.revoked}"
    )
    return 0
