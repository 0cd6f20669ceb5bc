"""``actorgraph warninglists check``: real lists, defanged input, text and JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.helpers.cli import ag

DNS = "List of known IPv4 public DNS resolvers"


def test_check_names_the_lists_of_each_value(tmp_path: Path):
    out = json.loads(
        ag(tmp_path, "warninglists", "check", "8.8.8[.]8", "kelvor-mivex[.]info", "--json").stdout
    )
    assert out["source"].startswith("misp-warninglists@")
    google, unlisted = out["values"]
    assert (google["input"], google["kind"], google["value"]) == ("8.8.8[.]8", "ipv4", "8.8.8.8")
    assert {"name": DNS, "id": "public-dns-v4", "match": "value"} in google["lists"]
    assert (unlisted["value"], unlisted["lists"]) == ("kelvor-mivex.info", [])
    # The index built by the first run is kept in the cache folder (ACTORGRAPH_CACHE, set by
    # tests/conftest.py for every subprocess) and reused by later runs and other homes.
    assert any(Path(os.environ["ACTORGRAPH_CACHE"]).iterdir())
    text = ag(tmp_path, "warninglists", "check", "c2.duckdns.org").stdout
    assert "c2.duckdns.org (domain): on" in text
    assert "List of known dynamic DNS domains  [part]" in text


def test_a_value_that_is_no_indicator_is_reported_and_fails(tmp_path: Path):
    proc = ag(tmp_path, "warninglists", "check", "not an indicator", check=False)
    assert proc.returncode == 2
    assert "not an indicator (" in proc.stdout
