"""The console's world: the demo world of ``actorgraph demo`` (MITRE ATT&CK and the synthetic
clusters of the demo's seed, with their TLP mix: clear, green, amber, amber+strict, red) in a
temporary home, a few planted objects above clear with "SECRET" in their names, and the models
``actorgraph train`` makes, one per clearance. For the browser tests and ``make screenshots``.

The held-out activity the tests attribute is a known-actor campaign that the amber model ranks
first as a STIX bundle and from its indicator values alone (all a plain list or a MISP event of
the same values carries). The clear model, trained on the few clear clusters, mostly answers
"unknown": what a clear key sees is the point of the TLP test, not its ranking.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actorgraph.cli import main
from actorgraph.commands.demo import DEMO_SEED
from actorgraph.graph.store import GraphStore, StoreConfig, open_store
from actorgraph.graph.tlp import TLP
from actorgraph.world import stix as S
from tests.helpers.demo_world import load_demo_world

HELDOUT = "heldout/activity-0024.json"  # an Andariel campaign of 44 indicator values
SECRET = "SECRET"  # in every planted name, and in no name of the world or of ATT&CK
SECRET_CAMPAIGN = "SECRET Op Amber Harbour"
SECRET_ACTOR = "SECRET Amber Actor"
SECRET_RED_ACTOR = "SECRET Red Actor"
RED_CAMPAIGN = S.sdo_id("campaign", "secret-red-solo")
AMBER_ACTOR = S.sdo_id("intrusion-set", "secret-amber-actor")
_PLANTED_AT = "2026-11-01T00:00:00.000Z"  # newest first on an actor page: never cut off
# Indicator kind -> the MISP attribute type that carries it.
MISP_TYPES = {
    "domain": "domain",
    "ipv4": "ip-dst",
    "ipv6": "ip-dst",
    "url": "url",
    "email": "email-src",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "x509": "x509-fingerprint-sha256",
}


@dataclass(frozen=True)
class ConsoleWorld:
    """A trained demo home: where it is, the held-out activity and its truth."""

    home: Path
    world: Path
    heldout: dict[str, Any]  # the STIX bundle of HELDOUT
    truth: dict[str, Any]  # its heldout_labels.json entry (actor_id, actor_name, ...)

    def indicator_ids(self) -> list[str]:
        """The held-out bundle's indicators as the model reads them (``kind:value``)."""
        from actorgraph.gnn.activity import activity_from_stix

        return activity_from_stix(self.heldout).indicators

    def indicator_values(self) -> list[str]:
        """The held-out bundle's indicator values, as an analyst would paste them."""
        return [i.split(":", 1)[1] for i in self.indicator_ids()]

    def misp_event(self) -> dict[str, Any]:
        """The held-out indicators as a bare MISP event (``{"Event": ...}`` wraps it)."""
        attributes = [
            {"type": MISP_TYPES[kind], "category": "Network activity", "value": value}
            for kind, value in (i.split(":", 1) for i in self.indicator_ids())
        ]
        return {
            "uuid": "0e5c2a4b-7d3e-4f6a-9b1c-2d3e4f5a6b7c",
            "info": "Held-out activity shared over MISP",
            "date": "2025-01-15",
            "Attribute": attributes,
        }


