"""Versioned model artefacts under ``<home>/models/<version>/``, one model per TLP clearance.

A model learns from everything in its training graph, so one model trained on every level would
let a ``clear`` key's scores, ranks and counts depend on ``red`` data. ``actorgraph train``
therefore trains one model per clearance that has data (``gnn.dataset.export_levels``), and a
version holds all of them::

    <version>/
      meta.json           format, version, created, data_fingerprint (of the highest level's
                          graph), ``clearances`` (each TLP level -> the folder of the model that
                          serves it, or null when nothing is visible at it) and ``models``
                          (per folder: its data fingerprint and counts)
      <level>/            one folder per trained model, named by the TLP level it was trained at
                          (``clear``, ``green``, ``amber``, ``amber+strict``, ``red``):
        config.json       the training configuration
        model.json        the model's shapes (``gnn.model.ModelConfig``): the model is built
                          from it
        metrics.json      training and validation metrics
        snapshot.json     the graph the model was trained on (nodes and edges, its clearance)
        model.pt          tensors only (``torch.load(weights_only=True)``): weights,
                          embeddings or the evidence encoder's entity states, rarity
                          weights, actor profiles

A level whose visible graph is the same as the level below is served by the lower level's
model (no folder of its own). A key of clearance ``n`` is served by ``clearances[n]``: the
model of the highest level at or below ``n`` that was trained. The latest version (by
``created``) is used unless another is named.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import EntitySpace
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.model import AttributionModel, ModelConfig
from actorgraph.gnn.trained import Trained
from actorgraph.graph.errors import ModelError, NotFound
from actorgraph.graph.tlp import TLP

# Raised whenever saved weights would not fit, or would mean something else, under today's
# code; older artefacts are refused with a message and must be retrained.
# 2: two per-campaign features (``gnn.features.CampaignMatch``); format 1 weights do not fit.
# 3: cosine norms floored (``gnn.features.NORM_FLOOR``): format 2 weights were fitted on
#    feature values that hub-only matches no longer produce.
# 4: the model's shapes stored in ``model.json``, from which the model is built.
# 5: one model per TLP clearance, each in its own folder: a format 4 model was trained on
#    every level and would leak what a low clearance may not see.
# 6: the naming cosine's rarity counts only actors with names (``gnn.lexical``): format 5
#    weights were fitted on the old weighting, which loading would silently replace.
# 7: context edges capped per (entity, relation) and common entities left out of the
#    per-campaign dot products (``CONTEXT_MAX_FANOUT``, ``CAMPAIGN_MAX_POSTINGS``): format 6
#    weights were fitted on uncapped values.
# 8: the scorer reads one more input, ``ctx_habit_lik`` (``gnn.habit_likelihood``): a format 7
#    model has one weight fewer than the features it would be given.
FORMAT = 8


def save(
    trained: Trained | Sequence[Trained],
    models_dir: Path,
    version: str | None = None,
    created: datetime | None = None,
) -> str:
    """Write trained models as a new version; returns the version name.

    Args:
        trained: one model per clearance it was trained at (``trained.snapshot.max_tlp``),
            or a single model. Each TLP level is served by the model of the highest level at
            or below it; levels below the lowest model get none.
        models_dir: ``<home>/models``.
        version: the version name (default: the creation time and the data fingerprint).
        created: the creation time (default: now).

    The directory is written under a temporary name and renamed, so a crash never leaves a
    half-written version that ``latest`` would pick.

    Raises:
        ModelError: no model, two models of the same clearance, or the version exists.
    """
    models = [trained] if isinstance(trained, Trained) else list(trained)
    by_level = {TLP.parse(t.snapshot.max_tlp): t for t in models}
    if not models or len(by_level) != len(models):
        levels = [TLP.parse(t.snapshot.max_tlp).label for t in models]
        raise ModelError(f"expected one model per clearance, got clearances {levels}")
    top = by_level[max(by_level)]
    created = created or datetime.now(UTC)
    fp = top.snapshot.fingerprint()
    version = version or f"{created.strftime('%Y%m%dT%H%M%S%fZ')}-{fp[:8]}"
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    if final.exists():
        raise ModelError(f"model version {version!r} already exists in {str(models_dir)!r}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))
    try:
        served = serving(by_level)
        meta = {
            "format": FORMAT,
            "version": version,
            "created": created.isoformat().replace("+00:00", "Z"),
            "data_fingerprint": fp,
            # One training configuration per version, so one graph mode and feature list.
            "features": list(next(iter(by_level.values())).model.config.feature_names),
            "clearances": {k.label: None if v is None else v.label for k, v in served.items()},
            "models": {
                level.label: _write_model(t, tmp / level.label)
                for level, t in sorted(by_level.items())
            },
        }
        _write_json(tmp / "meta.json", meta)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version


def serving(trained_at: Iterable[TLP]) -> dict[TLP, TLP | None]:
    """Each TLP level -> the level of the model that serves it: the highest trained level at or
    below it (None: no model), given the levels models were trained at."""
    levels = sorted(set(trained_at))
    return {level: max((t for t in levels if t <= level), default=None) for level in TLP}


def _write_model(trained: Trained, path: Path) -> dict[str, Any]:
    """Write one model's files into ``path``; returns its summary for ``meta.json``."""
    path.mkdir()
    _write_json(path / "config.json", asdict(trained.config))
    _write_json(path / "model.json", asdict(trained.model.config))
    _write_json(path / "metrics.json", trained.metrics)
    trained.snapshot.write_json(path / "snapshot.json")
    prof = trained.profile.tocsr()
    tensors: dict[str, Any] = {
        "state_dict": {
            k: v for k, v in trained.model.state_dict().items() if not k.startswith("encoder.")
        },
        "idf": torch.from_numpy(trained.idf.astype(np.float64)),
        "profile_indptr": torch.from_numpy(prof.indptr.astype(np.int64)),
        "profile_indices": torch.from_numpy(prof.indices.astype(np.int64)),
        "profile_shape": torch.tensor(prof.shape, dtype=torch.int64),
        "entity_ids_hash": torch.tensor([hash_ids(trained.space.ids)], dtype=torch.int64),
    }
    if trained.entity_emb is not None:
        tensors["entity_emb"] = trained.entity_emb
        tensors["actor_emb"] = trained.actor_emb
    if trained.evidence is not None:
        ev = trained.evidence.tocsr()
        tensors["evidence_indptr"] = torch.from_numpy(ev.indptr.astype(np.int64))
        tensors["evidence_indices"] = torch.from_numpy(ev.indices.astype(np.int64))
        tensors["evidence_data"] = torch.from_numpy(ev.data.astype(np.float32))
        tensors["evidence_shape"] = torch.tensor(ev.shape, dtype=torch.int64)
    torch.save(tensors, path / "model.pt")
    return {
        "data_fingerprint": trained.snapshot.fingerprint(),
        "n_actors": trained.snapshot.num_nodes("actor"),
        "n_entities": len(trained.space),
        "gnn": trained.entity_emb is not None or trained.evidence is not None,
    }


