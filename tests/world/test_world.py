"""The demo world: deterministic, scaled, labelled, valid STIX 2.1, linked to real ATT&CK ids."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import stix2

from actorgraph.cli import main as cli_main
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.tlp import TLP
from actorgraph.world import generate_world, held_back_activities, resolve_scale
from actorgraph.world.actors import ACTORS
from actorgraph.world.attack import load_catalog
from actorgraph.world.stix import TLP_IDS

ATTACK_PREFIXES = ("intrusion-set--", "malware--", "tool--", "attack-pattern--")
REF_PROPS = ("source_ref", "target_ref", "created_by_ref")
LIST_REF_PROPS = ("object_marking_refs", "object_refs", "resolves_to_refs")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("world-small")
    meta = generate_world(seed=7, scale="small").write(out)
    return out, meta


def _objects(path: Path) -> list[dict]:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    return bundle["objects"]


def _train_objects(out: Path, meta: dict) -> list[dict]:
    return [o for name in meta["files"]["train"] for o in _objects(out / name)]


def _refs(obj: dict) -> list[str]:
    refs = [obj[p] for p in REF_PROPS if p in obj]
    for prop in LIST_REF_PROPS:
        refs.extend(obj.get(prop, []))
    return refs


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path, small):
    out, _ = small
    again = tmp_path / "again"
    generate_world(seed=7, scale="small").write(again)
    files = sorted(p.relative_to(out) for p in out.rglob("*.json"))
    assert files == sorted(p.relative_to(again) for p in again.rglob("*.json"))
    for rel in files:
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = tmp_path / "other"
    generate_world(seed=8, scale="small").write(other)
    assert (other / "train.json").read_bytes() != (out / "train.json").read_bytes()


def test_scale_names_and_numbers():
    assert resolve_scale("small") == 3_000
    assert resolve_scale("medium") == 30_000
    assert resolve_scale("large") == 300_000
    assert resolve_scale("250000") == 250_000
    assert resolve_scale(1_000_000) == 1_000_000
    for bad in ("tiny", 0, 2_000_000, True, float("nan")):
        with pytest.raises(ValidationError, match="scale"):
            resolve_scale(bad)


def test_planned_counts_follow_the_scale():
    small = generate_world(seed=1, scale="small")
    medium = generate_world(seed=1, scale="medium")
    assert sum(c.n_indicators for c in small.clusters) == pytest.approx(3_000, rel=0.02)
    assert sum(c.n_indicators for c in medium.clusters) == pytest.approx(30_000, rel=0.02)
    assert len(medium.train_clusters) > 4 * len(small.train_clusters)
    trained = [a for a in ACTORS if a.in_training]
    per_actor = Counter(c.actor for c in small.train_clusters if c.actor is not None)
    # about 4-8 labelled campaigns per actor at the small scale
    assert 4 * len(trained) <= sum(per_actor.values()) <= 8 * len(trained)
    assert min(per_actor.values()) >= 4


def test_written_counts_match_the_scale(tmp_path):
    meta = generate_world(seed=3, scale=1_500).write(tmp_path)
    counts = meta["counts"]
    assert counts["indicators"] == pytest.approx(1_500, rel=0.005)
    assert counts["objects_by_type"]["indicator"] == counts["indicators"]
    assert counts["train_indicators"] + counts["heldout_indicators"] == counts["indicators"]


def test_every_actor_has_labelled_and_heldout_clusters_except_the_unseen_ones(small):
    out, meta = small
    catalog = load_catalog()
    attributed = Counter(
        o["target_ref"]
        for o in _train_objects(out, meta)
        if o["type"] == "relationship" and o["relationship_type"] == "attributed-to"
    )
    assert len([a for a in ACTORS if a.country]) >= 16 + 2  # 16 nation-state in training, 2 unseen
    assert {a.country for a in ACTORS} >= {"RU", "CN", "IR", "KP", None}
    for entry in meta["actors"]:
        group_id = catalog.group(entry["name"]).stix_id
        assert entry["stix_id"] == group_id
        assert entry["heldout_clusters"] >= 2, entry["name"]
        if entry["in_training"]:
            assert attributed[group_id] == entry["train_campaigns"] >= 4, entry["name"]
        else:
            assert attributed[group_id] == 0 and entry["train_campaigns"] == 0, entry["name"]
    assert sum(not a.in_training for a in ACTORS) >= 1
    assert meta["counts"]["train_unattributed_campaigns"] > 0


def test_held_back_activities_are_the_unseen_actors_files_per_actor(small):
    out, meta = small
    held = held_back_activities(out)
    unseen = {a["stix_id"] for a in meta["actors"] if not a["in_training"]}
    labels = json.loads((out / "heldout_labels.json").read_text())
    assert set(held) == unseen
    for actor, rels in held.items():
        assert rels == sorted(r for r, v in labels.items() if v["true_actor_id"] == actor)
        assert all(labels[r]["label"] == "unseen_actor" for r in rels) and len(rels) >= 2


def test_labels_file_matches_the_heldout_bundles(small):
    out, meta = small
    labels = json.loads((out / "heldout_labels.json").read_text())
    on_disk = sorted(str(p.relative_to(out)) for p in (out / "heldout").glob("*.json"))
    assert sorted(labels) == on_disk == sorted(meta["files"]["heldout"])
    by_kind = Counter(v["label"] for v in labels.values())
    assert by_kind["known"] >= 2 * sum(a.in_training for a in ACTORS)
    assert by_kind["unseen_actor"] >= 2 and by_kind["noise"] >= 2
    trained = {a["stix_id"] for a in meta["actors"] if a["in_training"]}
    names = {a.name for a in ACTORS}
    for fname, label in labels.items():
        objects = _objects(out / fname)
        types = Counter(o["type"] for o in objects)
        assert types["indicator"] == label["n_indicators"] >= 2, fname
        assert not any(o.get("relationship_type") == "attributed-to" for o in objects), fname
        assert types["intrusion-set"] == 0, fname
        text = json.dumps(objects)
        assert not any(f'"{n}"' in text for n in names), f"{fname} names its actor"
        if label["label"] == "known":
            assert label["actor_id"] in trained and label["actor_id"] == label["true_actor_id"]
        else:
            assert label["actor_id"] is None and label["country"] is None
            assert (label["true_actor_id"] is None) == (label["label"] == "noise")
            assert label["true_actor_id"] not in trained


def test_stix_objects_parse_with_stix2_and_observable_ids_follow_the_spec(small):
    out, meta = small
    objects = _train_objects(out, meta) + _objects(out / meta["files"]["heldout"][0])
    per_type: dict[str, list[dict]] = defaultdict(list)
    for o in objects:
        if len(per_type[o["type"]]) < 25:
            per_type[o["type"]].append(o)
    assert set(per_type) >= {
        "campaign",
        "indicator",
        "relationship",
        "domain-name",
        "ipv4-addr",
        "autonomous-system",
        "url",
        "email-addr",
        "file",
        "x509-certificate",
        "infrastructure",
        "identity",
        "location",
        "report",
        "marking-definition",
    }
    for kind, sample in per_type.items():
        for o in sample:
            parsed = stix2.parse(o, allow_custom=True)  # indicators: the pattern is validated too
            assert parsed.id == o["id"]
            if kind in (
                "domain-name",
                "ipv4-addr",
                "url",
                "email-addr",
                "autonomous-system",
                "file",
                "x509-certificate",
            ):
                props = {
                    k: v
                    for k, v in o.items()
                    if k not in ("id", "type", "spec_version", "resolves_to_refs")
                }
                recomputed = stix2.parse(
                    {"type": kind, "spec_version": "2.1", **props}, allow_custom=True
                )
                assert recomputed.id == o["id"], o


def test_every_reference_resolves_in_the_bundle_or_in_attack(small):
    out, meta = small
    attack_ids = set(load_catalog().by_id)
    bundles = [_train_objects(out, meta)] + [_objects(out / f) for f in meta["files"]["heldout"]]
    used_attack: Counter[str] = Counter()
    for objects in bundles:
        ids = {o["id"] for o in objects}
        assert len(ids) == len(objects), "duplicate ids in a bundle"
        for o in objects:
            for ref in _refs(o):
                if ref in ids:
                    continue
                assert ref.startswith(ATTACK_PREFIXES) and ref in attack_ids, (o["id"], ref)
                used_attack[ref.split("--")[0]] += 1
    assert set(used_attack) == {"intrusion-set", "malware", "tool", "attack-pattern"}
    for objects in bundles:  # ATT&CK objects are referenced, never copied
        assert not any(
            o["type"] in ("intrusion-set", "malware", "tool", "attack-pattern") for o in objects
        )


def test_values_are_valid_indicators_and_the_project_reader_accepts_them(small):
    from actorgraph.graph.formats.stix_reader import read_stix

    out, meta = small
    attack_ids = set(load_catalog().by_id)
    batch = read_stix(out / meta["files"]["train"][0], known_ids=lambda ids: ids & attack_ids)
    assert batch.rejected == []
    assert batch.edge_counts()["ATTRIBUTED_TO"] == meta["counts"]["train_campaigns"]
    for fname in meta["files"]["heldout"][:10]:
        held = read_stix(out / fname, known_ids=lambda ids: ids & attack_ids)
        assert held.rejected == [] and "ATTRIBUTED_TO" not in held.edge_counts()


def test_markings_are_mostly_green_and_amber_with_some_red_and_clear(small):
    out, meta = small
    tlp_of = {v: k for k, v in TLP_IDS.items()}
    campaigns = [o for o in _train_objects(out, meta) if o["type"] == "campaign"]
    levels = Counter(tlp_of[o["object_marking_refs"][0]] for o in campaigns)
    assert levels["green"] + levels["amber"] > 0.7 * len(campaigns)
    assert levels["red"] > 0 and levels["clear"] > 0


def test_the_world_is_hard_on_purpose_but_actors_keep_habits(small):
    out, meta = small
    objects = _train_objects(out, meta)
    owner = {
        o["source_ref"]: o["target_ref"]
        for o in objects
        if o.get("relationship_type") == "attributed-to"
    }
    actors_of_value: dict[str, set[str]] = defaultdict(set)
    by_id = {o["id"]: o for o in objects}
    for o in objects:
        if o.get("relationship_type") == "indicates" and o["target_ref"] in owner:
            actors_of_value[by_id[o["source_ref"]]["pattern"]].add(owner[o["target_ref"]])
    shared = [p for p, a in actors_of_value.items() if len(a) > 1]
    assert shared, "no indicator is shared between actors: commodity infrastructure is missing"
    assert len(shared) < 0.1 * len(actors_of_value), "most indicators must stay actor-specific"
    assert meta["false_flags"] and meta["handovers"]
    kinds = Counter(o.get("x_actorgraph_kind") for o in objects if o["type"] == "infrastructure")
    assert {
        "hosting_provider",
        "cdn",
        "bulletproof_hoster",
        "registrar",
        "name_server",
        "c2_server",
        "sinkhole",
    } <= set(kinds)
    asns = {o["number"] for o in objects if o["type"] == "autonomous-system"}
    assert 13335 in asns  # Cloudflare fronts several actors
    assert meta["synthetic"] is True and "SYNTHETIC" in meta["notice"]
    first = min(o["first_seen"] for o in objects if o["type"] == "campaign")
    last = max(o["last_seen"] for o in objects if o["type"] == "campaign")
    assert first < "2019" and last > "2025"


def test_cli_generate_world(tmp_path, capsys):
    assert (
        cli_main(["generate-world", "--seed", "5", "--scale", "600", "--out", str(tmp_path)]) == 0
    )
    assert "SYNTHETIC" in capsys.readouterr().out
    assert (tmp_path / "train.json").is_file() and (tmp_path / "world.json").is_file()
    assert cli_main(["generate-world", "--scale", "tiny", "--out", str(tmp_path / "x")]) == 2
    assert "tiny" in capsys.readouterr().err


def test_world_ingests_into_the_store_after_attack(store, small):
    from actorgraph.graph.ingest import ingest_attack, ingest_paths

    out, meta = small
    ingest_attack(store)
    ingest_paths(store, [out / name for name in meta["files"]["train"]], max_tlp=TLP.RED)
    rows = store.query(
        "MATCH (c:Campaign)-[:ATTRIBUTED_TO]->(a:ThreatActor) "
        "WHERE c.description STARTS WITH 'SYNTHETIC' "
        "RETURN a.name AS actor, count(c) AS campaigns ORDER BY actor"
    )
    got = {r["actor"]: r["campaigns"] for r in rows}
    assert got == {a["name"]: a["train_campaigns"] for a in meta["actors"] if a["in_training"]}
    before = store.query("MATCH ()-[r:ATTRIBUTED_TO]->() RETURN count(r) AS n")[0]["n"]
    ingest_paths(store, [out / f for f in meta["files"]["heldout"][:5]], max_tlp=TLP.RED)
    after = store.query("MATCH ()-[r:ATTRIBUTED_TO]->() RETURN count(r) AS n")[0]["n"]
    assert after == before
    # Held-out clusters join the labelled graph through shared ATT&CK software and techniques.
    linked = store.query(
        "MATCH (c:Campaign)-[:USES]->(t:Technique) WHERE NOT (c)-[:ATTRIBUTED_TO]->() "
        "AND c.description STARTS WITH 'SYNTHETIC' RETURN count(DISTINCT c) AS n"
    )[0]["n"]
    assert linked >= 1


def test_false_flags_plant_another_actors_signature_malware(small):
    from actorgraph.world.stix import sdo_id

    out, meta = small
    catalog = load_catalog()
    objects = _train_objects(out, meta)
    uses = defaultdict(set)
    for o in objects:
        if o.get("relationship_type") == "uses":
            uses[o["source_ref"]].add(o["target_ref"])
    profiles = {a.name: a for a in ACTORS}
    checked = 0
    for flag in meta["false_flags"]:
        if flag["cluster"].startswith("heldout/"):
            continue
        planted = catalog.tool_or_malware(profiles[flag["planted"]].signature[0]).stix_id
        assert planted in uses[sdo_id("campaign", flag["cluster"])], flag
        checked += 1
    assert checked >= 1
