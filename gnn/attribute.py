"""Attribution of new activity: ranked actors with calibrated probabilities, a country roll-up,
an explicit "unknown actor" score and the evidence paths behind each top candidate.

``Attributor`` is loaded once (CLI run, API start-up) and then only read: ``attribute`` is safe
to call from several threads at once. Predictions are hypotheses: ``persist`` writes them as
``PREDICTED_ACTOR`` relationships, never as ``ATTRIBUTED_TO``.

Each model is trained on the graph visible at one TLP clearance (``gnn.artefacts``), and an
``Attributor`` answers only requesters cleared for at least that level: everything it computes
(scores, ranks, counts, the unknown score) then depends only on data the requester may see.
``Attributors`` holds one version's models and picks the one that serves a clearance.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import Activity, EntityLookup, LinkedActivity, link
from actorgraph.gnn.evidence import evidence_paths
from actorgraph.gnn.evidence_index import EvidenceIndex
from actorgraph.gnn.features import SIGNALS
from actorgraph.gnn.habit_likelihood import Setup, activity_setups
from actorgraph.gnn.persist import LABEL_OF, persist_activity
from actorgraph.gnn.scoring import Scorer
from actorgraph.gnn.sparse_rows import row_positions
from actorgraph.gnn.trained import Trained
from actorgraph.graph.attribution import (
    AttributionResult,
    Candidate,
    CountryScore,
    Evidence,
    EvidenceEntity,
    ModelInfo,
    Signals,
    SkippedHub,
)
from actorgraph.graph.enrich.warninglists import flagged_values
from actorgraph.graph.errors import ModelError, ValidationError
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, level_of


class Attributor:
    """A loaded model bound to a store (for evidence and persistence).

    Attributes:
        clearance: the level the model was trained at: it answers only requesters cleared for
            at least that level.
    """

    def __init__(self, trained: Trained, store: GraphStore | None) -> None:
        self.trained = trained
        self.store = store
        self.scorer = Scorer(trained)
        snap = trained.snapshot
        self.clearance = TLP.parse(snap.max_tlp)
        self.actor_ids = snap.nodes.get("actor", [])
        self.actor_props = [snap.props[a] for a in self.actor_ids]
        self.actor_tlp = np.array([level_of(p) for p in self.actor_props])
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
        # Entity -> actors, for the profiles and their context expansion: a request reads the
        # rows of its own entities, never an actor's whole profile (which grows with the graph).
        self._profile_t = trained.profile.T.tocsr()
        self._context_t = self.scorer.features.context.T.tocsr()
        self.evidence_index = EvidenceIndex(snap, trained.space.pos)

    @classmethod
    def load(
        cls,
        model_dir: Path,
        store: GraphStore | None,
        version: str | None = None,
        *,
        max_tlp: int,
    ) -> Attributor:
        """Load the model that serves one clearance from a version (latest unless named) in
        ``<home>/models``.

        Raises:
            ModelError: no trained model, none for that clearance, or a corrupt artefact.
            NotFound: the named version does not exist.
        """
        return cls(artefacts.load(Path(model_dir), version, max_tlp=max_tlp), store)

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
        self._check_clearance(max_tlp)
        linked = link(activity, self.lookup)
        props = self.trained.snapshot.props
        seen = {e: v for e, v in linked.matched.items() if level_of(props[e]) <= max_tlp}
        context = {e: v for e, v in linked.via_context.items() if level_of(props[e]) <= max_tlp}
        # Known networks, AS organisations and registrable domains that a new indicator's
        # enrichment facts name: seen entities of the query, like those reached via context.
        enriched = {
            e: v
            for e, v in linked.via_enrichment.items()
            if level_of(props[e]) <= max_tlp and e not in seen and e not in context
        }
        # A value that names something the requester may not see does not exist for them: it
        # counts as unmatched, exactly like a value the graph does not hold.
        unmatched = set(linked.unmatched) | {v for e, v in linked.matched.items() if e not in seen}
        pos = self.trained.space.pos
        entities = sorted({pos[e] for e in [*seen, *context, *enriched]})
        hidden = self.actor_tlp > max_tlp
        probs, signals = self.scorer.scores(
            [entities],
            hidden_actors=hidden,
            # What the requester's graph does not hold still counts by its name.
            new_values=[sorted(unmatched & set(activity.indicators))],
            new_setups=[self._setups(linked, max_tlp)],
        )
        actor_p, unknown = probs[0, :-1], float(probs[0, -1])
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
                signals=None if signals is None else _signals(signals[0, a]),
            )
            for rank, a in enumerate(shown, start=1)
        )
        keep = (self.actor_country >= 0) & ~hidden & (actor_p > 0)
        sums = np.bincount(
            self.actor_country[keep], weights=actor_p[keep], minlength=len(self.country_names)
        )
        countries = {self.country_names[i]: float(sums[i]) for i in np.flatnonzero(sums > 0)}
        ev: list[dict[str, Any]] = []
        hubs: list[dict[str, Any]] = []
        if evidence and self.store is not None and candidates and seen | context | enriched:
            top = [c.actor_id for c in candidates[:3]]
            shortlist, infra = self._shortlist(top, entities)
            ev = evidence_paths(
                self.store,
                top,
                {**seen, **context},
                self._rarity,
                max_tlp=max_tlp,
                shortlist=shortlist,
                infra_ids=infra,
                enriched=enriched,
                skipped=hubs,
                index=self.evidence_index,
            )
        return AttributionResult(
            input=input_name or activity.name,
            model=ModelInfo(
                version=self.version,
                matched=len(seen),
                via_context=len(context),
                unmatched=len(unmatched),
                via_enrichment=len(enriched),
                clearance=TLP.parse(max_tlp).label,
            ),
            candidates=candidates,
            countries=tuple(
                CountryScore(country=c, score=round(s, 6))
                for c, s in sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
            unknown=round(unknown, 6),
            evidence=tuple(_evidence(item) for item in ev),
            # What the graph does not hold but MISP's warninglists do: likely nobody's evidence.
            flagged=flagged_values(sorted(unmatched & set(activity.indicators))),
            hubs_skipped=tuple(
                SkippedHub(id=h["id"], name=str(h["name"] or h["id"]), reason=h["reason"])
                for h in hubs
            ),
        )

    def _shortlist(
        self, actors: list[str], entities: list[int], per_actor: int = 8, max_infra: int = 4
    ) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
        """What the model's profiles say each candidate shares with the activity: the rarest
        ``per_actor`` entities per actor (looked up as concrete paths in the store), and the
        indicators that reach an actor only through shared hosting (domain -> IP -> ASN)."""
        space, idf = self.trained.space, self.trained.idf
        props = self.trained.snapshot.props
        aidx = self.trained.snapshot.index("actor")
        ents = np.unique(np.asarray(entities, dtype=np.int64))
        shortlist: dict[str, list[tuple[str, str]]] = {}
        direct: set[int] = set()
        # Each query entity's actors, from the entity's row of the transposed profiles: the
        # cost follows the activity's size, not the profiles'.
        pos, lengths = row_positions(self._profile_t, ents)
        held, owner = np.repeat(ents, lengths), self._profile_t.indices[pos]
        for actor in actors:
            shared = np.unique(held[owner == aidx[actor]])
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
        cols = [aidx[a] for a in actors]
        reach = np.zeros(len(web))
        for k, i in enumerate(web):
            # The web entity's context expansion times the candidates' expanded profiles.
            idx, val = space.expand_row(np.array([i], dtype=np.int64), np.ones(1))
            scores = np.zeros(len(self.actor_ids))
            rows, weights = _rows_times(self._context_t, idx, val)
            np.add.at(scores, rows, weights)
            reach[k] = scores[cols].max()
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

    def _setups(self, linked: LinkedActivity, max_tlp: int) -> list[Setup]:
        """The set-ups of the activity's new domains and IPs, from what the requester may see
        (``gnn.habit_likelihood``); none when the model does not read them."""
        features = self.scorer.features
        if features.setup_lik is None:
            return []
        pos, props = self.trained.space.pos, self.trained.snapshot.props

        def position(entity_id: str) -> int | None:
            p = pos.get(entity_id)
            return p if p is not None and level_of(props[entity_id]) <= max_tlp else None

        return activity_setups(linked, position, self.trained.space.setups)

    def _check_clearance(self, max_tlp: int) -> None:
        """Refuse a requester cleared below the model's training data (a wiring error: the
        model would show them what they may not see)."""
        if max_tlp < self.clearance:
            raise ModelError(
                f"this model was trained on data up to TLP:{self.clearance.label.upper()}: it "
                f"cannot answer for clearance {TLP.parse(max_tlp).label}"
            )

    def persist(
        self,
        activity: Activity,
        result: AttributionResult,
        *,
        max_tlp: int,
        created: str | None = None,
        seen: tuple[str, str] | None = None,
    ) -> str:
        """Write the activity as a ``Campaign`` linked to its matched entities, to its new
        indicators and to its input's own new malware, tools and infrastructure (stored, with
        their context edges and enrichment, when the store does not hold them:
        ``gnn.persist``), and its hypotheses as ``PREDICTED_ACTOR {score, rank,
        model_version, created}``.

        Args:
            activity: the activity that was attributed.
            result: its attribution, computed at the same clearance.
            max_tlp: the requester's clearance. The campaign, its links, its new indicators
                and its hypotheses are marked with it (they were derived from everything up to
                it), and link only to entities visible at it.
            created: the creation time (default: now).
            seen: when the activity was first and last seen (default: ``created``, for
                both); a campaign stored again keeps the widest span.

        Returns:
            The campaign id (``campaign--activity-<hash>``, stable for the same input values
            and clearance: requesters of different clearances never share a campaign).

        Raises:
            ValidationError: no store, or a campaign with that id exists with another marking.
            ModelError: ``max_tlp`` is below the model's clearance.
        """
        if self.store is None:
            raise ValidationError("persist needs a store")
        level = TLP.parse(max_tlp)
        self._check_clearance(level)
        created = created or datetime.now(UTC).isoformat().replace("+00:00", "Z")
        linked = link(activity, self.lookup)  # exact-match look-ups: cheaper than carrying it
        return persist_activity(
            self.store,
            linked,
            result,
            self.trained.snapshot.props,
            level=level,
            version=self.version,
            created=created,
            seen=seen or (created, created),
        )


class Attributors:
    """One model version's attributors, one per TLP clearance (``gnn.artefacts``).

    Args:
        by_level: clearance -> the attributor that serves it (levels that share a model share
            the object; a level without a model is absent).
        version: the model version.
    """

    def __init__(self, by_level: Mapping[TLP, Attributor], version: str) -> None:
        self.by_level = dict(by_level)
        self.version = version

    @classmethod
    def load(
        cls, model_dir: Path, store: GraphStore | None, version: str | None = None
    ) -> Attributors:
        """Load every model of a version (latest unless named) from ``<home>/models``.

        Raises:
            ModelError: no trained model or a corrupt artefact.
            NotFound: the named version does not exist.
        """
        levels = artefacts.load_levels(Path(model_dir), version)
        made: dict[int, Attributor] = {}
        by_level = {
            level: made.setdefault(id(trained), Attributor(trained, store))
            for level, trained in levels.items()
        }
        name = next(iter(by_level.values())).version if by_level else str(version)
        return cls(by_level, name)

    def for_clearance(self, max_tlp: int) -> Attributor | None:
        """The attributor that serves a requester of this clearance, or None when no model
        was trained on what it may see."""
        return self.by_level.get(TLP.parse(max_tlp))

    @property
    def clearances(self) -> list[str]:
        """The clearances served by a model, least restricted first."""
        return [level.label for level in sorted(self.by_level)]


def _rows_times(m: Any, idx: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The terms of the sparse row (idx, val) times CSR ``m``: (column, value) pairs, columns
    repeated (their sum per column is the product)."""
    starts = m.indptr[idx]
    lengths = m.indptr[idx + 1] - starts
    pos = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
    return m.indices[pos], m.data[pos] * np.repeat(val, lengths)


def _signals(row: np.ndarray) -> Signals:
    """One candidate's row of ``Scorer.scores``' signals."""
    return Signals(**{k: round(float(v), 4) for k, v in zip(SIGNALS, row, strict=True)})


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
