"""``actorgraph cypher "QUERY" [--param k=v ...] [--json] [--write]``.

``--json`` prints strict JSON (RFC 8259), which has no NaN or infinities: those print as
``null``, as in the API's answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from actorgraph.api.encode import json_safe
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.store.base import MAX_PARAM_DEPTH


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cypher",
        help="run a Cypher statement (read-only, with a timeout and a row cap, unless --write)",
    )
    p.add_argument("query", help="one Cypher statement; pass values with --param")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help="a parameter; V is parsed as JSON when it can be (numbers, lists), else a string",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of row objects (NaN and infinities as null)",
    )
    p.add_argument("--write", action="store_true", help="allow writes (no timeout, no row cap)")
    p.add_argument("--timeout-ms", type=int, default=None, help="read timeout (default: settings)")
    p.set_defaults(handler=run)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs -> dict; values that parse as JSON become numbers/lists/bools.

    Raises:
        ValidationError: a pair without ``=`` or with a key that is not an identifier, or a
            JSON value nested too deep for the JSON reader.
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValidationError(f"--param expects K=V with an identifier K, got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
        except RecursionError as exc:  # Python's JSON reader recurses into lists and maps
            raise ValidationError(
                f"--param {key}: the JSON value nests too deep to read (at most "
                f"{MAX_PARAM_DEPTH} levels of lists and maps are allowed)"
            ) from exc
    return params


def run(args: argparse.Namespace, ctx) -> int:
    params = parse_params(args.param)
    store = ctx.store()
    if args.write:
        rows = store.query(args.query, params)
    else:
        from actorgraph.graph.library.guard import run_guarded

        timeout = args.timeout_ms or ctx.settings.cypher_timeout_ms
        # A person at a terminal waits for a slot as long as a running query may take.
        rows, truncated = run_guarded(
            store,
            args.query,
            params,
            timeout_ms=timeout,
            row_cap=ctx.settings.cypher_row_cap,
            slot_wait_s=timeout / 1000,
        )
        if truncated:
            print(
                f"actorgraph: output cut at the row cap ({ctx.settings.cypher_row_cap:,} rows; "
                "ACTORGRAPH_CYPHER_ROW_CAP)",
                file=sys.stderr,
            )
    if args.json:
        print(json.dumps(json_safe(rows), allow_nan=False))
    else:
        print(format_table(rows))
    return 0


def format_table(rows: list[dict[str, Any]], max_width: int = 60) -> str:
    if not rows:
        return "(no rows)"
    cols = list(rows[0].keys())

    def cell(v: Any) -> str:
        s = v if isinstance(v, str) else json.dumps(v, default=str)
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    out += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
