"""Hostile input to the readers: property tests and a mutation fuzz run of STIX and MISP ingest.

tests/graph/formats/test_indicators.py already checks idempotency, refang(defang(x)), IPv4
round trips, out-of-range octets, case and trailing dots, and hex lengths; this file adds what
those leave open: totality (any text, any kind, any type gives a value or ``InvalidIndicator``,
never another exception), the shape of every normalised value, spelling-invariance for IPv6,
hashes, ASNs and IDNs, and STIX patterns generated from their grammar.

The fuzz run mutates real bundles (tests/fixtures and a synthetic one) and ingests each mutant
into the real store: every outcome must be a report or a clean ``ActorgraphError``, and a
refused input must leave the graph's counts exactly as they were. Deterministic (seeded) and
bounded to a few hundred mutants.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import ipaddress
import json
import random
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from actorgraph.graph.errors import ActorgraphError, InvalidIndicator
from actorgraph.graph.formats.indicators import KINDS, normalize_indicator
from actorgraph.graph.formats.stix_patterns import parse_pattern
from actorgraph.graph.ingest import ingest_object, ingest_paths
from actorgraph.graph.tlp import TLP
from tests.helpers.paths import FIXTURES

PROPERTY = settings(
    derandomize=True,
    database=None,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# ------------------------------------------------------------------ indicator normalisation
hostile_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.printable, max_size=80),
    st.text(alphabet="0123456789abcdefABCDEF:.[]()/@ hxtpsHXTPS", max_size=80),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\u202e",
            "😀.example",
            "[.]",
            "hxxp://",
            "http://[::1",
            "a" * 5000,
            "1" * 400,
            "." * 300,
            "@@",
            "http://user@",
            "http://:80",
            "xn--",
            "xn--zz.example",
            "AS",
            "AS99999999999",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "1.2.3.4/33",
            "http://[fe80::1%25eth0]/",
        ]
    ),
)
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda ls, tld: ".".join([*ls, tld]),
    st.lists(_label, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)


def _normalise_or_refuse(value: Any, kind: str | None = None) -> tuple[str, str] | None:
    try:
        return normalize_indicator(value, kind)
    except InvalidIndicator as exc:
        assert exc.reason and isinstance(exc.value, str)
        return None


@PROPERTY
@given(
    hostile_text.filter(lambda v: "[" not in v and "]" not in v),
    st.one_of(st.none(), st.sampled_from(KINDS)),
)
def test_normalisation_is_total_on_any_text(value: str, kind: str | None) -> None:
    """Brackets are left out here: they are the known failure below."""
    out = _normalise_or_refuse(value, kind)
    if out is None:
        return
    got_kind, norm = out
    assert got_kind in KINDS and (kind is None or got_kind == kind)
    assert norm and norm == norm.strip()
    assert not any(c.isspace() or ord(c) < 32 for c in norm), repr(norm)
    # Whatever was accepted is a fixed point, under its own kind.
    assert normalize_indicator(norm, got_kind) == (got_kind, norm)


# urllib raises ValueError on odd brackets ('Invalid IPv6 URL', 'An IPv4 address cannot be in
# brackets'); such a value must be refused as an InvalidIndicator and listed as rejected, never
# escape as a ValueError (a crash in the CLI, a 500 in the API).
@pytest.mark.parametrize(
    "value", ["http://[::1", "hxxp://x]y.example/a", "http://[192.0.2.1]/", "a]b.example/x"]
)
def test_unbalanced_or_odd_brackets_are_refused_cleanly(value: str) -> None:
    assert _normalise_or_refuse(value) is None
    assert _normalise_or_refuse(value, "url") is None


def test_a_bundle_with_a_bracket_url_lists_it_as_rejected(store) -> None:
    bundle = _synthetic_bundle()
    bundle["objects"].append(
        {
            "type": "url",
            "spec_version": "2.1",
            "value": "http://[::1/x",
            "id": "url--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9d01",
        }
    )
    report = ingest_object(store, bundle, source="brackets", max_tlp=TLP.RED)
    assert [r.value for r in report.rejected] == ["http://[::1/x"]


@PROPERTY
@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.floats(allow_nan=True),
        st.binary(max_size=20),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    st.one_of(st.none(), st.sampled_from(KINDS)),
)
def test_non_strings_are_refused_cleanly(value: Any, kind: str | None) -> None:
    assert _normalise_or_refuse(value, kind) is None


@PROPERTY
@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_integers_are_asns_or_refused(n: int) -> None:
    out = _normalise_or_refuse(n)
    if 0 <= n <= 4_294_967_295:
        assert out == ("asn", f"AS{n}")
        assert normalize_indicator(f"AS{n}") == out == normalize_indicator(f"as {n}", "asn")
    else:
        assert out is None


@PROPERTY
@given(
    st.ip_addresses(v=6), st.sampled_from(["compressed", "exploded"]), st.booleans(), st.booleans()
)
def test_ipv6_spellings_agree(
    addr: ipaddress.IPv6Address, form: str, upper: bool, brackets: bool
) -> None:
    text = getattr(addr, form)
    text = text.upper() if upper else text
    text = f"[{text}]" if brackets else text
    assert normalize_indicator(text, "ipv6") == ("ipv6", addr.compressed)


@PROPERTY
@given(
    st.sampled_from(["md5", "sha1", "sha256", "sha512"]).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.text(
                alphabet="0123456789abcdef",
                min_size={"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}[k],
                max_size={"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}[k],
            ),
        )
    ),
    st.sampled_from(["", " ", "\t", "\n"]),
)
def test_hash_spellings_agree_and_kind_follows_length(kh: tuple[str, str], pad: str) -> None:
    kind, digest = kh
    assert normalize_indicator(pad + digest.upper() + pad) == (kind, digest)
    assert normalize_indicator(digest, kind) == (kind, digest)
    other = next(k for k in ("md5", "sha1", "sha256", "sha512") if k != kind)
    with pytest.raises(InvalidIndicator):
        normalize_indicator(digest, other)


@PROPERTY
@given(
    st.lists(
        st.sampled_from(["bücher", "münchen", "пример", "例え", "ελλάδα", "straße"]),
        min_size=1,
        max_size=2,
    ),
    st.sampled_from(["example", "com", "org"]),
)
def test_unicode_domains_become_their_punycode(labels: list[str], tld: str) -> None:
    unicode_name = ".".join([*labels, tld])
    kind, norm = normalize_indicator(unicode_name)
    assert kind == "domain" and norm.isascii() and norm == norm.lower()
    assert normalize_indicator(norm) == (kind, norm)
    if unicode_name.upper().lower() == unicode_name:  # "ß".upper() is "SS": another name
        assert normalize_indicator(unicode_name.upper()) == (kind, norm)


@PROPERTY
@given(
    domains,
    st.sampled_from(["http", "HTTP", "hxxp", "https", "hxxps"]),
    st.from_regex(r"(/[A-Za-z0-9_.-]{1,8}){0,3}", fullmatch=True),
)
def test_url_host_and_scheme_are_normalised_path_kept(domain: str, scheme: str, path: str) -> None:
    kind, norm = normalize_indicator(f"{scheme}://{domain.upper()}{path}")
    want_scheme = scheme.lower().replace("hxxp", "http")
    assert kind == "url"
    assert norm == f"{want_scheme}://{domain}{path or '/'}"


# ------------------------------------------------------------------ STIX patterns
def _stix_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


pattern_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)
PATHS = {
    "ipv4-addr:value": "ipv4",
    "ipv6-addr:value": "ipv6",
    "domain-name:value": "domain",
    "url:value": "url",
    "email-addr:value": "email",
    "file:hashes.'SHA-256'": "sha256",
    "file:hashes.MD5": "md5",
    "file:hashes.'SHA-1'": "sha1",
    "x509-certificate:hashes.'SHA-256'": "x509",
}
comparisons = st.tuples(st.sampled_from(sorted(PATHS)), pattern_values)


@PROPERTY
@given(
    st.lists(comparisons, min_size=1, max_size=5),
    st.sampled_from([" OR ", " AND "]),
    st.sampled_from(
        [
            "",
            " WITHIN 300 SECONDS",
            " REPEATS 2 TIMES",
            " START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
        ]
    ),
    st.booleans(),
)
def test_generated_patterns_give_back_their_values(
    comps: list[tuple[str, str]], joiner: str, qualifier: str, split: bool
) -> None:
    """Any value, quotes and backslashes included, comes back exactly, in order, deduplicated."""
    if split:  # one observation per comparison, joined by the same operator
        text = joiner.join(f"[{p} = {_stix_string(v)}]" for p, v in comps) + qualifier
        if qualifier and len(comps) > 1:
            text = f"({text.removesuffix(qualifier)}){qualifier}"
    else:
        text = "[" + joiner.join(f"{p} = {_stix_string(v)}" for p, v in comps) + "]" + qualifier
    want: list[tuple[str, str]] = []
    for path, value in comps:
        if (PATHS[path], value) not in want:
            want.append((PATHS[path], value))
    try:
        got = parse_pattern(text)
    except InvalidIndicator:
        # AND inside one observation across different object types is invalid STIX.
        assume(False)
    assert sorted(got) == sorted(want)


@PROPERTY
@given(st.lists(pattern_values, min_size=1, max_size=6))
def test_in_sets_list_every_member(values: list[str]) -> None:
    text = "[domain-name:value IN (" + ", ".join(_stix_string(v) for v in values) + ")]"
    assert parse_pattern(text) == [("domain", v) for v in dict.fromkeys(values)]


hostile_patterns = st.one_of(
    hostile_text,
    st.builds(lambda n: "[" * n + "ipv4-addr:value = '1.2.3.4'" + "]" * n, st.integers(0, 400)),
    st.builds(lambda n: "(" * n + "[ipv4-addr:value = '1.2.3.4']" + ")" * n, st.integers(0, 400)),
    st.builds(lambda s: f"[ipv4-addr:value = '{s}']", st.text(max_size=50)),
    st.builds(lambda a, b: f"[{a}:{b} = 'x']", st.text(max_size=10), st.text(max_size=10)),
    st.builds(
        lambda n: "[ipv4-addr:value = '1.2.3.4'" + " OR ipv4-addr:value = '1.2.3.4'" * n + "]",
        st.integers(0, 300),
    ),
)


@PROPERTY
@given(hostile_patterns)
def test_pattern_parsing_is_total(text: str) -> None:
    try:
        out = parse_pattern(text)
    except InvalidIndicator as exc:
        assert "invalid STIX pattern" in exc.reason
        return
    assert isinstance(out, list)
    assert all(kind is None or kind in KINDS for kind, _ in out)


# ------------------------------------------------------------------ reader fuzz
def _synthetic_bundle() -> dict[str, Any]:
    ts = "2025-01-01T00:00:00.000Z"
    base = {"spec_version": "2.1", "created": ts, "modified": ts}
    actor = "intrusion-set--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a01"
    camp = "campaign--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a02"
    objs: list[dict[str, Any]] = [
        {"type": "intrusion-set", "id": actor, "name": "Fuzz Bear", "aliases": ["FZ1"], **base},
        {"type": "campaign", "id": camp, "name": "Operation Fuzz", "first_seen": ts, **base},
        {
            "type": "relationship",
            "id": "relationship--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a03",
            "relationship_type": "attributed-to",
            "source_ref": camp,
            "target_ref": actor,
            **base,
        },
        {
            "type": "domain-name",
            "spec_version": "2.1",
            "id": "domain-name--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a04",
            "value": "fuzz-c2.example",
            "resolves_to_refs": ["ipv4-addr--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a05"],
        },
        {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": "ipv4-addr--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a05",
            "value": "203.0.113.77",
        },
    ]
    for k in range(6):
        ind = f"indicator--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9b{k:02d}"
        objs.append(
            {
                "type": "indicator",
                "id": ind,
                "pattern_type": "stix",
                "valid_from": ts,
                "pattern": f"[domain-name:value = 'f{k}.fuzz.example']",
                **base,
            }
        )
        objs.append(
            {
                "type": "relationship",
                "id": f"relationship--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9c{k:02d}",
                "relationship_type": "indicates",
                "source_ref": ind,
                "target_ref": camp,
                **base,
            }
        )
    return {"type": "bundle", "id": "bundle--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a00", "objects": objs}


def _seeds() -> list[tuple[str, Any]]:
    seeds = [("synthetic-stix", _synthetic_bundle())]
    for path in [
        FIXTURES / "stix" / "apt28_campaign.json",
        FIXTURES / "misp" / "apt28_phishing_event.json",
    ]:
        if path.exists():
            seeds.append((path.name, json.loads(path.read_text())))
    return seeds


WRONG_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**63,
    1e308,
    float("inf"),
    True,
    "",
    " ",
    "x" * 200_000,
    "\u202e\x00\ud7ff😀",
    [],
    [None],
    {},
    {"a": {"b": {"c": []}}},
    "indicator--not-a-uuid",
    "2025-13-45T99:99:99Z",
    "[ipv4-addr:value = '999.1.1.1']",
    "hxxp://evil[.]example",
    "' OR 1=1 //",
    "${jndi:ldap://x}",
]


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            _containers(v, out)
    elif isinstance(node, list):
        out.append(node)
        for v in node:
            _containers(v, out)
    return out


def _ids(node: Any) -> list[str]:
    return [
        c["id"]
        for c in _containers(node, [])
        if isinstance(c, dict) and isinstance(c.get("id"), str)
    ]


def mutate(doc: Any, rng: random.Random) -> tuple[Any, str]:
    """One random mutation of a parsed document; returns (mutant, what was done)."""
    doc = copy.deepcopy(doc)
    spots = _containers(doc, [])
    dicts = [c for c in spots if isinstance(c, dict) and c]
    lists = [c for c in spots if isinstance(c, list) and c]
    op = rng.choice(
        [
            "drop_key",
            "wrong_type",
            "wrong_type",
            "dangling_ref",
            "drop_item",
            "duplicate_item",
            "swap_value",
            "unicode_key",
            "nest",
            "replace_root",
        ]
    )
    if op == "drop_key" and dicts:
        d = rng.choice(dicts)
        key = rng.choice(sorted(d))
        del d[key]
        return doc, f"drop {key!r}"
    if op == "wrong_type" and dicts:
        d = rng.choice(dicts)
        key = rng.choice(sorted(d))
        d[key] = rng.choice(WRONG_VALUES)
        return doc, f"{key!r} = {str(d[key])[:40]!r}"
    if op == "dangling_ref" and dicts:
        ids = _ids(doc)
        refs = [(d, k) for d in dicts for k in d if k.endswith(("_ref", "_refs"))]
        if refs:
            d, k = rng.choice(refs)
            ghost = f"indicator--00000000-0000-4000-8000-{rng.randrange(10**12):012d}"
            d[k] = [ghost] if k.endswith("_refs") else ghost
            return doc, f"dangling {k}"
        if ids:
            return doc, "no refs"
    if op == "drop_item" and lists:
        lst = rng.choice(lists)
        lst.pop(rng.randrange(len(lst)))
        return doc, "drop list item"
    if op == "duplicate_item" and lists:
        lst = rng.choice(lists)
        item = copy.deepcopy(rng.choice(lst))
        if isinstance(item, dict) and "name" in item and rng.random() < 0.5:
            item["name"] = "changed " + str(item["name"])
        lst.append(item)
        return doc, "duplicate list item"
    if op == "swap_value" and len(dicts) > 1:
        a, b = rng.sample(dicts, 2)
        ka, kb = rng.choice(sorted(a)), rng.choice(sorted(b))
        a[ka], b[kb] = b[kb], a[ka]
        return doc, f"swap {ka!r}<->{kb!r}"
    if op == "unicode_key" and dicts:
        d = rng.choice(dicts)
        d[rng.choice(["\u0000", "ключ", "😀", "id ", "ID", "__proto__", "x" * 1000])] = "v"
        return doc, "odd key"
    if op == "nest":
        depth = rng.choice([20, 50])  # deeper nesting: see the nesting tests below
        deep: Any = "x"
        for _ in range(depth):
            deep = {"a": [deep]}
        if dicts:
            rng.choice(dicts)["x_deep"] = deep
        return doc, f"nest {depth}"
    root = rng.choice(
        [
            [],
            [doc],
            "bundle",
            42,
            {"type": "bundle"},
            {"type": "bundle", "objects": {}},
            {"Event": []},
            {"response": [{"Event": "x"}]},
            None,
        ]
    )
    return root, f"root {str(root)[:30]!r}"


def _totals(store) -> tuple[int, int]:
    h = store.health()
    return h["nodes"], h["relationships"]


FUZZ_MUTANTS = 200


def _mutants(seeds: list[tuple[str, Any]], seed: int, n: int):
    rng = random.Random(seed)
    for k in range(n):
        name, doc = seeds[k % len(seeds)]
        mutant, what = mutate(doc, rng)
        if rng.random() < 0.3:  # stack a second mutation
            mutant, more = mutate(mutant, rng)
            what += "; " + more
        yield k, name, mutant, what


@pytest.mark.slow
def test_fuzzed_inputs_never_write_partially(store) -> None:
    """Whatever a mutant raises, a refused input leaves the graph's counts as they were."""
    seeds = _seeds()
    for name, doc in seeds:  # the originals ingest, so mutants meet a populated graph
        ingest_object(store, doc, source=name, max_tlp=TLP.RED)
    outcomes = {"ingested": 0, "refused": 0, "crashed": 0}
    failures: list[str] = []
    for k, name, mutant, what in _mutants(seeds, 20261130, FUZZ_MUTANTS):
        before = _totals(store)
        try:
            ingest_object(store, mutant, source=f"fuzz-{k}", max_tlp=TLP.RED)
            outcomes["ingested"] += 1
            continue
        except ActorgraphError:
            outcomes["refused"] += 1
        except Exception:
            outcomes["crashed"] += 1
        after = _totals(store)
        if after != before:
            failures.append(f"#{k} {name} [{what}]: refused but counts {before} -> {after}")
    assert not failures, "\n".join(failures[:20])
    assert outcomes["refused"] > FUZZ_MUTANTS // 5 and outcomes["ingested"] > 10, outcomes


