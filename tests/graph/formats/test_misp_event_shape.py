"""A MISP event whose lists or times are not of MISP's shape is refused, naming the field.

A string where MISP writes a list was walked a character at a time ("Attribute": "notalist" was
refused as "attribute #0 ... 'n'"), or dropped unread ("Tag": "tlp:red" stored the event clear);
a bad ``date`` or timestamp reached misp-stix, which failed with "KeyError: 'objects'".

Covers graph/formats/misp.py (``_check_event``, ``_check_lists``), through ``read_misp`` and
``convert_misp_event`` (the attribution path).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from actorgraph.graph.errors import StixIngestError
from actorgraph.graph.formats.misp import convert_misp_event, read_misp
from tests.helpers import paths

EVENT = paths.FIXTURES / "misp" / "apt28_phishing_event.json"
EVENT_ID = "misp-event--5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0e0f"
CAMPAIGN = "campaign--5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0e0f"
Mutate = Callable[[dict[str, Any]], Any]


@pytest.fixture
def event() -> dict[str, Any]:
    return json.loads(EVENT.read_text())


def refused(event: dict[str, Any], mutate: Mutate, reason: str) -> None:
    mutate(event["Event"])
    with pytest.raises(StixIngestError, match=reason) as info:
        read_misp(event, source="bad.json")
    assert info.value.object_id == EVENT_ID


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda e: e.update(Attribute="notalist"),
            r"event 'Attribute' must be a list \(got str 'notalist'\)",
        ),
        (lambda e: e.update(Object="x"), r"event 'Object' must be a list \(got str 'x'\)"),
        (lambda e: e.update(Object={"a": 1}), r"event 'Object' must be a list \(got dict"),
        (lambda e: e.update(Tag="tlp:red"), r"event 'Tag' must be a list \(got str 'tlp:red'\)"),
        (lambda e: e.update(Galaxy="bad"), r"event 'Galaxy' must be a list \(got str 'bad'\)"),
        (
            lambda e: e["Object"][0].update(Attribute="x"),
            r"object #0 'Attribute' must be a list \(got str 'x'\)",
        ),
        (
            lambda e: e["Attribute"][1].update(Tag="tlp:red"),
            r"attribute #1 'Tag' must be a list \(got str 'tlp:red'\)",
        ),
        (
            lambda e: e["Galaxy"][0].update(GalaxyCluster="x"),
            r"galaxy #0 'GalaxyCluster' must be a list \(got str 'x'\)",
        ),
    ],
    ids=[
        "attribute",
        "object-str",
        "object-dict",
        "tag",
        "galaxy",
        "object-attribute",
        "attribute-tag",
        "galaxy-cluster",
    ],
)
def test_a_field_misp_writes_as_a_list_must_be_one(event, mutate, reason) -> None:
    refused(event, mutate, reason)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e.update(date="not-a-date"), r"'date' must be a day, YYYY-MM-DD, or an ISO"),
        (lambda e: e.update(date="2024-02-30"), "'date' must be a day"),
        (lambda e: e.update(date="2024-03-01Tnoon"), "'date' must be a day"),
        (lambda e: e.update(date=20240301), "'date' must be a day"),
        (
            lambda e: e.update(timestamp="xyz"),
            r"'timestamp' must be epoch seconds, an integer or a string of digits \(got 'xyz'\)",
        ),
        (lambda e: e.update(timestamp="99999999999999999"), "'timestamp' must be epoch seconds"),
        (lambda e: e.update(timestamp="2024-03-01T00:00:00Z"), "'timestamp' must be epoch"),
        (lambda e: e.update(timestamp=-5), "'timestamp' must be epoch seconds"),
        (lambda e: e.update(timestamp=1709290000.5), "'timestamp' must be epoch seconds"),
        (lambda e: e.update(publish_timestamp="xyz"), "'publish_timestamp' must be epoch"),
    ],
    ids=[
        "date-text",
        "date-feb-30",
        "date-bad-time",
        "date-int",
        "timestamp-text",
        "timestamp-huge",
        "timestamp-iso",
        "timestamp-negative",
        "timestamp-float",
        "publish-timestamp-text",
    ],
)
def test_a_bad_date_or_timestamp_is_named(event, mutate, reason) -> None:
    refused(event, mutate, reason)


def test_the_attribution_path_refuses_them_alike(event) -> None:
    event["Event"]["Attribute"] = "notalist"
    with pytest.raises(StixIngestError, match="event 'Attribute' must be a list"):
        convert_misp_event(event)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(timestamp=1709290000),
        lambda e: e.update(publish_timestamp="0"),
        lambda e: e.update(Tag=None, Galaxy=None),
        lambda e: e.pop("date"),
    ],
    ids=["int-timestamp", "unpublished", "null-lists", "no-date"],
)
def test_what_misp_writes_still_loads(event, mutate) -> None:
    mutate(event["Event"])
    assert CAMPAIGN in read_misp(event).nodes["Campaign"]


@pytest.mark.parametrize("day", ["2024-03-01", "2024-03-01T10:00:00Z", "2024-03-01 10:00:00"])
def test_a_date_as_misp_or_other_exporters_write_it_is_read(event, day) -> None:
    event["Event"]["date"] = day
    bundle, _ = convert_misp_event(event)
    [campaign] = [o for o in bundle["objects"] if o["type"] == "campaign"]
    assert campaign["first_seen"].startswith(day[:10])
