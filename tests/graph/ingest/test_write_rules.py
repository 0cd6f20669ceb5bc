"""The writer's TLP rules (graph/ingest): no write lowers a marking, and a writer of clearance c
neither changes nor attaches to what is marked above c, answering as if it were absent.

Issue 18, finding 2. A red writer seeds the graph; writers of lower clearance then try to
declassify, overwrite, extend and link to the red objects, and to learn whether they exist.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from actorgraph.graph.errors import StixIngestError
from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.ingest import ingest_object, read_any
from actorgraph.graph.ingest.writer import write_batch
from actorgraph.graph.tlp import TLP

T0 = "2024-01-01T00:00:00.000Z"
LATER = "2030-01-01T00:00:00.000Z"
EARLIER = "2020-01-01T00:00:00.000Z"


def marked(level: TLP) -> list[str]:
    return [TLP2_IDS[level.label]]


def sdo(stix_type: str, n: int, level: TLP, **props: Any) -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--00000000-0000-4000-8000-{n:012d}",
        "created": T0,
        "modified": T0,
        "object_marking_refs": marked(level),
        **props,
    }


def rel(n: int, verb: str, src: dict[str, Any], dst: dict[str, Any] | str, level: TLP, **props):
    target = dst if isinstance(dst, str) else dst["id"]
    ends = {"relationship_type": verb, "source_ref": src["id"], "target_ref": target}
    return sdo("relationship", n, level, **ends) | props


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def ingest_as(store, body: dict[str, Any], clearance: TLP, source: str = "test"):
    """Ingest as a writer of ``clearance`` (an API key's, or the operator's TLP.RED)."""
    return ingest_object(store, body, source, max_tlp=clearance)


RED_CAMPAIGN = sdo(
    "campaign",
    1,
    TLP.RED,
    name="Operation SECRET",
    description="the secret plan",
    aliases=["Secret Op"],
    first_seen="2023-01-01T00:00:00Z",
)
RED_ACTOR = sdo("intrusion-set", 2, TLP.RED, name="Secret Group", aliases=["Quiet Panda"])
CLEAR_MALWARE = sdo("malware", 3, TLP.CLEAR, name="OpenRAT", is_family=True)
CLEAR_ACTOR = sdo("intrusion-set", 4, TLP.CLEAR, name="Open Group")
RED_USES = rel(5, "uses", CLEAR_ACTOR, CLEAR_MALWARE, TLP.RED, confidence=80)
RED_INDICATOR = sdo(
    "indicator",
    6,
    TLP.RED,
    name="secret beacon",
    pattern="[domain-name:value = 'secret.example']",
    pattern_type="stix",
    valid_from=T0,
)
RED_CLAIM = rel(7, "attributed-to", RED_CAMPAIGN, RED_ACTOR, TLP.RED)
RED_IDS = [RED_CAMPAIGN["id"], RED_ACTOR["id"], "domain:secret.example"]


def seed(store) -> None:
    """The red writer's graph: a red campaign, actor, indicator and claim, a red relationship
    between two clear objects."""
    ingest_as(
        store,
        bundle(
            RED_CAMPAIGN, RED_ACTOR, CLEAR_MALWARE, CLEAR_ACTOR, RED_USES, RED_INDICATOR, RED_CLAIM
        ),
        TLP.RED,
        source="red-partner",
    )


def props_of(store, node_id: str) -> dict[str, Any]:
    rows = store.query("MATCH (n {id: $id}) RETURN properties(n) AS p", {"id": node_id})
    assert len(rows) == 1, rows
    return rows[0]["p"]


def edges_touching(store, ids: list[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    rows = store.query(
        "MATCH (a)-[r]->(b) WHERE a.id IN $ids OR b.id IN $ids "
        "RETURN a.id AS a, type(r) AS t, b.id AS b, properties(r) AS p ORDER BY a, t, b",
        {"ids": ids},
    )
    return [(r["a"], r["t"], r["b"], r["p"]) for r in rows]


def clear_copy(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``obj`` re-sent marked TLP:CLEAR, with ``changes``."""
    return {**obj, "object_marking_refs": marked(TLP.CLEAR), **changes}