def _unclean_errors(seeds: list[tuple[str, Any]], n: int) -> list[str]:
    """Read (no store) ``n`` mutants; list those that raise anything but an ActorgraphError."""
    from actorgraph.graph.ingest import read_any

    found: dict[str, str] = {}
    for k, name, mutant, what in _mutants(seeds, 1, n):
        try:
            read_any(mutant, source=f"fuzz-{k}", max_tlp=TLP.RED)
        except ActorgraphError:
            pass
        except Exception as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else "?"
            found.setdefault(
                f"{type(exc).__name__} at {where}", f"#{k} {name} [{what}]: {str(exc)[:80]}"
            )
    return [f"{k}: {v}" for k, v in found.items()]


def test_fuzzed_stix_bundles_raise_only_actorgraph_errors() -> None:
    found = _unclean_errors([s for s in _seeds() if "Event" not in s[1]], 600)
    assert not found, "\n".join(found)


def test_fuzzed_misp_events_raise_only_actorgraph_errors() -> None:
    found = _unclean_errors([s for s in _seeds() if "Event" in s[1]], 600)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("cut", [0, 1, 17, 0.5, -2])
def test_truncated_files_are_refused_cleanly(store, tmp_path: Path, cut: float) -> None:
    for name, doc in _seeds():
        text = json.dumps(doc)
        n = (
            int(len(text) * cut)
            if isinstance(cut, float)
            else (cut if cut >= 0 else len(text) + cut)
        )
        path = tmp_path / f"{name}.json"
        path.write_text(text[:n])
        before = _totals(store)
        with pytest.raises(ActorgraphError):
            ingest_paths(store, [path], max_tlp=TLP.RED)
        assert _totals(store) == before