def list_versions(models_dir: Path) -> list[dict[str, Any]]:
    """Metadata of every complete version, oldest first."""
    out: list[dict[str, Any]] = []
    if not models_dir.is_dir():
        return out
    for d in models_dir.iterdir():
        # A version appears whole (written under a dot name, then renamed): its meta.json
        # marks it complete.
        if d.is_dir() and not d.name.startswith(".") and (d / "meta.json").exists():
            try:
                out.append(json.loads((d / "meta.json").read_text()))
            except (OSError, json.JSONDecodeError):
                continue
    return sorted(out, key=lambda m: (m.get("created", ""), m.get("version", "")))


def resolve_version(models_dir: Path, version: str | None = None) -> Path:
    """The directory of ``version``, or of the latest one.

    Raises:
        ModelError: no trained model exists (run ``actorgraph train``).
        NotFound: the named version does not exist.
    """
    if version:
        path = models_dir / version
        if version.startswith(".") or not (path / "meta.json").exists():
            known = [m["version"] for m in list_versions(models_dir)]
            raise NotFound(
                f"model version {version!r} not found in {str(models_dir)!r} (known: {known})"
            )
        return path
    versions = list_versions(models_dir)
    if not versions:
        raise ModelError(f"no trained model in {str(models_dir)!r}: run `actorgraph train` first")
    return models_dir / versions[-1]["version"]


def read_meta(path: Path) -> dict[str, Any]:
    """A version's ``meta.json``, checked for today's format.

    Raises:
        ModelError: unreadable, or written in another format.
    """
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"corrupt model artefact {str(path)!r}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelError(f"model artefact {str(path)!r} has format {found!r}, expected {FORMAT}")
    return meta


def clearances(meta: dict[str, Any]) -> dict[TLP, TLP | None]:
    """Each TLP level -> the clearance of the model that serves it (None: no model), from a
    version's ``meta.json``.

    Raises:
        ModelError: the mapping is missing or names a folder the version does not describe, or
            a level served by a model trained above it (which would show it too much).
    """
    table = meta.get("clearances")
    models = meta.get("models")
    if not isinstance(table, dict) or not isinstance(models, dict):
        raise ModelError(f"corrupt model artefact {meta.get('version')!r}: no clearances")
    out: dict[TLP, TLP | None] = {}
    for level in TLP:
        name = table.get(level.label)
        served = TLP.lookup(name) if name is not None else None
        if name is not None and (served is None or served > level or name not in models):
            raise ModelError(
                f"corrupt model artefact {meta.get('version')!r}: clearance {level.label!r} "
                f"is served by {name!r}"
            )
        out[level] = served
    return out


