"""The demo world's held-out split: ``<dir>/heldout/*.json`` bundles and their truth."""

from __future__ import annotations

import json
from pathlib import Path

from actorgraph.gnn.activity import Activity, load_activity
from actorgraph.graph.errors import IngestError


def load_heldout(world_dir: Path) -> list[tuple[Activity, str]]:
    """(activity, truth) per held-out file; truth is the actor's STIX id or ``"unknown"``
    (noise, or an actor with no labelled training cluster).

    Raises:
        IngestError: the labels file is missing or unreadable.
    """
    labels_path = Path(world_dir) / "heldout_labels.json"
    try:
        labels = json.loads(labels_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IngestError(f"cannot read held-out labels: {exc}", str(labels_path)) from exc
    out = []
    for rel in sorted(labels):
        truth = labels[rel].get("actor_id") or "unknown"
        out.append((load_activity(Path(world_dir) / rel), truth))
    return out
