"""The entity space of a snapshot and its actors' profiles, built as training builds them."""

from __future__ import annotations

import scipy.sparse as sp

from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import EntitySpace, attribution_matrix, cluster_items, profiles
from actorgraph.gnn.hubs import HubList


def space_and_profiles(
    snap: GraphSnapshot, hubs: HubList | None = None
) -> tuple[EntitySpace, sp.csr_matrix]:
    """``snap``'s entity space (no warning-list hubs unless ``hubs``) and the (actors x
    entities) profiles: what each actor used directly and through its attributed campaigns."""
    space = EntitySpace.build(snap, hubs or HubList())
    prof = profiles(
        cluster_items(snap, space, "actor"),
        cluster_items(snap, space, "campaign"),
        attribution_matrix(snap),
    )
    return space, prof
