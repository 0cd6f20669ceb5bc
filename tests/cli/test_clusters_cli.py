"""``actorgraph clusters`` through a real subprocess and store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import ag

SETUP = """
CREATE (m:Malware {id: 'malware--rare', name: 'RareLoader'}),
       (t:Tool {id: 'tool--common', name: 'Common'}),
       (a:Campaign {id: 'campaign--a', name: 'a'}), (b:Campaign {id: 'campaign--b', name: 'b'}),
       (a)-[:USES]->(m), (b)-[:USES]->(m), (a)-[:USES]->(t), (b)-[:USES]->(t)
WITH t
UNWIND ['c', 'd', 'e', 'f'] AS k
CREATE (c:Campaign {id: 'campaign--' + k, name: k})-[:USES]->(t)
"""


def test_clusters_json_and_text(tmp_path: Path):
    home = tmp_path / "home"
    try:
        ag(home, "cypher", SETUP, "--write")
        out = json.loads(ag(home, "clusters", "--json").stdout)
        assert out["considered"] == 6
        [cluster] = out["clusters"]
        assert [c["id"] for c in cluster["campaigns"]] == ["campaign--a", "campaign--b"]
        assert [s["name"] for s in cluster["shared"]] == ["RareLoader"]
        text = ag(home, "clusters").stdout
        assert "6 unexplained campaigns, 1 clusters" in text and "RareLoader (2)" in text
    finally:
        ag(home, "store", "stop", check=False)


KNOWN = "CREATE (:ThreatActor {id: 'intrusion-set--known', name: 'Known'})"


def test_name_a_cluster_then_merge_it(tmp_path: Path):
    home = tmp_path / "home"
    try:
        ag(home, "cypher", SETUP, "--write")
        ag(home, "cypher", KNOWN, "--write")
        named = json.loads(
            ag(
                home,
                "clusters",
                "name",
                "campaign--a",
                "campaign--b",
                "--name",
                "UNC-2026-001",
                "--reason",
                "same loader",
                "--json",
            ).stdout
        )
        actor = named["actor"]
        assert actor["provisional"] is True and actor["created_by"].startswith("cli:")
        assert [d["campaign_id"] for d in named["decisions"]] == ["campaign--a", "campaign--b"]
        assert json.loads(ag(home, "clusters", "--json").stdout)["clusters"] == []
        taken = ag(
            home,
            "clusters",
            "name",
            "campaign--c",
            "--name",
            "UNC-2026-001",
            "--reason",
            "x",
            check=False,
        )
        assert taken.returncode != 0 and "exists" in taken.stderr
        merged = json.loads(
            ag(
                home,
                "clusters",
                "merge",
                actor["id"],
                "--merge-into",
                "intrusion-set--known",
                "--reason",
                "Known's loader",
                "--json",
            ).stdout
        )
        assert [d["actor_id"] for d in merged["decisions"]] == ["intrusion-set--known"] * 2
        actions = {e["action"] for e in json.loads(ag(home, "audit", "--json").stdout)}
        assert {"cluster.name", "cluster.merge", "decision"} <= actions
    finally:
        ag(home, "store", "stop", check=False)
