"""The analyst console (/ui) in headless Chromium against a real ``actorgraph serve``.

The server serves the demo world (the demo's seed: ATT&CK, synthetic clusters at every TLP level,
planted objects above clear named "SECRET") with the models ``actorgraph train`` made. The
browser enters a key, attributes a held-out activity (as a STIX bundle, a MISP event and a plain
defanged list), reads the ranked actors and the evidence graph Cytoscape drew, opens the actor,
pivot and decide pages, and checks that a clear key sees nothing marked above clear anywhere on a
page (its text, its labels, the graph's node labels, the briefing). axe-core checks contrast,
labels and button names on every page. Skipped, with the reason, where Chromium, chromedriver or
selenium is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from actorgraph.api.keys import KeyStore
from actorgraph.graph.store import StoreConfig, open_store
from tests.helpers.api_helpers import auth
from tests.helpers.console import (
    attribute,
    axe_violations,
    briefing_html,
    browser_missing,
    chrome,
    console_errors,
    decide,
    describe,
    evidence_indicator,
    go,
    graph_labels,
    paste,
    stop_home,
    use_key,
    visible_text,
    wait_for,
)
from tests.helpers.console_world import (
    AMBER_ACTOR,
    RED_CAMPAIGN,
    SECRET,
    SECRET_ACTOR,
    SECRET_CAMPAIGN,
    ConsoleWorld,
    build_console_world,
    hidden_from_clear,
    leaks,
)
from tests.helpers.server import serve

_MISSING = browser_missing()
pytestmark = [
    pytest.mark.slow,  # loads the demo world, trains its models (about 90 s), starts a browser
    pytest.mark.skipif(_MISSING is not None, reason=f"browser tests: {_MISSING}"),
]
# What axe must not find on any page: contrast, labels, named buttons.
AXE_RULES = ["color-contrast", "label", "button-name"]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleWorld]:
    home = tmp_path_factory.mktemp("console") / "home"
    try:
        yield build_console_world(home)
    finally:
        stop_home(home)


@pytest.fixture(scope="session")
def hidden(world: ConsoleWorld) -> set[str]:
    """Every string that only objects above clear carry (thousands: names, values, ids)."""
    store = open_store(StoreConfig(home=world.home))
    try:
        return hidden_from_clear(store)
    finally:
        store.close()


@pytest.fixture(scope="session")
def keys(world: ConsoleWorld) -> dict[str, str]:
    store = KeyStore(world.home / "keys.sqlite")
    made = {
        tlp: store.create("analyst", tlp=tlp, name=f"console-{tlp}")[1]
        for tlp in ("clear", "amber", "red")
    }
    made["reader"] = store.create("reader", tlp="amber", name="console-reader")[1]
    return made


@pytest.fixture(scope="session")
def base(world: ConsoleWorld, keys: dict[str, str]) -> Iterator[str]:
    env = {"ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000"}
    with serve(world.home, env=env, ready_within=180) as server:
        yield server.base


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    browser = chrome()
    try:
        yield browser
    finally:
        browser.quit()


def _attribution(base: str, key: str, body: Any) -> dict[str, Any]:
    r = httpx.post(f"{base}/v1/attributions", json=body, headers=auth(key), timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def _first(driver: Any) -> Any:
    return wait_for(driver, "#candidates tbody tr td:nth-child(2) a")


def _plain_list(world: ConsoleWorld) -> str:
    """The held-out values one per line, defanged as analysts share them."""
    lines = [v.replace(".", "[.]", 1) if "." in v else v for v in world.indicator_values()]
    return "# from the proxy and the sandbox\n" + "\n".join(lines)


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
    paste(driver, "#activity", "203.0.113[.]7")
    driver.find_element("id", "attribute-submit").click()
    wait_for(driver, "#status", "enter an API key first")


def test_a_held_out_stix_bundle_ranks_the_right_actor_first_and_draws_the_evidence(
    driver, base, keys, world
):
    console_errors(driver)  # what earlier tests left
    use_key(driver, base, keys["amber"])
    go(driver, base, "attribute")
    attribute(driver, json.dumps(world.heldout, indent=1))

    first = _first(driver)
    assert first.text == world.truth["actor_name"]
    assert first.get_attribute("href").endswith(f"#/actor/{world.truth['actor_id']}")
    assert "Unknown actor:" in wait_for(driver, "#unknown-score").text
    # The key went in the header, never in a URL, and stays in this tab's session only.
    assert keys["amber"] not in driver.current_url
    assert driver.execute_script("return sessionStorage.getItem('actorgraph.key')") == keys["amber"]
    assert driver.execute_script("return localStorage.length") == 0

    # The graph holds the activity, every candidate and every distinct evidence entity.
    want = _attribution(base, keys["amber"], world.heldout)
    signals = want["candidates"][0]["signals"]
    shown = wait_for(driver, "#candidates tbody tr td:nth-child(6)").text.split(" · ")
    assert [s.split()[0] for s in shown] == ["direct", "graph", "naming", "campaigns"]
    for s in shown:  # two decimals, rounded by the browser
        assert abs(float(s.split()[1]) - signals[s.split()[0]]) <= 0.0051, (s, signals)
    entities = {e["entity"]["id"] for e in want["evidence"]}
    assert entities, "a known-actor campaign comes with evidence"
    labels = graph_labels(driver, "evidence")
    assert len(labels) == 1 + len(want["candidates"]) + len(entities)
    assert any(label.startswith(f"{world.truth['actor_name']} (") for label in labels)
    evidence_rows = driver.find_elements("css selector", ".tablewrap table tbody tr")
    assert len(evidence_rows) == len(want["evidence"])
    assert console_errors(driver) == []


@pytest.mark.parametrize("form", ["MISP event", "plain defanged list"])
def test_a_misp_event_or_a_plain_list_of_the_same_values_ranks_it_first_too(
    driver, base, keys, world, form
):
    use_key(driver, base, keys["amber"])
    go(driver, base, "attribute")
    pasted = (
        json.dumps({"Event": world.misp_event()}) if form == "MISP event" else _plain_list(world)
    )
    attribute(driver, pasted)
    assert _first(driver).text == world.truth["actor_name"]
    assert graph_labels(driver, "evidence")


def test_the_api_reads_a_bare_or_wrapped_misp_event_as_the_same_values(base, keys, world):
    event = world.misp_event()
    simple = {"indicators": world.indicator_values(), "top_k": 5}
    want = [c["actor_id"] for c in _attribution(base, keys["amber"], simple)["candidates"]]
    for body in ({**event, "top_k": 5}, {"Event": event, "top_k": 5}):
        got = _attribution(base, keys["amber"], body)
        assert [c["actor_id"] for c in got["candidates"]] == want
        assert want[0] == world.truth["actor_id"]


def test_the_actor_page_shows_the_profile_timeline_and_briefing(driver, base, keys, world):
    console_errors(driver)
    use_key(driver, base, keys["amber"])
    go(driver, base, "attribute")
    attribute(driver, json.dumps(world.heldout))
    _first(driver).click()

    name = world.truth["actor_name"]
    assert wait_for(driver, "#actor-name", name).text == name
    profile = httpx.get(
        f"{base}/v1/actors/{world.truth['actor_id']}", headers=auth(keys["amber"])
    ).json()
    text = wait_for(driver, "#actor-profile").text
    assert profile["actor"]["country"] in text
    assert all(c["name"] in text for c in profile["campaigns"])
    assert SECRET_CAMPAIGN in text  # an amber key sees the amber campaign: the check can fail
    wait_for(driver, "#actor-predictions table")

    dated = [c for c in profile["campaigns"] if c.get("first_seen") or c.get("last_seen")]
    bars = driver.find_elements("css selector", "#campaign-timeline rect.tl-bar")
    assert dated
    assert sorted(b.get_attribute("data-campaign") for b in bars) == sorted(c["id"] for c in dated)

    html = briefing_html(driver)
    assert name in html and "<html" in html
    frame = driver.find_element("id", "briefing-frame")
    assert frame.get_attribute("sandbox") == ""  # no scripts, no same-origin access
    assert 'class="fact"' in html
    assert driver.execute_script("return document.querySelectorAll('.fact').length") == 0
    assert console_errors(driver) == []  # the CSP let the frame and the SVG through


def _pivot_value(base: str, key: str, world: ConsoleWorld) -> str:
    return evidence_indicator(base, key, world.heldout)


def test_the_pivot_page_draws_the_neighbourhood(driver, base, keys, world):
    console_errors(driver)
    value = _pivot_value(base, keys["amber"], world)
    use_key(driver, base, keys["amber"])
    go(driver, base, f"pivot/{value}")
    wait_for(driver, "#pivot-result", value)
    labels = wait_for_graph(driver, "pivot")
    assert value in labels and len(labels) > 1
    assert console_errors(driver) == []


def wait_for_graph(driver: Any, name: str) -> list[str]:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: graph_labels(d, name))
    return graph_labels(driver, name)


def _seen(driver: Any, graph: str | None = None) -> str:
    labels = graph_labels(driver, graph) if graph else []
    return visible_text(driver) + "\n" + "\n".join(labels or [])


def test_a_clear_key_sees_nothing_marked_above_clear_on_any_page(driver, base, keys, world, hidden):
    assert len(hidden) > 1000  # the world's green, amber and red clusters, and the planted ones
    pasted = json.dumps(world.heldout, indent=1)
    amber_indicator = "secret-amber-harbour-c2.example"
    use_key(driver, base, keys["clear"])
    go(driver, base, "attribute")
    attribute(driver, pasted)
    # page -> (what it shows, what the analyst typed or pasted into it or its address)
    seen_on = {"attribute": (_seen(driver, "evidence"), pasted)}

    go(driver, base, f"actor/{world.truth['actor_id']}")  # it has an amber campaign
    wait_for(driver, "#actor-name", world.truth["actor_name"])
    wait_for(driver, "#actor-predictions table")
    seen_on["actor"] = (_seen(driver) + "\n" + briefing_html(driver), "")

    go(driver, base, f"actor/{AMBER_ACTOR}")
    wait_for(driver, "#status", "404")
    seen_on["amber actor"] = (_seen(driver), AMBER_ACTOR)

    go(driver, base, f"pivot/{amber_indicator.replace('.', '[.]')}")
    wait_for(driver, "#status", "404")
    # The 404 names the value as typed and as normalised, as it does for a value never seen.
    seen_on["amber pivot"] = (_seen(driver), f"domain:{amber_indicator}")

    go(driver, base, f"decide/{RED_CAMPAIGN}")
    wait_for(driver, "#status", "404")
    seen_on["red campaign"] = (_seen(driver), RED_CAMPAIGN)

    go(driver, base, "actor")
    for query in ("SECRET", "a"):
        box = wait_for(driver, "#actor-q")
        box.clear()
        box.send_keys(query)
        driver.find_element("css selector", "#actor-search button").click()
        wait_for(driver, "#actor-hits caption", " actors")
        seen_on[f"search {query}"] = (_seen(driver), query)

    for page, (text, typed) in seen_on.items():
        assert SECRET not in text.replace(typed, ""), page
        assert leaks(text, hidden, typed) == [], page

    # The same pages with an amber key do show what the clear key was spared.
    use_key(driver, base, keys["amber"])
    go(driver, base, f"actor/{world.truth['actor_id']}")
    wait_for(driver, "#actor-profile", SECRET_CAMPAIGN)
    assert leaks(_seen(driver), hidden, pasted)
    go(driver, base, "actor")
    wait_for(driver, "#actor-q").send_keys("SECRET")
    driver.find_element("css selector", "#actor-search button").click()
    wait_for(driver, "#actor-hits", SECRET_ACTOR)


def _pages(driver: Any, base: str, keys: dict[str, str], world: ConsoleWorld) -> Iterator[str]:
    """Each page of the console filled as an analyst sees it; yields the page's name."""
    use_key(driver, base, keys["amber"])
    go(driver, base, "attribute")
    wait_for(driver, "#activity")
    yield "attribute (empty)"
    wait_for(driver, "#persist").click()
    attribute(driver, json.dumps(world.heldout))
    wait_for(driver, "#decision-confidence-words", "Admiralty")
    yield "attribute (result, decide)"
    go(driver, base, f"actor/{world.truth['actor_id']}")
    wait_for(driver, "#actor-predictions table")
    wait_for(driver, "#briefing-frame")
    yield "actor"
    go(driver, base, "actor")
    wait_for(driver, "#actor-q").send_keys(world.truth["actor_name"])
    driver.find_element("css selector", "#actor-search button").click()
    wait_for(driver, "#actor-hits", world.truth["actor_name"])
    yield "actor search"
    go(driver, base, f"pivot/{_pivot_value(base, keys['amber'], world)}")
    wait_for_graph(driver, "pivot")
    yield "pivot"


