"""Request and response models: what the OpenAPI document promises, in families per resource."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.library.guard import MAX_QUERY_CHARS

# -- shared --------------------------------------------------------------------------------------


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:actorgraph:problem:not-found"])
    title: str
    status: int
    detail: str
    instance: str | None = None


class Ref(BaseModel):
    """A graph object referred to from another one; extra columns pass through."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    name: str | None = None


# -- actors --------------------------------------------------------------------------------------


class ActorBase(BaseModel):
    id: str
    name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    country: str | None = None
    external_id: str | None = None


class ActorPublic(ActorBase):
    """One row of an actor search."""


class ActorsPublic(BaseModel):
    data: list[ActorPublic]
    count: int = Field(description="matches in total, over all pages")
    limit: int
    offset: int


class ActorProfile(BaseModel):
    """An actor and what it is known for; only objects within the caller's TLP clearance."""

    actor: dict[str, Any] = Field(description="the actor's properties (provenance included)")
    campaigns: list[Ref]
    malware: list[Ref]
    tools: list[Ref]
    techniques: list[Ref] = Field(description="rarest first: `actors` = visible actors using it")
    infrastructure: list[Ref]
    indicators: list[Ref] = Field(description="most recently seen first")
    reports: list[Ref]


# -- campaigns and indicators --------------------------------------------------------------------


class CampaignProfile(BaseModel):
    campaign: dict[str, Any]
    attributed_to: list[Ref]
    hypotheses: list[Ref] = Field(description="PREDICTED_ACTOR edges written by the model")
    uses: list[Ref]
    targets: list[Ref]
    indicators: list[Ref]


class IndicatorPivot(BaseModel):
    query: str = Field(description="the value as given")
    kind: str
    value: str = Field(description="the normalised (refanged) value")
    indicator: dict[str, Any]
    neighbours: list[Ref]
    actors: list[Ref] = Field(description="actors reachable from the indicator, closest first")
    paths: list[dict[str, Any]]


# -- research queries and Cypher -----------------------------------------------------------------


class QueryParameterPublic(BaseModel):
    name: str
    type: str
    description: str
    example: Any = None
    default: Any = None
    required: bool


class ResearchQueryPublic(BaseModel):
    name: str
    guid: str
    category: str
    description: str
    parameters: list[QueryParameterPublic]
    returns: list[str]
    revision: int
    query: str


class ResearchQueriesPublic(BaseModel):
    data: list[ResearchQueryPublic]
    count: int


class QueryRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(default_factory=dict, description="parameter values by name")


class CypherRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1, max_length=MAX_QUERY_CHARS, description="one read-only statement"
    )
    params: dict[str, Any] = Field(default_factory=dict)


class Rows(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    count: int
    truncated: bool = Field(description="true when the row cap cut the result")


# -- attribution and ingestion -------------------------------------------------------------------


# The most indicator values one request may give, as a list or as lines of ``text``.
MAX_INDICATORS = 10_000


class SimpleActivity(BaseModel):
    """Loose observations to attribute (the simple alternative to a STIX bundle)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=500)
    indicators: list[str] = Field(default_factory=list, max_length=MAX_INDICATORS)
    malware: list[str] = Field(default_factory=list, max_length=1_000)
    tools: list[str] = Field(default_factory=list, max_length=1_000)
    techniques: list[str] = Field(default_factory=list, max_length=1_000)
    infrastructure: list[str] = Field(default_factory=list, max_length=1_000)
    targets: list[str] = Field(
        default_factory=list, max_length=1_000, description="sector:<slug> or country:<CC> ids"
    )
    text: str | None = Field(
        default=None,
        max_length=2_000_000,
        description="more indicators as a pasted list: one per line, the first field of each "
        "line, # comments skipped, defanged values read (gnn.activity.text_values)",
    )
    top_k: int = Field(default=5, ge=1, le=50)
    persist: bool = Field(
        default=False, description="store the activity, its new indicators and its hypotheses"
    )

    @field_validator("text")
    @classmethod
    def _at_most_max_values(cls, text: str | None) -> str | None:
        from actorgraph.gnn.activity import text_values

        if text is not None and len(text_values(text)) > MAX_INDICATORS:
            raise ValueError(f"text holds more than {MAX_INDICATORS} values (lines)")
        return text


class StixBundle(BaseModel):
    """A STIX 2.1 bundle describing the activity; ``top_k``/``persist`` are ours, not STIX's."""

    model_config = ConfigDict(extra="allow")

    type: Literal["bundle"]
    id: str = Field(max_length=200)
    objects: list[dict[str, Any]] = Field(max_length=100_000)
    top_k: int = Field(default=5, ge=1, le=50)
    persist: bool = False


class MispEvent(BaseModel):
    """A MISP event describing the activity, with or without its ``{"Event": ...}`` wrapper;
    ``top_k``/``persist`` are ours, not MISP's. The event's own fields pass through as extras."""

    model_config = ConfigDict(extra="allow")

    top_k: int = Field(default=5, ge=1, le=50)
    persist: bool = False

    def event(self) -> dict[str, Any]:
        """The event as sent, without our options."""
        return dict(self.model_extra or {})


def activity_format(body: Any) -> str:
    """Which form an attribution body is in: ``stix``, ``misp`` or ``simple``, as
    ``actorgraph.gnn.activity.activity_format`` tells parsed input apart (the console sends
    whatever JSON object was pasted)."""
    if isinstance(body, BaseModel):
        return {StixBundle: "stix", MispEvent: "misp"}.get(type(body), "simple")
    from actorgraph.gnn.activity import activity_format as input_format

    return input_format(body)


ActivityBody = Annotated[
    Annotated[StixBundle, Tag("stix")]
    | Annotated[MispEvent, Tag("misp")]
    | Annotated[SimpleActivity, Tag("simple")],
    Discriminator(activity_format),
]


@dataclass(frozen=True, kw_only=True)
class Persisted:
    """The campaign written for ``persist: true``, holding the activity and its hypotheses."""

    campaign_id: str


@dataclass(frozen=True, kw_only=True)
class Attribution(AttributionResult):
    """One attribution result, the same as one line of ``actorgraph attribute --json``, plus
    ``persisted``. The fields are those of ``actorgraph.graph.attribution.AttributionResult``."""

    persisted: Annotated[
        Persisted | None, Field(description="the campaign written when persist was true")
    ] = None

    @classmethod
    def of(cls, result: AttributionResult, persisted: Persisted | None = None) -> Attribution:
        """The answer for one result (``persisted`` when the activity was stored)."""
        own = {f.name: getattr(result, f.name) for f in fields(AttributionResult)}
        return cls(**own, persisted=persisted)


class IngestReport(BaseModel):
    model_config = ConfigDict(extra="allow")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, Any] = Field(default_factory=dict)
