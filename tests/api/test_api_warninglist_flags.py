"""POST /v1/attributions names the activity's values that the graph does not hold but MISP's
warninglists do (``flagged``), with the lists' names."""

from __future__ import annotations

import pytest

from tests.helpers.api_helpers import attribute

pytestmark = pytest.mark.slow  # trains a tiny model

DNS = "List of known IPv4 public DNS resolvers"


def test_google_dns_is_named_with_its_warninglist(model_client, keys):
    body = {"indicators": ["evil[.]example", "8.8.8.8"], "top_k": 2}
    answer = attribute(model_client, keys["analyst_red"], body)
    flagged = {f["value"]: f["warninglists"] for f in answer["flagged"]}
    assert DNS in flagged["ipv4:8.8.8.8"]
    assert "domain:evil.example" not in flagged
