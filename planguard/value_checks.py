"""Checks that read values run beside the rest, in a forked process.

On a big plan the checks that compare attribute values (protection settings,
renames, policies, network rules) cost as much as the dependency graph, the
impact and every other check together, and they need none of those. So before
the plans are loaded the process forks: the child loads the same files
without dependency edges (which only the graph needs), runs those checks and
sends their findings (plain data) back through a pipe, while the parent loads
the plans in full and goes on with the graph and the other checks. Forking
before the load keeps the two heaps apart: a child forked later would copy
page after page of the parent's heap as it touched it.

The parent merges the findings in the registry's order, so the result is the
same as running every check in turn; if the child fails in any way, or saw
different plans, the parent runs the same checks itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from planguard.config import Config
from planguard.findings import Finding
from planguard.registry import Check, run_check

if TYPE_CHECKING:
    from planguard.load import LoadOptions
    from planguard.speed.handoff import Handoff


# Below this much plan JSON in all, a second process costs about what it saves.
MIN_BYTES = 8 * 1024 * 1024

Results = list[dict[str, list[Finding]]]


class NoGraphHere:
    """What a check running beside the graph finds in place of the graph: any use is a
    crash, which becomes a blocking PG001 finding, never a silent pass."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("this check runs beside the graph and cannot read it")

    def __contains__(self, item: object) -> bool:
        raise RuntimeError("this check runs beside the graph and cannot read it")


@dataclass(frozen=True)
class ValueCheckJob:
    """What the child does: load `paths` as `options` say (without edges) and
    run the checks that may run beside the graph (CheckMeta.runs_beside_graph)
    among `checks` that `config` leaves enabled."""

    paths: list[str]
    options: LoadOptions
    checks: list[Check]
    config: Config
    source_dir: str | None = None
    # Whether the caller gives the plans file:line from their sources
    # (hcl.for_review), as the child then must too.
    locate: bool = True

    @property
    def checks_beside(self) -> list[Check]:
        disabled = self.config.disable
        return [c for c in self.checks if c.meta.runs_beside_graph and c.meta.id not in disabled]

    def run(self, handoff: Handoff | None = None) -> tuple[list[tuple[str, int]], Results]:
        """In the child: (source and change count of each plan, findings by plan).

        With a `handoff`, each Terraform plan's configuration references are
        resolved first and sent to the parent, which needs them for its graph
        (see ValueCheckChild.resolved): the parent meanwhile reads the rest of
        the plan, and this process has time to spare."""
        from planguard.catalog import Catalog
        from planguard.findings import Context
        from planguard.load import load, sources_wanted

        options = replace(self.options, edges=False)
        if handoff is not None:
            handoff.child_side()
            options = replace(options, resolved_to=lambda *message: handoff.send(message))
        try:
            plans = load(self.paths, options)
        finally:
            if handoff is not None:
                handoff.done_sending()
        if self.locate and sources_wanted(plans, [], None, self.source_dir):
            from planguard.load import hcl

            plans = hcl.for_review(plans, [], source_dir=self.source_dir)
        catalog = Catalog.load(self.config.data_bearing_types)
        checks = self.checks_beside
        results = []
        for plan in plans:
            graph: Any = NoGraphHere()
            ctx = Context(plan=plan, graph=graph, catalog=catalog, settings=self.config.checks)
            results.append({c.meta.id: run_check(ctx, c) for c in checks})
        return [(p.source, len(p.changes)) for p in plans], results


def wanted(job: ValueCheckJob) -> bool:
    """Whether forking pays: Terraform plan files, enough of them, two cores."""
    from planguard.load import terraform_bytes
    from planguard.speed import fork

    if not job.checks_beside:
        return False
    size = terraform_bytes(job.paths)  # a stat per file: asked first
    return size is not None and size >= MIN_BYTES and fork.available()


def start(job: ValueCheckJob) -> ValueCheckChild | None:
    """A `ValueCheckChild` when it pays and the system lets us fork; else None (the
    review then runs every check itself)."""
    if not wanted(job):
        return None
    try:
        return ValueCheckChild(job)
    except OSError:  # no processes or pipes left: one process will do
        return None


class ValueCheckChild:
    """A `ValueCheckJob` running in a forked child."""

    def __init__(self, job: ValueCheckJob) -> None:
        # Imported before the fork: both processes need them, the parent anyway.
        import planguard.catalog
        import planguard.load.terraform  # noqa: F401
        from planguard.speed import fork
        from planguard.speed.handoff import Handoff

        self._handoff = handoff = Handoff()
        try:
            self._child = fork.Child(lambda: job.run(handoff))
        except OSError:
            handoff.parent_side()
            handoff.stop()
            raise
        handoff.parent_side()
        self._checked = False
        self._results: Results | None = None

    def resolved(self, path: str, digest: bytes) -> Any:
        """What the child resolved the configuration references of plan `path`
        to (tfrefs.ConfigIndex.resource_targets), if it read the same
        configuration (`digest`); None: the caller resolves them itself.

        Plans are loaded in the same order in both processes, and the child
        sends one message for each Terraform plan, so the next message is for
        this plan or for one the caller did not ask about."""
        while True:
            message = self._handoff.receive()
            if message is None:
                return None
            sent_path, sent_digest, targets = message
            if sent_path == path:
                return targets if sent_digest == digest else None

    def results(self, plans: list[Any]) -> Results | None:
        """The child's findings for `plans` (as the parent loaded them), by
        plan and check id; None when the child failed or saw other plans."""
        if not self._checked:
            self._checked = True
            self._handoff.stop()  # a child still sending goes on to its checks
            found = self._child.result()
            if isinstance(found, tuple) and len(found) == 2:
                seen, results = found
                if seen == [(p.source, len(p.changes)) for p in plans]:
                    self._results = results
        return self._results

    def close(self) -> None:
        """Reap the child (see planguard.speed.fork.Child.close)."""
        self._handoff.stop()
        self._child.close()
