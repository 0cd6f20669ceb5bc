"""Screenshots of the analyst console for the README: ``make screenshots``.

Trains the small Remexi world of the tests in a temporary home, starts ``actorgraph serve`` on
it, and saves one PNG per page (Attribute, Decide, Actor, Pivot) into docs/screenshots/ through
headless Chromium, as the browser tests drive it. Needs Debian's ``chromium`` and
``chromium-driver``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from actorgraph.api.keys import KeyStore
from tests.helpers.console import (
    attribute,
    browser_missing,
    chrome,
    decide,
    go,
    stop_home,
    train_home,
    use_key,
    wait_for,
)
from tests.helpers.paths import ROOT
from tests.helpers.remexi_world import APT39
from tests.helpers.server import serve

OUT = ROOT / "docs" / "screenshots"
ACTIVITY = '{"malware": ["Remexi", "PupyRAT"], "indicators": ["apt39-c2[.]example"]}'


def main() -> int:
    missing = browser_missing()
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        try:
            train_home(home)
            key = KeyStore(home / "keys.sqlite").create("analyst", tlp="clear", name="shots")[1]
            with serve(home, ready_within=120) as server:
                driver = chrome(1400, 1800)  # tall enough for the evidence graph
                try:
                    use_key(driver, server.base, key)
                    go(driver, server.base, "attribute")
                    attribute(driver, ACTIVITY)
                    driver.save_screenshot(str(OUT / "attribute.png"))
                    wait_for(driver, "#persist").click()
                    attribute(driver, ACTIVITY)
                    decide(driver, "Remexi and the C2 domain match the APT39 reporting", 85)
                    wait_for(driver, "#decision-history tbody", "accept")
                    driver.execute_script("document.getElementById('decide').scrollIntoView()")
                    driver.save_screenshot(str(OUT / "decide.png"))
                    go(driver, server.base, f"actor/{APT39}")
                    wait_for(driver, "#actor-predictions table")
                    wait_for(driver, "#briefing-frame")
                    driver.save_screenshot(str(OUT / "actor.png"))
                    go(driver, server.base, "pivot/apt39-c2%5B.%5Dexample")
                    wait_for(driver, "#pivot-result", "APT39")
                    driver.execute_script("return new Promise((r) => setTimeout(r, 300))")
                    driver.save_screenshot(str(OUT / "pivot.png"))
                finally:
                    driver.quit()
        finally:
            stop_home(home)
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