def load(
    models_dir: Path,
    version: str | None = None,
    *,
    max_tlp: int,
    hubs: HubList | None = None,
) -> Trained:
    """Load the model that serves one clearance, from a version (latest by default).

    Args:
        models_dir: ``<home>/models``.
        version: the version name (default: the latest).
        max_tlp: the clearance to serve (0 clear .. 4 red): the model trained at the highest
            level at or below it. Required: a caller who means everything passes ``TLP.RED``.
        hubs: the hub list (default: the packaged one).

    Raises:
        ModelError: missing or corrupt artefact (the message names the file), one written in
            another format, or no model serves that clearance.
        NotFound: the named version does not exist.
    """
    path = resolve_version(models_dir, version)
    meta = read_meta(path)
    level = TLP.parse(max_tlp)
    table = clearances(meta)
    served = table[level]
    if served is None:
        serves = ", ".join(lvl.label for lvl, s in table.items() if s is not None)
        raise ModelError(
            f"model version {meta['version']!r} has no model for clearance {level.label}: it "
            f"serves {serves} only (a version trained "
            "at one clearance, as `actorgraph demo` trains at red, or no threat actor "
            f"visible at {level.label} when it was trained); ask at a clearance it serves, "
            "or run `actorgraph train` for a model per clearance"
        )
    return _load_model(path / served.label, meta, hubs)


def load_levels(
    models_dir: Path, version: str | None = None, hubs: HubList | None = None
) -> dict[TLP, Trained]:
    """Every model of a version, by the clearance it serves (levels that share a model share
    the object; levels without a model are left out).

    Raises:
        ModelError, NotFound: as :func:`load`.
    """
    path = resolve_version(models_dir, version)
    meta = read_meta(path)
    loaded: dict[TLP, Trained] = {}
    out: dict[TLP, Trained] = {}
    for level, served in clearances(meta).items():
        if served is not None:
            if served not in loaded:
                loaded[served] = _load_model(path / served.label, meta, hubs)
            out[level] = loaded[served]
    return out


def _load_model(path: Path, meta: dict[str, Any], hubs: HubList | None) -> Trained:
    """One model folder of a version back into a ``Trained`` ready for scoring."""
    try:
        # JSON has no tuples: the tuple-valued settings come back as lists.
        settings: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in json.loads((path / "config.json").read_text()).items()
        }
        config = TrainConfig(**settings)
        model_config = ModelConfig(**json.loads((path / "model.json").read_text()))
        metrics = json.loads((path / "metrics.json").read_text())
        rows = json.loads((path / "snapshot.json").read_text())
        level = TLP.parse(rows["max_tlp"])
        tensors = torch.load(path / "model.pt", weights_only=True)
        model = AttributionModel(model_config)
        model.load_state_dict(tensors["state_dict"])
    except (
        OSError,
        json.JSONDecodeError,
        TypeError,
        RuntimeError,
        KeyError,
        ValueError,
        ModelError,
        EOFError,
        pickle.UnpicklingError,
    ) as exc:  # the last two: torch.load; ValidationError is a ValueError
        raise ModelError(f"corrupt model artefact {str(path)!r}: {exc}") from exc
    if level.label != path.name:
        raise ModelError(
            f"corrupt model artefact {str(path)!r}: its snapshot is of clearance {level.label}"
        )
    stored = "evidence_data" if model_config.similarity == "evidence" else "entity_emb"
    if (model_config.similarity is None) != (stored not in tensors):
        raise ModelError(
            f"corrupt model artefact {str(path)!r}: similarity "
            f"{model_config.similarity!r} does not match the stored embeddings"
        )
    model.eval()
    snap = GraphSnapshot.from_rows(rows["nodes"], rows["edges"], max_tlp=level)
    space = EntitySpace.build(snap, hubs or HubList.load(), propagate=model_config.graph != "none")
    if hash_ids(space.ids) != int(tensors["entity_ids_hash"][0]):
        raise ModelError(
            f"model artefact {str(path)!r}: entity vocabulary does not match its snapshot"
        )
    shape = tuple(int(x) for x in tensors["profile_shape"])
    indices = tensors["profile_indices"].numpy()
    profile = sp.csr_matrix(
        (np.ones(len(indices)), indices, tensors["profile_indptr"].numpy()), shape=shape
    )
    evidence = None
    if "evidence_data" in tensors:
        evidence = sp.csr_matrix(
            (
                tensors["evidence_data"].numpy(),
                tensors["evidence_indices"].numpy(),
                tensors["evidence_indptr"].numpy(),
            ),
            shape=tuple(int(x) for x in tensors["evidence_shape"]),
        )
        if evidence.shape != (len(space), shape[0]):
            raise ModelError(
                f"corrupt model artefact {str(path)!r}: evidence states of shape "
                f"{evidence.shape} for {len(space)} entities and {shape[0]} actors"
            )
    return Trained(
        model=model,
        snapshot=snap,
        space=space,
        profile=profile,
        idf=tensors["idf"].numpy(),
        entity_emb=tensors.get("entity_emb"),
        actor_emb=tensors.get("actor_emb"),
        config=config,
        metrics={
            **metrics,
            "version": meta["version"],
            "created": meta["created"],
            "data_fingerprint": meta["models"][path.name]["data_fingerprint"],
            "clearance": level.label,
        },
        losses=[],
        evidence=evidence,
    )


def hash_ids(ids: list[str]) -> int:
    """A stable 63-bit hash of the entity vocabulary (order matters)."""
    digest = hashlib.sha256("\n".join(ids).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, default=str))