def test_axe_finds_no_contrast_label_or_button_name_violation_on_any_page(
    driver, base, keys, world, record_property
):
    found: dict[str, list[dict[str, Any]]] = {}
    everything: dict[str, list[str]] = {}  # every WCAG 2 A/AA rule: reported, not asserted
    for page in _pages(driver, base, keys, world):
        found[page] = axe_violations(driver, AXE_RULES)
        everything[page] = [f"{v['id']} ({len(v['nodes'])})" for v in axe_violations(driver)]
    record_property("axe_wcag2_a_aa", everything)
    print(f"\naxe, all WCAG 2 A/AA rules, per page: {everything}")
    assert {page: v for page, v in found.items() if v} == {}, describe(
        [v for vs in found.values() for v in vs]
    )
    # The check sees what it looks for: a grey text, an unlabelled box, an empty button.
    driver.execute_script(
        "document.getElementById('main').insertAdjacentHTML('beforeend',"
        ' \'<p style="color:#aaa">faint</p><input id="bare"><button></button>\')'
    )
    assert {v["id"] for v in axe_violations(driver, AXE_RULES)} == set(AXE_RULES)


def test_the_keyboard_reaches_the_submit_button_and_the_results(driver, base, keys, world):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    use_key(driver, base, keys["amber"])
    go(driver, base, "attribute")
    wait_for(driver, "#activity")
    driver.execute_script("document.activeElement.blur(); window.focus()")

    def tab_until(predicate: str, most: int) -> list[str]:
        path = []
        for _ in range(most):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            here = driver.execute_script(
                "const e = document.activeElement;"
                "return e.id || (e.tagName + ':' + (e.textContent || '').trim().slice(0, 30));"
            )
            path.append(here)
            if driver.execute_script(f"return !!document.activeElement.matches({predicate!r})"):
                return path
        raise AssertionError(f"{predicate} not reached in {most} tabs: {path}")

    path = tab_until("#activity", 15)
    paste(driver, "#activity", _plain_list(world))  # Ctrl+V: focus stays in the box
    path += tab_until("#attribute-submit", 10)
    assert path.index("activity") < path.index("attribute-submit")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait_for(driver, "#evidence-graph[data-render-ms]")
    # On from the button into the results: the first candidate is a link the keyboard reaches.
    tab_until("#candidates a", 10)
    assert (
        driver.execute_script("return document.activeElement.textContent")
        == (world.truth["actor_name"])
    )
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait_for(driver, "#actor-name", world.truth["actor_name"])


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


