"""Indicator refanging, normalisation and validation (graph/formats/indicators.py)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actorgraph.graph.errors import InvalidIndicator
from actorgraph.graph.formats.indicators import (
    MAX_URL_CHARS,
    defang,
    indicator_id,
    normalize_indicator,
    refang,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hxxp://evil[.]example/a", "http://evil.example/a"),
        ("hXXps://evil(.)example", "https://evil.example"),
        ("evil{.}example", "evil.example"),
        ("evil[dot]example", "evil.example"),
        ("http[:]//evil.example", "http://evil.example"),
        ("user[at]mail[.]example", "user@mail.example"),
        ("user(at)mail.example", "user@mail.example"),
        ("198.51.100[.]7", "198.51.100.7"),
        ("plain.example", "plain.example"),
    ],
)
def test_refang(raw: str, expected: str) -> None:
    assert refang(raw) == expected


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("198.51.100.7", None, ("ipv4", "198.51.100.7")),
        (" 198.51.100[.]7 ", None, ("ipv4", "198.51.100.7")),
        ("198.51.100.7/32", "ipv4", ("ipv4", "198.51.100.7")),
        ("2001:DB8:0:0::1", None, ("ipv6", "2001:db8::1")),
        ("[2001:db8::1]", "ipv6", ("ipv6", "2001:db8::1")),
        ("Evil.Example.", None, ("domain", "evil.example")),
        ("evil[.]co(.)uk", "domain", ("domain", "evil.co.uk")),
        ("bücher.example", None, ("domain", "xn--bcher-kva.example")),
        ("hxxps://Evil[.]Example/Path?q=1", None, ("url", "https://evil.example/Path?q=1")),
        ("evil.example/dl/payload.bin", "url", ("url", "http://evil.example/dl/payload.bin")),
        ("http://198.51.100.7:8080/x", None, ("url", "http://198.51.100.7:8080/x")),
        ("Press[at]Mod-Gov[.]example", None, ("email", "press@mod-gov.example")),
        ("D41D8CD98F00B204E9800998ECF8427E", None, ("md5", "d41d8cd98f00b204e9800998ecf8427e")),
        (
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            None,
            ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ),
        (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256",
            ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ),
        ("a" * 128, None, ("sha512", "a" * 128)),
        ("AB:CD:" + "ef" * 18, "x509", ("x509", "abcd" + "ef" * 18)),
        ("as15169", None, ("asn", "AS15169")),
        ("15169", "asn", ("asn", "AS15169")),
    ],
)
def test_normalize_valid(raw: str, kind: str | None, expected: tuple[str, str]) -> None:
    assert normalize_indicator(raw, kind) == expected


def test_normalize_asn_int() -> None:
    assert normalize_indicator(64500, "asn") == ("asn", "AS64500")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        ("999.1.1.1", None, "not a valid IPv4 address"),
        ("999.1.1.1", "ipv4", "not a valid IPv4 address"),
        ("010.1.1.1", "ipv4", "not a valid IPv4 address"),
        ("10.0.0.0/8", None, "network range"),
        ("da39a3ee5e6b4b0d3255bfef95601890afd8070", "sha1", "needs 40 hex characters, got 39"),
        (
            "da39a3ee5e6b4b0d3255bfef95601890afd8070",
            None,
            "39 hex characters is no known hash length",
        ),
        ("zz39a3ee5e6b4b0d3255bfef95601890afd80709", "sha1", "must be hexadecimal"),
        ("localhost", None, "not a recognised indicator"),
        ("localhost", "domain", "without a top-level domain"),
        ("evil.123", "domain", "invalid top-level domain"),
        ("-bad-.example", "domain", "invalid domain label"),
        ("", None, "empty"),
        ("   ", "domain", "empty"),
        ("javascript:alert(1)", "url", "invalid"),
        ("gopher://evil.example/", "url", "unsupported URL scheme"),
        ("http:///nohost", "url", "without a host"),
        ("http://evil.example:99999/", "url", "invalid port"),
        ("@example.com", "email", "not an e-mail address"),
        ("AS99999999999", "asn", "not an AS number"),
        ("1234", "x509", "certificate fingerprint"),
        ("hello world", None, "not a recognised indicator"),
        ("198.51.100.7", "ja3", "unknown indicator kind"),
    ],
)
def test_normalize_rejects(raw: str, kind: str | None, reason: str) -> None:
    with pytest.raises(InvalidIndicator, match=reason) as info:
        normalize_indicator(raw, kind)
    assert info.value.value == raw


def test_url_length_is_bounded() -> None:
    path = "/" + "a" * (MAX_URL_CHARS - len("http://evil.example/"))
    assert normalize_indicator("http://evil.example" + path, "url")[1].endswith("a")
    with pytest.raises(InvalidIndicator, match="URL longer than 8,192 characters") as info:
        normalize_indicator("http://evil.example" + path + "a")
    assert len(str(info.value)) < 400  # the value is quoted, not repeated whole


def test_indicator_id() -> None:
    assert indicator_id(*normalize_indicator("Evil[.]Example.")) == "domain:evil.example"


# ------------------------------------------------------------------ properties
# Derandomised: the same examples every run (deterministic CI), no example database on disk.
PROPERTY = settings(derandomize=True, database=None, max_examples=200)
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_label, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)
ipv4s = st.ip_addresses(v=4).map(str)
ipv6s = st.ip_addresses(v=6).map(str)
hashes = st.sampled_from([32, 40, 64, 128]).flatmap(
    lambda n: st.text(alphabet="0123456789abcdefABCDEF", min_size=n, max_size=n)
)
paths = st.from_regex(r"(/[A-Za-z0-9_.-]{1,8}){0,3}", fullmatch=True)
urls = st.builds(
    lambda s, d, p: f"{s}://{d}{p}", st.sampled_from(["http", "https"]), domains, paths
)
emails = st.builds(
    lambda u, d: f"{u}@{d}", st.from_regex(r"[a-z0-9._-]{1,12}", fullmatch=True), domains
)
indicators = st.one_of(domains, ipv4s, ipv6s, hashes, urls, emails)


@PROPERTY
@given(indicators)
def test_normalisation_is_idempotent(value: str) -> None:
    kind, norm = normalize_indicator(value)
    assert normalize_indicator(norm) == (kind, norm)
    assert normalize_indicator(norm, kind) == (kind, norm)


@PROPERTY
@given(st.one_of(domains, urls, emails, ipv4s))
def test_refang_undoes_defang(value: str) -> None:
    assert refang(defang(value)) == value
    assert normalize_indicator(defang(value)) == normalize_indicator(value)


@PROPERTY
@given(ipv4s)
def test_ipv4_round_trips(value: str) -> None:
    assert normalize_indicator(value) == ("ipv4", str(ipaddress.IPv4Address(value)))


@PROPERTY
@given(st.integers(min_value=256, max_value=99_999), ipv4s)
def test_out_of_range_octet_is_rejected(octet: int, addr: str) -> None:
    bad = ".".join([str(octet), *addr.split(".")[1:]])
    with pytest.raises(InvalidIndicator):
        normalize_indicator(bad)


@PROPERTY
@given(domains)
def test_case_and_trailing_dot_do_not_matter(domain: str) -> None:
    assert normalize_indicator(domain.upper() + ".") == ("domain", domain)


@PROPERTY
@given(st.integers(min_value=1, max_value=200).filter(lambda n: n not in (32, 40, 64, 128)))
def test_hex_of_no_hash_length_is_rejected(n: int) -> None:
    with pytest.raises(InvalidIndicator):
        normalize_indicator("a" * n, "sha256")
