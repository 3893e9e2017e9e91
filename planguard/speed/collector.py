"""The cyclic garbage collector, off while planguard builds big object graphs."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from planguard.speed import teardown


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block, as it was after.

    A review allocates millions of small objects and frees them by reference
    counting; it makes next to no garbage cycles, so the collector would only
    walk live objects again and again: a tenth of a 50k-resource review
    (0.3 s), a quarter of a plan's load.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if teardown.is_one_shot():
                # Everything allocated meanwhile is in the youngest generation:
                # the first allocation after enable() would walk all of it
                # (0.14 s after a 10k-resource review). A one-shot process
                # keeps it to the end anyway.
                gc.freeze()
            gc.enable()


def freeze() -> None:
    """Move everything alive now out of the collector's sight for good (a
    worker process whose plan outlives every collection)."""
    gc.freeze()


def on() -> None:
    """The collector on for good: a long-running process (the run task server)
    started from a command that pauses it must collect its cycles."""
    gc.enable()