def planted(actor_id: str) -> dict[str, Any]:
    """A bundle of objects above clear: an amber campaign of ``actor_id`` (a clear ATT&CK
    actor), an amber actor and a red actor, each campaign with a C2 indicator of its own."""
    amber, red = [S.TLP_IDS["amber"]], [S.TLP_IDS["red"]]
    objects: list[dict[str, Any]] = [S.tlp_marking("amber"), S.tlp_marking("red")]

    def campaign(key: str, name: str, marking: list[str], attributed_to: str) -> None:
        cid = S.sdo_id("campaign", key)
        ind = S.sdo_id("indicator", key)
        objects.extend(
            [
                S.sdo("campaign", cid, _PLANTED_AT, name=name, first_seen=_PLANTED_AT,
                      object_marking_refs=marking),
                S.sdo("indicator", ind, _PLANTED_AT, pattern_type="stix",
                      pattern=f"[domain-name:value = '{key}-c2.example']",
                      valid_from=_PLANTED_AT, object_marking_refs=marking),
                S.sdo("relationship", S.sdo_id("relationship", f"{key}|a"), _PLANTED_AT,
                      relationship_type="attributed-to", source_ref=cid, target_ref=attributed_to,
                      object_marking_refs=marking),
                S.sdo("relationship", S.sdo_id("relationship", f"{key}|i"), _PLANTED_AT,
                      relationship_type="indicates", source_ref=ind, target_ref=cid,
                      object_marking_refs=marking),
            ]
        )  # fmt: skip

    amber_actor = AMBER_ACTOR
    red_actor = S.sdo_id("intrusion-set", "secret-red-actor")
    objects += [
        S.sdo("intrusion-set", amber_actor, _PLANTED_AT, name=SECRET_ACTOR, aliases=[SECRET_ACTOR],
              object_marking_refs=amber),
        S.sdo("intrusion-set", red_actor, _PLANTED_AT, name=SECRET_RED_ACTOR,
              aliases=[SECRET_RED_ACTOR], object_marking_refs=red),
    ]  # fmt: skip
    campaign("secret-amber-harbour", SECRET_CAMPAIGN, amber, actor_id)
    campaign("secret-amber-solo", "SECRET Op Amber Solo", amber, amber_actor)
    campaign("secret-red-solo", "SECRET Op Red Solo", red, red_actor)
    return {"type": "bundle", "id": S.sdo_id("bundle", "secret-planted"), "objects": objects}


def build_console_world(home: Path, *, plant: bool = True) -> ConsoleWorld:
    """Load ATT&CK, the demo world and (with ``plant``) the planted objects into the embedded
    store of ``home`` and train its models (about a minute and a half on two cores). The store
    keeps running: stop it with ``tests.helpers.console.stop_home``."""
    from actorgraph.graph.ingest import ingest_object

    world = home / "world"
    store = open_store(StoreConfig(home=home))
    try:
        store.ensure_schema()
        load_demo_world(store, world)
        truth = json.loads((world / "heldout_labels.json").read_text())[HELDOUT]
        if plant:
            ingest_object(store, planted(truth["actor_id"]), "planted", max_tlp=TLP.RED)
    finally:
        store.close()
    with redirect_stdout(io.StringIO()):
        args = ["--home", str(home), "train", "--seed", str(DEMO_SEED), "--json"]
        assert main(args) == 0
    heldout = json.loads((world / HELDOUT).read_text())
    return ConsoleWorld(home=home, world=world, heldout=heldout, truth=truth)


# Every name, value and id of the nodes a clear key may not see, less those a visible node
# carries too (a shared certificate subject, a sample file name).
_HIDDEN = "MATCH (n) WHERE n.tlp_level > 0 RETURN n.id AS id, n.name AS name, n.value AS value"
_SHOWN = (
    "MATCH (n) WHERE coalesce(n.tlp_level, 0) = 0 "
    "RETURN n.id AS id, n.name AS name, n.value AS value"
)


def hidden_from_clear(store: GraphStore) -> set[str]:
    """The strings that only objects marked above clear carry: none may reach a clear key."""
    hidden = {str(v) for row in store.query(_HIDDEN, read_only=True) for v in row.values() if v}
    shown = "\n".join(
        str(v) for row in store.query(_SHOWN, read_only=True) for v in row.values() if v
    )
    return {s for s in hidden if s not in shown}


def leaks(text: str, hidden: set[str], pasted: str) -> list[str]:
    """The hidden strings that ``text`` shows, less those the analyst pasted themselves."""
    return sorted(s for s in hidden if s in text and s not in pasted)
