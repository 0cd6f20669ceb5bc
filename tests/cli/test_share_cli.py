"""``actorgraph export``, ``brief`` and ``takedown`` through a real subprocess and store."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import ag
from tests.helpers.paths import APT28_BUNDLE as FIXTURE


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("share-cli") / "home"
    ag(h, "store", "start")
    ag(h, "ingest", str(FIXTURE))
    yield h
    ag(h, "store", "stop", check=False)


def test_export_to_a_file(home, tmp_path):
    out = tmp_path / "apt28.json"
    proc = ag(home, "export", "--actor", "APT28", "--max-tlp", "amber", "--out", str(out))
    assert proc.stdout.startswith("wrote ") and "1 campaign" in proc.stdout
    bundle = json.loads(out.read_text())
    assert bundle["type"] == "bundle"
    assert "infrastructure--d09c50cf-5bab-465e-9e2d-543912148b73" not in out.read_text()  # red


def test_brief_and_takedown(home, tmp_path):
    md = ag(home, "brief", "Fancy Bear").stdout
    assert md.startswith("# APT28") and "Operation Frozen Inbox" in md
    page = tmp_path / "b.html"
    ag(home, "brief", "APT28", "--format", "html", "--out", str(page))
    assert page.read_text().startswith("<!DOCTYPE html>")
    summary = json.loads(
        ag(
            home, "takedown", "APT28", "--max-tlp", "amber", "--out", str(tmp_path / "td"), "--json"
        ).stdout
    )
    assert summary["actor"]["name"] == "APT28" and summary["domains"] == 1
    assert (tmp_path / "td" / "summary.json").exists()


def test_user_errors_are_clean(home):
    for args in (
        ["brief", "nobody"],
        ["takedown"],
        ["export", "--since", "soon"],
        ["export", "--max-tlp", "purple"],
        # Outputs that cannot be written: a folder, a full device, a missing folder.
        ["brief", "APT28", "--out", str(home)],
        ["export", "--actor", "APT28", "--out", "/dev/full"],
        ["query", "actor_search", "--export", str(home / "missing" / "x.json")],
    ):
        proc = ag(home, *args, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("actorgraph: error:") and "Traceback" not in proc.stderr


def test_export_attribution_results_as_stix(home, tmp_path):
    results = tmp_path / "results.jsonl"
    line = {
        "input": "activity.json",
        "model": {"version": "m1"},
        "candidates": [
            {
                "rank": 1,
                "actor_id": "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c",
                "name": "APT28",
                "score": 0.7,
            }
        ],
        "countries": [{"country": "RU", "score": 0.75}],
        "unknown": 0.2,
        "evidence": [],
    }
    results.write_text(json.dumps(line) + "\n" + json.dumps({**line, "input": "other.json"}) + "\n")
    out = tmp_path / "attribution.json"
    ag(home, "export", "--attribution", str(results), "--out", str(out))
    objects = json.loads(out.read_text())["objects"]
    campaigns = [o for o in objects if o["type"] == "campaign"]
    assert len(campaigns) == 2  # one per attributed input
    assert sorted(o["confidence"] for o in objects if o["type"] == "relationship") == [70, 70]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    proc = ag(home, "export", "--attribution", str(bad), check=False)
    assert proc.returncode == 2 and "cannot read attribution results" in proc.stderr


def test_export_attribution_marks_at_the_clearance_the_results_state(tmp_path):
    from actorgraph.commands.export import attribution_bundle
    from actorgraph.graph.formats.stix_out import TLP2_IDS

    line = {
        "model": {"version": "m1", "clearance": "green"},
        "candidates": [
            {"rank": 1, "actor_id": "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"}
            | {"score": 0.7}
        ],
        "unknown": 0.2,
    }
    unstated = {**line, "input": "b", "model": {"version": "m1"}}

    def marks(*lines: dict) -> set[str]:
        path = tmp_path / "results.jsonl"
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        bundle = attribution_bundle(path, None, top_k=3)
        return {
            ref
            for o in bundle["objects"]
            if o["type"] != "marking-definition"
            for ref in o["object_marking_refs"]
        }

    assert marks(line) == {TLP2_IDS["green"]}
    assert marks(
        line, {**line, "input": "b", "model": {"version": "m1", "clearance": "amber"}}
    ) == {TLP2_IDS["amber"]}
    # A result that does not state its clearance reads as red, and so does the whole file.
    assert marks(line, unstated) == {TLP2_IDS["red"]}
