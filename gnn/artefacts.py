"""Versioned model artefacts under ``<home>/models/<version>/``.

Each version directory holds:

- ``meta.json``      version, created (UTC ISO-8601), data fingerprint, counts
- ``config.json``    the training configuration
- ``model.json``     the model's shapes (``gnn.model.ModelConfig``): the model is built from it
- ``metrics.json``   training and validation metrics (and evaluation results when run)
- ``snapshot.json``  the graph the model was trained on (nodes and edges, for names and linking)
- ``model.pt``       tensors only (``torch.load(weights_only=True)``): weights, embeddings,
  rarity weights, actor profiles

The latest version (by ``created``) is used unless another is named.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import FEATURE_NAMES, EntitySpace
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.model import AttributionModel, ModelConfig
from actorgraph.gnn.trained import Trained
from actorgraph.graph.errors import ModelError, NotFound

# Raised whenever saved weights would not fit, or would mean something else, under today's
# code; older artefacts are refused with a message and must be retrained.
# 2: two per-campaign features (``gnn.features.CampaignMatch``); format 1 weights do not fit.
# 3: cosine norms floored (``gnn.features.NORM_FLOOR``): format 2 weights were fitted on
#    feature values that hub-only matches no longer produce.
# 4: the model's shapes stored in ``model.json``, from which the model is built.
FORMAT = 4


def save(
    trained: Trained, models_dir: Path, version: str | None = None, created: datetime | None = None
) -> str:
    """Write a trained model as a new version; returns the version name.

    The directory is written under a temporary name and renamed, so a crash never leaves a
    half-written version that ``latest`` would pick.
    """
    created = created or datetime.now(UTC)
    fp = trained.snapshot.fingerprint()
    version = version or f"{created.strftime('%Y%m%dT%H%M%S%fZ')}-{fp[:8]}"
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    if final.exists():
        raise ModelError(f"model version {version!r} already exists in {str(models_dir)!r}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))
    try:
        meta = {
            "format": FORMAT,
            "version": version,
            "created": created.isoformat().replace("+00:00", "Z"),
            "data_fingerprint": fp,
            "n_actors": trained.snapshot.num_nodes("actor"),
            "n_entities": len(trained.space),
            "features": list(FEATURE_NAMES),
            "gnn": trained.entity_emb is not None,
        }
        _write_json(tmp / "meta.json", meta)
        _write_json(tmp / "config.json", asdict(trained.config))
        _write_json(tmp / "model.json", asdict(trained.model.config))
        _write_json(tmp / "metrics.json", trained.metrics)
        nodes, edges = trained.snapshot.to_rows()
        _write_json(tmp / "snapshot.json", {"nodes": nodes, "edges": edges})
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
        torch.save(tensors, tmp / "model.pt")
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version


def list_versions(models_dir: Path) -> list[dict[str, Any]]:
    """Metadata of every complete version, oldest first."""
    out: list[dict[str, Any]] = []
    if not models_dir.is_dir():
        return out
    for d in models_dir.iterdir():
        if d.is_dir() and not d.name.startswith(".") and (d / "model.pt").exists():
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
        if not (path / "model.pt").exists():
            known = [m["version"] for m in list_versions(models_dir)]
            raise NotFound(
                f"model version {version!r} not found in {str(models_dir)!r} (known: {known})"
            )
        return path
    versions = list_versions(models_dir)
    if not versions:
        raise ModelError(f"no trained model in {str(models_dir)!r}: run `actorgraph train` first")
    return models_dir / versions[-1]["version"]


def load(models_dir: Path, version: str | None = None, hubs: HubList | None = None) -> Trained:
    """Load a version (latest by default) back into a ``Trained`` ready for scoring.

    Raises:
        ModelError: missing or corrupt artefact (the message names the file), or one written
            in another format.
        NotFound: the named version does not exist.
    """
    path = resolve_version(models_dir, version)
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"corrupt model artefact {str(path)!r}: {exc}") from exc
    if meta.get("format") != FORMAT:
        raise ModelError(
            f"model artefact {str(path)!r} has format {meta.get('format')!r}, expected {FORMAT}"
        )
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
    ) as exc:  # the last two: torch.load
        raise ModelError(f"corrupt model artefact {str(path)!r}: {exc}") from exc
    if (model_config.similarity is None) != ("entity_emb" not in tensors):
        raise ModelError(
            f"corrupt model artefact {str(path)!r}: similarity "
            f"{model_config.similarity!r} does not match the stored embeddings"
        )
    model.eval()
    snap = GraphSnapshot.from_rows(rows["nodes"], rows["edges"])
    space = EntitySpace.build(snap, hubs or HubList.load())
    if hash_ids(space.ids) != int(tensors["entity_ids_hash"][0]):
        raise ModelError(
            f"model artefact {str(path)!r}: entity vocabulary does not match its snapshot"
        )
    shape = tuple(int(x) for x in tensors["profile_shape"])
    indices = tensors["profile_indices"].numpy()
    profile = sp.csr_matrix(
        (np.ones(len(indices)), indices, tensors["profile_indptr"].numpy()), shape=shape
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
            "data_fingerprint": meta["data_fingerprint"],
        },
        losses=[],
    )


def hash_ids(ids: list[str]) -> int:
    """A stable 63-bit hash of the entity vocabulary (order matters)."""
    import hashlib

    digest = hashlib.sha256("\n".join(ids).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, default=str))
