"""Offline enrichment facts (graph/enrich): real data from the installed packages."""

from __future__ import annotations

import pytest

from actorgraph.graph.enrich import facts
from actorgraph.graph.enrich.networks import address_facts, data_date, network_of
from actorgraph.graph.formats.indicators import indicator_id, normalize_indicator
from actorgraph.graph.schema import INFRA_KINDS


def by_kind(value: str) -> dict[str, object]:
    return {f.kind: f for f in facts(value)}


def test_a_public_address_gets_its_network_as_organisation_and_country() -> None:
    got = by_kind("ipv4:8.8.8.8")
    assert got["network"].node_id == "network:8.8.8.0/24"
    assert got["as_org"].node_id == "as_org:google" and got["as_org"].name == "GOOGLE"
    assert got["network"].edge_props == {"country": "US"}
    assert got["as_org"].edge_props == {"prefix": "8.8.8.0/24"}
    # Provenance names the package and its version; the AS data's own date travels along.
    assert got["as_org"].source.startswith("enrichment:geoip2fast@")
    assert got["as_org"].node_props["data_date"] == data_date()
    assert data_date() is not None and len(data_date() or "") == 10


def test_an_ipv6_address_is_grouped_by_its_48() -> None:
    got = by_kind("ipv6:2001:4860:4860::8888")
    assert got["network"].node_id == "network:2001:4860:4860::/48"
    assert got["network"].node_props["prefix_len"] == 48
    assert got["as_org"].name == "GOOGLE"


@pytest.mark.parametrize(
    "address",
    ["100.64.3.4", "100.127.255.1", "192.0.2.10", "198.51.100.53", "203.0.113.7", "10.1.2.3"],
)
def test_unrouted_ranges_get_a_network_but_no_as_or_country(address: str) -> None:
    found = address_facts(address)
    assert (found.as_org, found.country) == (None, None)
    assert found.network == network_of(address)
    assert [f.kind for f in facts(f"ipv4:{address}")] == ["network"]
    assert facts(f"ipv4:{address}")[0].edge_props == {}


def test_domains_urls_and_mail_addresses_get_their_registrable_domain() -> None:
    (fact,) = facts("domain:mail.example.co.uk")
    assert (fact.node_id, fact.node_props["public_suffix"]) == (
        "registrable_domain:example.co.uk",
        "co.uk",
    )
    assert fact.source.startswith("enrichment:publicsuffixlist@1.")
    assert [f.node_id for f in facts("url:https://cdn.login.evil.com.br/a?b=1")] == [
        "registrable_domain:evil.com.br"
    ]
    assert [f.node_id for f in facts("email:ceo@hr.victim.org")] == [
        "registrable_domain:victim.org"
    ]
    # A customer name under a dynamic-DNS suffix is its own registrable domain.
    assert [f.node_id for f in facts("domain:c2.foo.duckdns.org")] == [
        "registrable_domain:foo.duckdns.org"
    ]
    assert facts("domain:co.uk") == ()


def test_a_url_with_an_ip_host_gets_the_ip_facts() -> None:
    assert facts("url:http://8.8.8.8/x") == facts("ipv4:8.8.8.8")
    assert [f.node_id for f in facts("url:http://[2001:db8::1]:8080/a")] == [
        "network:2001:db8::/48"
    ]


def test_a_defanged_value_goes_through_the_normal_normalisation() -> None:
    url = indicator_id(*normalize_indicator("hxxps://Login[.]Evil[.]co[.]uk/path"))
    assert [f.node_id for f in facts(url)] == ["registrable_domain:evil.co.uk"]
    ip = indicator_id(*normalize_indicator("8[.]8[.]8[.]8"))
    assert by_kind(ip)["as_org"].node_id == "as_org:google"


def test_kinds_without_facts_and_the_schema() -> None:
    assert facts("sha256:" + "a" * 64) == ()
    assert facts("asn:AS15169") == ()
    assert {"network", "as_org", "registrable_domain"} <= set(INFRA_KINDS)
