"""Warninglists at ingest: the ``warninglists`` property written with the indicator nodes."""

from __future__ import annotations

from actorgraph.graph.enrich.warninglists import data_version
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP
from tests.helpers.stix import bundle, sdo

DNS = "List of known IPv4 public DNS resolvers"


def _indicator(n: int, pattern: str) -> dict:
    return sdo(
        "indicator", n, pattern=pattern, pattern_type="stix", valid_from="2024-01-01T00:00:00Z"
    )


BUNDLE = bundle(
    _indicator(1, "[ipv4-addr:value = '8.8.8.8']"),
    _indicator(2, "[domain-name:value = 'kelvor-mivex.info']"),
    _indicator(3, "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']"),
)
ROWS = """MATCH (i:Indicator)
RETURN i.id AS id, i.warninglists AS lists, i.warninglists_source AS source
ORDER BY id"""


def test_ingest_flags_listed_indicators_in_the_same_write(store):
    ingest_object(store, BUNDLE, "wl-test", max_tlp=TLP.RED)
    rows = {r["id"]: r for r in store.query(ROWS, read_only=True)}
    assert DNS in rows["ipv4:8.8.8.8"]["lists"]
    assert rows["ipv4:8.8.8.8"]["source"] == data_version()
    assert rows["md5:44d88612fea8a8f36de82e1278abb02f"]["lists"] == [
        "List of hashes for EICAR test virus"
    ]
    assert rows["domain:kelvor-mivex.info"]["lists"] is None
    ingest_object(store, BUNDLE, "wl-test", max_tlp=TLP.RED)  # idempotent
    assert {r["id"]: r for r in store.query(ROWS, read_only=True)} == rows
