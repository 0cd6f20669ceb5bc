"""The attribution result, defined once: what ``gnn.attribute`` returns, the API answers,
``actorgraph attribute --json`` prints and the STIX export reads.

Frozen dataclasses, so a result is a value: it can be shared between threads and compared.
:meth:`AttributionResult.to_dict` gives the JSON shape (keys in field order);
:meth:`AttributionResult.from_dict` reads it back and refuses anything not shaped like it.
Fields a producer may leave out (an analyst's hand-written result, another tool's output) have
defaults; everything the model writes is always filled in.

The API builds its OpenAPI schema from these classes (pydantic validates dataclasses), so the
field constraints below are also what the API promises and checks.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import Annotated, Any

from pydantic import Field, Strict, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.tlp import Label

__all__ = [
    "AttributionResult",
    "Candidate",
    "CountryScore",
    "Evidence",
    "EvidenceEntity",
    "FlaggedValue",
    "ModelInfo",
    "Signals",
    "SkippedHub",
    "SkippedValue",
    "with_skipped",
]

# Numbers are strict: "0.5" or true is not a score (a JSON number is, integer or not).
Probability = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
Count = Annotated[int, Strict(), Field(ge=0)]
LogOdds = Annotated[float, Strict()]


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """The model that answered and how much of the activity it recognised.

    Attributes:
        version: the model version (artefact folder name).
        matched: input values linked to known entities within the reader's clearance.
        via_context: known entities reached only through the input's own context edges.
        unmatched: input values that matched nothing.
        via_enrichment: known entities (networks, AS organisations, registrable domains)
            reached from new indicators through their offline enrichment facts.
        clearance: the TLP clearance the answer was computed for (the model trained on what
            it may see, and the evidence within it). None when a producer does not state it:
            a consumer then treats the answer as ``red``, the only safe reading.
    """

    version: str
    matched: Count | None = None
    via_context: Count | None = None
    unmatched: Count | None = None
    via_enrichment: Count | None = None
    clearance: Label | None = None


@dataclass(frozen=True, kw_only=True)
class Signals:
    """What each kind of evidence added to one candidate's score, in log-odds: for two
    candidates of one result, the log of their scores' ratio is the difference of their sums.
    With the model's default (``TrainConfig.monotone``) every kind but the prior is 0 or more.

    Attributes:
        direct: items the activity shares with the actor (the shared items, the rarest of them,
            how many).
        graph: what message passing over the graph's relations adds (neighbours, hosting and
            registration habits): what a model trained with ``--no-graph`` does not read.
        naming: the naming habits of the activity's domains, URLs and e-mail addresses.
        campaigns: the best match among the actor's attributed campaigns.
        prior: the size of the actor's profile (no evidence about this activity).
    """

    direct: LogOdds
    graph: LogOdds
    naming: LogOdds
    campaigns: LogOdds
    prior: LogOdds

    def share(self, kind: str) -> float | None:
        """The share of the evidence (every kind but the prior) that ``kind`` added; None
        when the evidence sums to 0 or less."""
        evidence = {k: v for k, v in asdict(self).items() if k != "prior"}
        total = sum(evidence.values())
        return evidence[kind] / total if total > 0 else None


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One ranked actor.

    Attributes:
        rank: 1 for the most probable visible actor.
        actor_id: the actor's STIX id (``intrusion-set--...``).
        name: the actor's name.
        aliases: the actor's other names.
        country: ISO 3166-1 alpha-2 code of the actor's origin, when known.
        score: calibrated probability that this actor is behind the activity.
        signals: what each kind of evidence added to the score (None: not reported, as for
            a model whose scorer has a hidden layer).
    """

    rank: Annotated[int, Strict(), Field(ge=1)]
    actor_id: str
    name: str | None = None
    aliases: tuple[str, ...] = ()
    country: str | None = None
    score: Probability
    signals: Signals | None = None


@dataclass(frozen=True, kw_only=True)
class CountryScore:
    """The probability mass of the visible actors of one country."""

    country: str
    score: Probability


