"""Which of the summaries' candidate evidence paths the store is asked to confirm: only those
that can be shown.

An attribution shows at most ``per_actor`` paths per candidate actor, one per shared entity,
the strongest first (``gnn.evidence.evidence_paths``). With a model's summaries every candidate
path and its weight are known before the store is asked, so the store confirms only the paths
that would be shown if they all hold: per actor the ``per_actor`` strongest entities, and for
each the first ``per_round`` of its paths, strongest first. A path the store does not confirm
(revoked, or marked above the requester's clearance since training) makes room for the next
one, in another round. The work per attribution is then bounded by the number shown, not by how
much of the graph the activity touches (at a million indicators an activity's new IPs sit in
networks holding hundreds of an actor's past indicators).

The result is the one confirming every candidate would give: per actor, the ``per_actor``
entities whose strongest confirmed path is strongest (ties by entity id), each with its
strongest confirmed path (ties by ``order``, the order the store's rows are read in).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

ROUNDS = 3
"""Most round-trips one attribution makes; a path still unconfirmed after them is not shown."""


@dataclass(frozen=True)
class PathOption:
    """One candidate path from an actor to an entity of the activity.

    Attributes:
        actor: the candidate actor's id.
        entity: the activity's entity the path starts from.
        weight: the weight the path gets when confirmed.
        order: where its row is read among the store's rows (breaks ties between paths of equal
            weight to the same entity).
        branch: the ``KNOWN`` branch that confirms it (``gnn.evidence``).
        row: the parameters of that branch's row.
    """

    actor: str
    entity: str
    weight: float
    order: tuple[int, int]
    branch: str
    row: dict[str, Any] = field(compare=False)


Confirm = Callable[[list[PathOption]], list[dict[str, Any] | None]]
"""Asks the store about paths in one round-trip: for each, its row, or None if not confirmed."""


def confirm_best(
    options: Sequence[PathOption],
    actors: Sequence[str],
    confirm: Confirm,
    *,
    per_actor: int,
    per_round: int,
    rounds: int = ROUNDS,
) -> list[tuple[PathOption, dict[str, Any]]]:
    """The paths to show and their confirmed rows (see the module docstring), in ``order``.

    Args:
        options: every candidate path the summaries name.
        actors: the candidate actors.
        confirm: the store round-trip.
        per_actor: most entities shown per actor.
        per_round: most paths to one entity asked about in one round.
        rounds: most round-trips.
    """
    left: dict[tuple[str, str], list[PathOption]] = {}
    for o in sorted(options, key=lambda o: (-o.weight, o.order)):
        left.setdefault((o.actor, o.entity), []).append(o)
    shown: dict[tuple[str, str], tuple[PathOption, dict[str, Any]]] = {}
    for _ in range(rounds):
        ask: list[PathOption] = []
        for actor in actors:
            for key in _leading(actor, left, shown, per_actor):
                if key not in shown:
                    ask += left[key][:per_round]
        if not ask:
            break
        for key, found in _first_confirmed(ask, confirm(ask)).items():
            if found is not None:
                shown[key] = found
            else:
                del left[key][:per_round]
                if not left[key]:
                    del left[key]
    return sorted(shown.values(), key=lambda pair: pair[0].order)


def _leading(
    actor: str,
    left: dict[tuple[str, str], list[PathOption]],
    shown: dict[tuple[str, str], tuple[PathOption, dict[str, Any]]],
    per_actor: int,
) -> list[tuple[str, str]]:
    """The actor's ``per_actor`` entities with the strongest path still possible: the confirmed
    one, or else the strongest not yet refused."""

    def best(key: tuple[str, str]) -> float:
        return shown[key][0].weight if key in shown else left[key][0].weight

    keys = [k for k in left if k[0] == actor]
    return sorted(keys, key=lambda k: (-best(k), k[1]))[:per_actor]


def _first_confirmed(
    ask: list[PathOption], rows: list[dict[str, Any] | None]
) -> dict[tuple[str, str], tuple[PathOption, dict[str, Any]] | None]:
    """Per entity asked about, its first confirmed path (they were asked strongest first)."""
    out: dict[tuple[str, str], tuple[PathOption, dict[str, Any]] | None] = {}
    for option, row in zip(ask, rows, strict=True):
        key = (option.actor, option.entity)
        if out.get(key) is None:
            out[key] = None if row is None else (option, row)
    return out
