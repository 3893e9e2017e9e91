"""The review pipeline: plans → graph → checks → policy → Verdict."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from planguard import __version__
from planguard.catalog import Catalog
from planguard.config import UNTUNABLE, Config
from planguard.errors import InputError, PlanguardError
from planguard.facts import DestructiveRow, Facts, facts_of
from planguard.findings import Context, Finding
from planguard.graph import DependencyGraph, Impact
from planguard.load import terraform_bytes
from planguard.model import Plan
from planguard.policy import Verdict
from planguard.registry import Check, run_check

if TYPE_CHECKING:
    from planguard.value_checks import ValueCheckChild


@dataclass
class PlanReview:
    plan: Plan
    graph: DependencyGraph
    impacts: dict[str, Impact]
    findings: list[Finding]
    catalog: Catalog
    # What reports show besides findings, worked out while values are loaded.
    facts: Facts
    # Parts of the reports already worked out, by report (see ReportParts):
    # a report uses them in place of working them out again.
    parts: dict[str, Any] = field(default_factory=dict)


class ReportParts(Protocol):
    """What the reports a front end is about to render will want of each plan,
    worked out while its graph and impact are at hand (planguard.speed.parts):
    by the worker process that reviewed it, so the parent does not build them
    again and the workers do it side by side; or, in a single review, while it
    waits for its value checks (review_plan)."""

    # Whether anything will ask a review back from a worker for its graph or
    # impact; when not, the worker sends no edges, and asking is an error.
    needs_graph: bool

    def ready(self) -> None:
        """Before the first `make` (and before workers are forked): what every
        `make` needs imported."""

    def make(self, pr: PlanReview) -> Any:
        """In the worker, or in a single review: the parts, as plain data."""

    def take(self, pr: PlanReview, made: Any) -> None:
        """Here: `made` (from `make`) into `pr.parts`."""


def drop_values(pr: PlanReview) -> None:
    """Let go of the plan's attribute values once the checks have run.

    Reports read values only for the destructive rows (protection settings),
    which are worked out first; the rest of a Terraform plan's values are
    views into the plan file's bytes, so dropping them frees the largest
    thing a review holds before the reports are rendered.
    """
    from planguard import values

    for change in (*pr.plan.changes, *pr.plan.drift):
        if change.attributes is not None:
            change.attributes.release()
    values.forget_recent()


@dataclass(frozen=True)
class TrustReport:
    """Where the run's settings came from, and what the change's own would do."""

    source: str = "the working tree"
    local: bool = True
    # Why the trusted commit could not be read (built-in defaults applied).
    problem: str | None = None
    weakened: int = 0  # PG002 findings: ways the change lowers its own gate
    # The verdict under the change's own settings, once merged (when weakened).
    if_merged: Verdict | None = None

    def notes(self) -> list[str]:
        if self.local:
            return []
        out = [f"settings (policy, ignores, acknowledgements, user checks) from {self.source}"]
        if self.problem:
            out.append(
                f"the trusted commit could not be read ({self.problem}): built-in defaults apply"
            )
        if self.if_merged is not None:
            state = "blocked" if self.if_merged.blocked else "passes"
            hidden = len(self.if_merged.suppressed)
            out.append(
                f"with this change's own settings, once merged, the verdict would be: {state} "
                f"({hidden} finding(s) suppressed)"
            )
        return out


@dataclass
class Review:
    plans: list[PlanReview]
    verdict: Verdict
    config: Config
    checks: list[Check]
    version: str = __version__
    trust: TrustReport = field(default_factory=TrustReport)
    # Each plan's name in acknowledgements (its path in the repository), by source.
    plan_keys: dict[str, str] = field(default_factory=dict)
    # False where no acknowledgement counts (the run task): reports then do not
    # suggest one.
    acks_apply: bool = True

    @property
    def predicted(self) -> bool:
        return any(r.plan.predicted for r in self.plans)


def review_plan(
    plan: Plan,
    checks: list[Check],
    config: Config,
    *,
    beside: Callable[[], dict[str, list[Finding]] | None] | None = None,
    parts: ReportParts | None = None,
) -> PlanReview:
    """Graph, impact and checks of one plan, findings in check order.

    `beside` gives the findings of the checks run beside the review (see
    planguard.value_checks), or None when they could not be had: it is asked only
    once every other check has run, and whatever it lacks is run here. The
    report `parts` are made just before it is asked: on a big plan this process
    would otherwise wait for the other there, and make them later.
    """
    catalog = Catalog.load(config.data_bearing_types)
    enabled = [c for c in checks if c.meta.id in UNTUNABLE or c.meta.id not in config.disable]
    graph = DependencyGraph(plan)
    cycles = graph.cycles(limit=1)
    if cycles:
        raise InputError(plan.source, f"dependency cycle: {_cycle_text(cycles[0])}")
    ctx = Context(plan=plan, graph=graph, catalog=catalog, settings=config.checks)
    later = {c.meta.id for c in enabled if c.meta.runs_beside_graph} if beside else set()
    found = {c.meta.id: run_check(ctx, c) for c in enabled if c.meta.id not in later}
    # What every report needs and no finding changes: done while any checks
    # beside finish, and while the values it reads are loaded.
    facts = facts_of(plan, ctx.impacts, catalog)
    pr = PlanReview(plan, graph, ctx.impacts, [], catalog, facts)
    if beside is not None:
        if parts is not None:  # no part reads a finding
            parts.ready()
            parts.take(pr, parts.make(pr))
        done = beside() or {}
        for c in enabled:
            if c.meta.id not in found:
                found[c.meta.id] = done[c.meta.id] if c.meta.id in done else run_check(ctx, c)
    pr.findings = [f for c in enabled for f in found[c.meta.id]]
    return pr


def _cycle_text(cycle: list[str], shown: int = 5) -> str:
    """A cycle as a message shows it: the first few resources and how many in all."""
    if len(cycle) <= shown:
        return " → ".join([*cycle, cycle[0]])
    return " → ".join(cycle[:shown]) + f" → … ({len(cycle)} resources in the cycle)"


def review_plans(
    plans: list[Plan],
    checks: list[Check],
    config: Config,
    *,
    value_checks: ValueCheckChild | None = None,
    parts: ReportParts | None = None,
) -> list[PlanReview]:
    """Review every plan; `value_checks` runs the value-reading checks of `plans` in
    another process, and meanwhile each plan's report `parts` are made."""
    if value_checks is None:
        return [review_plan(plan, checks, config) for plan in plans]
    return [
        review_plan(plan, checks, config, beside=_beside(value_checks, plans, i), parts=parts)
        for i, plan in enumerate(plans)
    ]


