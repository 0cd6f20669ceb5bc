"""The infrastructure split and its control: infrastructure is the only tie to the actor, and the
control has none, not even through the values; neither changes the training or held-out files."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from publicsuffixlist import PublicSuffixList

from actorgraph.gnn.world_split import HELDOUT_SPLITS, load_heldout
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.formats.stix_reader import read_stix
from actorgraph.world import generate as generate_module
from actorgraph.world import generate_world

INFRA, CONTROL = "heldout_infra", "heldout_infra_control"
ATTACK_PREFIXES = ("intrusion-set--", "malware--", "tool--", "attack-pattern--")
# Relations to shared infrastructure objects, as the training bundles state them.
REFERENCE_RELS = ("belongs-to", "hosted-on", "registered-with", "uses-name-server")
SCO_TYPES = ("domain-name", "ipv4-addr", "url", "x509-certificate", "file", "email-addr")
# sha256 of files of seed 7, scale small, as written before the infrastructure split existed:
# the demo trains on these bytes and scores against these labels. Change them only on purpose.
# (The heldout/ bundles also carry country display names from graph/formats/countries.py, so
# they are compared with a world written without the new splits instead.)
GOLDEN = {
    "train.json": "269f52feed45ad9237b531f153d061373469e0c1cfef05c243bfd981fb905df4",
    "heldout_labels.json": "af16c099d028ac1d0e452149fed263f4838abdecd2f7b821218207744742839c",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("world-infra")
    meta = generate_world(seed=7, scale="small").write(out)
    return out, meta


def _objects(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["objects"]


def _split_files(out: Path, split: str) -> list[Path]:
    return sorted((out / split).glob("activity-*.json"))


def _training(out: Path, meta: dict) -> list[dict]:
    return [o for name in meta["files"]["train"] for o in _objects(out / name)]


def _training_indicators(out: Path, meta: dict) -> set[str]:
    ids: set[str] = set()
    for name in meta["files"]["train"]:
        batch = read_stix(out / name, known_ids=lambda refs: set(refs))
        ids.update(batch.nodes.get("Indicator", {}))
    return ids


def _value(indicator_id: str) -> tuple[str, str]:
    kind, _, value = indicator_id.partition(":")
    return kind, value


def _host(kind: str, value: str) -> str | None:
    if kind == "domain":
        return value
    if kind == "url":
        return value.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    if kind == "email":
        return value.rsplit("@", 1)[1]
    return None


def _is_ip(host: str) -> bool:
    return host.replace(".", "").isdigit()


def test_sizes_and_manifest(world):
    out, meta = world
    infra, control = _split_files(out, INFRA), _split_files(out, CONTROL)
    assert 40 <= len(infra) <= 80
    assert [p.name for p in infra] == [p.name for p in control]
    counts = meta["counts"]
    assert counts["heldout_infra_clusters"] == counts["heldout_infra_control_clusters"] == 60
    assert meta["files"][INFRA] == [f"{INFRA}/{p.name}" for p in infra]
    assert meta["files"][CONTROL] == [f"{CONTROL}/{p.name}" for p in control]
    labels = json.loads((out / "heldout_infra_labels.json").read_text())
    assert counts["heldout_infra_indicators"] == sum(v["n_indicators"] for v in labels.values())
    trained = {a["stix_id"] for a in meta["actors"] if a["in_training"]}
    assert {v["actor_id"] for v in labels.values()} == trained
    assert {v["label"] for v in labels.values()} == {"known"}


def test_infra_split_holds_no_software_technique_or_training_value(world):
    out, meta = world
    training = _training_indicators(out, meta)
    held = load_heldout(out, INFRA)
    assert len(held) == 60
    for activity, _ in held:
        assert not (activity.malware or activity.tools or activity.techniques), activity.name
        assert not activity.targets, activity.name
        assert activity.indicators and not set(activity.indicators) & training, activity.name
    for path in _split_files(out, INFRA):
        for obj in _objects(path):
            assert obj["type"] not in ("malware", "tool", "attack-pattern", "intrusion-set")
            refs = [obj.get("source_ref", ""), obj.get("target_ref", "")]
            refs += obj.get("object_refs", [])
            assert not [r for r in refs if r.startswith(ATTACK_PREFIXES)], (path.name, obj["id"])


def test_infrastructure_refs_exist_in_training_and_tie_the_cluster_to_its_actor(world):
    out, meta = world
    objects = _training(out, meta)
    training_ids = {o["id"] for o in objects}
    actor_infra = _actor_infrastructure(objects)
    labels = json.loads((out / "heldout_infra_labels.json").read_text())
    for path in _split_files(out, INFRA):
        objs = _objects(path)
        own = {o["id"] for o in objs}
        refs = set()
        for o in objs:
            if o["type"] in ("autonomous-system", "infrastructure"):
                assert o["id"] in training_ids, (path.name, o.get("name"))
                refs.add(o["id"])
            if o["type"] != "relationship":
                continue
            rel = o["relationship_type"]
            if rel in REFERENCE_RELS:
                assert o["target_ref"] in training_ids, (path.name, rel)
            elif rel in ("resolves-to", "presents-certificate"):
                assert o["target_ref"] in own and o["target_ref"] not in training_ids
            else:
                assert rel == "indicates", (path.name, rel)
        assert refs, path.name
        actor = labels[f"{INFRA}/{path.name}"]["actor_id"]
        # Shared hubs aside, the AS, registrar or name servers are ones the actor used before.
        assert refs & actor_infra[actor], path.name


def _actor_infrastructure(objects: list[dict]) -> dict[str, set[str]]:
    """actor id -> the AS, registrar and name-server ids its training campaigns reached."""
    owner = {
        o["source_ref"]: o["target_ref"]
        for o in objects
        if o.get("relationship_type") == "attributed-to"
    }
    by_value = {(o["type"], o.get("value")): o["id"] for o in objects if o["type"] in SCO_TYPES}
    edges: dict[str, set[str]] = defaultdict(set)
    for o in objects:
        if o.get("relationship_type") in (*REFERENCE_RELS, "resolves-to"):
            edges[o["source_ref"]].add(o["target_ref"])
    patterns = {o["id"]: o["pattern"] for o in objects if o["type"] == "indicator"}
    out: dict[str, set[str]] = defaultdict(set)
    for o in objects:
        if o.get("relationship_type") != "indicates" or o["target_ref"] not in owner:
            continue
        pattern = patterns[o["source_ref"]]
        for stix_type in ("domain-name", "ipv4-addr"):
            if pattern.startswith(f"[{stix_type}:value = '"):
                value = pattern.split("'")[1]
                start = by_value.get((stix_type, value))
                frontier = {start} if start else set()
                for _ in range(3):  # domain -> IP -> AS -> provider
                    frontier = {t for s in frontier for t in edges[s]}
                    out[owner[o["target_ref"]]].update(frontier)
    return out


def test_control_is_the_same_clusters_without_infrastructure_and_unjoinable(world):
    out, meta = world
    infra_labels = json.loads((out / "heldout_infra_labels.json").read_text())
    control_labels = json.loads((out / "heldout_infra_control_labels.json").read_text())
    assert {k.split("/", 1)[1]: v for k, v in infra_labels.items()} == {
        k.split("/", 1)[1]: v for k, v in control_labels.items()
    }
    for path in _split_files(out, CONTROL):
        for obj in _objects(path):
            assert obj["type"] not in (*SCO_TYPES, "autonomous-system", "infrastructure")
            if obj["type"] == "relationship":
                assert obj["relationship_type"] == "indicates", path.name
    psl = PublicSuffixList()
    training = _training_indicators(out, meta)
    training_networks, training_names = set(), set()
    for indicator in training:
        kind, value = _value(indicator)
        host = value if kind == "ipv4" else _host(kind, value)
        if host and _is_ip(host):
            training_networks.add(host.rsplit(".", 1)[0])
        elif host:
            training_names.add(psl.privatesuffix(host))
    assert len(training_networks) > 100 and len(training_names) > 100
    twins = {Path(a.name).name: (a, t) for a, t in load_heldout(out, INFRA)}
    for activity, truth in load_heldout(out, CONTROL):
        twin, twin_truth = twins[Path(activity.name).name]
        assert truth == twin_truth
        assert not activity.context and not activity.infrastructure
        assert not set(activity.indicators) & training, activity.name
        kinds = Counter(_value(i)[0] for i in activity.indicators)
        assert kinds == Counter(_value(i)[0] for i in twin.indicators), activity.name
        for indicator in activity.indicators:
            kind, value = _value(indicator)
            host = value if kind == "ipv4" else _host(kind, value)
            if host and _is_ip(host):
                assert host.rsplit(".", 1)[0] not in training_networks, indicator
            elif host:
                assert psl.privatesuffix(host) not in training_names, indicator


def test_infra_split_and_its_control_are_deterministic(tmp_path, world):
    out, _ = world
    again = tmp_path / "again"
    generate_world(seed=7, scale="small").write(again)
    for split in (INFRA, CONTROL):
        files = [*_split_files(out, split), out / f"{split}_labels.json"]
        assert [p.name for p in _split_files(again, split)] == [p.name for p in files[:-1]]
        for path in files:
            rel = path.relative_to(out)
            assert path.read_bytes() == (again / rel).read_bytes(), rel


def _digests(out: Path) -> dict[str, str]:
    heldout = hashlib.sha256()
    for path in sorted((out / "heldout").glob("*.json")):
        heldout.update(path.name.encode() + path.read_bytes())
    return {
        "train.json": hashlib.sha256((out / "train.json").read_bytes()).hexdigest(),
        "heldout_labels.json": hashlib.sha256(
            (out / "heldout_labels.json").read_bytes()
        ).hexdigest(),
        "heldout/": heldout.hexdigest(),
    }


def test_training_and_heldout_files_do_not_depend_on_the_new_splits(tmp_path, world, monkeypatch):
    out, _ = world
    assert {k: v for k, v in _digests(out).items() if k in GOLDEN} == GOLDEN
    monkeypatch.setattr(generate_module, "plan_infra_clusters", lambda *a, **k: [])
    bare = tmp_path / "bare"
    meta = generate_world(seed=7, scale="small").write(bare)
    assert meta["counts"]["heldout_infra_clusters"] == 0
    assert _digests(bare) == _digests(out)


def test_load_heldout_knows_the_three_splits(world):
    out, _ = world
    assert HELDOUT_SPLITS == ("heldout", INFRA, CONTROL)
    assert len(load_heldout(out)) == len(load_heldout(out, "heldout")) > 0
    with pytest.raises(ValidationError, match="heldout_nope"):
        load_heldout(out, "heldout_nope")