@dataclass(frozen=True, kw_only=True)
class EvidenceEntity:
    """The graph entity an evidence path runs through."""

    id: str
    label: str | None = None
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One graph path linking the activity to a candidate actor.

    Attributes:
        actor_id: the candidate it speaks for.
        kind: ``shared_malware``, ``shared_tool``, ``shared_technique``, ``shared_indicator``,
            ``shared_infrastructure``, ``shared_target``, ``shared_entity``, or
            ``enrichment`` (a new indicator in a network, AS organisation or registrable domain
            where the actor's past indicators were).
        entity: the known entity the activity shares with the actor.
        input: the input value that matched the entity.
        path: readable steps from the entity to the actor.
        weight: how telling the entity is (rarity, discounted for indirect paths), 0..1.
        actors_sharing: how many known actors the entity is linked to.
        hub: why the entity is a known hub (a CDN, a commodity tool), else None.
    """

    actor_id: str
    kind: str
    entity: EvidenceEntity
    input: str | None = None
    path: tuple[str, ...] = ()
    weight: Annotated[float, Strict(), Field(ge=0.0)]
    actors_sharing: Count = 0
    hub: str | None = None


@dataclass(frozen=True, kw_only=True)
class SkippedValue:
    """An input value left out of the attribution (an invalid indicator), and why."""

    value: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SkippedHub:
    """Shared infrastructure the evidence look-ups did not follow: it links more indicators
    than a path through it could make evidence of (the caps of ``gnn.evidence``).

    Attributes:
        id: the node's id (an IP, a network, an AS organisation, a registrable domain).
        name: its readable name.
        reason: how many links it has, against which cap.
    """

    id: str
    name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class FlaggedValue:
    """An input value the graph does not hold that sits on MISP warninglists (a public
    resolver, a CDN range, a top site): likely no evidence of any actor.

    Attributes:
        value: the indicator as the graph names it (``ipv4:8.8.8.8``).
        warninglists: the names of the lists that hold it, as the ``warninglists`` property of
            a stored indicator names them.
    """

    value: str
    warninglists: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class AttributionResult:
    """Ranked actors for one activity, with a country roll-up, an "unknown actor" score and the
    evidence behind the top candidates.

    The probabilities of every known actor plus ``unknown`` sum to 1; actors above the reader's
    clearance are never listed and their share is part of ``unknown``.

    Attributes:
        input: what was attributed (a file name, an activity name).
        model: the model version and how much of the activity it recognised.
        candidates: the top actors, most probable first.
        countries: probability per origin country, most probable first.
        unknown: probability that none of the known actors is behind the activity.
        evidence: graph paths for the top candidates, strongest first per candidate.
        skipped: input values left out (invalid indicators); the rest was attributed.
        flagged: input values the graph does not hold that are on MISP warninglists.
        hubs_skipped: shared infrastructure the evidence did not follow, being a hub.
    """

    input: str | None = None
    model: ModelInfo
    candidates: tuple[Candidate, ...]
    countries: tuple[CountryScore, ...] = ()
    unknown: Probability
    evidence: tuple[Evidence, ...] = ()
    skipped: tuple[SkippedValue, ...] = ()
    flagged: tuple[FlaggedValue, ...] = ()
    hubs_skipped: tuple[SkippedHub, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: plain dicts and lists, keys in field order."""
        return _plain(asdict(self))

    def to_json(self) -> str:
        """One line of ``actorgraph attribute --json``."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> AttributionResult:
        """Read a result from its JSON shape (as :meth:`to_dict` writes it).

        Raises:
            ValidationError: the data is not shaped like an attribution result.
        """
        try:
            return _adapter().validate_python(data)
        except PydanticValidationError as exc:
            raise ValidationError(f"not an attribution result: {_first_error(exc)}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> AttributionResult:
        """Read a result from JSON text (one line of ``actorgraph attribute --json``).

        Raises:
            ValidationError: not JSON, or not shaped like an attribution result.
        """
        try:
            return _adapter().validate_json(text)
        except PydanticValidationError as exc:
            raise ValidationError(f"not an attribution result: {_first_error(exc)}") from exc


def with_skipped(result: AttributionResult, skipped: list[dict[str, str]]) -> AttributionResult:
    """``result`` with the input values its parser left out (``Activity.skipped``)."""
    values = tuple(SkippedValue(value=v["value"], reason=v["reason"]) for v in skipped)
    return replace(result, skipped=result.skipped + values) if values else result


@cache
def _adapter() -> TypeAdapter[AttributionResult]:
    return TypeAdapter(AttributionResult)


def _first_error(exc: PydanticValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "result"
    return f"{where}: {err['msg']} (got {err.get('input')!r:.120})"


def _plain(value: Any) -> Any:
    """``asdict`` keeps tuples; JSON (and equality with parsed JSON) wants lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