# ------------------------------------------------------------------------------ markings
@pytest.mark.parametrize("modified", [LATER, T0, EARLIER])
def test_a_lower_writer_cannot_declassify_a_red_object(store, modified: str) -> None:
    """The issue's attack: a clear key re-sends a red campaign's id marked TLP:CLEAR."""
    seed(store)
    before = props_of(store, RED_CAMPAIGN["id"])
    resent = clear_copy(RED_CAMPAIGN, description="now public", modified=modified)
    ingest_as(store, bundle(resent), TLP.CLEAR)
    after = props_of(store, RED_CAMPAIGN["id"])
    assert (after["tlp"], after["tlp_level"]) == ("red", TLP.RED)
    assert after == before  # nothing of the red object changed: marking, text, dates, sources


@pytest.mark.parametrize("level", [TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT])
def test_every_level_below_red_is_held_off(store, level: TLP) -> None:
    seed(store)
    before = props_of(store, RED_CAMPAIGN["id"])
    resent = {**RED_CAMPAIGN, "object_marking_refs": marked(level), "modified": LATER}
    ingest_as(store, bundle(dict(resent, description="overwritten")), level)
    assert props_of(store, RED_CAMPAIGN["id"]) == before


def test_a_resent_object_keeps_the_stricter_marking(store) -> None:
    """Even the red writer cannot lower a marking: newer properties win, the marking does not."""
    seed(store)
    resent = clear_copy(RED_CAMPAIGN, description="revised", modified=LATER)
    ingest_as(store, bundle(resent), TLP.RED)
    after = props_of(store, RED_CAMPAIGN["id"])
    assert (after["tlp"], after["tlp_level"]) == ("red", TLP.RED)
    assert after["description"] == "revised"


def test_a_relationship_keeps_the_stricter_marking(store) -> None:
    seed(store)
    ingest_as(store, bundle(clear_copy(RED_USES, confidence=10, modified=LATER)), TLP.RED)
    [(_, _, _, props)] = [e for e in edges_touching(store, [CLEAR_ACTOR["id"]]) if e[1] == "USES"]
    assert (props["tlp_level"], props["confidence"]) == (TLP.RED, 10)


def test_a_hidden_relationship_between_visible_objects_is_not_changed(store) -> None:
    seed(store)
    before = edges_touching(store, [CLEAR_ACTOR["id"]])
    resent = clear_copy(RED_USES, confidence=10, modified=LATER)
    ingest_as(store, bundle(resent), TLP.CLEAR)
    assert edges_touching(store, [CLEAR_ACTOR["id"]]) == before


def test_one_value_at_two_markings_is_held_at_the_stricter(store) -> None:
    """Two indicators of one value: the node is marked as strictly as the stricter of them,
    in one bundle and across two, whichever is newer."""
    clear_one = sdo(
        "indicator",
        40,
        TLP.CLEAR,
        pattern="[domain-name:value = 'twice.example']",
        pattern_type="stix",
        valid_from=T0,
        modified=LATER,
    )
    red_one = dict(RED_INDICATOR, pattern="[domain-name:value = 'twice.example']")
    ingest_as(store, bundle(clear_one, red_one), TLP.RED)
    assert props_of(store, "domain:twice.example")["tlp_level"] == TLP.RED
    store.clear()
    store.ensure_schema()
    ingest_as(store, bundle(red_one), TLP.RED)
    ingest_as(store, bundle(clear_one), TLP.RED)
    assert props_of(store, "domain:twice.example")["tlp_level"] == TLP.RED


# ------------------------------------------------------------------ attaching and extending
def test_no_list_union_into_a_hidden_node(store) -> None:
    """An older copy changes no property but used to add its aliases, sources and ids."""
    seed(store)
    before = props_of(store, RED_ACTOR["id"])
    resent = clear_copy(RED_ACTOR, aliases=["Leaked Alias"], modified=EARLIER)
    ingest_as(store, bundle(resent), TLP.CLEAR, source="clear-writer")
    assert props_of(store, RED_ACTOR["id"]) == before


