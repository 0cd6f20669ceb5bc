"""Provenance values shared by the readers: timestamps and the well-known marking ids.

Timestamps are stored as ISO-8601 strings in one canonical form
(``2024-05-01T10:20:30.000Z``) so that string order is time order, which is what the
writer's "newer ``modified`` wins" comparison relies on; range queries get ``*_epoch`` twins.
TLP names and levels themselves live in ``actorgraph.graph.tlp``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from actorgraph.graph.tlp import TLP

# The well-known marking-definition ids of TLP 1.0 (STIX 2.1 spec), TLP 2.0 (OASIS extension)
# and OpenCTI's amber+strict, so bundles that only reference them still resolve.
TLP_MARKING_IDS: dict[str, TLP] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,  # TLP 1.0 WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": TLP.CLEAR,  # TLP 2.0
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": TLP.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": TLP.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": TLP.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": TLP.RED,
    # OpenCTI's TLP:AMBER+STRICT (TLP 1.0 had none), which its exports and connectors reference.
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": TLP.AMBER_STRICT,
}
# Well-known marking definitions that are not TLP, so objects that only reference them change no
# marking (a reference to any other undefined marking reads as red: stix_reader.level_of). MITRE's
# cti repository holds one ATT&CK object per file, each referencing this copyright statement.
NON_TLP_MARKING_IDS: frozenset[str] = frozenset(
    {
        "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",  # MITRE's copyright
    }
)


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp, a date, an epoch number or a datetime; None when absent.

    Raises:
        ValueError: the value is present but not a timestamp.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return datetime.fromtimestamp(int(text), tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def iso(value: Any) -> str | None:
    """Canonical ISO-8601 string (UTC, milliseconds, ``Z``) of a timestamp; None when absent."""
    if isinstance(value, str):
        # Bundles repeat the same few created/modified strings thousands of times, and this
        # runs twice per object, so parsed strings are cached.
        return _iso_text(value)
    return _format(parse_time(value))


@lru_cache(maxsize=65_536)
def _iso_text(text: str) -> str | None:
    return _format(parse_time(text))


def _format(parsed: datetime | None) -> str | None:
    if parsed is None:
        return None
    d = parsed.astimezone(UTC)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f".{d.microsecond // 1000:03d}Z"
    )


def epoch(value: Any) -> int | None:
    """Epoch seconds of a timestamp; None when absent."""
    parsed = parse_time(value)
    return int(parsed.timestamp()) if parsed else None


def seen_props(first_seen: Any, last_seen: Any) -> dict[str, Any]:
    """``first_seen``/``last_seen`` with their ``*_epoch`` twins (absent values left out)."""
    out: dict[str, Any] = {}
    if first_seen is not None:
        out["first_seen"], out["first_seen_epoch"] = iso(first_seen), epoch(first_seen)
    if last_seen is not None:
        out["last_seen"], out["last_seen_epoch"] = iso(last_seen), epoch(last_seen)
    return out
