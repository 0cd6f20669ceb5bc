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
