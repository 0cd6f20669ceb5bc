"""Only the evidence paths that can be shown are confirmed, and the result is the one confirming
every candidate path would give (``gnn.evidence_select``). The store is stood in for by a set of
the paths that hold: the selection itself never touches a store."""

from __future__ import annotations

from typing import Any

from actorgraph.gnn.evidence_select import PathOption, confirm_best


def _option(actor: str, entity: str, weight: float, order: int, branch: str = "b") -> PathOption:
    return PathOption(actor, entity, weight, (0, order), branch, {"id": f"{entity}/{order}"})


class _Store:
    """Confirms the paths whose row id it holds; records what each round asked."""

    def __init__(self, holds: set[str]) -> None:
        self.holds, self.rounds = holds, []

    def __call__(self, asked: list[PathOption]) -> list[dict[str, Any] | None]:
        self.rounds.append([o.row["id"] for o in asked])
        return [{"row": o.row["id"]} if o.row["id"] in self.holds else None for o in asked]


def _everything(
    options: list[PathOption], holds: set[str], per_actor: int
) -> list[tuple[str, str]]:
    """What confirming every path gives: per actor the ``per_actor`` entities whose strongest
    holding path is strongest, each with its first strongest path."""
    best: dict[tuple[str, str], PathOption] = {}
    for o in options:
        key = (o.actor, o.entity)
        if o.row["id"] in holds and (key not in best or o.weight > best[key].weight):
            best[key] = o
    out = []
    for actor in sorted({a for a, _ in best}):
        mine = sorted((v for k, v in best.items() if k[0] == actor), key=lambda o: -o.weight)
        out += [(o.actor, o.row["id"]) for o in mine[:per_actor]]
    return sorted(out)


def test_only_the_shown_paths_are_asked_about_when_all_hold():
    options = [_option("A", f"e{k}", 1.0 - k / 100, k) for k in range(40)]
    store = _Store({o.row["id"] for o in options})
    shown = confirm_best(options, ["A"], store, per_actor=5, per_round=3)
    assert [o.entity for o, _ in shown] == ["e0", "e1", "e2", "e3", "e4"]
    assert store.rounds == [["e0/0", "e1/1", "e2/2", "e3/3", "e4/4"]]


def test_a_refused_path_makes_room_for_the_next_and_the_result_is_the_full_ones():
    options = [
        # e0: the strongest path (direct) is refused, its campaign path holds.
        _option("A", "e0", 0.95, 0),
        _option("A", "e0", 0.80, 1),
        # e1 is refused altogether; e2, e3 hold; e4 would only show if another is refused.
        _option("A", "e1", 0.90, 2),
        _option("A", "e2", 0.85, 3),
        _option("A", "e3", 0.84, 4),
        _option("A", "e4", 0.50, 5),
        # Actor B: four paths of equal weight to one entity, the first three refused.
        *[_option("B", "x", 0.6, 10 + k) for k in range(4)],
    ]
    holds = {"e0/1", "e2/3", "e3/4", "e4/5", "x/13"}
    store = _Store(holds)
    shown = confirm_best(options, ["A", "B"], store, per_actor=3, per_round=3)
    got = sorted((o.actor, o.row["id"]) for o, _ in shown)
    assert got == _everything(options, holds, 3)
    assert got == [("A", "e0/1"), ("A", "e2/3"), ("A", "e3/4"), ("B", "x/13")]
    assert len(store.rounds) == 2
    assert "e4/5" not in {r for ids in store.rounds for r in ids}  # never needed


def test_equal_weights_show_the_first_path_in_order():
    options = [_option("A", "x", 0.6, k) for k in (3, 1, 2)]
    store = _Store({"x/1", "x/2", "x/3"})
    ((option, row),) = confirm_best(options, ["A"], store, per_actor=8, per_round=3)
    assert option.order == (0, 1) and row == {"row": "x/1"}


def test_rounds_are_capped():
    options = [_option("A", f"e{k}", 1.0 - k / 100, k) for k in range(10)]
    store = _Store({"e9/9"})  # only the weakest holds
    shown = confirm_best(options, ["A"], store, per_actor=1, per_round=3, rounds=2)
    assert shown == [] and len(store.rounds) == 2
    shown = confirm_best(options, ["A"], store, per_actor=1, per_round=3, rounds=10)
    assert [o.entity for o, _ in shown] == ["e9"]
