"""The analyst console in a real browser: headless Chromium, page helpers, axe-core checks.

Shared by tests/api/test_console_browser.py and tools/screenshots.py. The world is the demo
world of tests/helpers/console_world.py, trained by ``actorgraph train``; the browser is Debian's
``chromium`` driven through ``chromedriver`` (package ``chromium-driver``) by Selenium.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from actorgraph.cli import main
from tests.helpers.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
# axe-core, test-only (tests/fixtures/vendor/README.md): injected into the page under test.
AXE = ROOT / "tests" / "fixtures" / "vendor" / "axe.min.js"
WAIT_S = 30


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (Debian package `chromium`)"
    if shutil.which("chromedriver") is None:
        return "no chromedriver on PATH (Debian package `chromium-driver`)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def stop_home(home: Path) -> None:
    """Stop the embedded store that ``actorgraph train`` left running for ``home``."""
    with redirect_stdout(io.StringIO()):
        main(["--home", str(home), "store", "stop"])


def chrome(width: int = 1400, height: int = 1000) -> Any:
    """A headless Chromium under Selenium (the caller quits it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def console_errors(driver: Any) -> list[str]:
    """The browser console's errors since the last call (script errors, CSP refusals...)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def use_key(driver: Any, base: str, key: str) -> None:
    """Open the console and enter ``key`` in its key form."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/ui/")
    field = driver.find_element(By.ID, "api-key")
    field.clear()
    field.send_keys(key)
    driver.find_element(By.ID, "key-save").click()


def go(driver: Any, base: str, hash_: str) -> None:
    """Navigate the console to ``#/<hash_>`` (the key stays in the tab's sessionStorage)."""
    driver.get(f"{base}/ui/#/{hash_}")


def wait_for(driver: Any, css: str, text: str | None = None) -> Any:
    """The first element matching ``css`` (containing ``text`` if given), once it is there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_S)
    if text is not None:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def paste(driver: Any, css: str, text: str) -> None:
    """Put ``text`` into the field ``css`` as a paste would (at once: typing a STIX bundle key
    by key takes minutes)."""
    field = wait_for(driver, css)
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        field,
        text,
    )


def attribute(driver: Any, activity: str) -> None:
    """Paste ``activity`` into the Attribute page, submit, and wait for the evidence graph."""
    from selenium.webdriver.common.by import By

    paste(driver, "#activity", activity)
    driver.execute_script("document.getElementById('evidence-graph')?.remove()")
    driver.find_element(By.ID, "attribute-submit").click()
    wait_for(driver, "#evidence-graph[data-render-ms]")


def graph_labels(driver: Any, name: str) -> list[str]:
    """The node labels of the console's graph ``name`` (``evidence`` or ``pivot``)."""
    return driver.execute_script(
        "const cy = window.actorgraphConsole?.graphs?.[arguments[0]];"
        "return cy ? cy.nodes().map((n) => n.data('label')) : null;",
        name,
    )


def visible_text(driver: Any) -> str:
    """Everything the page shows as text, attributes an assistive technology reads included."""
    return driver.execute_script(
        "const attrs = [...document.querySelectorAll('[aria-label],[title],[alt],[value]')]"
        "  .map((e) => [e.getAttribute('aria-label'), e.getAttribute('title'),"
        "               e.getAttribute('alt'), e.value].join(' '));"
        "return document.body.innerText + '\\n' + document.title + '\\n' + attrs.join('\\n');"
    )


def briefing_html(driver: Any) -> str:
    """The HTML of the Actor page's briefing frame, once it is there (its ``srcdoc``: the frame is
    sandboxed without same-origin, so its document cannot be read from the page)."""
    return str(wait_for(driver, "#briefing-frame").get_attribute("srcdoc"))


def decide(driver: Any, reason: str, confidence: int, decision: str = "accept") -> None:
    """Fill and submit the Decide form (the confidence is set as a slider drag would set it)."""
    from selenium.webdriver.common.by import By

    wait_for(driver, f"#decision-form input[value={decision}]").click()
    driver.execute_script(
        "const c = document.getElementById('decision-confidence');"
        "c.value = arguments[0]; c.dispatchEvent(new Event('input'));",
        confidence,
    )
    box = driver.find_element(By.ID, "decision-reason")
    box.clear()
    box.send_keys(reason)
    driver.find_element(By.ID, "decision-submit").click()


def axe_violations(driver: Any, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """What axe-core finds wrong with the page as it is now: ``[{id, impact, nodes: [html]}]``
    (only ``rules`` when given; the WCAG 2 A and AA rules otherwise)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text())
    options = (
        {"runOnly": {"type": "rule", "values": rules}}
        if rules
        else {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    )
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then((r) => done(r.violations.map((v) => ({"
        "  id: v.id, impact: v.impact, help: v.help,"
        "  nodes: v.nodes.map((n) => n.html.slice(0, 200)) }))))"
        "  .catch((e) => done({ error: String(e) }));",
        options,
    )
    assert isinstance(found, list), found
    return found


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations as a readable failure message."""
    return json.dumps(violations, indent=1)


def evidence_indicator(base: str, key: str, activity: Any) -> str:
    """An indicator of ``activity`` that the graph holds (its first evidence indicator), to
    pivot on; asked of the server's API with ``key``."""
    import httpx

    r = httpx.post(
        f"{base}/v1/attributions",
        json=activity,
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    )
    r.raise_for_status()
    evidence = r.json()["evidence"]
    return next(e["entity"]["name"] for e in evidence if e["entity"]["label"] == "Indicator")
