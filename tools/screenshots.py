"""Screenshots of the analyst console for the README: ``make screenshots``.

Loads the demo world (``actorgraph demo``'s seed, as the browser tests do) into a temporary
home, trains it, starts ``actorgraph serve`` on it, attributes a held-out campaign with an amber
analyst key, and saves one PNG per page (Attribute, Decide, Actor, Pivot) into docs/screenshots/
through headless Chromium, as the browser tests drive it. Takes about two minutes. Needs Debian's
``chromium`` and ``chromium-driver``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from actorgraph.api.keys import KeyStore
from tests.helpers.console import (
    attribute,
    browser_missing,
    chrome,
    decide,
    evidence_indicator,
    go,
    stop_home,
    use_key,
    wait_for,
)
from tests.helpers.console_world import build_console_world
from tests.helpers.paths import ROOT
from tests.helpers.server import serve

OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    missing = browser_missing()
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        try:
            world = build_console_world(home, plant=False)  # no test-only objects
            activity = json.dumps(world.heldout, indent=1)
            actor = world.truth["actor_id"]
            key = KeyStore(home / "keys.sqlite").create("analyst", tlp="amber", name="shots")[1]
            with serve(home, ready_within=120) as server:
                driver = chrome(1400, 1800)  # tall enough for the evidence graph
                try:
                    use_key(driver, server.base, key)
                    go(driver, server.base, "attribute")
                    attribute(driver, activity)
                    driver.save_screenshot(str(OUT / "attribute.png"))
                    wait_for(driver, "#persist").click()
                    attribute(driver, activity)
                    decide(driver, "Samples and C2 addresses match the reporting", 85)
                    wait_for(driver, "#decision-history tbody", "accept")
                    driver.execute_script("document.getElementById('decide').scrollIntoView()")
                    driver.save_screenshot(str(OUT / "decide.png"))
                    go(driver, server.base, f"actor/{actor}")
                    wait_for(driver, "#actor-predictions table")
                    wait_for(driver, "#briefing-frame")
                    driver.save_screenshot(str(OUT / "actor.png"))
                    value = evidence_indicator(server.base, key, world.heldout)
                    go(driver, server.base, f"pivot/{value}")
                    wait_for(driver, "#pivot-result", value)
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
