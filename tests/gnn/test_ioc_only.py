"""``benchmarks/ioc_only.py``: an activity as a vendor's IOC report shows it."""

from __future__ import annotations

from benchmarks.ioc_only import ioc_only

IND = "indicator--11111111-1111-4111-8111-111111111111"
MAL = "malware--22222222-2222-4222-8222-222222222222"
TECH = "attack-pattern--33333333-3333-4333-8333-333333333333"
CAMP = "campaign--44444444-4444-4444-8444-444444444444"


def _rel(n: int, src: str, dst: str) -> dict:
    return {
        "type": "relationship",
        "id": f"relationship--55555555-5555-4555-8555-55555555555{n}",
        "source_ref": src,
        "target_ref": dst,
    }


def test_techniques_software_and_their_relationships_go_indicators_stay():
    objects = [
        {"type": "campaign", "id": CAMP},
        {"type": "indicator", "id": IND, "pattern": "[domain-name:value = 'a.example']"},
        {"type": "malware", "id": MAL},
        {"type": "attack-pattern", "id": TECH},
        _rel(0, IND, CAMP),
        _rel(1, CAMP, MAL),
        _rel(2, IND, TECH),
    ]
    out = ioc_only({"type": "bundle", "id": "bundle--x", "objects": objects})
    assert out is not None
    assert [o["id"] for o in out["objects"]] == [CAMP, IND, objects[4]["id"]]


def test_a_bundle_without_indicators_gives_nothing():
    objects = [{"type": "campaign", "id": CAMP}, {"type": "malware", "id": MAL}, _rel(1, CAMP, MAL)]
    assert ioc_only({"type": "bundle", "id": "bundle--x", "objects": objects}) is None
