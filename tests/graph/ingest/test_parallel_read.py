"""Reading files in worker processes writes the same graph as reading them one by one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actorgraph.graph.errors import IngestError
from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.ingest.pipeline import read_path
from actorgraph.graph.ingest.reading import read_files
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.tlp import TLP
from actorgraph.world import generate_world
from tests.helpers.graph_snapshot import snapshot


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The small demo world's training bundle cut into three consecutive bundles: the later
    ones refer to objects of the earlier ones, as shards of a large world do."""
    out = tmp_path_factory.mktemp("world")
    meta = generate_world(seed=7, scale="small").write(out)
    objects = [
        o for f in meta["files"]["train"] for o in json.loads((out / f).read_text())["objects"]
    ]
    third = -(-len(objects) // 3)
    paths = []
    for i in range(3):
        path = out / f"part-{i}.json"
        part = objects[i * third : (i + 1) * third]
        bundle = {"type": "bundle", "id": f"bundle--{uuid.UUID(int=i + 1)}", "objects": part}
        path.write_text(json.dumps(bundle))
        paths.append(path)
    return paths


@pytest.fixture
def two_graphs(server: FalkorStore) -> Iterator[tuple[FalkorStore, FalkorStore]]:
    graphs = [server.with_graph(f"t-{uuid.uuid4().hex[:12]}") for _ in range(2)]
    for g in graphs:
        g.ensure_schema()
        ingest_attack(g)
    yield graphs[0], graphs[1]
    for g in graphs:
        g.clear()
        g.close()


def test_workers_write_the_same_graph(two_graphs, shards: list[Path]) -> None:
    alone, pooled = two_graphs
    one = ingest_paths(alone, shards, max_tlp=TLP.RED, enrich=True, workers=1)
    two = ingest_paths(pooled, shards, max_tlp=TLP.RED, enrich=True, workers=2)
    assert [r.to_dict() | {"seconds": 0} for r in one] == [
        r.to_dict() | {"seconds": 0} for r in two
    ]
    expected, found = snapshot(alone), snapshot(pooled)
    assert found["counts"] == expected["counts"]
    assert sum(expected["counts"]["nodes"].values()) > 3_000
    assert found["nodes"] == expected["nodes"]
    assert found["relationships"] == expected["relationships"]


def test_a_read_ahead_is_kept_unless_an_earlier_file_brought_what_it_asked(
    two_graphs, shards: list[Path]
) -> None:
    store, _ = two_graphs
    read = lambda s, p: read_path(s, p, max_tlp=TLP.RED, fmt="auto")  # noqa: E731
    found = list(read_files(store, shards, read=read, workers=2))
    assert [f.path for f in found] == shards
    assert all(f.ahead and f.error is None and f.batch is not None for f in found)
    # Every part names ATT&CK objects (in the store before), which no part brings.
    assert all(f.asked for f in found)
    assert not found[0].stale(set(), earlier=False)
    first_ids = {
        sid
        for by_id in found[0].batch.nodes.values()
        for p in by_id.values()
        for sid in p.get("stix_ids") or []
    }
    later = [f for f in found[1:] if f.asked & first_ids]
    assert later, "the later parts refer to objects of the first"
    assert all(f.stale(first_ids, earlier=True) for f in later)


def test_a_refused_file_is_refused_the_same_with_workers(
    two_graphs, shards: list[Path], tmp_path: Path
) -> None:
    store, _ = two_graphs
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "type": "bundle",
                "id": f"bundle--{uuid.uuid4()}",
                "objects": [{"type": "indicator", "id": "indicator--nope"}],
            }
        )
    )
    with pytest.raises(IngestError) as one:
        ingest_paths(store, [bad, shards[0]], max_tlp=TLP.RED, workers=1)
    store.clear()
    store.ensure_schema()
    with pytest.raises(IngestError) as two:
        ingest_paths(store, [bad, shards[0]], max_tlp=TLP.RED, workers=2)
    assert type(two.value) is type(one.value)
    assert str(two.value) == str(one.value)
    assert len(two.value.reports) == len(one.value.reports) == 1
