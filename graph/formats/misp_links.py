"""Galaxy clusters and galaxy tags of a converted MISP event, linked to what the store holds.

misp-stix turns an event's galaxy clusters into STIX objects (a threat-actor cluster into a
``threat-actor``, an ATT&CK technique cluster into an ``attack-pattern``...) and its galaxy tags
that no cluster stands for into labels of the event (``misp-galaxy:threat-actor="APT28"``).
Read as they are, those objects would add a second APT28 beside the stored one, and overwrite
ATT&CK's own technique names with MISP's. So, over one event's STIX objects:

- an actor cluster (or tag) that names exactly one stored ThreatActor, by name or synonym,
  claims that actor (never a merge of two actors); an unknown cluster stays an actor of its
  own, an unknown tag is named in the ledger;
- an ATT&CK technique, malware or tool cluster (or tag) becomes the campaign's ``uses`` of the
  stored ATT&CK node it names (by ATT&CK id in ``"Name - T1059"``, else by name or alias), and
  is never created; one no single stored node answers is named in the ledger.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actorgraph.graph.formats.rows import IngestBatch

__all__ = [
    "ACTOR_GALAXIES",
    "ATTACK_GALAXIES",
    "NS",
    "ActorLookup",
    "AttackLookup",
    "Links",
    "galaxy_of",
    "link_to_store",
]

# Namespace of the uuids actorgraph derives for what a MISP event leaves out (an attribute's
# uuid) or what it adds to misp-stix's output (relationships): stable across reads.
NS = uuid.UUID("9c4e2a7e-1f0b-4c3d-8e5a-6b7c8d9e0f1a")

# Looks actors up by lower-cased names/aliases: returns name -> ThreatActor node id.
ActorLookup = Callable[[list[str]], dict[str, str]]
# Looks ATT&CK nodes up by ATT&CK ids and lower-cased names/aliases: returns each id or name
# found -> the (label, node id) pairs of the nodes it names.
AttackLookup = Callable[[list[str], list[str]], dict[str, list[tuple[str, str]]]]

ACTOR_GALAXIES = ("threat-actor", "mitre-intrusion-set")
# MISP galaxies of ATT&CK techniques and software -> the label of the ATT&CK nodes they name.
ATTACK_GALAXIES: dict[str, str] = {
    "mitre-attack-pattern": "Technique",
    "mitre-enterprise-attack-attack-pattern": "Technique",
    "mitre-mobile-attack-attack-pattern": "Technique",
    "mitre-ics-techniques": "Technique",
    "mitre-malware": "Malware",
    "mitre-enterprise-attack-malware": "Malware",
    "mitre-mobile-attack-malware": "Malware",
    "mitre-tool": "Tool",
    "mitre-enterprise-attack-tool": "Tool",
    "mitre-mobile-attack-tool": "Tool",
}
_TAG = re.compile(r'^misp-galaxy:([a-z0-9-]+)="(.+)"$')
_GALAXY_TYPE = re.compile(r'^misp:galaxy-type="([^"]+)"$')
# "Spearphishing Attachment - T1566.001", "Mimikatz - S0002": MISP's ATT&CK cluster values.
_ATTACK_VALUE = re.compile(r"^(.*?)\s+-\s+(T\d{4}(?:\.\d{3})?|S\d{4})$")
_TAG_ENTRY = "misp-galaxy-tag"


@dataclass
class Links:
    """One or more events' STIX objects after linking, and what the linking found.

    Attributes:
        objects: the objects to read (clusters that stand for stored nodes left out).
        found: stored node id -> its ``(label, node id)``, for the reader's ``resolve_ids``.
        notes: ledger entries ``(id, type, outcome, reason)`` of what left the bundle.
        skips: skip reasons, one per cluster or tag no stored node answers.
    """

    objects: list[dict[str, Any]] = field(default_factory=list)
    found: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    notes: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)

    def resolve(self, ids: set[str]) -> dict[str, list[tuple[str, str]]]:
        return {i: self.found[i] for i in ids if i in self.found}

    def account(self, batch: IngestBatch) -> None:
        """Name in the batch's ledger and skip counts what linking took out of the bundle."""
        for entry_id, entry_type, outcome, reason in self.notes:
            batch.ledger.note(entry_id, entry_type, outcome, reason)
        for reason in self.skips:
            batch.skip(reason)


