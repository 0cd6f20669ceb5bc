"""Attribution of new activity: ranked actors with calibrated probabilities, a country roll-up,
an explicit "unknown actor" score and the evidence paths behind each top candidate.

``Attributor`` is loaded once (CLI run, API start-up) and then only read: ``attribute`` is safe
to call from several threads at once. Predictions are hypotheses: ``persist`` writes them as
``PREDICTED_ACTOR`` relationships, never as ``ATTRIBUTED_TO``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import Activity, EntityLookup, link
from actorgraph.gnn.evidence import evidence_paths
from actorgraph.gnn.scoring import Scorer
from actorgraph.gnn.trained import Trained
from actorgraph.graph.attribution import (
    AttributionResult,
    Candidate,
    CountryScore,
    Evidence,
    EvidenceEntity,
    ModelInfo,
)
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.schema import label as schema_label
from actorgraph.graph.schema import rel_type as schema_rel
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

# Campaign node for a persisted activity, and its hypotheses (one query each, batched).
PERSIST_CAMPAIGN = """
MERGE (c:Campaign {id: $id})
ON CREATE SET c.created = $created
SET c.name = $name, c.modified = $created, c.sources = ['actorgraph-attribution'],
    c.attribution_status = 'predicted', c.tlp = 'clear', c.tlp_level = 0
