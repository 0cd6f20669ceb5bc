"""The one attribution result type: its JSON shape, the round trip, and what it refuses."""

from __future__ import annotations

import dataclasses
import json

import pytest

from actorgraph.graph.attribution import (
    AttributionResult,
    Candidate,
    CountryScore,
    Evidence,
    EvidenceEntity,
    ModelInfo,
    Signals,
)
from actorgraph.graph.errors import ValidationError

X = "intrusion-set--0000aaaa-0000-4000-8000-000000000001"
Y = "intrusion-set--0000aaaa-0000-4000-8000-000000000002"

RESULT = AttributionResult(
    input="activity.json",
    model=ModelInfo(
        version="20260101T000000Z-abc123", matched=2, via_context=1, unmatched=1, via_enrichment=1
    ),
    candidates=(
        Candidate(
            rank=1,
            actor_id=X,
            name="Actor X",
            aliases=("X-alias",),
            country="CN",
            score=0.81,
            signals=Signals(direct=2.5, graph=1.25, naming=0.0, campaigns=0.5, prior=-1.0),
        ),
        Candidate(rank=2, actor_id=Y, name="Actor Y", aliases=(), country=None, score=0.04),
    ),
    countries=(CountryScore(country="CN", score=0.81),),
    unknown=0.15,
    evidence=(
        Evidence(
            actor_id=X,
            kind="shared_malware",
            entity=EvidenceEntity(id="malware--sunspotx", label="Malware", name="SunSpotX"),
            input="SunSpotX",
            path=("Malware:SunSpotX", "<-USES-", "ThreatActor:Actor X"),
            weight=1.0,
            actors_sharing=1,
            hub=None,
        ),
        Evidence(
            actor_id=X,
            kind="shared_tool",
            entity=EvidenceEntity(id="tool--mimikatz", label="Tool", name="Mimikatz"),
            input="mimikatz",
            path=("Tool:Mimikatz", "<-USES-", "ThreatActor:Actor X"),
            weight=0.0261,
            actors_sharing=4,
            hub="commodity tool",
        ),
    ),
)


def test_json_round_trip_gives_the_same_result() -> None:
    assert AttributionResult.from_json(RESULT.to_json()) == RESULT
    assert AttributionResult.from_dict(json.loads(RESULT.to_json())) == RESULT
    assert AttributionResult.from_dict(RESULT.to_dict()).to_dict() == RESULT.to_dict()


def test_the_json_shape_is_the_one_the_cli_and_api_print() -> None:
    data = RESULT.to_dict()
    assert list(data) == [
        "input",
        "model",
        "candidates",
        "countries",
        "unknown",
        "evidence",
        "skipped",
        "flagged",
        "hubs_skipped",
    ]
    assert list(data["model"]) == [
        "version",
        "matched",
        "via_context",
        "unmatched",
        "via_enrichment",
        "clearance",
    ]
    candidate = ["rank", "actor_id", "name", "aliases", "country", "score", "signals"]
    assert list(data["candidates"][0]) == candidate
    signals = ["direct", "graph", "naming", "campaigns", "prior"]
    assert list(data["candidates"][0]["signals"]) == signals
    assert data["candidates"][1]["signals"] is None
    assert list(data["countries"][0]) == ["country", "score"]
    evidence = ["actor_id", "kind", "entity", "input", "path", "weight", "actors_sharing", "hub"]
    assert list(data["evidence"][0]) == evidence
    assert list(data["evidence"][0]["entity"]) == ["id", "label", "name"]
    # Plain JSON values: lists, not tuples, so a parsed line compares equal.
    assert data["candidates"][0]["aliases"] == ["X-alias"]
    assert data == json.loads(RESULT.to_json())


def test_a_result_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RESULT.unknown = 0.0  # type: ignore[misc]
    assert hash(RESULT.candidates[0]) == hash(dataclasses.replace(RESULT.candidates[0]))


def test_what_a_producer_may_leave_out_takes_its_default() -> None:
    minimal = {
        "model": {"version": "m1"},
        "candidates": [{"rank": 1, "actor_id": X, "score": 0.5}],
        "unknown": 0.4,
    }
    result = AttributionResult.from_dict(minimal)
    assert result.input is None and result.model.matched is None
    assert result.candidates[0].aliases == () and result.candidates[0].name is None
    assert result.candidates[0].signals is None
    assert result.countries == () and result.evidence == ()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"candidates": [{"rank": "first", "actor_id": X, "score": 0.5}]}, "candidates.0.rank"),
        ({"candidates": [{"rank": 1, "actor_id": X, "score": "high"}]}, "candidates.0.score"),
        ({"candidates": [{"rank": 1, "actor_id": X, "score": "0.5"}]}, "candidates.0.score"),
        ({"candidates": [{"rank": 1, "actor_id": X, "score": True}]}, "candidates.0.score"),
        ({"candidates": [{"rank": 1, "actor_id": X, "score": 1.5}]}, "candidates.0.score"),
        ({"candidates": [{"rank": 0, "actor_id": X, "score": 0.5}]}, "candidates.0.rank"),
        ({"candidates": "none"}, "candidates"),
        (
            {"candidates": [{"rank": 1, "actor_id": X, "score": 0.5, "signals": {"direct": 1.0}}]},
            "candidates.0.signals.graph",
        ),
        (
            {
                "candidates": [
                    {
                        "rank": 1,
                        "actor_id": X,
                        "score": 0.5,
                        "signals": dict.fromkeys(("direct", "graph", "naming", "prior"), 0.0)
                        | {"campaigns": "0.5"},
                    }
                ]
            },
            "candidates.0.signals.campaigns",
        ),
        ({"unknown": None}, "unknown"),
        ({"model": {}}, "model.version"),
        ({"countries": [{"country": "CN", "score": "x"}]}, "countries.0.score"),
        ({"evidence": ["just text"]}, "evidence.0"),
    ],
)
def test_a_malformed_result_is_refused_naming_the_field(change: dict, where: str) -> None:
    with pytest.raises(ValidationError, match=f"not an attribution result: {where}"):
        AttributionResult.from_dict({**RESULT.to_dict(), **change})


def test_not_json_or_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError, match="not an attribution result"):
        AttributionResult.from_json("{not json")
    with pytest.raises(ValidationError, match="not an attribution result"):
        AttributionResult.from_dict([1, 2, 3])


def test_a_kinds_share_is_of_the_evidence_without_the_prior() -> None:
    signals = Signals(direct=2.5, graph=1.25, naming=0.0, campaigns=1.25, prior=-3.0)
    assert signals.share("graph") == 0.25 and signals.share("direct") == 0.5
    assert (
        Signals(direct=0.0, graph=0.0, naming=0.0, campaigns=0.0, prior=1.0).share("graph") is None
    )
