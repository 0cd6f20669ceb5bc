"""``actorgraph query``: list, run, export and document the research query library.

actorgraph query --list [--category C] [--json]
actorgraph query NAME --param k=v [--param k=v ...] [--json | --csv]
actorgraph query NAME --examples [--json | --csv]
actorgraph query --export FILE
actorgraph query --catalogue
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

from actorgraph.api.encode import json_safe
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.tlp import TLP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "query",
        help="run a research query of the library (cypher/queries); --list shows them",
        description="Run, list, export or document the research Cypher queries of cypher/queries.",
    )
    p.add_argument("name", nargs="?", help="the query to run (see --list)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help="a parameter value; converted to the type the query declares",
    )
    p.add_argument(
        "--examples",
        action="store_true",
        help="run with the example parameters of the query file (others override)",
    )
    p.add_argument("--list", action="store_true", help="list the queries")
    p.add_argument("--category", help="with --list: only this category")
    p.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the whole library as one JSON file (like BloodHound's Queries.json)",
    )
    p.add_argument(
        "--catalogue",
        action="store_true",
        help="rewrite the query catalogue of cypher/README.md from the YAML files",
    )
    p.add_argument(
        "--show", action="store_true", help="print the query's Cypher and parameters, do not run it"
    )
    p.add_argument(
        "--max-tlp",
        default=None,
        metavar="LEVEL",
        help="hide objects marked above this TLP level (clear .. red or 0..4; default red)",
    )
    p.add_argument("--timeout-ms", type=int, default=None, help="read timeout (default: settings)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--csv", action="store_true", help="print CSV (lists and maps as JSON text)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Any) -> int:
    from actorgraph.graph.library import queries

    if args.export:
        args.export.write_text(queries.export_library_json(), encoding="utf-8")
        ctx.out(f"wrote {len(queries.load_library())} queries to {args.export}")
        return 0
    if args.catalogue:
        changed = queries.update_readme_catalogue()
        state = "updated" if changed else "already up to date"
        ctx.out(f"{queries.README_PATH}: catalogue {state}")
        return 0
    if args.list or not args.name:
        return _list(args, ctx)
    query = queries.get_query(args.name)
    if args.show:
        ctx.out(_describe(query))
        return 0
    params: dict[str, Any] = query.example_params() if args.examples else {}
    params.update(parse_pairs(args.param))
    # The local CLI reads the store itself, so its operator is cleared for everything; --max-tlp
    # answers as a reader of a lower clearance would be answered.
    clearance = TLP.RED if args.max_tlp is None else TLP.parse(args.max_tlp)
    store = ctx.store()  # opened (maybe started) before the clock starts
    started = time.perf_counter()
    rows = queries.run_query(
        store,
        query,
        params,
        timeout_ms=args.timeout_ms or ctx.settings.cypher_timeout_ms,
        row_cap=ctx.settings.cypher_row_cap,
        tlp_clearance=int(clearance),
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    if args.json:
        print(json.dumps(json_safe(rows), ensure_ascii=False, allow_nan=False))
    elif args.csv:
        print(rows_to_csv(rows, query.returns), end="")
    else:
        from actorgraph.commands.cypher import format_table

        ctx.out(format_table(rows))
        ctx.out(f"{query.name}: {elapsed_ms:.0f} ms")
    return 0


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``k=v`` strings -> {k: v}, values kept as text (run_query converts them by declared type).

    Raises:
        ValidationError: a pair without ``=`` or with a key that is not an identifier.
    """
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValidationError(f"--param expects K=V with an identifier K, got {pair!r}")
        params[key] = value
    return params


def rows_to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Rows as CSV text with a header; list and map cells become JSON text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                json.dumps(v, default=str, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                for v in (row.get(c) for c in columns)
            ]
        )
    return buf.getvalue()


def _list(args: argparse.Namespace, ctx: Any) -> int:
    from actorgraph.graph.library import queries

    library = queries.load_library()
    if args.category and args.category not in queries.CATEGORIES:
        raise ValidationError(
            f"unknown category {args.category!r}; expected one of {', '.join(queries.CATEGORIES)}"
        )
    selected = [q for q in library.values() if not args.category or q.category == args.category]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": q.name,
                        "category": q.category,
                        "description": " ".join(q.description.split()),
                        "parameters": [
                            p.model_dump(mode="json", exclude_unset=True) for p in q.parameters
                        ],
                        "returns": q.returns,
                    }
                    for q in selected
                ],
                ensure_ascii=False,
            )
        )
        return 0
    width = max((len(q.name) for q in selected), default=0)
    lines: list[str] = []
    for category in queries.CATEGORIES:
        group = [q for q in selected if q.category == category]
        if not group:
            continue
        lines.append(f"{category}:")
        for q in group:
            first = " ".join(q.description.split()).split(". ")[0].rstrip(".")
            if len(first) > 90:
                first = first[:89] + "…"
            lines.append(f"  {q.name.ljust(width)}  {first}")
    lines.append(f"({len(selected)} queries; run one with `actorgraph query NAME --examples`)")
    ctx.out("\n".join(lines))
    return 0


def _describe(query: Any) -> str:
    params = "\n".join(
        f"  {p.name} ({p.type}{'' if p.required else f', default {p.default!r}'}): "
        f"{p.description} e.g. {p.example!r}"
        for p in query.parameters
    )
    return (
        f"{query.name} [{query.category}] rev {query.revision}\n\n"
        f"{' '.join(query.description.split())}\n\nparameters:\n{params or '  none'}\n"
        f"  max_tlp (integer 0..4): filled from your clearance\n\n{query.query}"
    )