def test_an_accepted_campaign_is_attributed_and_drawn_on_the_timeline_at_its_dates(
    driver, base, keys, world
):
    use_key(driver, base, keys["amber"])
    go(driver, base, "attribute")
    assert not wait_for(driver, "#persist").is_selected()  # storing is a choice, off by default
    driver.find_element("id", "persist").click()
    attribute(driver, json.dumps(world.heldout))
    campaign = wait_for(driver, "#campaign-id").text
    assert campaign

    unlabelled = driver.execute_script(
        "return [...document.querySelectorAll('#decide input, #decide textarea')]"
        "  .filter((e) => !(e.labels && e.labels.length)).map((e) => e.id || e.outerHTML);"
    )
    assert unlabelled == []
    decide(driver, "C2 and samples match the reporting", 85)
    # The bands' names come from GET /v1/confidence-scales (graph/confidence.py).
    words = wait_for(driver, "#decision-confidence-words", "Confirmed").text
    assert "1 - Confirmed by other sources" in words and "Very Likely" in words
    name = world.truth["actor_name"]
    wait_for(driver, "#decision-message", f"Recorded: accept {name}.")
    history = wait_for(driver, "#decision-history tbody", "accept").text
    assert name in history and "C2 and samples match" in history

    headers = auth(keys["amber"])
    made = httpx.get(f"{base}/v1/campaigns/{campaign}/decisions", headers=headers).json()
    assert [(d["decision"], d["actor_id"], d["confidence"]) for d in made["data"]] == [
        ("accept", world.truth["actor_id"], 85)
    ]
    profile = httpx.get(f"{base}/v1/campaigns/{campaign}", headers=headers).json()
    assert [a["id"] for a in profile["attributed_to"]] == [world.truth["actor_id"]]
    # Stored with the activity's own dates (its campaign's), so the actor's timeline draws it.
    assert profile["campaign"]["first_seen"].startswith(world.truth["first_seen"])
    assert profile["campaign"]["last_seen"].startswith(world.truth["last_seen"])
    go(driver, base, f"actor/{world.truth['actor_id']}")
    wait_for(driver, f'#campaign-timeline rect.tl-bar[data-campaign="{campaign}"]')


def test_a_reader_key_sees_the_prediction_and_is_told_it_cannot_decide(driver, base, keys, world):
    body = {"indicators": [*world.indicator_values()[:5], "reader-check[.]example"]}
    stored = _attribution(base, keys["amber"], {**body, "persist": True})
    campaign = stored["persisted"]["campaign_id"]
    use_key(driver, base, keys["reader"])
    go(driver, base, "attribute")
    paste(driver, "#activity", "203.0.113[.]7")
    driver.find_element("id", "attribute-submit").click()
    wait_for(driver, "#status", "this key may only read")

    go(driver, base, f"decide/{campaign}")
    wait_for(driver, "main table tbody tr td a")  # the model's hypotheses are shown
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
