"""Cluster purity against the generator's truth (benchmarks/clusters.py) on a world smaller than
the demo's, with a floor the default settings must reach. Clustering without the hub cut is
printed beside it, not asserted: whether it falls below the floor on this world moved with the
model (RESULTS.md, stop 15).

The floor is on purity with activity of no actor ("noise") as one group, the generator drawing
it from one shared profile; the strict figure (each noise campaign a group of its own) is printed.
"""

from __future__ import annotations

import pytest

from benchmarks.clusters import run

SEED, SCALE = 1, 1000
# Six worlds tried (RESULTS.md): the default settings 0.67-1.00; on this one 0.88-1.00.
FLOOR = 0.8


@pytest.mark.slow  # a world, one training and the held-out activity stored: about 40 s
def test_clusters_group_unexplained_activity_as_generated(store, tmp_path):
    result = run(store, tmp_path / "models", tmp_path / "world", seed=SEED, scale=SCALE)
    default, no_hub_cut = result["default"], result["no_hub_cut"]
    one, loose = default["noise_as_one"], no_hub_cut["noise_as_one"]
    print(
        f"\npurity {one['pure']}/{one['clustered']} (strict {default['pure']}/"
        f"{default['clustered']}) in {default['clusters']} clusters; without the hub cut "
        f"{loose['pure']}/{loose['clustered']} (strict {no_hub_cut['pure']}/"
        f"{no_hub_cut['clustered']}) in {no_hub_cut['clusters']}"
    )
    assert one["groups_clustered"] >= 1  # some group's activity found together
    assert one["purity"] >= FLOOR
