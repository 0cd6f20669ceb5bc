"""Takedown packages: grouping per registrar and hoster, hub exclusions with reasons, TLP, files."""

from __future__ import annotations

import csv
import json

import pytest

from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.reports.takedown import build_takedown, write_takedown
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import write_graph
from tests.helpers.share_graph import A28, C3, SHARE_WORLD


@pytest.fixture
def graph(store):
    write_graph(store, SHARE_WORLD)
    return store


def _values(records):
    return {r.value for r in records}


def test_live_domains_and_addresses_grouped_by_registrar_and_hoster(graph):
    pkg = build_takedown(graph, actor="APT28", max_tlp=3)
    assert pkg.actor["id"] == A28
    regs = pkg.by_registrar()
    assert _values(regs["NameCheap, Inc."]) == {"mail-gov-ua.example", "old-live.example"}
    assert _values(regs["Njalla"]) == {"owa-mfa.example"}  # behind a CDN, still the registrar's
    hosting = pkg.by_hosting()
    assert list(hosting) == ["IronVault Hosting Ltd"]
    (ip,) = hosting["IronVault Hosting Ltd"]
    assert ip.value == "203.0.113.45" and ip.asn == "AS64512"
    assert ip.domains == ["mail-gov-ua.example"]
    assert (
        ip.first_seen == "2024-01-05T00:00:00.000Z" and ip.last_seen == "2024-04-01T00:00:00.000Z"
    )
    dom = next(r for r in regs["NameCheap, Inc."] if r.value == "mail-gov-ua.example")
    # Weakest link of indicator (80), INDICATES (85), ATTRIBUTED_TO (90).
    assert dom.confidence == 80
    assert dom.evidence == [
        "domain:mail-gov-ua.example -INDICATES-> Operation Frozen Inbox -ATTRIBUTED_TO-> APT28"
    ]
    assert (
        dom.first_seen == "2024-01-05T00:00:00.000Z" and dom.last_seen == "2024-03-30T00:00:00.000Z"
    )


def test_hubs_are_excluded_with_the_reason_stated(graph):
    pkg = build_takedown(graph, actor="fancy bear", max_tlp=3)
    reasons = {e["value"]: e["reason"] for e in pkg.excluded}
    assert reasons["104.16.1.1"].startswith("cdn address (Cloudflare, Inc.)")
    assert reasons["192.0.2.10"].startswith("sinkhole address (Research sinkhole Alpha)")
    assert reasons["old-mail.example"].startswith("sinkholed (resolves to 192.0.2.10")
    assert (
        reasons["198.51.100.7"] == "shared: tied to 3 actors (shared hosting or a public service)"
    )
    kept = _values(pkg.items)
    assert not kept & set(reasons)
    assert "ab" * 32 not in kept  # hashes are not for registrars or hosters
    summary = pkg.summary()
    assert summary["domains"] == 3 and summary["addresses"] == 1
    assert summary["excluded_by_reason"] == {
        "cdn address": 1,
        "shared": 1,
        "sinkhole address": 1,
        "sinkholed": 1,
    }


def test_since_drops_what_was_not_seen_since(graph):
    pkg = build_takedown(graph, actor=A28, since="2023-01-01", max_tlp=3)
    assert "old-live.example" not in _values(pkg.items)
    reasons = {e["value"]: e["reason"] for e in pkg.excluded}
    assert reasons["old-live.example"] == "not seen since 2023-01-01 (last seen 2019-06-30)"


def test_nothing_above_clearance_appears_even_among_exclusions(graph):
    red = build_takedown(graph, actor=A28, max_tlp=4)
    assert "203.0.113.99" in _values(red.items)
    amber = build_takedown(graph, actor=A28, max_tlp=2)
    everything = json.dumps([r.__dict__ for r in amber.items] + amber.excluded)
    assert "203.0.113.99" not in everything
    green = build_takedown(graph, actor=A28, max_tlp=1)
    # The amber campaign is invisible at green: none of its indicators are listed.
    assert "mail-gov-ua.example" not in json.dumps(
        [r.__dict__ for r in green.items] + green.excluded
    )


def test_campaign_scope_and_errors(graph):
    pkg = build_takedown(graph, campaign=C3, max_tlp=TLP.RED)
    assert pkg.actor["name"] == "APT29"
    assert {e["value"] for e in pkg.excluded} == {"198.51.100.7"}
    assert pkg.items == []
    with pytest.raises(NotFound, match="nobody"):
        build_takedown(graph, actor="nobody", max_tlp=TLP.RED)
    with pytest.raises(ValidationError, match="exactly one"):
        build_takedown(graph, max_tlp=TLP.RED)
    with pytest.raises(NotFound, match="campaign--nope"):
        build_takedown(graph, campaign="campaign--nope", max_tlp=TLP.RED)


def test_files_per_recipient_and_summary(graph, tmp_path):
    pkg = build_takedown(graph, actor="APT28", max_tlp=3)
    paths = write_takedown(pkg, tmp_path, max_tlp=TLP.AMBER)
    names = sorted(p.name for p in paths)
    assert names == [
        "excluded.csv",
        "hosting-ironvault-hosting-ltd.csv",
        "hosting-ironvault-hosting-ltd.json",
        "registrar-namecheap-inc.csv",
        "registrar-namecheap-inc.json",
        "registrar-njalla.csv",
        "registrar-njalla.json",
        "summary.json",
    ]
    with (tmp_path / "registrar-namecheap-inc.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["value"] for r in rows} == {"mail-gov-ua.example", "old-live.example"}
    assert all(r["evidence"] and r["first_seen"] for r in rows)
    doc = json.loads((tmp_path / "hosting-ironvault-hosting-ltd.json").read_text())
    assert doc["recipient"] == "IronVault Hosting Ltd" and doc["items"][0]["asn"] == "AS64512"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["registrars"] == {"NameCheap, Inc.": 2, "Njalla": 1}
    with (tmp_path / "excluded.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 4
