"""The key is checked before the body is read (issue 18, finding 10), on a real server.

An unauthenticated 18.6 MB POST cost the server 1.0 s of reading and JSON parsing before its
401, and four such senders pushed a reader's median to 1.4 s. A request under ``/v1/`` without a
valid key is now answered 401 from its headers alone: the server never reads its body.
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from actorgraph.settings import Settings
from tests.helpers.api_helpers import auth
from tests.helpers.server import serve

BODY_LIMIT = 20 * 1024 * 1024  # the default: an 18.6 MB bundle is under it
BIG = 19_500_000  # a declared body just under the limit, of which only a few bytes are sent


@pytest.fixture(scope="module")
def api_base(
    api_settings: Settings, keys: dict[str, str], world_env: dict[str, str]
) -> Iterator[str]:
    env = {
        **world_env,
        "ACTORGRAPH_API_MAX_BODY_BYTES": str(BODY_LIMIT),
        "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with serve(api_settings.home, "--no-model", env=env) as running:
        yield running.base


def _raw_post(base: str, path: str, headers: dict[str, str], declared: int, sent: bytes):
    """Send a POST's headers and the first bytes of a body of ``declared`` bytes, then wait for
    the answer without sending the rest. Returns (status, headers, body, seconds)."""
    url = urlsplit(base)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {declared}"]
    lines += ["Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
    start = time.perf_counter()
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + sent)
        raw = b""
        try:
            while b"\r\n\r\n" not in raw or len(raw.partition(b"\r\n\r\n")[2]) < _length(raw):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
        except TimeoutError:
            pytest.fail(f"no answer within 5 s: the server waits for the body ({raw[:200]!r})")
    seconds = time.perf_counter() - start
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    fields = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
    return status, {k.lower(): v for k, v in fields.items()}, json.loads(body), seconds


def _length(raw: bytes) -> int:
    for line in raw.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "an API key is required: Authorization: Bearer <key>"),
        ({"Authorization": "Bearer not-a-key"}, "the API key is not valid (unknown or revoked)"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "an API key is required"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/bundles", "/v1/attributions", "/v1/queries/x"])
def test_an_unauthenticated_body_is_never_read(api_base, path, headers, detail):
    status, fields, problem, seconds = _raw_post(api_base, path, headers, BIG, b'{"type": "bu')
    print(f"{path} {headers or 'no key'}: 401 after {seconds * 1000:.1f} ms")
    assert status == 401 and seconds < 1.0
    assert fields["content-type"].startswith("application/problem+json")
    assert fields["www-authenticate"].startswith("Bearer")
    assert fields.get("connection") == "close"  # the unread body is not taken as a next request
    assert problem["type"] == "urn:actorgraph:problem:unauthenticated"
    assert problem["detail"].startswith(detail) and problem["instance"] == path


def test_the_401_is_the_one_the_routes_gave(api_base):
    """Same problem body as the key dependency's 401 on a GET, which has no body to read."""
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        get = httpx.get(f"{api_base}/v1/actors", headers=headers)
        _, _, post, _ = _raw_post(api_base, "/v1/actors", headers, 10, b"{}")
        assert get.status_code == 401
        assert {k: v for k, v in get.json().items() if k != "instance"} == {
            k: v for k, v in post.items() if k != "instance"
        }


def test_a_valid_key_still_sends_its_body(api_base, keys):
    r = httpx.post(
        f"{api_base}/v1/queries/no_such_query",
        json={"params": {}},
        headers=auth(keys["reader_red"]),
    )
    assert r.status_code == 404  # past authentication, the body read, the route ran
    revoked = httpx.post(f"{api_base}/v1/bundles", json={}, headers=auth(keys["revoked"]))
    assert revoked.status_code == 401


def test_unauthenticated_senders_do_not_slow_a_reader(api_base, keys):
    """Four senders of 18.6 MB unauthenticated bundles; a reader's median stays low."""
    # Nine million small numbers: about a second of JSON parsing, the finding's cost.
    body = b'{"type": "bundle", "objects": [' + b",".join([b"1"] * 9_300_000) + b"]}"
    assert 18_000_000 < len(body) < BODY_LIMIT
    stop = threading.Event()
    sent = [0]

    def sender() -> None:
        url = urlsplit(api_base)
        head = (
            f"POST /v1/bundles HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        while not stop.is_set():
            try:
                with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
                    sock.sendall(head + body)
                    sock.recv(4096)
            except OSError:  # the server answered 401 and closed while the body was on its way
                pass
            sent[0] += 1

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    latencies = []
    try:
        with httpx.Client(headers=auth(keys["reader_clear"]), timeout=30) as reader:
            for _ in range(20):
                start = time.perf_counter()
                assert reader.get(f"{api_base}/v1/actors").status_code == 200
                latencies.append(time.perf_counter() - start)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    median = statistics.median(latencies)
    print(
        f"reader median {median * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms, "
        f"while 4 senders made {sent[0]} unauthenticated 18.6 MB posts"
    )
    assert median < 0.5
