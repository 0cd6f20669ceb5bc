"""Ad hoc Cypher cannot starve the API (issue 18, findings 7 and 12).

Found: two slow ``POST /v1/cypher`` calls held both of FalkorDB's threads and a ``clear``
reader's ``GET /v1/actors`` waited 29.7 s. Now the engine has more threads than ad hoc Cypher
may take (its own budget of slots, shared by every process on the server): while the budget is
full, reads still answer and one more ad hoc query gets 503 with ``Retry-After``. Through a real
``actorgraph serve`` process on the API world.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.settings import Settings
from tests.helpers.api_helpers import auth
from tests.helpers.server import serve

TIMEOUT_MS = 6000
# Record by record, so the engine stops it at the timeout: it holds an engine thread until then.
SLOW = "UNWIND range(1, 1000000) AS x UNWIND range(1, 1000000) AS y RETURN count(*) AS n"


@pytest.fixture(scope="module")
def slow_server(
    api_settings: Settings, keys: dict[str, str], world_env: dict[str, str]
) -> Iterator[str]:
    """``actorgraph serve`` on the API world with a 6 s ad hoc timeout."""
    env = {
        **world_env,
        "ACTORGRAPH_CYPHER_TIMEOUT_MS": str(TIMEOUT_MS),
        "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with serve(api_settings.home, "--no-model", env=env) as server:
        yield server.base


class _Adhoc(threading.Thread):
    """One ad hoc query in the background: its status and how long it took."""

    def __init__(self, base: str, key: str, query: str = SLOW) -> None:
        super().__init__()
        self.base, self.key, self.query = base, key, query
        self.status: int | None = None
        self.body: dict[str, Any] = {}
        self.elapsed = 0.0

    def run(self) -> None:
        t0 = time.perf_counter()
        r = httpx.post(
            f"{self.base}/v1/cypher",
            json={"query": self.query},
            headers=auth(self.key),
            timeout=120,
        )
        self.elapsed = time.perf_counter() - t0
        self.status, self.body = r.status_code, r.json()


def _start(n: int, base: str, key: str) -> list[_Adhoc]:
    queries = [_Adhoc(base, key) for _ in range(n)]
    for q in queries:
        q.start()
    time.sleep(1.5)  # long enough for each to reach the engine
    return queries


def test_reads_answer_while_two_slow_adhoc_queries_run(
    slow_server: str, keys: dict[str, str]
) -> None:
    slow = _start(2, slow_server, keys["analyst_red"])
    latencies = []
    with httpx.Client(base_url=slow_server, headers=auth(keys["reader_clear"])) as reader:
        while any(q.is_alive() for q in slow) and len(latencies) < 40:
            t0 = time.perf_counter()
            r = reader.get("/v1/actors", timeout=120)
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
            time.sleep(0.1)
    for q in slow:
        q.join(timeout=120)
    print(
        f"GET /v1/actors during two slow ad hoc queries: {len(latencies)} reads, "
        f"max {max(latencies):.3f} s; ad hoc: "
        + ", ".join(f"{q.status} after {q.elapsed:.1f} s" for q in slow)
    )
    assert [q.status for q in slow] == [504, 504], [q.body for q in slow]
    assert all(q.elapsed < 3 * TIMEOUT_MS / 1000 for q in slow)
    assert len(latencies) >= 5 and max(latencies) < 2.0, latencies


def test_an_adhoc_query_beyond_the_budget_gets_503_with_retry_after(
    slow_server: str, keys: dict[str, str], world: FalkorStore
) -> None:
    slow = _start(world.adhoc_slots, slow_server, keys["analyst_red"])
    try:
        t0 = time.perf_counter()
        r = httpx.post(
            f"{slow_server}/v1/cypher",
            json={"query": "RETURN 1 AS one"},
            headers=auth(keys["analyst_red"]),
            timeout=120,
        )
        elapsed = time.perf_counter() - t0
    finally:
        for q in slow:
            q.join(timeout=120)
    print(f"ad hoc query over the budget: {r.status_code} after {elapsed:.2f} s")
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["Retry-After"]) >= 1
    assert "ad hoc" in r.json()["detail"]
    assert elapsed < 3.0


@pytest.mark.parametrize(
    "query",
    [
        "CALL algo.betweenness({}) YIELD node, score RETURN count(node) AS n",
        "RETURN reduce(s = 0, x IN range(1, 20000) | "
        "s + reduce(t = 0, y IN range(1, 20000) | t + y)) AS v",
        "RETURN size(reduce(s = 'x', i IN range(1, 30) | s + s)) AS n",
    ],
    ids=["algo-betweenness", "nested-reduce", "string-doubling"],
)
def test_queries_the_engine_cannot_stop_are_refused_at_once(
    client: Any, keys: dict[str, str], query: str
) -> None:
    t0 = time.perf_counter()
    r = client.post("/v1/cypher", json={"query": query}, headers=auth(keys["analyst_red"]))
    elapsed = time.perf_counter() - t0
    assert r.status_code == 422, r.text
    assert "not allowed" in r.json()["detail"]
    assert elapsed < 1.0, elapsed
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, [2**64]])
def test_integer_parameters_outside_64_bits_get_422(
    client: Any, keys: dict[str, str], value: object
) -> None:
    r = client.post(
        "/v1/cypher",
        json={"query": "RETURN $x AS v", "params": {"x": value}},
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 422, r.text
    assert "64-bit" in r.json()["detail"]
