"""TAXII discovery names its API root without the caller's Host header (issue 18, finding 12).

Discovery built absolute URLs from ``request.base_url``, that is from the Host header the
client sent: ``Host: evil.example`` came back as ``http://evil.example/taxii2/api/``, an
address a TAXII client then follows with its key. The API root is now a relative URL (TAXII
2.1 allows them), resolved by the client against the address it actually used.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.api_helpers import auth

HOSTILE = "evil.example"


@pytest.mark.parametrize(
    "headers",
    [{"Host": HOSTILE}, {"X-Forwarded-Host": HOSTILE}, {"Host": f"{HOSTILE}:8443"}],
)
def test_discovery_does_not_echo_the_host_header(client, keys, headers):
    r = client.get("/taxii2/", headers={**auth(keys["reader_clear"]), **headers})
    assert r.status_code == 200
    assert HOSTILE not in json.dumps(r.json())
    assert r.json()["api_roots"] == ["/taxii2/api/"]
    assert r.json()["default"] == "/taxii2/api/"
