"""``bulk._made_ahead``: the GRAPH.BULK commands made in a thread while the previous one is
sent come in order, a failure to make one reaches the caller, and a caller that stops early
leaves no thread behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from actorgraph.graph.ingest.bulk import _made_ahead


def test_items_come_in_order_and_all():
    assert list(_made_ahead(iter(range(1000)))) == list(range(1000))


def test_the_next_item_is_made_while_the_caller_holds_one():
    made = threading.Event()

    def items() -> Iterator[int]:
        yield 0
        made.set()
        yield 1

    ahead = _made_ahead(items())
    assert next(ahead) == 0
    assert made.wait(timeout=60), "item 1 was not made while the caller held item 0"
    assert list(ahead) == [1]


def test_a_failure_while_making_reaches_the_caller_after_what_was_made():
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("cannot pack")

    got: list[int] = []
    with pytest.raises(ValueError, match="cannot pack"):
        for item in _made_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_ends_the_thread():
    before = threading.active_count()
    ahead = _made_ahead(iter(range(100)))
    assert next(ahead) == 0
    ahead.close()  # as when sending a command fails
    assert threading.active_count() == before
