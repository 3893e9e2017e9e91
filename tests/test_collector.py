"""The collector's pause (planguard.speed.collector): a one-shot process ends
it without the collector walking what the pause made; any other process gets
its collector back as it was. Run in a child: the switch is process-wide."""

from __future__ import annotations

import subprocess
import sys

import pytest

_CHILD = """
import gc, sys
from planguard.speed import collector, teardown
if sys.argv[1] == "one-shot":
    teardown.one_shot()
with collector.paused():
    made = [[] for _ in range(10_000)]
print(gc.isenabled(), gc.get_freeze_count() >= 10_000)
"""


@pytest.mark.parametrize(("mode", "frozen"), [("one-shot", True), ("long-lived", False)])
def test_a_pause_ends_with_the_collector_on_and_frozen_only_in_a_one_shot_process(
    mode: str, frozen: bool
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", str(frozen)]
