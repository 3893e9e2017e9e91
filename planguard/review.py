"""The review pipeline: plans → graph → checks → policy → Verdict."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from planguard import __version__
from planguard.ack import Acks
from planguard.catalog import Catalog
from planguard.config import Config
from planguard.errors import InputError
from planguard.findings import Context, Finding, Severity
from planguard.graph import DependencyGraph, Impact
from planguard.model import Plan
from planguard.policy import Verdict, evaluate
from planguard.registry import Check, run_check


@dataclass
class PlanReview:
    plan: Plan
    graph: DependencyGraph
    impacts: dict[str, Impact]
    findings: list[Finding]
    catalog: Catalog
    # What reports derive from the review, worked out once (report.common).
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def drop_values(pr: PlanReview) -> None:
    """Let go of the plan's attribute values once the checks have run.

    Reports read values only for the destructive rows (protection settings),
    which are worked out first; the rest of a Terraform plan's values are
    views into the plan file's bytes, so dropping them frees the largest
    thing a review holds before the reports are rendered.
    """
    from planguard import values
    from planguard.report.common import destructive_rows

    destructive_rows(pr)  # kept in pr.memo for the reports
    for change in (*pr.plan.changes, *pr.plan.drift):
        if change.attributes is not None:
            change.attributes.release()
    values.forget_recent()


@dataclass
class Review:
    plans: list[PlanReview]
    verdict: Verdict
    config: Config
    checks: list[Check]
    version: str = __version__

    @property
    def predicted(self) -> bool:
        return any(r.plan.predicted for r in self.plans)


def review_plan(
    plan: Plan, checks: list[Check], config: Config, *, aside: bool = True
) -> PlanReview:
    """Graph, impact and checks of one plan. On a big plan the checks that read
    values run beside the graph in a forked process (planguard.aside) unless
    `aside` is False; the findings are the same either way, in check order."""
    from planguard import aside as aside_mod

    catalog = Catalog.load(config.data_bearing_types)
    enabled = [c for c in checks if c.meta.id not in config.disable]
    side = None
    if aside and aside_mod.worthwhile(plan):
        apart = Context(
            plan=plan, graph=aside_mod.NoGraph(), catalog=catalog, settings=config.checks
        )
        side = aside_mod.Aside(apart, enabled)
    try:
        graph = DependencyGraph(plan)
        cycles = graph.cycles(limit=1)
        if cycles:
            loop = " → ".join([*cycles[0], cycles[0][0]])
            raise InputError(plan.source, f"dependency cycle: {loop}")
        ctx = Context(plan=plan, graph=graph, catalog=catalog, settings=config.checks)
        apart_ids = side.ids if side is not None else frozenset()
        found = {c.meta.id: run_check(ctx, c) for c in enabled if c.meta.id not in apart_ids}
    except BaseException:
        if side is not None:
            side.cancel()
        raise
    pr = PlanReview(plan, graph, ctx.impacts, [], catalog)
    if side is not None:
        from planguard.report.common import counts_row, destructive_rows

        # Work every report needs and no finding changes, done while the
        # child (usually the longer half) finishes.
        destructive_rows(pr)
        counts_row(pr)
        found.update(side.results())
    pr.findings = [f for c in enabled for f in found[c.meta.id]]
    return pr


def review(
    plans: list[Plan],
    checks: list[Check],
    config: Config,
    *,
    actor: str | None = None,
    acks: Acks | None = None,
    fail_on: Severity | None = None,
    today: dt.date | None = None,
    reviewed: list[PlanReview] | None = None,
) -> Review:
    """Review every plan and gate them together.

    `reviewed` are plans already reviewed (by `review_files`), in order, for
    the plans given; the verdict is always worked out here, over all of them.
    """
    if reviewed is not None:
        reviews = list(reviewed)
        reviewed_plans = {id(r.plan) for r in reviews}
        reviews += [review_plan(p, checks, config) for p in plans if id(p) not in reviewed_plans]
    else:
        reviews = [review_plan(plan, checks, config) for plan in plans]
    findings = [f for r in reviews for f in r.findings]
    verdict = evaluate(
        findings, plans, config, actor=actor, acks=acks, fail_on=fail_on, today=today
    )
    return Review(reviews, verdict, config, checks)


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
) -> list[PlanReview] | None:
    """Load and review several Terraform plan files at once, one worker process
    per file (as many at a time as the machine has cores).

    The reviews come back in the order of `paths`, and an error is the one the
    first failing file (in that order) raised, as if they ran one by one.
    None when a pool would not pay or not do: a single file, little JSON in
    all, or any input that is not a Terraform plan file (CloudFormation inputs
    are combined, so they are loaded together, the ordinary way).
    `done(finished, total)` is called as files finish.
    """
    workers = min(len(paths), jobs or os.cpu_count() or 1)
    if workers < 2 or not _can_fork() or not _big_terraform_files(paths):
        return None
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("fork")
    # Forked workers inherit the checks (user checks too) already imported.
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [
            pool.submit(_review_file, path, checks, config, max_bytes, source_dir) for path in paths
        ]
        if done is not None:
            for finished, _ in enumerate(concurrent.futures.as_completed(futures), 1):
                done(finished, len(futures))
        out: list[PlanReview] = []
        try:
            for future in futures:
                out.extend(_unpack(packed) for packed in future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return out


def _can_fork() -> bool:
    import multiprocessing

    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _big_terraform_files(paths: list[str]) -> bool:
    total = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                total += os.fstat(f.fileno()).st_size
                head = f.read(512).lstrip()
        except OSError:
            return False  # the ordinary path words the error
        if not (head.startswith(b"{") and b'"format_version"' in head):
            return False
    return total >= PARALLEL_MIN_BYTES


def _review_file(
    path: str, checks: list[Check], config: Config, max_bytes: int, source_dir: str | None
) -> list[_Packed]:
    """In a worker: what `planguard review` does for one plan file, up to the verdict."""
    from planguard.load import LoadOptions, load, sources_wanted

    plans = load([path], LoadOptions(max_bytes=max_bytes))
    if sources_wanted(plans, [], None, source_dir):
        from planguard.load import hcl as hcl_load

        plans = hcl_load.for_review(plans, [], source_dir=source_dir)
    import gc

    gc.freeze()  # as the CLI does: the plan outlives every collection here
    # One worker per file already keeps the cores busy: no forks of its own.
    return [_pack(review_plan(plan, checks, config, aside=False)) for plan in plans]


# A review on its way back from a worker: the plan as msgpack (without
# attribute values), the findings, the catalogue, and the destructive rows
# with their change given by position.
_Packed = tuple[bytes, list[Finding], Catalog, list[tuple[Any, ...]]]


def _pack(pr: PlanReview) -> _Packed:
    """What the parent needs of a review, cheap to send: pickling the plan with
    its values would cost about half the plan file, and as long as the review.

    Checks have run; of the values, reports show only what the destructive
    rows read (protection settings), so the rows are worked out here.
    """
    from planguard.report.common import destructive_rows

    rows = destructive_rows(pr)
    plan = pr.plan
    position = {id(c): i for i, c in enumerate(plan.changes)}
    bare = msgspec.structs.replace(
        plan,
        changes=[msgspec.structs.replace(c, attributes=None) for c in plan.changes],
        drift=[msgspec.structs.replace(c, attributes=None) for c in plan.drift],
    )
    packed_rows = [
        (position[id(r.change)], r.action, r.reason, r.data_kind, r.protection, r.downstream)
        for r in rows
    ]
    return msgspec.msgpack.encode(bare), pr.findings, pr.catalog, packed_rows


def _no_values(type_: type, obj: Any) -> Any:
    raise TypeError(f"{type_.__name__} cannot come back from a worker")


def _unpack(packed: _Packed) -> PlanReview:
    from planguard.report.common import DestructiveRow

    data, findings, catalog, rows = packed
    plan = msgspec.msgpack.decode(data, type=Plan, dec_hook=_no_values)
    graph = DependencyGraph(plan)
    impacts = {i.address: i for i in graph.impact()}
    pr = PlanReview(plan, graph, impacts, findings, catalog)
    pr.memo["destructive_rows"] = [DestructiveRow(plan.changes[i], *rest) for i, *rest in rows]
    return pr
