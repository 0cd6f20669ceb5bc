"""Actor briefings: content (aliases, origin, rarity, indicators, hypotheses), TLP, rendering."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from actorgraph.graph.errors import NotFound
from actorgraph.graph.reports.briefing import (
    build_briefing,
    classify_aliases,
    rarity_label,
    render_html,
    render_markdown,
)
from tests.helpers.graphs import write_graph
from tests.helpers.share_graph import A28, SHARE_WORLD


@pytest.fixture
def graph(store):
    write_graph(store, SHARE_WORLD)
    return store


def test_who_the_actor_is_and_how_sure_the_origin_is(graph):
    b = build_briefing(graph, "Forest Blizzard", max_tlp=3)
    assert b.actor_id == A28 and b.name == "APT28" and b.external_id == "G0007"
    assert b.aliases == {
        "Microsoft": ["Forest Blizzard", "STRONTIUM"],
        "CrowdStrike": ["Fancy Bear"],
        "Other names": ["Sofacy"],
    }
    assert (b.country, b.country_name, b.country_source) == ("RU", "Russia", "derived:alias")
    assert "inferred from the names vendors give it" in b.country_sureness


def test_campaigns_newest_first_with_targets(graph):
    b = build_briefing(graph, A28, max_tlp=3)
    assert [c["name"] for c in b.campaigns] == ["Operation Frozen Inbox", "Operation Old Mail"]
    assert b.campaigns[0]["targets"] == ["Ukraine", "government"]


def test_signature_items_are_ranked_by_rarity_not_count(graph):
    b = build_briefing(graph, A28, max_tlp=3)
    assert [(m["name"], m["n_actors"]) for m in b.malware] == [("X-Agent", 1), ("Mimikatz", 3)]
    assert [m["rarity"] for m in b.malware] == ["unique to this actor", "shared: 3 of 3 actors"]
    assert [(t["external_id"], t["n_actors"]) for t in b.techniques] == [
        ("T1566.002", 1),
        ("T1071.001", 2),
        ("T1059", 3),
    ]


def test_indicators_worth_blocking_leave_hubs_out_and_are_defanged(graph):
    b = build_briefing(graph, A28, max_tlp=3)
    values = [i["value"] for i in b.indicators]
    assert "198.51.100.7" not in values  # shared by three actors
    assert "104.16.1.1" not in values and "192.0.2.10" not in values  # CDN, sinkhole
    assert "old-mail.example" not in values  # sinkholed
    assert values[0] == "203.0.113.45"  # newest: resolution seen until 2024-04-01
    assert "ab" * 32 in values  # hashes are worth blocking too
    dom = next(i for i in b.indicators if i["value"] == "mail-gov-ua.example")
    assert dom["defanged"] == "mail-gov-ua[.]example"
    infra = b.infrastructure
    assert infra["registrars"][0] == {"name": "NameCheap, Inc.", "count": 3}
    assert {r["name"] for r in infra["hosting providers"]} >= {
        "IronVault Hosting Ltd",
        "Cloudflare, Inc.",
    }


def test_model_hypotheses_with_scores(graph):
    b = build_briefing(graph, A28, max_tlp=3)
    (pred,) = b.predictions
    assert pred["campaign"] == "Activity cluster 2025-17" and pred["score"] == pytest.approx(0.81)
    assert pred["model_version"] == "m-2026-01" and pred["attributed_to"] == []


def test_clearance_hides_marked_campaigns_and_actors(graph):
    green = build_briefing(graph, A28, max_tlp=1)
    assert [c["name"] for c in green.campaigns] == ["Operation Old Mail"]
    assert "mail-gov-ua.example" not in render_markdown(green)
    with pytest.raises(NotFound):
        build_briefing(graph, A28, max_tlp=0)


def test_markdown_and_html_carry_the_content(graph):
    b = build_briefing(graph, A28, max_tlp=3)
    md = render_markdown(b)
    assert md.startswith("# APT28 (G0007)")
    assert "X-Agent (malware, S0161): unique to this actor" in md
    assert "- Hosting providers: " in md and "- ASNs: AS13335 (1)" in md
    assert "Activity cluster 2025-17: 81%" in md
    page = render_html(b)
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "<style>" in page and "Forest Blizzard" in page and "mail-gov-ua[.]example" in page

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.errors: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag not in ("meta", "br", "link"):
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if not self.stack or self.stack.pop() != tag:
                self.errors.append(tag)

    parser = Tags()
    parser.feed(page)
    assert parser.errors == [] and parser.stack == []


def test_rarity_is_relative_to_how_many_actors_are_known():
    assert rarity_label(1, 3) == "unique to this actor"
    assert rarity_label(2, 150) == "rare: 2 of 150 actors"
    assert rarity_label(2, 3) == "shared: 2 of 3 actors"
    assert rarity_label(40, 150) == "shared: 40 of 150 actors"


def test_alias_classification():
    got = classify_aliases(
        "APT41",
        [
            "Brass Typhoon",
            "Wicked Panda",
            "BARIUM",
            "Storm-0558",
            "Winnti",
            "UNC2452",
            "BRONZE ATLAS",
            "SNAKEMACKEREL",
        ],
    )
    assert got == {
        "Microsoft": ["Brass Typhoon", "BARIUM", "Storm-0558"],
        "CrowdStrike": ["Wicked Panda"],
        "Mandiant": ["UNC2452"],
        "Secureworks": ["BRONZE ATLAS"],
        "Other names": ["Winnti", "SNAKEMACKEREL"],
    }


CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_html_renders_in_headless_chromium(graph, tmp_path):
    page = tmp_path / "briefing.html"
    page.write_text(render_html(build_briefing(graph, A28, max_tlp=3)), encoding="utf-8")
    shot = tmp_path / "briefing.png"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,1500",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # A blank page compresses to almost nothing; a rendered briefing does not.
    assert len(data) > 20_000, len(data)