def _beside(
    child: ValueCheckChild, plans: list[Plan], i: int
) -> Callable[[], dict[str, list[Finding]] | None]:
    def get() -> dict[str, list[Finding]] | None:
        results = child.results(plans)
        return results[i] if results is not None else None

    return get


# -- several plan files at once ---------------------------------------------------

# Below this much plan JSON in all, starting worker processes costs more than
# reviewing the files one after the other saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


def review_files(
    paths: list[str],
    checks: list[Check],
    config: Config,
    *,
    max_bytes: int,
    source_dir: str | None = None,
    jobs: int | None = None,
    done: Callable[[int, int], None] | None = None,
    parts: ReportParts | None = None,
) -> list[PlanReview] | None:
    """Load and review several Terraform plan files at once, in worker
    processes (as many as the machine has cores), each taking the next file
    when it is free (planguard.speed.fork.pool).

    The reviews come back in the order of `paths`, and an error is the one the
    first failing file (in that order) raised, as if they ran one by one.
    None when a pool would not pay or not do: a single file, little JSON in
    all, or any input that is not a Terraform plan file (CloudFormation inputs
    are combined, so they are loaded together, the ordinary way).
    `done(finished, total)` is called as files finish; `parts` are worked
    out in the workers.
    """
    from planguard.speed import fork

    size = terraform_bytes(paths)  # None: not every input is a Terraform plan file
    workers = min(len(paths), jobs or fork.cores())
    if workers < 2 or not fork.available() or size is None or size < PARALLEL_MIN_BYTES:
        return None
    work = functools.partial(
        _review_file,
        checks=checks,
        config=config,
        max_bytes=max_bytes,
        source_dir=source_dir,
        parts=parts,
    )
    # The largest first: the last file to finish is then a small one, and
    # neither worker waits long for the other at the end.
    sizes = [_size(path) for path in paths]
    order = sorted(range(len(paths)), key=lambda i: -sizes[i])
    unpack = functools.partial(_unpack_all, parts=parts)
    if parts is not None:
        parts.ready()
    try:
        reviewed = fork.pool(work, paths, jobs=workers, done=done, order=order, then=unpack)
    except fork.NoWorkers:
        return None  # no process to fork now: one process will do
    except fork.WorkerLost as lost:
        # Killed (out of memory, say): no review of that file, so no verdict.
        raise PlanguardError(
            f"{paths[lost.index]}: the process reviewing this file {lost.how}; "
            "the review did not complete"
        ) from None
    return [r for per_file in reviewed for r in per_file]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _unpack_all(packed: list[_Packed], parts: ReportParts | None) -> list[PlanReview]:
    """Here, as each file's reviews arrive: the workers go on meanwhile."""
    return [_unpack(p, parts) for p in packed]


