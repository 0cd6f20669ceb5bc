"""Tiny STIX 2.1 objects and bundles for reader and ingest tests: fixed ids and timestamps."""

from __future__ import annotations

from typing import Any

T0 = "2024-01-01T00:00:00.000Z"


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    """A bundle with a fixed id holding ``objects``."""
    return {
        "type": "bundle",
        "id": "bundle--6b0e3f1c-2d4a-4b5c-9d6e-7f8091a2b3c4",
        "objects": list(objects),
    }


def sdo(stix_type: str, n: int, **props: Any) -> dict[str, Any]:
    """An SDO of ``stix_type`` whose id ends in ``n``, created and modified at ``T0``."""
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--00000000-0000-4000-8000-{n:012d}",
        "created": T0,
        "modified": T0,
        **props,
    }


# What each type needs besides the property under test (the reports refer to ``sdo``'s actor 1).
REQUIRED: dict[str, dict[str, Any]] = {
    "intrusion-set": {"name": "Quiet Group"},
    "threat-actor": {"name": "Quiet Person"},
    "campaign": {"name": "Op"},
    "malware": {"name": "QuietRAT", "is_family": True},
    "tool": {"name": "quietcat"},
    "attack-pattern": {"name": "Phishing"},
    "infrastructure": {"name": "c2"},
    "identity": {"name": "Energy", "identity_class": "class"},
    "indicator": {
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": T0,
    },
    "report": {
        "name": "r",
        "published": T0,
        "object_refs": ["intrusion-set--00000000-0000-4000-8000-000000000001"],
    },
}


def object_with(stix_type: str, prop: str, value: Any) -> dict[str, Any]:
    """A valid object of ``stix_type`` (id ending in 9) but for ``prop`` set to ``value``."""
    if stix_type == "domain-name":
        body = {"type": stix_type, "id": f"{stix_type}--00000000-0000-4000-8000-000000000009"}
        return body | {"spec_version": "2.1", "value": "quiet.example", prop: value}
    return sdo(stix_type, 9, **(REQUIRED[stix_type] | {prop: value}))
