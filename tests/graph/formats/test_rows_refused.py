"""A row the graph model has no place for refuses its input with an ``IngestError`` naming the
input, which the API answers as a 422 problem (graph/formats/rows.py, api/problems.py)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from actorgraph.api import problems
from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.rows import IngestBatch


def test_an_unknown_label_refuses_the_input_by_name():
    batch = IngestBatch(source="feed.json")
    with pytest.raises(IngestError, match=r"^feed\.json: unknown node label 'Actor'") as info:
        batch.add_node("Actor", "x", {"name": "x"})
    assert info.value.source == "feed.json"
    assert batch.nodes == {}


def test_an_unknown_relationship_or_end_refuses_the_input():
    batch = IngestBatch(source="feed.json")
    with pytest.raises(IngestError, match="unknown relationship type 'OWNS'"):
        batch.add_edge("Campaign", "OWNS", "ThreatActor", "a", "b")
    with pytest.raises(IngestError, match="unknown node label 'Actor'"):
        batch.add_edge("Campaign", "ATTRIBUTED_TO", "Actor", "a", "b")
    assert batch.edges == {}


def test_the_api_answers_a_refused_row_with_a_422_problem():
    app = FastAPI()
    problems.install(app)

    @app.post("/rows")
    def add_row() -> None:
        IngestBatch(source="upload").add_edge("Campaign", "OWNS", "ThreatActor", "a", "b")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/rows")
    assert r.status_code == 422
    assert r.headers["content-type"] == problems.PROBLEM_JSON
    body = r.json()
    assert body["type"] == "urn:actorgraph:problem:invalid-input"
    assert body["detail"].startswith("upload: unknown relationship type 'OWNS'")