def _review_file(
    path: str,
    *,
    checks: list[Check],
    config: Config,
    max_bytes: int,
    source_dir: str | None,
    parts: ReportParts | None = None,
) -> list[_Packed]:
    """In a worker: what `planguard review` does for one plan file, up to the verdict."""
    from planguard.load import LoadOptions, load, sources_wanted

    # The previous file's reviews are freed now, not before its result went
    # back: a worker's last file is then never freed at all (it exits
    # without), and its result arrives that much sooner (~25 ms a 10k plan).
    _last_reviewed.clear()
    plans = load([path], LoadOptions(max_bytes=max_bytes))
    if sources_wanted(plans, [], None, source_dir):
        from planguard.load import hcl as hcl_load

        plans = hcl_load.for_review(plans, [], source_dir=source_dir)
    from planguard.speed import collector

    collector.freeze()  # the plan outlives every collection in this worker
    reviews = [review_plan(plan, checks, config) for plan in plans]
    _last_reviewed.extend(reviews)
    return [_pack(pr, parts) for pr in reviews]


# In a worker, the reviews of the file it did last (see _review_file).
_last_reviewed: list[PlanReview] = []


# A review on its way back from a worker: the plan as msgpack (without
# attribute values; a pickle.PickleBuffer, read back as a memoryview), the
# findings, the catalogue, the facts with each destructive row's change given
# by its position, the report parts made, and whether the plan's edges came.
_Packed = tuple[Any, list[Finding], Catalog, list[tuple[Any, ...]], dict[str, int], Any, bool]


def _pack(pr: PlanReview, parts: ReportParts | None = None) -> _Packed:
    """What the parent needs of a review, cheap to send: pickling the plan with
    its values would cost about half the plan file, and as long as the review.
    The facts were worked out here, while the values were loaded."""
    import pickle

    plan = pr.plan
    position = {id(c): i for i, c in enumerate(plan.changes)}
    # The reports ask only about what the impact reaches (the picture draws
    # nothing else): the edges the review walked answer them all. None at all
    # when the parts made here are all that will be asked of the graph.
    with_graph = parts is None or parts.needs_graph
    bare = msgspec.structs.replace(plan, edges=pr.graph.walked_edges() if with_graph else [])
    rows = [
        (position[id(r.change)], r.action, r.reason, r.data_kind, r.protection, r.downstream)
        for r in pr.facts.rows
    ]
    made = parts.make(pr) if parts is not None else None
    # Sent beside the pickle, not copied into it (planguard.speed.fork).
    data = pickle.PickleBuffer(_without_values(bare))
    return data, pr.findings, pr.catalog, rows, dict(pr.facts.counts), made, with_graph


