"""Make IOC-only copies of STIX query bundles: what a vendor's IOC report shows of an activity.

Public IOC repositories (the kind of report the kept-apart benchmarks of issue 14 are made of)
list indicators, rarely the techniques or malware families behind them. This script drops every
``attack-pattern``, ``malware`` and ``tool`` object of each bundle, and every relationship that
touches one, and keeps the rest; a bundle left without an indicator is not written (it would be
an empty activity) and is named on stderr. Run the model and ``train --no-graph`` on both the
full and the IOC-only queries to see what each part does where only indicators are known.

    .venv/bin/python benchmarks/ioc_only.py QUERIES_DIR OUT_DIR

A development split's answers file must then leave out the bundles not written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DROPPED = frozenset({"attack-pattern", "malware", "tool"})


def ioc_only(bundle: dict[str, Any]) -> dict[str, Any] | None:
    """The bundle without techniques, malware, tools and their relationships; None when no
    indicator is left."""
    objects = bundle.get("objects") or []
    gone = {o["id"] for o in objects if o.get("type") in DROPPED}
    kept = [
        o
        for o in objects
        if o["id"] not in gone
        and not (
            o.get("type") == "relationship"
            and (o.get("source_ref") in gone or o.get("target_ref") in gone)
        )
    ]
    if not any(o.get("type") == "indicator" for o in kept):
        return None
    return {**bundle, "objects": kept}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("queries", type=Path, help="folder of STIX 2.1 query bundles (*.json)")
    ap.add_argument("out", type=Path, help="folder to write the IOC-only copies to")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in sorted(args.queries.glob("*.json")):
        stripped = ioc_only(json.loads(path.read_text(encoding="utf-8")))
        if stripped is None:
            print(f"{path.name}: no indicator left, not written", file=sys.stderr)
            continue
        (args.out / path.name).write_text(json.dumps(stripped), encoding="utf-8")
        written += 1
    print(f"{written} IOC-only bundles in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
