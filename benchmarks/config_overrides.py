"""``TrainConfig`` variants from the command line, for the development benchmarks.

``FIELD=VALUE`` sets one field (the value read as JSON, a bare word as a string); a variant is
``NAME:FIELD=VALUE,FIELD=VALUE`` (``NAME`` alone: the defaults). The benchmarks that compare
variants (``leave_one_report_out.py``, ``report_queries.py``, ``world_splits.py``) take them, so
that a variant is measured without editing the defaults.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from actorgraph.gnn.config import TrainConfig

FIELDS = frozenset(f.name for f in dataclasses.fields(TrainConfig))


def overrides(pairs: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` pairs as ``TrainConfig`` keyword arguments: ``lr=0.06``, ``epochs=200``,
    ``early_stop=true``, ``graph=none``.

    Raises:
        ValueError: a pair without ``=`` or with a field ``TrainConfig`` does not have.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in FIELDS:
            raise ValueError(f"{pair!r}: expected FIELD=VALUE with a TrainConfig field")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def variant(spec: str) -> tuple[str, dict[str, Any]]:
    """``NAME:FIELD=VALUE,...`` -> (name, overrides); ``NAME`` alone has none. A value may be a
    JSON list: ``narrow:known_share=[0.0,0.5],lr=0.06``."""
    name, _, rest = spec.partition(":")
    if not name:
        raise ValueError(f"{spec!r}: a variant needs a name (NAME:FIELD=VALUE,...)")
    # A comma starts a new pair only before ``FIELD=``: a JSON list value keeps its commas.
    return name, overrides([p for p in re.split(r",(?=\w+=)", rest) if p])