"""
# The label is whitelisted (graph.schema.label) and formatted in: Cypher cannot take it as a
# parameter.
PERSIST_USES = """
UNWIND $rows AS row
MATCH (c:Campaign {{id: $campaign}})
MATCH (e:{label} {{id: row.id}})
MERGE (c)-[r:{rel}]->(e)
ON CREATE SET r.created = $created, r.sources = ['actorgraph-attribution']
"""
PERSIST_INDICATES = """
UNWIND $rows AS row
MATCH (c:Campaign {id: $campaign})
MATCH (i:Indicator {id: row.id})
MERGE (i)-[r:INDICATES]->(c)
ON CREATE SET r.created = $created, r.sources = ['actorgraph-attribution']
"""
PERSIST_PREDICTIONS = """
UNWIND $rows AS row
MATCH (c:Campaign {id: $campaign})
MATCH (a:ThreatActor {id: row.actor})
MERGE (c)-[r:PREDICTED_ACTOR]->(a)
SET r.score = row.score, r.rank = row.rank, r.model_version = $version, r.created = $created
"""
LABEL_OF = {
    "indicator": "Indicator",
    "infrastructure": "Infrastructure",
    "malware": "Malware",
    "tool": "Tool",
    "technique": "Technique",
    "sector": "Sector",
    "country": "Country",
}


class Attributor:
    """A loaded model bound to a store (for evidence and persistence)."""

    def __init__(self, trained: Trained, store: GraphStore | None) -> None:
        self.trained = trained
        self.store = store
        self.scorer = Scorer(trained)
        snap = trained.snapshot
        self.actor_ids = snap.nodes.get("actor", [])
        self.actor_props = [snap.props[a] for a in self.actor_ids]
        self.actor_tlp = np.array([p.get("tlp_level") or 0 for p in self.actor_props])
        # Country roll-up as one bincount (a Python loop over every actor cost more).
        codes = [p.get("country") for p in self.actor_props]
        self.country_names = sorted({c for c in codes if c})
        where = {c: i for i, c in enumerate(self.country_names)}
        self.actor_country = np.array([where.get(c, -1) for c in codes], dtype=np.int64)
        self.lookup = EntityLookup(snap, trained.space.ids)
        self.version = str(trained.metrics.get("version", "unsaved"))
        self.df = np.asarray((trained.space.expand(trained.profile) > 0).sum(axis=0)).ravel()
        # Computed once: _rarity runs for every evidence row, and idf.max() over the whole
        # entity space is a visible share of an API attribution's CPU.
        self._idf_max = float(trained.idf.max()) if len(trained.idf) else 0.0

    @classmethod
    def load(
        cls, model_dir: Path, store: GraphStore | None, version: str | None = None
    ) -> Attributor:
        """Load a model version (latest unless named) from ``<home>/models``.

        Raises:
            ModelError: no trained model or a corrupt artefact.
            NotFound: the named version does not exist.
        """
        return cls(artefacts.load(Path(model_dir), version), store)

    def attribute(
        self,
        activity: Activity,
        *,
        max_tlp: int,
        top_k: int = 5,
        evidence: bool = True,
        input_name: str | None = None,
    ) -> AttributionResult:
        """Rank known actors for one activity.

        Args:
            activity: the parsed activity (``gnn.activity``).
            max_tlp: the requester's clearance (0 clear .. 4 red): actors and evidence above it
                are never shown; a hidden actor's probability goes to "unknown". Required: a
                caller who means everything passes ``TLP.RED``.
            top_k: how many candidates to list.
            evidence: look up evidence paths in the store (needs a store).
            input_name: the ``input`` field (default: the activity's name).

        Returns:
            The result; all actors' probabilities plus ``unknown`` sum to 1, so with
            ``top_k`` >= the number of actors the listed scores plus ``unknown`` sum to 1.
        """
        if top_k < 1:
            raise ValidationError(f"top_k must be at least 1 (got {top_k})")
        if not TLP.CLEAR <= max_tlp <= TLP.RED:
            raise ValidationError(f"max_tlp must be 0..4 (got {max_tlp})")
        linked = link(activity, self.lookup)
        visible = {
            e: v
            for e, v in linked.matched.items()
            if (self.trained.snapshot.props[e].get("tlp_level") or 0) <= max_tlp
        }
        context = {
            e: v
            for e, v in linked.via_context.items()
            if (self.trained.snapshot.props[e].get("tlp_level") or 0) <= max_tlp
        }
        pos = self.trained.space.pos
        entities = sorted({pos[e] for e in [*visible, *context]})
        hidden = self.actor_tlp > max_tlp
        probs = self.scorer.probabilities([entities], hidden_actors=hidden)[0]
        actor_p, unknown = probs[:-1], float(probs[-1])
        order = np.argsort(-actor_p, kind="stable")
        shown = [a for a in order if not hidden[a]][:top_k]  # hidden actors are never listed
        candidates = tuple(
            Candidate(
                rank=rank,
                actor_id=self.actor_ids[a],
                name=self.actor_props[a].get("name"),
                aliases=tuple(self.actor_props[a].get("aliases") or ()),
                country=self.actor_props[a].get("country"),
                score=round(float(actor_p[a]), 6),
            )
            for rank, a in enumerate(shown, start=1)
        )
        keep = (self.actor_country >= 0) & ~hidden & (actor_p > 0)
        sums = np.bincount(
            self.actor_country[keep], weights=actor_p[keep], minlength=len(self.country_names)
        )
        countries = {self.country_names[i]: float(sums[i]) for i in np.flatnonzero(sums > 0)}
        ev: list[dict[str, Any]] = []
        if evidence and self.store is not None and candidates and visible | context:
            top = [c.actor_id for c in candidates[:3]]
            shortlist, infra = self._shortlist(top, entities)
            ev = evidence_paths(
                self.store,
                top,
                {**visible, **context},
                self._rarity,
                max_tlp=max_tlp,
                shortlist=shortlist,
                infra_ids=infra,
            )
        return AttributionResult(
            input=input_name or activity.name,
            model=ModelInfo(
                version=self.version,
                matched=len(visible),
                via_context=len(context),
                unmatched=len(linked.unmatched),
            ),
            candidates=candidates,
            countries=tuple(
                CountryScore(country=c, score=round(s, 6))
                for c, s in sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
            unknown=round(unknown, 6),
            evidence=tuple(_evidence(item) for item in ev),
        )

    def _shortlist(
        self, actors: list[str], entities: list[int], per_actor: int = 8, max_infra: int = 4
    ) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
        """What the model's profiles say each candidate shares with the activity: the rarest
        ``per_actor`` entities per actor (looked up as concrete paths in the store), and the
        indicators that reach an actor only through shared hosting (domain -> IP -> ASN)."""
        space, idf = self.trained.space, self.trained.idf
        props = self.trained.snapshot.props
        prof = self.trained.profile
        ctx = self.scorer.features.context
        aidx = self.trained.snapshot.index("actor")
        ents = np.asarray(entities, dtype=np.int64)
        shortlist: dict[str, list[tuple[str, str]]] = {}
        direct: set[int] = set()
        for actor in actors:
            r = aidx[actor]  # the row's columns straight from CSR: no scipy row object per actor
            shared = np.intersect1d(ents, prof.indices[prof.indptr[r] : prof.indptr[r + 1]])
            shared = shared[np.argsort(-idf[shared], kind="stable")][:per_actor]
            direct.update(shared.tolist())
            shortlist[actor] = [
                (space.ids[i], LABEL_OF[props[space.ids[i]]["type"]]) for i in shared
            ]
        web = [
            i
            for i in ents.tolist()
            if i not in direct
            and not space.hub_reason.get(i)
            and space.ids[i].split(":", 1)[0] in ("ipv4", "ipv6", "domain", "url")
        ]
        if not web:
            return shortlist, []
        import scipy.sparse as sp

        x = sp.csr_matrix(
            (np.ones(len(web)), (np.arange(len(web)), web)), shape=(len(web), len(space))
        )
        reach = (space.expand(x) @ ctx[[aidx[a] for a in actors]].T).toarray().max(axis=1)
        hits = [web[k] for k in np.argsort(-reach, kind="stable") if reach[k] > 0][:max_infra]
        return shortlist, [space.ids[i] for i in hits]

    def _rarity(self, entity_id: str) -> dict[str, Any]:
        """How telling an entity is: its weight, how many actors share it, hub warning."""
        i = self.trained.space.pos.get(entity_id)
        if i is None:
            return {"weight": 0.0, "actors_sharing": 0, "hub": None}
        return {
            "weight": round(float(self.trained.idf[i]) / (self._idf_max or 1.0), 4),
            "actors_sharing": int(self.df[i]),
            "hub": self.trained.space.hub_reason.get(i),
        }

    def persist(
        self, activity: Activity, result: AttributionResult, created: str | None = None
    ) -> str:
        """Write the activity as a ``Campaign`` linked to its matched entities, and its
        hypotheses as ``PREDICTED_ACTOR {score, rank, model_version, created}``.

        Returns:
            The campaign id (``campaign--activity-<hash>``, stable for the same input values).
        """
        if self.store is None:
            raise ValidationError("persist needs a store")
        created = created or datetime.now(UTC).isoformat().replace("+00:00", "Z")
        linked = link(activity, self.lookup)  # exact-match look-ups: cheaper than carrying it
        key = json.dumps(sorted(linked.matched) + sorted(linked.unmatched))
        cid = f"campaign--activity-{hashlib.sha256(key.encode()).hexdigest()[:24]}"
        self.store.query(PERSIST_CAMPAIGN, {"id": cid, "name": activity.name, "created": created})
        props = self.trained.snapshot.props
        by_label: dict[str, list[dict[str, str]]] = {}
        for e in sorted(linked.matched):
            if props[e]["type"] != "indicator":
                by_label.setdefault(LABEL_OF[props[e]["type"]], []).append({"id": e})
        inds = [{"id": e} for e in sorted(linked.matched) if props[e]["type"] == "indicator"]
        for lab, rows_ in by_label.items():
            rel = "TARGETS" if lab in ("Sector", "Country") else "USES"
            query = PERSIST_USES.format(label=schema_label(lab), rel=schema_rel(rel))
            self.store.write_batches(query, rows_, campaign=cid, created=created)
        if inds:
            self.store.write_batches(PERSIST_INDICATES, inds, campaign=cid, created=created)
        rows = [{"actor": c.actor_id, "score": c.score, "rank": c.rank} for c in result.candidates]
        if rows:
            self.store.write_batches(
                PERSIST_PREDICTIONS, rows, campaign=cid, version=self.version, created=created
            )
        return cid


def _evidence(item: dict[str, Any]) -> Evidence:
    """One row of ``gnn.evidence.evidence_paths`` as the typed evidence of a result."""
    return Evidence(
        actor_id=item["actor_id"],
        kind=item["kind"],
        entity=EvidenceEntity(**item["entity"]),
        input=item["input"],
        path=tuple(item["path"]),
        weight=item["weight"],
        actors_sharing=item["actors_sharing"],
        hub=item["hub"],
    )