def _without_values(plan: Plan) -> bytes:
    """`plan` as msgpack, its changes' values left behind (none in their
    place): each change's values are set aside for the encode and put back
    after. Quicker than the encoder asking about each change's values (13 ms
    of 33 ms at 10k) or than copying every change without them (47 ms);
    a change is frozen, so it is set with force_setattr, in this process
    alone, and given back exactly what it had."""
    changes = [c for c in (*plan.changes, *plan.drift) if c.attributes is not None]
    held = [c.attributes for c in changes]
    set_ = msgspec.structs.force_setattr
    try:
        for change in changes:
            set_(change, "attributes", None)
        return _encoder().encode(plan)
    finally:
        for change, attributes in zip(changes, held, strict=True):
            set_(change, "attributes", attributes)


@functools.cache
def _encoder() -> msgspec.msgpack.Encoder:
    return msgspec.msgpack.Encoder(enc_hook=_values_stay)


def _values_stay(obj: Any) -> Any:
    from planguard.values import Attributes

    if isinstance(obj, Attributes):
        return None
    raise NotImplementedError(f"{type(obj).__name__} cannot go back from a worker")


def _no_values(type_: type, obj: Any) -> Any:
    raise TypeError(f"{type_.__name__} cannot come back from a worker")


def _unpack(packed: _Packed, parts: ReportParts | None = None) -> PlanReview:
    data, findings, catalog, rows, counts, made, with_graph = packed
    plan = msgspec.msgpack.decode(data, type=Plan, dec_hook=_no_values)
    facts = Facts(tuple(DestructiveRow(plan.changes[i], *rest) for i, *rest in rows), counts)
    pr = _Returned(plan, findings, catalog, facts, with_graph=with_graph)
    if parts is not None and made is not None:
        parts.take(pr, made)
    return pr


class _Returned(PlanReview):
    """A review back from a worker: its graph and impact are built again from
    the edges the worker walked only when something asks for them (the
    reports whose parts the worker made do not). Sent without edges, it has
    no graph to give: asking is a crash, never an empty graph."""

    def __init__(
        self,
        plan: Plan,
        findings: list[Finding],
        catalog: Catalog,
        facts: Facts,
        *,
        with_graph: bool = True,
    ) -> None:
        self._graph: DependencyGraph | None = None
        self._impacts: dict[str, Impact] | None = None
        self._with_graph = with_graph
        super().__init__(plan, None, None, findings, catalog, facts)  # type: ignore[arg-type]

    @property
    def graph(self) -> DependencyGraph:
        if self._graph is None:
            if not self._with_graph:
                # Held (a check's context), never read: PG002 reads no graph.
                return _NoGraph()  # type: ignore[return-value]
            self._graph = DependencyGraph(self.plan)
        return self._graph

    @graph.setter
    def graph(self, value: DependencyGraph | None) -> None:
        self._graph = value

    @property
    def impacts(self) -> dict[str, Impact]:
        if self._impacts is None:
            if not self._with_graph:
                raise _NoGraph.error()
            self._impacts = {i.address: i for i in self.graph.impact()}
        return self._impacts

    @impacts.setter
    def impacts(self, value: dict[str, Impact] | None) -> None:
        self._impacts = value


class _NoGraph:
    """In place of the graph of a review that came back without its edges:
    any use is a crash (exit 3), never a silent answer from no edges."""

    @staticmethod
    def error() -> RuntimeError:
        return RuntimeError("this review came back from its worker without a graph")

    def __getattr__(self, name: str) -> Any:
        raise self.error()

    def __contains__(self, item: object) -> bool:
        raise self.error()
