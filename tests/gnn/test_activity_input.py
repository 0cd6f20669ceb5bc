"""Activity input in every form ``actorgraph attribute`` and the API read: STIX bundles, MISP
events, the simple JSON form and text lists of indicators, and when the activity ran."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorgraph.gnn.activity import (
    activity_format,
    activity_from_misp,
    activity_from_simple,
    activity_from_stix,
    activity_from_text,
    load_activity,
    observed_span,
)
from actorgraph.graph.errors import IngestError, InvalidIndicator, StixIngestError, ValidationError
from tests.helpers.activity_inputs import EVENT as BASE_EVENT
from tests.helpers.activity_inputs import SIMPLE as BASE_SIMPLE

SHA = {"type": "sha256", "category": "Payload delivery", "value": "a" * 64}
EVENT = {**BASE_EVENT, "Attribute": [*BASE_EVENT["Attribute"], SHA]}
SIMPLE = {"indicators": [*BASE_SIMPLE["indicators"], "A" * 64]}
# As vendors publish them: a header, comments, defanged values, a file name after a tab,
# a repeated value, a Windows line end.
TEXT = (
    "# IOCs: Phishing wave\r\n"
    "SHA-256\tFile name\n"
    f"{'A' * 64}\tinvoice.exe\n"
    "\n"
    "// network\n"
    "evil[.]example\n"
    "203.0.113[.]7  C2\n"
    "hxxp://evil[.]example/x\n"
    "evil.example\n"
)


@pytest.mark.parametrize(
    ("data", "form"),
    [
        ({"type": "bundle", "id": "bundle--x", "objects": []}, "stix"),
        ({"Event": EVENT}, "misp"),
        ({"Event": "not an event"}, "misp"),
        (EVENT, "misp"),
        (SIMPLE, "simple"),
        ({"name": "x", "malware": ["m"]}, "simple"),
        ([1, 2], "simple"),
    ],
)
def test_the_form_of_parsed_input_is_told_in_one_place(data, form):
    assert activity_format(data) == form


def test_a_text_list_reads_first_fields_refanged_once_and_lists_what_is_no_indicator():
    act = activity_from_text(TEXT, name="iocs.txt")
    assert act.name == "iocs.txt"
    assert act.indicators == [
        f"sha256:{'a' * 64}",
        "domain:evil.example",
        "ipv4:203.0.113.7",
        "url:http://evil.example/x",
    ]
    assert [s["value"] for s in act.skipped] == ["SHA-256"]
    assert act.seen is None


def test_a_text_list_without_indicators_is_refused_clearly():
    with pytest.raises(ValidationError, match="empty"):
        activity_from_text("# only a comment\n\n   \n")
    with pytest.raises(InvalidIndicator, match="hello"):
        activity_from_text("hello world\n")


def test_a_misp_event_reads_as_the_same_indicators_dated_by_the_event():
    misp = activity_from_misp({"Event": EVENT}, name="event")
    simple = activity_from_simple(SIMPLE)
    assert sorted(misp.indicators) == sorted(simple.indicators)
    assert misp.seen is not None and misp.seen[0].startswith("2024-03-01")


def test_a_malformed_misp_wrapper_is_refused_as_a_misp_event(tmp_path: Path):
    bad = tmp_path / "event.json"
    bad.write_text(json.dumps({"Event": ["not", "an", "event"]}))
    with pytest.raises(IngestError, match="not a MISP event"):
        load_activity(bad)


def test_a_misp_attribute_pymisp_refuses_is_listed_first_and_the_rest_read():
    bad = {"type": "ip-src", "category": "Network activity", "value": "999.1.1.1"}
    act = activity_from_misp({**EVENT, "Attribute": [*EVENT["Attribute"], bad]})
    assert [s["value"] for s in act.skipped] == ["999.1.1.1"]
    assert "ipv4:203.0.113.7" in act.indicators


def test_files_of_every_form_load_alike(tmp_path: Path):
    files = {
        "event.json": json.dumps({"Event": EVENT}),
        "bare-event.json": json.dumps(EVENT),
        "simple.json": json.dumps(SIMPLE),
        "iocs.txt": TEXT,
        "bom.txt": "\ufeff" + TEXT,
    }
    read = {}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        read[name] = load_activity(tmp_path / name)
    expected = sorted(read["simple.json"].indicators)
    for name in ("event.json", "bare-event.json"):
        assert sorted(read[name].indicators) == expected, name
    for name in ("iocs.txt", "bom.txt"):
        assert set(expected) <= set(read[name].indicators), name


def test_a_file_that_starts_as_json_is_judged_as_json(tmp_path: Path):
    bad = tmp_path / "iocs.json"
    bad.write_text('  {"indicators": ["evil.example",]}')
    with pytest.raises(IngestError, match="not valid JSON"):
        load_activity(bad)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(IngestError, match="cannot read"):
        load_activity(binary)


def test_an_activity_runs_when_its_campaign_ran_else_when_it_was_observed():
    campaign = {"type": "campaign", "first_seen": "2024-04-18T00:00:00Z", "last_seen": "2024-07-05"}
    indicator = {"type": "indicator", "created": "2024-07-05T00:00:00Z", "valid_from": "2024-04-01"}
    old_server = {"type": "infrastructure", "created": "2018-01-01T00:00:00.000Z"}
    report = {"type": "report", "created": "2024-08-09T00:00:00Z", "published": "2024-08-09"}
    marking = {"type": "marking-definition", "created": "2017-01-20T00:00:00.000Z"}
    assert observed_span([marking, old_server, indicator, report, campaign]) == (
        "2024-04-18T00:00:00.000Z",
        "2024-07-05T00:00:00.000Z",
    )
    assert observed_span([marking, old_server, indicator, report]) == (
        "2024-04-01T00:00:00.000Z",
        "2024-07-05T00:00:00.000Z",
    )
    assert observed_span([marking, old_server, report]) is None


@pytest.mark.parametrize(
    "value",
    ["a" * 1_000_000, "1.2.3." + "4" * 100_000, "::" + "f" * 100_000, "b" * 300_000 + ".example"],
    ids=["hex", "ipv4", "ipv6", "domain"],
)
def test_a_huge_garbage_value_gives_a_short_error_and_keeps_the_value(value):
    with pytest.raises(InvalidIndicator) as caught:
        activity_from_text(value)
    assert len(str(caught.value)) < 600
    assert caught.value.value == value


def test_an_undated_object_with_a_garbage_date_is_a_clear_error_not_a_crash():
    observed = {
        "type": "observed-data",
        "id": "observed-data--00000000-0000-4000-8000-000000000002",
        "first_observed": "garbage",
    }
    with pytest.raises(StixIngestError, match="first_observed is not a timestamp"):
        observed_span([observed])
    assert observed_span([{**observed, "first_observed": "2024-05-01T00:00:00Z"}]) == (
        "2024-05-01T00:00:00.000Z",
        "2024-05-01T00:00:00.000Z",
    )


def _stamped(*objects: dict) -> dict:
    when = {"spec_version": "2.1", "created": "2026-01-01T00:00:00Z"}
    stamped = [{**o, **when, "modified": when["created"]} for o in objects]
    return {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-0000000000aa",
        "objects": stamped,
    }


def _uuid(k: int) -> str:
    return f"00000000-0000-4000-8000-{k:012d}"


def test_an_actors_home_country_is_no_target_of_the_activity():
    domain = {"type": "domain-name", "id": f"domain-name--{_uuid(1)}", "value": "new.example"}
    actor = {"type": "intrusion-set", "id": f"intrusion-set--{_uuid(2)}", "name": "Someone"}
    home = {"type": "location", "id": f"location--{_uuid(3)}", "country": "AE"}
    victim = {"type": "location", "id": f"location--{_uuid(4)}", "country": "DE"}
    bare = {"type": "location", "id": f"location--{_uuid(5)}", "country": "FR"}
    campaign = {"type": "campaign", "id": f"campaign--{_uuid(6)}", "name": "op"}

    def rel(k: int, kind: str, src: dict, dst: dict) -> dict:
        return {
            "type": "relationship",
            "id": f"relationship--{_uuid(k)}",
            "relationship_type": kind,
            "source_ref": src["id"],
            "target_ref": dst["id"],
        }

    act = activity_from_stix(
        _stamped(
            domain,
            actor,
            home,
            victim,
            bare,
            campaign,
            rel(7, "originates-from", actor, home),
            rel(8, "targets", campaign, victim),
        )
    )
    # What the bundle targets, and a location it states on its own (a victim's, as feeds list
    # them); not the country the actor comes from.
    assert act.targets == ["country:DE", "country:FR"]
    # A country an actor both comes from and targets is a target.
    both = activity_from_stix(
        _stamped(
            domain,
            actor,
            home,
            rel(7, "originates-from", actor, home),
            rel(8, "targets", actor, home),
        )
    )
    assert both.targets == ["country:AE"]


def test_deeply_nested_json_is_refused_as_json_not_a_crash(tmp_path: Path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    with pytest.raises(IngestError, match="not valid JSON: depth limit exceeded"):
        load_activity(deep)


def test_a_csv_list_reads_its_first_field_and_a_url_keeps_its_commas():
    act = activity_from_text(
        'indicator,type\n198.51.100.7,ip,c2\n"evil.example",domain\nhxxp://evil[.]example/a,b\n'
    )
    assert act.indicators == [
        "ipv4:198.51.100.7",
        "domain:evil.example",
        "url:http://evil.example/a,b",
    ]
    assert [s["value"] for s in act.skipped] == ["indicator"]
