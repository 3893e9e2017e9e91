"""Checks that read values run beside the graph, in a forked process.

On a big plan the checks that compare attribute values (renames, protection
settings, policies, network rules) cost as much as building the dependency
graph, computing the impact and running every other check together, and they
need none of it. So the process forks once the plan is loaded: the child runs
those checks on its copy-on-write view of the plan and sends back their
findings (plain data) through a pipe, while the parent goes on with the graph.
The parent merges the findings in the registry's order, so the result is the
same as running every check in turn; if the child fails in any way, the
parent runs the same checks itself.
"""

from __future__ import annotations

import os
import pickle
import sys
import warnings
from typing import Any

from planguard.findings import Context, Finding
from planguard.model import Plan
from planguard.registry import Check, run_check

# Built-in checks that read attribute values and never the graph or the
# impact (tests/test_aside.py holds them to that).
ASIDE = frozenset({"PG106", "PG201", "PG301"})

# Below this many changes a fork costs about what it saves.
MIN_CHANGES = 2000


class NoGraph:
    """What a check running aside finds in place of the graph: any use is a
    crash, which becomes a blocking PG001 finding, never a silent pass."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("this check runs beside the graph and cannot read it")

    def __contains__(self, item: object) -> bool:
        raise RuntimeError("this check runs beside the graph and cannot read it")


def worthwhile(plan: Plan) -> bool:
    return (
        len(plan.changes) >= MIN_CHANGES
        and sys.platform == "linux"
        and len(os.sched_getaffinity(0)) >= 2
    )


class Aside:
    """The checks of `checks` in ASIDE, running in a forked child."""

    def __init__(self, ctx: Context, checks: list[Check]) -> None:
        self.checks = [c for c in checks if c.meta.id in ASIDE]
        self._ctx = ctx
        self._pid = 0
        self._read = -1
        if not self.checks:
            return
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking with threads (a TTY spinner's
            # timer may be one): the child touches no lock they hold.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: run, send, and leave without cleanup
            code = 1
            try:
                os.close(read)
                found = {c.meta.id: run_check(ctx, c) for c in self.checks}
                data = pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read = pid, read

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(c.meta.id for c in self.checks)

    def results(self) -> dict[str, list[Finding]]:
        """Findings by check id; run here instead when the child failed."""
        if not self.checks:
            return {}
        found: dict[str, list[Finding]] | None = None
        try:
            with os.fdopen(self._read, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(self._pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                found = pickle.loads(data)  # our own child's data
        except (OSError, pickle.UnpicklingError, EOFError):
            found = None
        if not isinstance(found, dict) or set(found) != self.ids:
            found = {c.meta.id: run_check(self._ctx, c) for c in self.checks}
        return found

    def cancel(self) -> None:
        """The review stopped early: let the child go."""
        if not self.checks or self._pid == 0:
            return
        try:
            os.close(self._read)
            os.waitpid(self._pid, 0)
        except OSError:
            pass
        self._pid = 0
