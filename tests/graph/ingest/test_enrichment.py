"""Offline enrichment at ingest (graph/ingest/enrichment.py): nodes and edges with provenance,
idempotent, off unless asked for, and within the TLP rules of the writer."""

from __future__ import annotations

from typing import Any

from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP, visible
from tests.helpers.stix import bundle, sdo


def indicator(n: int, pattern: str, level: TLP | None = None) -> dict[str, Any]:
    marks = {"object_marking_refs": [TLP2_IDS[level.label]]} if level is not None else {}
    return sdo(
        "indicator",
        n,
        pattern=pattern,
        pattern_type="stix",
        valid_from="2024-01-01T00:00:00Z",
        **marks,
    )


BUNDLE = bundle(
    indicator(1, "[ipv4-addr:value = '8.8.8.8']"),
    indicator(2, "[domain-name:value = 'mail.example.co.uk']"),
    indicator(3, "[url:value = 'http://203.0.113.7/gate.php']"),
    indicator(4, "[email-addr:value = 'hr@example.co.uk']"),
)

NODES = """MATCH (n:Infrastructure)
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.sources AS sources, n.tlp_level AS tlp,
       n.public_suffix AS suffix, n.data_date AS data_date
ORDER BY id"""
EDGES = """MATCH (i:Indicator)-[r:BELONGS_TO]->(n:Infrastructure)
RETURN i.id AS src, n.id AS dst, r.sources AS sources, r.tlp_level AS tlp, r.country AS country,
       r.prefix AS prefix
ORDER BY src, dst"""


