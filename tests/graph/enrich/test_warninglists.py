"""MISP warninglists: the packaged lists on real entries, and the index on a tiny set of lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorgraph.graph.enrich.warninglists import (
    WarningListIndex,
    data_version,
    flag_indicators,
    shared_index,
)

DNS = "List of known IPv4 public DNS resolvers"
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"


@pytest.fixture(scope="module")
def index() -> WarningListIndex:
    return shared_index()


def _slugs(index: WarningListIndex, kind: str, value: str) -> dict[str, bool]:
    return {m.list.slug: m.whole_value for m in index.lookup(kind, value)}


def test_google_dns_is_on_the_public_resolver_list(index):
    assert DNS in index.names("ipv4", "8.8.8.8")
    assert _slugs(index, "ipv4", "8.8.8.8")["public-dns-v4"] is True
    assert "public-dns-v6" in _slugs(index, "ipv6", "2001:4860:4860::8888")
    assert index.version == data_version() and index.version.startswith("misp-warninglists@")


def test_a_range_member_matches_its_cidr_list(index):
    # 104.16.0.0/13 is one of Cloudflare's published ranges; 104.15.255.255 lies just below it.
    assert "cloudflare" in _slugs(index, "ipv4", "104.16.3.4")
    assert "cloudflare" in _slugs(index, "ipv4", "104.23.255.255")
    assert "cloudflare" not in _slugs(index, "ipv4", "104.15.255.255")


def test_host_under_a_listed_domain_matches_as_a_part(index):
    assert _slugs(index, "domain", "duckdns.org")["dynamic-dns"] is True
    assert _slugs(index, "domain", "c2.duckdns.org")["dynamic-dns"] is False
    assert index.lookup("domain", "nato-securemail-vexor.info") == []


def test_hashes_match_exactly_and_case_insensitively(index):
    assert "eicar.com" in _slugs(index, "md5", EICAR_MD5.upper())
    assert "eicar.com" not in _slugs(index, "md5", EICAR_MD5[:-1] + "0")


def test_a_list_applies_only_to_the_kinds_it_names(index):
    # The disposable-mail list matches mailboxes, not the domain name as an indicator.
    assert "disposable-email" in _slugs(index, "email", "someone@mailinator.com")
    assert "disposable-email" not in _slugs(index, "domain", "mailinator.com")
    assert index.lookup("asn", "AS15169") == []


def test_flag_indicators_sets_the_property_on_listed_rows_only(index):
    rows = {
        "ipv4:8.8.8.8": {"kind": "ipv4", "value": "8.8.8.8"},
        "ipv4:203.0.113.9": {"kind": "ipv4", "value": "203.0.113.9"},
        "domain:kelvor-mi.info": {"kind": "domain", "value": "kelvor-mi.info"},
        "ipv4:9.9.9.9": {"sighting_counts": [1]},  # a tally for a stored node
    }
    assert flag_indicators(rows, index) == 2
    assert DNS in rows["ipv4:8.8.8.8"]["warninglists"]
    assert rows["ipv4:8.8.8.8"]["warninglists_source"] == data_version()
    assert rows["ipv4:203.0.113.9"]["warninglists"] == ["List of RFC 5735 CIDR blocks"]
    assert "warninglists" not in rows["domain:kelvor-mi.info"]
    assert "warninglists" not in rows["ipv4:9.9.9.9"]


# ------------------------------------------------------------------ the index on tiny lists
LISTS = {
    "wide": {"name": "Wide", "type": "cidr", "version": 1, "list": ["10.0.0.0/8", "2001:db8::/32"]},
    "narrow": {"name": "Narrow", "type": "cidr", "version": 1, "list": ["10.1.0.0/16"]},
    "one": {"name": "One", "type": "cidr", "version": 1, "list": ["10.1.2.3"]},
    "hosts": {"name": "Hosts", "type": "hostname", "version": 2, "list": [".example.org"]},
    "exact": {
        "name": "Exact",
        "type": "string",
        "version": 3,
        "list": ["Example.NET"],
        "matching_attributes": ["domain"],
    },
    "mail": {
        "name": "Contacts",
        "type": "regex",
        "version": 1,
        "list": ["/^(abuse|noc)\\@.*$/i"],
        "matching_attributes": ["email-src"],
    },
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    for slug, raw in LISTS.items():
        (tmp_path / slug).mkdir()
        (tmp_path / slug / "list.json").write_text(json.dumps(raw))
    return tmp_path


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("ipv4", "9.255.255.255", []),
        ("ipv4", "10.0.0.0", ["Wide"]),
        ("ipv4", "10.1.0.0", ["Narrow", "Wide"]),
        ("ipv4", "10.1.2.3", ["Narrow", "One", "Wide"]),
        ("ipv4", "10.1.2.4", ["Narrow", "Wide"]),
        ("ipv4", "10.2.0.0", ["Wide"]),
        ("ipv4", "10.255.255.255", ["Wide"]),
        ("ipv4", "11.0.0.0", []),
        ("ipv6", "2001:db8::1", ["Wide"]),
        ("ipv6", "2001:db9::1", []),
        ("domain", "a.b.example.org", ["Hosts"]),
        ("domain", "example.org", ["Hosts"]),
        ("domain", "badexample.org", []),
        ("domain", "example.net", ["Exact"]),
        ("domain", "www.example.net", []),
        ("url", "http://x.example.org/p", ["Hosts"]),
        ("email", "ABUSE@corp.example", ["Contacts"]),
        ("email", "alice@corp.example", []),
    ],
)
def test_tiny_index_answers_every_list_at_once(tiny, kind, value, expected):
    index = WarningListIndex.build(tiny, version="test@1")
    assert index.names(kind, value) == expected


def test_saved_index_loads_the_same_and_refuses_another_version(tiny, tmp_path):
    index = WarningListIndex.build(tiny, version="test@1")
    folder = tmp_path / "cache" / "test-1"
    index.save(folder)
    loaded = WarningListIndex.load(folder, "test@1")
    assert loaded is not None
    for kind, value in [("ipv4", "10.1.2.3"), ("ipv6", "2001:db8::1"), ("domain", "a.example.org")]:
        assert loaded.lookup(kind, value) == index.lookup(kind, value)
    assert WarningListIndex.load(folder, "test@2") is None
    assert WarningListIndex.load(tmp_path / "absent", "test@1") is None