def test_no_edge_onto_a_hidden_node(store) -> None:
    """Hidden objects sent along in the bundle (so no reference dangles) get no new edges."""
    seed(store)
    before = edges_touching(store, RED_IDS)
    new_malware = sdo("malware", 10, TLP.CLEAR, name="NewRAT", is_family=True)
    new_campaign = sdo("campaign", 12, TLP.CLEAR, name="Open wave")
    ingest_as(
        store,
        bundle(
            clear_copy(RED_CAMPAIGN),
            clear_copy(RED_ACTOR),
            new_malware,
            new_campaign,
            rel(11, "uses", RED_CAMPAIGN, new_malware, TLP.CLEAR),
            rel(13, "attributed-to", new_campaign, RED_ACTOR, TLP.CLEAR),
            rel(14, "indicates", clear_copy(RED_INDICATOR), new_campaign, TLP.CLEAR),
            clear_copy(RED_INDICATOR),
        ),
        TLP.CLEAR,
    )
    assert edges_touching(store, RED_IDS) == before
    # what the writer may see was written
    assert props_of(store, new_malware["id"])["name"] == "NewRAT"
    assert props_of(store, new_campaign["id"])["name"] == "Open wave"


def report(n: int, refs: list[str]) -> dict[str, Any]:
    return sdo("report", n, TLP.CLEAR, name="a report", published=T0, object_refs=refs)


def _answer(store, ref: str, clearance: TLP) -> dict[str, Any]:
    out = ingest_as(store, bundle(report(20, [ref])), clearance).to_dict()
    return {k: json.dumps(out[k]).replace(ref, "<ref>") for k in ("objects", "pending")}


@pytest.mark.parametrize(
    "hidden",
    [RED_CAMPAIGN["id"], RED_INDICATOR["id"], RED_USES["id"]],
    ids=["campaign", "indicator-by-stix-ids", "relationship"],
)
def test_a_reference_to_a_hidden_id_reads_as_an_unknown_id(store, hidden: str) -> None:
    """An existence oracle: an existing red id must answer like an unknown one (both pending),
    and the red object gets no edge, now or when the red writer later sends it again."""
    seed(store)
    before = edges_touching(store, RED_IDS)
    unknown = f"{hidden.partition('--')[0]}--{uuid.uuid4()}"
    assert _answer(store, hidden, TLP.CLEAR) == _answer(store, unknown, TLP.CLEAR)
    seed(store)  # the red writer writes the hidden object again: the clear reference waits
    assert edges_touching(store, RED_IDS) == before
    ingest_as(store, bundle(report(20, [hidden])), TLP.RED)  # the red writer sees it


def misp_event(n: int, actor: str) -> dict[str, Any]:
    """A clear MISP event whose galaxy names ``actor``."""
    return {
        "Event": {
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "info": "Phishing wave",
            "timestamp": "1709290000",
            "Tag": [{"name": "tlp:clear"}],
            "Attribute": [
                {
                    "uuid": f"00000000-0000-4000-8001-{n:012d}",
                    "type": "domain",
                    "value": f"wave{n}.example",
                    "timestamp": "1709290000",
                }
            ],
            "Galaxy": [
                {
                    "uuid": "698774c7-8022-42c4-917f-8d6e4f06ada3",
                    "name": "Threat Actor",
                    "type": "threat-actor",
                    "GalaxyCluster": [
                        {
                            "uuid": f"00000000-0000-4000-8002-{n:012d}",
                            "type": "threat-actor",
                            "value": actor,
                            "meta": {"synonyms": []},
                        }
                    ],
                }
            ],
        }
    }


def _same_report(report) -> dict[str, Any]:
    out = report.to_dict()
    out.pop("seconds")
    return out


def test_a_misp_claim_on_a_hidden_actor_reads_as_one_on_an_unknown_actor(store) -> None:
    """The galaxy cluster named the red actor: its claim went onto the red node and the report
    counted no new actor, unlike a name nobody holds."""
    seed(store)
    before = edges_touching(store, RED_IDS)
    hidden = ingest_as(store, misp_event(50, "Secret Group"), TLP.CLEAR, source="misp")
    absent = ingest_as(store, misp_event(51, "Nobody Group"), TLP.CLEAR, source="misp")
    assert _same_report(hidden) == _same_report(absent)
    assert edges_touching(store, RED_IDS) == before