def dump(store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return store.query(NODES, read_only=True), store.query(EDGES, read_only=True)


def test_ingest_writes_the_facts_with_their_provenance(store) -> None:
    report = ingest_object(store, BUNDLE, "test", max_tlp=TLP.RED, enrich=True)
    nodes, edges = dump(store)
    by_id = {n["id"]: n for n in nodes}
    assert sorted(by_id) == [
        "as_org:google",
        "network:203.0.113.0/24",
        "network:8.8.8.0/24",
        "registrable_domain:example.co.uk",
    ]
    assert by_id["as_org:google"]["kind"] == "as_org"
    assert by_id["as_org:google"]["sources"][0].startswith("enrichment:geoip2fast@")
    assert by_id["as_org:google"]["data_date"]
    assert by_id["network:8.8.8.0/24"]["sources"][0].startswith("enrichment:actorgraph@")
    assert by_id["registrable_domain:example.co.uk"]["suffix"] == "co.uk"
    assert all(len(n["sources"]) == 1 for n in nodes)
    pairs = {(e["src"], e["dst"]) for e in edges}
    assert pairs == {
        ("ipv4:8.8.8.8", "network:8.8.8.0/24"),
        ("ipv4:8.8.8.8", "as_org:google"),
        ("domain:mail.example.co.uk", "registrable_domain:example.co.uk"),
        ("email:hr@example.co.uk", "registrable_domain:example.co.uk"),
        ("url:http://203.0.113.7/gate.php", "network:203.0.113.0/24"),
    }
    assert all(e["sources"][0].startswith("enrichment:") for e in edges)
    by_dst = {e["dst"]: e for e in edges if e["src"] == "ipv4:8.8.8.8"}
    assert by_dst["as_org:google"]["prefix"] == "8.8.8.0/24"
    assert by_dst["network:8.8.8.0/24"]["country"] == "US"
    assert report.enriched == {
        "as_org": 1,
        "network": 2,
        "registrable_domain": 1,
        "BELONGS_TO": 5,
    }


def test_ingesting_twice_changes_nothing(store) -> None:
    ingest_object(store, BUNDLE, "test", max_tlp=TLP.RED, enrich=True)
    first = (dump(store), store.counts())
    # Again on the batched path (one row per query) rather than as one atomic unit.
    ingest_object(store, BUNDLE, "test", max_tlp=TLP.RED, enrich=True, batch_size=1)
    assert (dump(store), store.counts()) == first


def test_without_enrich_nothing_is_added(store) -> None:
    report = ingest_object(store, BUNDLE, "test", max_tlp=TLP.RED)
    assert dump(store) == ([], [])
    assert report.enriched == {}


VISIBLE_NETWORKS = f"""MATCH (n:Infrastructure)
WHERE n.kind = 'network' AND {visible("n")}
RETURN n.id AS id, n.tlp_level AS tlp ORDER BY id"""


def networks_seen(store, level: TLP) -> list[dict[str, Any]]:
    return store.query(VISIBLE_NETWORKS, {"max_tlp": int(level)}, read_only=True)


def test_a_node_is_visible_at_the_lowest_level_of_the_indicators_behind_it(store) -> None:
    red = bundle(indicator(11, "[ipv4-addr:value = '198.51.100.7']", TLP.RED))
    ingest_object(store, red, "red", max_tlp=TLP.RED, enrich=True)
    # A red indicator alone: a clear or amber reader does not learn that its /24 holds one.
    assert networks_seen(store, TLP.AMBER) == []
    assert networks_seen(store, TLP.RED) == [{"id": "network:198.51.100.0/24", "tlp": 4}]
    # A clear indicator in the same /24, sent by a clear writer: the node is justified at clear,
    # so it becomes visible there; the red indicator's edge stays red.
    clear = bundle(indicator(12, "[ipv4-addr:value = '198.51.100.9']", TLP.CLEAR))
    ingest_object(store, clear, "clear", max_tlp=TLP.CLEAR, enrich=True)
    assert networks_seen(store, TLP.CLEAR) == [{"id": "network:198.51.100.0/24", "tlp": 0}]
    edges = {e["src"]: e["tlp"] for e in dump(store)[1]}
    assert edges == {"ipv4:198.51.100.7": 4, "ipv4:198.51.100.9": 0}
    # A later red indicator never raises it again.
    again = bundle(indicator(13, "[ipv4-addr:value = '198.51.100.8']", TLP.RED))
    ingest_object(store, again, "red", max_tlp=TLP.RED, enrich=True)
    assert networks_seen(store, TLP.CLEAR) == [{"id": "network:198.51.100.0/24", "tlp": 0}]


def test_a_node_takes_the_stricter_of_the_indicator_sent_and_stored(store) -> None:
    ingest_object(
        store,
        bundle(indicator(21, "[ipv4-addr:value = '192.0.2.10']", TLP.RED)),
        "red",
        max_tlp=TLP.RED,
    )
    # The same value re-sent marked clear: the indicator stays red (the writer's rule), and so
    # does the network derived from it.
    ingest_object(
        store,
        bundle(indicator(22, "[ipv4-addr:value = '192.0.2.10']", TLP.CLEAR)),
        "clear",
        max_tlp=TLP.RED,
        enrich=True,
    )
    assert networks_seen(store, TLP.AMBER_STRICT) == []
    assert networks_seen(store, TLP.RED) == [{"id": "network:192.0.2.0/24", "tlp": 4}]


def test_a_stated_node_above_the_writer_is_left_alone(store) -> None:
    stated = sdo(
        "infrastructure",
        31,
        name="SECRET netblock",
        infrastructure_types=["hosting-provider"],
        x_actorgraph_id="network:192.0.2.0/24",
        x_actorgraph_kind="network",
        object_marking_refs=[TLP2_IDS["red"]],
    )
    ingest_object(store, bundle(stated), "red", max_tlp=TLP.RED)
    clear = bundle(indicator(32, "[ipv4-addr:value = '192.0.2.99']", TLP.CLEAR))
    ingest_object(store, clear, "clear", max_tlp=TLP.CLEAR, enrich=True)
    nodes, edges = dump(store)
    assert [(n["id"], n["name"], n["tlp"]) for n in nodes] == [
        ("network:192.0.2.0/24", "SECRET netblock", 4)
    ]
    assert edges == []