# A truncated .json.gz (EOFError), deeply nested JSON (RecursionError) and an integer literal
# over Python's int-string limit (ValueError) must each be refused as an ActorgraphError, never
# escape as a third-party exception (a crash in the CLI, a 500 in the API).
def test_truncated_gzip_is_refused_cleanly(store, tmp_path: Path) -> None:
    raw = gzip.compress(json.dumps(_synthetic_bundle()).encode())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ActorgraphError):
        ingest_paths(store, [path], max_tlp=TLP.RED)


def test_deeply_nested_json_file_is_refused_cleanly(store, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ActorgraphError):
        ingest_paths(store, [path], max_tlp=TLP.RED)


def test_huge_integer_literal_is_refused_cleanly(store, tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b'{"type": "bundle", "objects": [' + b"9" * 5000 + b"]}")
    with pytest.raises(ActorgraphError):
        ingest_paths(store, [path], max_tlp=TLP.RED)


def _deep(depth: int) -> Any:
    node: Any = "x"
    for _ in range(depth):
        node = {"a": [node]}
    return node


def test_deeply_nested_stix_property_is_harmless(store) -> None:
    bundle = _synthetic_bundle()
    bundle["objects"][0]["x_deep"] = _deep(500)
    with contextlib.suppress(ActorgraphError):
        ingest_object(store, bundle, source="deep", max_tlp=TLP.RED)


