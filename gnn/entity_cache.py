"""What an entity brings to every clearance's model alike: its hub reason and its n-gram row.

``actorgraph train`` trains one model per TLP clearance on nested graphs (``gnn.clearances``):
most entities of a level are in every level above it, with the same properties. An entity's
hub reason (``HubList.reason``: warning-list and hub-list look-ups) and its naming n-grams
(``gnn.lexical.entity_ngrams``) are functions of its id and its own properties alone, so a
level may reuse what another level computed for the same entity with equal properties. No
level learns anything from another level's data this way: the remembered value is the one the
level would compute itself (an entity whose properties differ is computed again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn.dataset import ENTITY_TYPES, GraphSnapshot, same_properties
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.lexical import N_FEATURES, entity_ngrams


class MemoHubs(HubList):
    """A hub list that remembers each entity's reason by node id and properties."""

    def __init__(self, hubs: HubList) -> None:
        super().__init__(**{f.name: getattr(hubs, f.name) for f in fields(HubList)})
        self.memo: dict[str, tuple[dict[str, Any], str | None]] = {}

    def reason(self, node_id: str, props: dict[str, Any]) -> str | None:
        hit = self.memo.get(node_id)
        if hit is not None and same_properties(hit[0], props):
            return hit[1]
        found = super().reason(node_id, props)
        self.memo[node_id] = (props, found)
        return found


class EntityCache:
    """Hub reasons and n-gram rows of entities, shared by the models of one export."""

    def __init__(self, hubs: HubList) -> None:
        self.hubs = hubs if isinstance(hubs, MemoHubs) else MemoHubs(hubs)
        self._rows: sp.csr_matrix = sp.csr_matrix((0, N_FEATURES))
        self._row_of: dict[str, tuple[dict[str, Any], int]] = {}

    def ngrams(self, snap: GraphSnapshot, ids: Sequence[str]) -> sp.csr_matrix:
        """``entity_ngrams(snap, ids)``, computing only the entities not seen before."""
        missing = []
        for nid in ids:
            hit = self._row_of.get(nid)
            if hit is None or not same_properties(hit[0], snap.props[nid]):
                missing.append(nid)
        if missing:
            base = self._rows.shape[0]
            self._rows = sp.vstack([self._rows, entity_ngrams(snap, missing)], format="csr")
            for k, nid in enumerate(missing):
                self._row_of[nid] = (snap.props[nid], base + k)
        idx = np.fromiter((self._row_of[nid][1] for nid in ids), dtype=np.int64, count=len(ids))
        return self._rows[idx]

    def warm(self, snap: GraphSnapshot, lexical: bool = True) -> None:
        """Compute every entity of ``snap`` now (before levels train in other processes)."""
        ids = [nid for t in ENTITY_TYPES for nid in snap.nodes.get(t, [])]
        for nid in ids:
            self.hubs.reason(nid, snap.props[nid])
        if lexical:
            self.ngrams(snap, ids)

    def for_snapshot(self, snap: GraphSnapshot) -> EntityCache:
        """A cache holding only what is remembered for ``snap``'s entities (sent with the
        snapshot to a worker process: nothing of another level travels with it)."""
        out = EntityCache(MemoHubs(self.hubs))
        ids = [nid for t in ENTITY_TYPES for nid in snap.nodes.get(t, [])]
        keep: list[int] = []
        for nid in ids:
            props = snap.props[nid]
            hit = self.hubs.memo.get(nid)
            if hit is not None and same_properties(hit[0], props):
                out.hubs.memo[nid] = (props, hit[1])
            row = self._row_of.get(nid)
            if row is not None and same_properties(row[0], props):
                out._row_of[nid] = (props, len(keep))
                keep.append(row[1])
        out._rows = self._rows[np.array(keep, dtype=np.int64)]
        return out
