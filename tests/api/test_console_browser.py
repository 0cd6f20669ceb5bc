"""The analyst console (/ui) in headless Chromium against a real ``actorgraph serve``.

The server serves the Remexi world (clear and red data) with a model trained by ``actorgraph
train``. The browser enters a key, attributes activity, reads the ranked actors and the evidence
graph that Cytoscape drew, opens actor and pivot pages, and checks that a clear key sees nothing
marked above clear anywhere on a page: its text, its labels and the graph's node labels.
Skipped, with the reason, where Chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from actorgraph.api.keys import KeyStore
from tests.helpers.api_helpers import auth
from tests.helpers.console import (
    attribute,
    briefing_html,
    browser_missing,
    chrome,
    console_errors,
    decide,
    go,
    graph_labels,
    stop_home,
    train_home,
    use_key,
    visible_text,
    wait_for,
)
from tests.helpers.remexi_world import APT39, MAGIC_HOUND, RED_ACTOR, RED_CAMPAIGN
from tests.helpers.server import serve

_MISSING = browser_missing()
pytestmark = [
    pytest.mark.slow,  # trains a small model (about 20 s) and starts a browser
    pytest.mark.skipif(_MISSING is not None, reason=f"browser tests: {_MISSING}"),
]

# A plain list, defanged, one per line: the console turns it into {"indicators": [...]}.
APT39_ACTIVITY = "# seen on the proxy\napt39-c2[.]example\n"
# Everything the red data adds to Remexi: a clear key must be answered as if it did not exist.
RED_ACTIVITY = json.dumps(
    {"malware": ["Remexi", "SECRET-RedLoader"], "indicators": ["secret-red[.]example"]}
)
SECRET = "SECRET"  # in every name marked red in the Remexi world, and nowhere else


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("console") / "home"
    try:
        train_home(home)
        yield home
    finally:
        stop_home(home)


@pytest.fixture(scope="module")
def keys(home: Path) -> dict[str, str]:
    store = KeyStore(home / "keys.sqlite")
    made = {
        tlp: store.create("analyst", tlp=tlp, name=f"console-{tlp}")[1] for tlp in ("clear", "red")
    }
    made["reader"] = store.create("reader", tlp="clear", name="console-reader")[1]
    return made


@pytest.fixture(scope="module")
def base(home: Path, keys: dict[str, str]) -> Iterator[str]:
    env = {"ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000"}
    with serve(home, env=env, ready_within=120) as server:
        yield server.base


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser = chrome()
    try:
        yield browser
    finally:
        browser.quit()


def _attribution(base: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{base}/v1/attributions", json=body, headers=auth(key), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_console_is_served_with_a_strict_content_security_policy(base):
    r = httpx.get(f"{base}/ui/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    vendor = httpx.get(f"{base}/ui/vendor/cytoscape.esm.min.js")
    assert vendor.status_code == 200
    assert vendor.headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{base}/ui/no-such-page.js").status_code == 404


def test_without_a_key_the_console_asks_for_one(driver, base):
    driver.get(f"{base}/ui/")
    driver.execute_script("sessionStorage.clear()")
    go(driver, base, "attribute")
    wait_for(driver, "#key-state", "no key")
    attribute_box = wait_for(driver, "#activity")
    attribute_box.send_keys("apt39-c2[.]example")
    driver.find_element("id", "attribute-submit").click()
    wait_for(driver, "#status", "enter an API key first")


def test_a_plain_defanged_list_ranks_the_right_actor_first_and_draws_the_evidence(
    driver, base, keys
):
    console_errors(driver)  # what earlier tests left
    use_key(driver, base, keys["clear"])
    go(driver, base, "attribute")
    attribute(driver, APT39_ACTIVITY)

    first = wait_for(driver, "#candidates tbody tr td:nth-child(2) a")
    assert first.text == "APT39"
    assert first.get_attribute("href").endswith(f"#/actor/{APT39}")
    assert "Unknown actor:" in wait_for(driver, "#unknown-score").text
    # The key went in the header, never in a URL, and stays in this tab's session only.
    assert keys["clear"] not in driver.current_url
    assert driver.execute_script("return sessionStorage.getItem('actorgraph.key')") == keys["clear"]
    assert driver.execute_script("return localStorage.length") == 0

    # The graph holds the activity, every candidate and every distinct evidence entity.
    want = _attribution(base, keys["clear"], {"indicators": ["apt39-c2[.]example"]})
    entities = {e["entity"]["id"] for e in want["evidence"]}
    labels = graph_labels(driver, "evidence")
    assert len(labels) == 1 + len(want["candidates"]) + len(entities)
    assert any(label.startswith("APT39 (") for label in labels)
    evidence_rows = driver.find_elements("css selector", ".tablewrap table tbody tr")
    assert len(evidence_rows) == max(1, len(want["evidence"]))
    assert console_errors(driver) == []


def test_the_actor_page_shows_the_profile(driver, base, keys):
    use_key(driver, base, keys["clear"])
    go(driver, base, "attribute")
    attribute(driver, APT39_ACTIVITY)
    wait_for(driver, "#candidates tbody tr td:nth-child(2) a").click()

    assert wait_for(driver, "#actor-name", "APT39").text == "APT39"
    profile = wait_for(driver, "#actor-profile").text
    assert "Chafer" in profile and "IR" in profile
    assert "Op Chafer 0" in profile and "Remexi" in profile
    assert "directly, in 2 campaigns" in profile  # Remexi: its own and its campaigns' use
    wait_for(driver, "#actor-predictions table")


def test_the_actor_page_draws_the_timeline_and_frames_the_briefing(driver, base, keys):
    console_errors(driver)
    use_key(driver, base, keys["clear"])
    go(driver, base, f"actor/{APT39}")
    wait_for(driver, "#actor-name", "APT39")
    profile = httpx.get(f"{base}/v1/actors/{APT39}", headers=auth(keys["clear"])).json()
    dated = [c for c in profile["campaigns"] if c.get("first_seen") or c.get("last_seen")]
    bars = driver.find_elements("css selector", "#campaign-timeline rect.tl-bar")
    assert 0 < len(dated) < len(profile["campaigns"])  # tests/helpers/console.py dates some
    assert sorted(b.get_attribute("data-campaign") for b in bars) == sorted(c["id"] for c in dated)
    # The table stays for screen readers: one row per campaign.
    assert "Op Chafer 0" in wait_for(driver, "#actor-profile").text

    html = briefing_html(driver)
    assert "APT39" in html and "<html" in html
    frame = driver.find_element("id", "briefing-frame")
    assert frame.get_attribute("sandbox") == ""  # no scripts, no same-origin access
    # The API's HTML is only inside the frame: the page itself has no element of it.
    assert 'class="fact"' in html
    assert driver.execute_script("return document.querySelectorAll('.fact').length") == 0
    assert console_errors(driver) == []  # the CSP let the frame and the SVG through


def test_the_pivot_page_draws_the_neighbourhood(driver, base, keys):
    console_errors(driver)
    use_key(driver, base, keys["clear"])
    go(driver, base, "pivot/apt39-c2%5B.%5Dexample")
    wait_for(driver, "#pivot-result", "APT39")
    labels = wait_for_graph(driver, "pivot")
    assert "apt39-c2.example" in labels and "Op Chafer 0" in labels and "APT39" in labels
    assert console_errors(driver) == []


def wait_for_graph(driver: Any, name: str) -> list[str]:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: graph_labels(d, name))
    return graph_labels(driver, name)


def _seen(driver: Any, graph: str | None = None) -> str:
    labels = graph_labels(driver, graph) if graph else []
    return visible_text(driver) + "\n" + "\n".join(labels or [])


def test_a_clear_key_sees_nothing_marked_above_clear_on_any_page(driver, base, keys):
    use_key(driver, base, keys["clear"])
    go(driver, base, "attribute")
    attribute(driver, RED_ACTIVITY)
    # Remexi is APT39's in the open: the page has real content to leak into.
    assert any(label.startswith("APT39 (") for label in graph_labels(driver, "evidence"))
    seen = {"attribute": _seen(driver, "evidence")}

    go(driver, base, f"actor/{MAGIC_HOUND}")  # its only link to Remexi is a red campaign
    wait_for(driver, "#actor-name", "Magic Hound")
    wait_for(driver, "#actor-predictions table")
    seen["actor"] = _seen(driver) + "\n" + briefing_html(driver)

    go(driver, base, f"actor/{RED_ACTOR}")
    wait_for(driver, "#status", "404")
    seen["red actor"] = _seen(driver)

    go(driver, base, "pivot/secret-red%5B.%5Dexample")
    wait_for(driver, "#status", "404")
    seen["red pivot"] = _seen(driver)

    go(driver, base, "actor")
    box = wait_for(driver, "#actor-q")
    box.send_keys("e")
    driver.find_element("css selector", "#actor-search button").click()
    wait_for(driver, "#actor-hits", "APT39")
    seen["search"] = _seen(driver)

    for page, text in seen.items():
        assert SECRET not in text, f"{page}: {text}"

    # The same pages with a red key do show the red data: the check above can fail.
    use_key(driver, base, keys["red"])
    go(driver, base, f"actor/{MAGIC_HOUND}")
    wait_for(driver, "#actor-profile", "SECRET Op Sandstorm")
    assert SECRET in briefing_html(driver)
    go(driver, base, "attribute")
    attribute(driver, RED_ACTIVITY)
    assert SECRET in _seen(driver, "evidence")


def test_every_input_has_a_label_and_every_control_is_keyboard_operable(driver, base, keys):
    use_key(driver, base, keys["clear"])
    for page in ("attribute", "actor", "pivot"):
        go(driver, base, page)
        wait_for(driver, "main form")
        unlabelled = driver.execute_script(
            "return [...document.querySelectorAll('input, textarea, select')]"
            "  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))"
            "  .map((e) => e.id || e.outerHTML);"
        )
        assert unlabelled == [], page
        # Clickable things are buttons or links with an href (focusable, Enter/Space work).
        odd = driver.execute_script(
            "return [...document.querySelectorAll('[onclick], a:not([href])')]"
            "  .map((e) => e.outerHTML);"
        )
        assert odd == [], page


def test_render_time_of_a_200_entity_evidence_graph(driver, base, keys, record_property):
    """Measured, not asserted: Cytoscape's render of 200 entities and 5 actors (issue 20)."""
    use_key(driver, base, keys["clear"])
    go(driver, base, "attribute")
    wait_for(driver, "#activity")
    out = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        import('/ui/js/graph.js').then(async (g) => {
          const candidates = [...Array(5).keys()].map((i) => ({
            rank: i + 1, actor_id: `intrusion-set--a${i}`, name: `Actor ${i}`, score: 0.15 }));
          const evidence = [...Array(200).keys()].map((i) => ({
            actor_id: `intrusion-set--a${i % 5}`, kind: 'shared_indicator',
            entity: { id: `domain:e${i}.example`, label: 'Indicator', name: `e${i}.example` },
            input: `e${i}.example`, weight: (i % 10) / 10, actors_sharing: 1,
            hub: i % 25 === 0 ? 'cdn' : null }));
          const box = document.createElement('div');
          box.className = 'graph';
          document.getElementById('main').append(box);
          const runs = [];
          for (let k = 0; k < 3; k++) {
            const { cy, ms } = await g.renderGraph(
              'perf', box, g.evidenceElements({ input: 'perf', candidates, evidence }));
            runs.push({ ms, nodes: cy.nodes().length, edges: cy.edges().length });
          }
          done(runs);
        }).catch((e) => done({ error: String(e) }));
        """
    )
    assert isinstance(out, list), out
    assert all(r["nodes"] == 1 + 5 + 200 and r["edges"] == 400 for r in out)
    times = [round(r["ms"], 1) for r in out]
    record_property("render_200_entities_ms", times)
    print(f"\n200-entity evidence graph render (ms, 3 runs, headless Chromium): {times}")


def test_an_analyst_accepts_the_top_prediction_and_the_campaign_is_attributed(driver, base, keys):
    use_key(driver, base, keys["clear"])
    go(driver, base, "attribute")
    assert not wait_for(driver, "#persist").is_selected()  # storing is a choice, off by default
    driver.find_element("id", "persist").click()
    attribute(driver, APT39_ACTIVITY)
    campaign = wait_for(driver, "#campaign-id").text
    assert campaign

    unlabelled = driver.execute_script(
        "return [...document.querySelectorAll('#decide input, #decide textarea')]"
        "  .filter((e) => !(e.labels && e.labels.length)).map((e) => e.id || e.outerHTML);"
    )
    assert unlabelled == []
    decide(driver, "C2 domain matches the APT39 report", 85)
    words = driver.find_element("id", "decision-confidence-words").text
    assert "1 - Confirmed by other sources" in words and "Very Likely" in words
    wait_for(driver, "#decision-message", "Recorded: accept APT39.")
    history = wait_for(driver, "#decision-history tbody", "accept").text
    assert "APT39" in history and "C2 domain matches" in history

    headers = auth(keys["clear"])
    made = httpx.get(f"{base}/v1/campaigns/{campaign}/decisions", headers=headers).json()
    assert [(d["decision"], d["actor_id"], d["confidence"]) for d in made["data"]] == [
        ("accept", APT39, 85)
    ]
    profile = httpx.get(f"{base}/v1/campaigns/{campaign}", headers=headers).json()
    assert [a["id"] for a in profile["attributed_to"]] == [APT39]


def test_a_reader_key_sees_the_prediction_and_is_told_it_cannot_decide(driver, base, keys):
    stored = _attribution(
        base,
        keys["clear"],
        {"indicators": ["apt39-c2[.]example", "reader-check[.]example"], "persist": True},
    )
    campaign = stored["persisted"]["campaign_id"]
    use_key(driver, base, keys["reader"])
    go(driver, base, "attribute")
    attribute_box = wait_for(driver, "#activity")
    attribute_box.send_keys("apt39-c2[.]example")
    driver.find_element("id", "attribute-submit").click()
    wait_for(driver, "#status", "this key may only read")

    go(driver, base, f"decide/{campaign}")
    wait_for(driver, "main table tbody", "APT39")  # the model's hypothesis is shown
    decide(driver, "looks right to me", 60)
    message = wait_for(driver, "#decision-message", "may not record decisions")
    assert "analyst role" in message.text
    made = httpx.get(f"{base}/v1/campaigns/{campaign}/decisions", headers=auth(keys["reader"]))
    assert made.json()["count"] == 0


def test_a_clear_key_cannot_open_a_red_campaign_to_decide(driver, base, keys):
    use_key(driver, base, keys["clear"])
    go(driver, base, f"decide/{RED_CAMPAIGN}")
    wait_for(driver, "#status", "404")
    assert SECRET not in _seen(driver)
    use_key(driver, base, keys["red"])
    go(driver, base, f"decide/{RED_CAMPAIGN}")
    wait_for(driver, "#decide")