def test_deeply_nested_misp_property_is_refused_cleanly(store) -> None:
    event = json.loads((FIXTURES / "misp" / "apt28_phishing_event.json").read_text())
    event["Event"]["x_deep"] = _deep(500)
    before = _totals(store)
    try:
        ingest_object(store, event, source="deep", max_tlp=TLP.RED)
    except ActorgraphError:
        assert _totals(store) == before


def test_binary_and_odd_encodings_are_refused_cleanly(store, tmp_path: Path) -> None:
    bad = {
        "nul.json": b"\x00" * 64,
        "latin1.json": (
            '{"type": "bundle", "id": "bundle--x", "objects": [{"name": "caf\xe9"}]}'
        ).encode("latin-1"),
        "bom.json": b"\xef\xbb\xbf" + json.dumps({"type": "bundle"}).encode(),
        "nan.json": (
            b'{"type": "bundle", "id": "bundle--8d7a0f0a-5a4e-4f5e-9d1b-0d9f7b2e9a00", '
            b'"objects": [NaN]}'
        ),
        "fake.json.gz": b"\x1f\x8b not really gzip",
    }
    before = _totals(store)
    for name, raw in bad.items():
        path = tmp_path / name
        path.write_bytes(raw)
        try:
            ingest_paths(store, [path], max_tlp=TLP.RED)  # a BOM before valid JSON is fine
        except ActorgraphError:
            assert _totals(store) == before, name
