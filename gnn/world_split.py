"""The demo world's held-out splits: ``<dir>/<split>/*.json`` bundles and their truth.

Splits (written by ``actorgraph generate-world``, see ``world/README.md``):

- ``heldout``: held-out clusters of known actors, unseen actors and noise;
- ``heldout_infra``: clusters tied to their actor by infrastructure only (no software, no
  technique, no indicator value of the training data);
- ``heldout_infra_control``: the same clusters with every infrastructure relation removed and
  values no enrichment can join back; a gain there is not infrastructure evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

from actorgraph.gnn.activity import Activity, load_activity
from actorgraph.graph.errors import IngestError, ValidationError

# The split names are the folder and labels-file names the generator writes (actorgraph.world
# sits in the same layer as gnn, so the names are spelled here rather than imported).
HELDOUT_SPLITS = ("heldout", "heldout_infra", "heldout_infra_control")


def load_heldout(world_dir: Path, split: str = "heldout") -> list[tuple[Activity, str]]:
    """(activity, truth) per file of a held-out split; truth is the actor's STIX id or
    ``"unknown"`` (noise, or an actor with no labelled training cluster).

    Args:
        world_dir: the demo world's directory.
        split: one of ``HELDOUT_SPLITS``; its labels are in ``<split>_labels.json``.

    Raises:
        ValidationError: an unknown split name.
        IngestError: the labels file is missing or unreadable.
    """
    if split not in HELDOUT_SPLITS:
        raise ValidationError(f"held-out split {split!r} is not one of {list(HELDOUT_SPLITS)}")
    labels_path = Path(world_dir) / f"{split}_labels.json"
    try:
        labels = json.loads(labels_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IngestError(f"cannot read held-out labels: {exc}", str(labels_path)) from exc
    out = []
    for rel in sorted(labels):
        truth = labels[rel].get("actor_id") or "unknown"
        out.append((load_activity(Path(world_dir) / rel), truth))
    return out
