"""The demo world (``actorgraph demo``'s seed and scale) loaded into a test's store."""

from __future__ import annotations

from pathlib import Path

from actorgraph.commands.demo import DEMO_SEED
from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP
from actorgraph.world import generate_world


def load_demo_world(
    store: GraphStore, out: Path, *, seed: int = DEMO_SEED, scale: str | int = "small"
) -> dict:
    """Generate the world into ``out``, then load ATT&CK and its training bundles, enriched,
    as the demo loads them. Returns the world's metadata (``world.json``)."""
    meta = generate_world(seed=seed, scale=scale).write(out)
    ingest_attack(store)
    ingest_paths(store, [out / f for f in meta["files"]["train"]], max_tlp=TLP.RED, enrich=True)
    return meta