def link_to_store(
    objects: list[dict[str, Any]],
    actor_lookup: ActorLookup | None,
    attack_lookup: AttackLookup | None,
    links: Links | None = None,
) -> Links:
    """Link one converted event's galaxy clusters and tags to the stored actors and ATT&CK
    nodes they name (see the module docstring); add the result to ``links``.

    Args:
        objects: the STIX objects of one event (``graph.formats.misp``), holding one campaign.
        actor_lookup: stored ThreatActor ids by lower-cased name or alias (None: none known).
        attack_lookup: stored ATT&CK nodes by ATT&CK id or lower-cased name (None: none known).
        links: results of earlier events of the same input, extended in place.
    """
    links = links if links is not None else Links()
    campaign = next(o for o in objects if o["type"] == "campaign")
    clusters = {o["id"]: o for o in objects if galaxy_of(o) is not None}
    cluster_tags = {label for o in clusters.values() for label in o.get("labels") or []}
    tags = [
        (f"{campaign['id']}/{label}", m.group(1), m.group(2))
        for label in dict.fromkeys(campaign.get("labels") or [])
        if (m := _TAG.match(str(label))) and label not in cluster_tags
    ]
    event = _Event(campaign, clusters, tags, links)
    _link_actors(event, actor_lookup)
    _link_attack(event, attack_lookup)
    replaced = event.replaced
    for obj in objects:
        if obj["id"] in replaced:
            continue
        if obj["type"] == "relationship" and (
            obj["source_ref"] in replaced or obj["target_ref"] in replaced
        ):
            src = replaced.get(obj["source_ref"], obj["source_ref"])
            dst = replaced.get(obj["target_ref"], obj["target_ref"])
            if src is None or dst is None:
                why = "relationship to a MISP galaxy cluster no stored node answers"
                links.notes.append((obj["id"], "relationship", "rejected", why))
                continue
            obj = {**obj, "source_ref": src, "target_ref": dst}
        links.objects.append(obj)
    links.objects += event.added
    return links


@dataclass
class _Event:
    """One event's galaxy clusters and tags while they are linked.

    Attributes:
        tags: ``(entry id, galaxy, value)`` of the galaxy tags no cluster stands for.
        replaced: cluster id -> the stored node id that stands for it (None: dropped).
        added: the campaign's relationships to stored nodes that tags or clusters named.
    """

    campaign: dict[str, Any]
    clusters: dict[str, dict[str, Any]]
    tags: list[tuple[str, str, str]]
    links: Links
    replaced: dict[str, str | None] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)

    def claim(self, entry_id: str, entry_type: str, rel: str, label: str, node_id: str) -> None:
        """The campaign ``rel`` the stored node that a cluster or tag names."""
        self.links.found[node_id] = [(label, node_id)]
        self.added.append(_claim(self.campaign, rel, node_id))
        self.links.notes.append((entry_id, entry_type, "landed", None))


def _link_actors(event: _Event, lookup: ActorLookup | None) -> None:
    actors = [
        o
        for o in event.clusters.values()
        if o["type"] in ("threat-actor", "intrusion-set") and galaxy_of(o) in ACTOR_GALAXIES
    ]
    tagged = [t for t in event.tags if t[1] in ACTOR_GALAXIES]
    names = {n.lower() for o in actors for n in _names(o)} | {v.lower() for _, _, v in tagged}
    known = lookup(sorted(names)) if lookup and names else {}
    for actor in actors:
        stored = next((known[n.lower()] for n in _names(actor) if n.lower() in known), None)
        if stored is not None:  # the claim goes to the stored actor, unchanged by MISP's copy
            event.replaced[actor["id"]] = stored
            event.links.found[stored] = [("ThreatActor", stored)]
            event.links.notes.append((actor["id"], actor["type"], "merged", None))
    for entry_id, kind, value in tagged:
        stored = known.get(value.lower())
        if stored is None:
            reason = f"MISP galaxy tag {kind} {value!r}: no single stored actor of that name"
            event.links.notes.append((entry_id, _TAG_ENTRY, "rejected", reason))
            continue
        event.claim(entry_id, _TAG_ENTRY, "attributed-to", "ThreatActor", stored)


