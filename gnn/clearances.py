"""One attribution model per TLP clearance: train each level that has data of its own.

A model learns from everything in its training graph, so a key may only be answered by a model
trained on what it may see. ``train_per_clearance`` exports the graph at every level
(``gnn.dataset.export_levels``) and trains one model per distinct visible graph; a level whose
graph is the same as the level below shares that level's model (``gnn.artefacts`` records which
model serves which level).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import GraphSnapshot, collector_paused, export_levels
from actorgraph.gnn.entity_cache import EntityCache
from actorgraph.gnn.evaluate import map_folds
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.train import train
from actorgraph.gnn.trained import Trained
from actorgraph.graph.errors import ModelError
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP


# The export's snapshots are millions of objects alive until every level is trained; collections
# would traverse them again and again for nothing (``collector_paused``).
@collector_paused()
def train_per_clearance(
    store: GraphStore,
    config: TrainConfig,
    log: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> dict[TLP, Trained]:
    """Train one model per clearance whose visible graph differs from the level below.

    Args:
        store: an open graph store.
        config: the training configuration (the same for every level).
        log: optional ``callable(str)`` for progress lines.
        jobs: worker processes training levels side by side (each level's model is the same
            whatever ``jobs``: every level trains alone on its own graph, with the same seed).
            1 trains them one after the other in this process. Each worker holds its own
            level's graph and episodes beside this process's export, so memory grows with
            ``jobs``; on a busy machine the workers gain little (benchmarks/RESULTS.md).

    Returns:
        Level -> the model trained at it (``trained.snapshot.max_tlp`` is that level). A level
        sharing the graph of the level below, or without a threat actor, has no entry; so has a
        lowest level with too little to learn from (its keys get no model).

    Raises:
        ModelError: nothing to learn from at any level, or a level fails to train although a
            level below it trained (it holds more data, so that is not expected).
    """
    levels = export_levels(store)
    todo: list[tuple[TLP, GraphSnapshot]] = []
    for level, snap in levels.items():
        if snap.max_tlp != level:
            _say(log, f"clearance {level.label}: same graph as {snap.max_tlp.label}, no new model")
        else:
            todo.append((level, snap))
    cache = EntityCache(HubList.load())
    if jobs > 1 and len(todo) > 1:
        outcomes = _train_in_workers(todo, config, cache, jobs, log)
    else:
        outcomes = {}
        for level, snap in todo:
            _say(log, f"clearance {level.label}: training on {snap.num_nodes('actor')} actors")
            try:
                outcomes[level] = train(snap, config, log=log, cache=cache)
            except ModelError as exc:
                outcomes[level] = exc
                if level == TLP.RED or any(isinstance(o, Trained) for o in outcomes.values()):
                    raise
                _say(log, f"clearance {level.label}: no model ({exc})")
    models: dict[TLP, Trained] = {}
    for level, _ in todo:
        outcome = outcomes[level]
        if isinstance(outcome, ModelError):
            if models or level == TLP.RED:
                raise outcome
        else:
            models[level] = outcome
    if not models:
        raise ModelError("nothing to learn from at any TLP clearance")
    return models


def _train_in_workers(
    todo: list[tuple[TLP, GraphSnapshot]],
    config: TrainConfig,
    cache: EntityCache,
    jobs: int,
    log: Callable[[str], None] | None,
) -> dict[TLP, Trained | ModelError]:
    """Train the levels in ``jobs`` processes, largest first (the longest ones start first).

    Each worker receives one level's snapshot and what the cache holds for that level's
    entities, nothing else; its model comes back without the snapshot, which is the one given.
    """
    top = max(todo, key=lambda pair: pair[0])[1]
    cache.warm(top, lexical=config.lexical)
    order = sorted(todo, key=lambda pair: -sum(len(ids) for ids in pair[1].nodes.values()))
    items = [(level, snap, cache.for_snapshot(snap)) for level, snap in order]
    snaps = dict(todo)
    t0 = time.perf_counter()
    _say(log, f"training {len(items)} clearances in {min(jobs, len(items))} processes")

    def arrived(result: tuple[TLP, Trained | ModelError]) -> None:
        level, outcome = result
        done = f"no model ({outcome})" if isinstance(outcome, ModelError) else "trained"
        _say(log, f"clearance {level.label}: {done} ({time.perf_counter() - t0:.1f} s)")

    results = map_folds(_train_level, items, config, jobs, arrived)
    out: dict[TLP, Trained | ModelError] = {}
    for level, outcome in results:
        if isinstance(outcome, Trained):
            outcome = dataclasses.replace(outcome, snapshot=snaps[level])
        out[level] = outcome
    return out


def _train_level(
    config: TrainConfig, item: tuple[TLP, GraphSnapshot, EntityCache]
) -> tuple[TLP, Trained | ModelError]:
    """One level's model, in a worker process (``map_folds``); sent back without its graph."""
    level, snap, cache = item
    try:
        trained = train(snap, config, cache=cache)
    except ModelError as exc:
        return level, exc
    return level, dataclasses.replace(trained, snapshot=GraphSnapshot(max_tlp=level))


def _say(log: Callable[[str], None] | None, line: str) -> None:
    if log is not None:
        log(line)
