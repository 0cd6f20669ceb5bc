"""Origins that sources disagree on: both kept, each with its source, in Cypher and the API."""

from __future__ import annotations

import json
from pathlib import Path

from actorgraph.api import reads
from actorgraph.graph.formats.galaxy import add_galaxy
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.ingest.writer import write_batch
from actorgraph.graph.tlp import TLP

ORIGIN = ("ThreatActor", "ORIGINATES_FROM", "Country")


def _galaxy_file(tmp_path: Path, country: str) -> Path:
    value = {
        "uuid": "u-1",
        "value": "Test Bear",
        "meta": {
            "synonyms": ["G9999", "Grey Otter"],
            "cfr-suspected-state-sponsor": country,
            "attribution-confidence": "75",
        },
    }
    path = tmp_path / "threat-actor.json"
    path.write_text(json.dumps({"version": 7, "values": [value]}))
    return path


def test_a_disagreeing_country_is_kept_beside_the_first_and_visible_in_cypher(store, tmp_path):
    batch = IngestBatch(source="mitre-attack")
    actor = "intrusion-set--test"
    batch.add_node(
        "ThreatActor",
        actor,
        {
            "name": "Test Bear",
            "external_id": "G9999",
            "aliases": [],
            "sources": ["mitre-attack"],
            "country": "RU",
            "country_source": "derived:description",
        },
    )
    batch.add_node("Country", "country:RU", {"code": "RU", "name": "Russia"})
    batch.add_edge(*ORIGIN, actor, "country:RU", {"country_source": "derived:description"})
    add_galaxy(batch, _galaxy_file(tmp_path, "Iran (Islamic Republic of)"))
    assert batch.nodes["ThreatActor"][actor]["country"] == "RU"
    assert batch.nodes["ThreatActor"][actor]["galaxy_aliases"] == ["Grey Otter"]
    write_batch(store, batch, max_tlp=TLP.RED)
    rows = store.query(
        "MATCH (a:ThreatActor {id: $id})-[r:ORIGINATES_FROM]->(c:Country) "
        "RETURN c.code AS code, r.country_source AS source, r.confidence AS confidence "
        "ORDER BY code",
        {"id": actor},
        read_only=True,
    )
    assert rows == [
        {"code": "IR", "source": "misp-galaxy@7", "confidence": 75},
        {"code": "RU", "source": "derived:description", "confidence": None},
    ]
    # The actor API shows the assessed origin and, beside it, every claim with its source.
    actor_row = reads.actor_profile(store, actor, max_tlp=TLP.RED)["actor"]
    assert (actor_row["country"], actor_row["country_source"]) == ("RU", "derived:description")
    assert [(o["code"], o["source"], o["confidence"]) for o in actor_row["origins"]] == [
        ("IR", "misp-galaxy@7", 75),
        ("RU", "derived:description", None),
    ]
