"""The worker pool that reviews several plan files at once (planguard.speed.fork.pool).

Workers take the next item from a pipe as they become free, in the order asked
for; each result comes back in a file of its own and is handed to `then` here
as it arrives. Whatever the order of work, results come back in the order of
the items, the error raised is the first failing item's, and a worker that
dies leaves no hang and no result.
"""

from __future__ import annotations

import os
import pickle
import signal
import time
from collections.abc import Callable

import pytest

from helpers import no_children_left
from planguard.speed import fork

pytestmark = pytest.mark.skipif(not fork.available(), reason="the pool needs fork")


def _echo(item: int) -> tuple[int, int, int]:
    """The item, the worker that did it and when."""
    return item, os.getpid(), time.monotonic_ns()


def _fail_on(bad: dict[int, float]) -> Callable[[int], int]:
    def work(item: int) -> int:
        if item in bad:
            time.sleep(bad[item])
            raise ValueError(f"item {item}")
        return item * 2

    return work


def test_results_come_back_in_item_order_with_then_run_here() -> None:
    parent = os.getpid()
    seen: list[int] = []

    def then(result: tuple[int, int, int]) -> tuple[int, int, int, int]:
        seen.append(os.getpid())
        return (*result, os.getpid())

    results = fork.pool(
        _echo, list(range(10)), jobs=2, order=[9, 8, 7, 6, 5, 4, 3, 2, 1, 0], then=then
    )
    assert [r[0] for r in results] == list(range(10))
    assert parent not in {r[1] for r in results}  # the work ran in the workers
    assert seen == [parent] * 10
    assert [r[3] for r in results] == [parent] * 10


def test_items_are_handed_out_in_the_order_asked() -> None:
    order = [3, 0, 4, 1, 2]
    results = fork.pool(_echo, list(range(5)), jobs=1, order=order)
    started = sorted(range(5), key=lambda i: results[i][2])
    assert started == order


def test_order_must_name_every_item_once() -> None:
    with pytest.raises(ValueError, match="every item once"):
        fork.pool(_echo, [1, 2, 3], order=[0, 0, 1])


def test_the_first_failing_item_in_order_is_raised() -> None:
    # Item 1 fails late, item 3 early: item 1's error is the one.
    with pytest.raises(ValueError, match="item 1"):
        fork.pool(_fail_on({1: 0.3, 3: 0.0}), list(range(5)), jobs=2)


def test_an_error_after_the_first_failure_is_not_the_one_raised() -> None:
    with pytest.raises(ValueError, match="item 0"):
        fork.pool(_fail_on({0: 0.2, 2: 0.0}), list(range(4)), jobs=2, order=[2, 0, 1, 3])


def test_more_items_than_a_pipe_holds_tokens_for() -> None:
    n = 3 * fork._PIPE_ROOM + 7
    results = fork.pool(_fail_on({}), list(range(n)), jobs=2)
    assert results == [2 * i for i in range(n)]


def _killed_at(victim: int) -> Callable[[int], int]:
    def work(item: int) -> int:
        if item == victim:
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    return work


def test_a_worker_that_dies_is_an_error_naming_its_item() -> None:
    with pytest.raises(fork.WorkerLost) as lost:
        fork.pool(_killed_at(2), list(range(6)), jobs=2)
    assert lost.value.index == 2
    assert "signal 9" in lost.value.how


def test_an_earlier_failure_wins_over_a_later_lost_worker() -> None:
    def work(item: int) -> int:
        if item == 1:
            time.sleep(0.2)
            raise ValueError("item 1")
        if item == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    with pytest.raises(ValueError, match="item 1"):
        fork.pool(work, list(range(5)), jobs=2)


class _Unpicklable(Exception):
    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("no")


def test_an_exception_that_cannot_travel_still_fails() -> None:
    def work(item: int) -> int:
        raise _Unpicklable("x")

    with pytest.raises(RuntimeError, match="_Unpicklable in a worker process"):
        fork.pool(work, [1, 2], jobs=2)


def test_an_error_in_then_is_that_items_error() -> None:
    def then(result: int) -> int:
        if result == 4:
            raise KeyError("then")
        return result

    with pytest.raises(KeyError):
        fork.pool(_fail_on({}), list(range(4)), jobs=2, then=then)


def test_no_worker_is_left_behind() -> None:
    fork.pool(_echo, list(range(4)), jobs=2)
    assert no_children_left()
    with pytest.raises(fork.WorkerLost):
        fork.pool(_killed_at(0), list(range(4)), jobs=2)
    assert no_children_left()
    with pytest.raises(ValueError):
        fork.pool(_fail_on({0: 0.0, 3: 1.0}), list(range(4)), jobs=2)
    assert no_children_left()


def _payload(item: int) -> tuple[int, pickle.PickleBuffer, bytes]:
    data = bytes([item]) * (1 << 20)
    return item, pickle.PickleBuffer(data), data[:10]


def test_buffers_travel_beside_the_pickle() -> None:
    """A PickleBuffer in a result is read where the worker left it, not copied."""
    results = fork.pool(_payload, [1, 2, 3], jobs=2)
    for item, (back, buffer, small) in zip([1, 2, 3], results, strict=True):
        assert back == item
        assert isinstance(buffer, memoryview)
        assert buffer.nbytes == 1 << 20 and bytes(buffer[:3]) == bytes([item]) * 3
        assert small == bytes([item]) * 10


def test_a_result_holds_no_file_once_read() -> None:
    """Each result's file is made by its worker and closed here once read:
    thousands of items never hold thousands of files (or their memory)."""
    before = len(os.listdir("/proc/self/fd"))
    counts: list[int] = []

    def then(result: tuple[int, pickle.PickleBuffer, bytes]) -> int:
        counts.append(len(os.listdir("/proc/self/fd")))
        return result[0]

    items = list(range(2000))
    assert fork.pool(_payload_small, items, jobs=2, then=then) == items
    assert max(counts) <= before + 8
    assert len(os.listdir("/proc/self/fd")) == before


def _payload_small(item: int) -> tuple[int, pickle.PickleBuffer, bytes]:
    return item, pickle.PickleBuffer(b"x" * 4096), b""


def test_no_items_no_workers() -> None:
    assert fork.pool(_echo, []) == []