def test_hidden_and_absent_objects_get_the_same_report(store) -> None:
    seed(store)
    reports = []
    for campaign in (RED_CAMPAIGN, sdo("campaign", 60, TLP.RED, name="Nobody's")):
        body = bundle(
            clear_copy(campaign, modified=LATER),
            sdo("malware", 61, TLP.CLEAR, name="NewRAT", is_family=True),
            rel(62, "uses", campaign, sdo("malware", 61, TLP.CLEAR), TLP.CLEAR),
        )
        reports.append(_same_report(ingest_as(store, body, TLP.CLEAR, source="probe")))
    assert reports[0] == reports[1]


def test_input_marked_above_the_writer_clearance_is_refused(store) -> None:
    """A writer sends only what it may read: the refusal depends on the input alone."""
    amber = sdo("malware", 70, TLP.AMBER, name="AmberRAT", is_family=True)
    with pytest.raises(StixIngestError, match="above the writer's clearance") as info:
        ingest_as(store, bundle(amber), TLP.GREEN)
    assert info.value.object_id == amber["id"]
    assert store.counts() == {"nodes": {}, "relationships": {}}
    ingest_as(store, bundle(amber), TLP.AMBER)
    assert props_of(store, amber["id"])["tlp_level"] == TLP.AMBER


@pytest.mark.parametrize("batch_size", [1, 2, 5000])
def test_the_rules_hold_on_the_batched_path(store, batch_size: int) -> None:
    """Inputs beyond the atomic limit go in batches (and one row a query in benchmarks)."""
    seed(store)
    before = {i: props_of(store, i) for i in RED_IDS}
    edges = edges_touching(store, RED_IDS)
    body = bundle(
        clear_copy(RED_CAMPAIGN, description="now public", modified=LATER),
        clear_copy(RED_ACTOR, aliases=["Leaked Alias"]),
        rel(80, "attributed-to", RED_CAMPAIGN, RED_ACTOR, TLP.CLEAR),
        rel(81, "uses", RED_CAMPAIGN, CLEAR_MALWARE, TLP.CLEAR),
    )
    batch, _ = read_any(body, source="batched", max_tlp=TLP.CLEAR, store=store)
    write_batch(store, batch, max_tlp=TLP.CLEAR, batch_size=batch_size, atomic=False)
    assert {i: props_of(store, i) for i in RED_IDS} == before
    assert edges_touching(store, RED_IDS) == edges


def test_a_sighting_marked_above_the_writer_clearance_is_refused(store) -> None:
    """A sighting is stored as a count per marking on what it sighted: a clear key must not add
    to the amber count either."""
    seed(store)
    before = props_of(store, CLEAR_MALWARE["id"])
    sighting = sdo("sighting", 90, TLP.AMBER, sighting_of_ref=CLEAR_MALWARE["id"], count=42)
    with pytest.raises(StixIngestError, match="sighting marked amber, above the writer's"):
        ingest_as(store, bundle(sighting), TLP.CLEAR)
    assert props_of(store, CLEAR_MALWARE["id"]) == before
    ingest_as(store, bundle(sighting), TLP.AMBER)


# ------------------------------------------------------------------------ the red writer
def test_a_red_writer_updates_red_objects_normally(store) -> None:
    seed(store)
    new_malware = sdo("malware", 30, TLP.RED, name="SecretRAT", is_family=True)
    ingest_as(
        store,
        bundle(
            dict(RED_CAMPAIGN, description="updated", aliases=["Second Name"], modified=LATER),
            new_malware,
            rel(31, "uses", RED_CAMPAIGN, new_malware, TLP.RED),
            rel(32, "uses", RED_CAMPAIGN, CLEAR_MALWARE, TLP.RED),
        ),
        TLP.RED,
    )
    after = props_of(store, RED_CAMPAIGN["id"])
    assert after["description"] == "updated"
    assert after["aliases"] == ["Secret Op", "Second Name"]
    assert after["tlp_level"] == TLP.RED
    uses = {e[2] for e in edges_touching(store, [RED_CAMPAIGN["id"]]) if e[1] == "USES"}
    assert uses == {new_malware["id"], CLEAR_MALWARE["id"]}
    assert [e[1] for e in edges_touching(store, [RED_ACTOR["id"]])] == ["ATTRIBUTED_TO"]