def _link_attack(event: _Event, lookup: AttackLookup | None) -> None:
    wanted = [
        (o["id"], o["type"], kind, value)
        for o in event.clusters.values()
        if (kind := galaxy_of(o)) in ATTACK_GALAXIES
        for value in [_cluster_value(o, kind)]
    ]
    wanted += [
        (t, _TAG_ENTRY, kind, value) for t, kind, value in event.tags if kind in ATTACK_GALAXIES
    ]
    if not wanted:
        return
    parsed = {entry: _attack_value(entry[3]) for entry in wanted}
    ids = sorted({attack_id for _, attack_id in parsed.values() if attack_id})
    names = sorted({name.lower() for name, _ in parsed.values()})
    found = lookup(ids, names) if lookup else {}
    for (entry_id, entry_type, kind, value), (name, attack_id) in parsed.items():
        label = ATTACK_GALAXIES[kind]
        nodes = {n for n in found.get(attack_id or "", []) if n[0] == label}
        nodes = nodes or {n for n in found.get(name.lower(), []) if n[0] == label}
        is_cluster = entry_type != _TAG_ENTRY
        if len(nodes) == 1:
            ((_, node_id),) = nodes
            event.claim(entry_id, entry_type, "uses", label, node_id)
            if is_cluster:
                event.replaced[entry_id] = node_id
            continue
        if lookup is None:
            why = "no store to look ATT&CK up in"
        else:
            why = f"{len(nodes)} stored {label} nodes match" if nodes else f"no stored {label}"
        event.links.skips.append(f"MISP galaxy {kind} not mapped")
        reason = f"MISP galaxy {kind} {value!r}: not mapped ({why})"
        event.links.notes.append((entry_id, entry_type, "rejected", reason))
        if is_cluster:
            event.replaced[entry_id] = None  # never created: ATT&CK's nodes come from ATT&CK


def _claim(campaign: dict[str, Any], rel: str, target: str) -> dict[str, Any]:
    """The campaign's relationship to a stored node, with the campaign's provenance."""
    keep = ("created", "modified", "created_by_ref", "object_marking_refs")
    key = f"{rel}|{campaign['id']}|{target}"
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid5(NS, key)}",
        **{k: campaign[k] for k in keep if k in campaign},
        "relationship_type": rel,
        "source_ref": campaign["id"],
        "target_ref": target,
    }


def _names(obj: dict[str, Any]) -> list[str]:
    return [n for n in [obj.get("name"), *(obj.get("aliases") or [])] if isinstance(n, str)]


def galaxy_of(obj: dict[str, Any]) -> str | None:
    """The MISP galaxy type of an object misp-stix made of a galaxy cluster, else None."""
    for label in obj.get("labels") or []:
        m = _GALAXY_TYPE.match(str(label))
        if m:
            return m.group(1)
    return None


def _cluster_value(obj: dict[str, Any], kind: str) -> str:
    """The cluster's value as its tag names it (``"Mimikatz - S0002"``), else its name."""
    for label in obj.get("labels") or []:
        m = _TAG.match(str(label))
        if m and m.group(1) == kind:
            return m.group(2)
    return str(obj.get("name") or "")


def _attack_value(value: str) -> tuple[str, str | None]:
    """``(name, ATT&CK id)`` of a cluster value: ``"Mimikatz - S0002"`` -> ``("Mimikatz",
    "S0002")``; a value without an id is all name."""
    m = _ATTACK_VALUE.match(value.strip())
    return (m.group(1), m.group(2)) if m else (value.strip(), None)
