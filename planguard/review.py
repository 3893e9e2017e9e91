"""The review pipeline: plans → graph → checks → policy → Verdict."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from planguard import __version__
from planguard.ack import Acks
from planguard.catalog import Catalog
from planguard.config import Config
from planguard.errors import InputError
from planguard.findings import Context, Finding, Severity
from planguard.graph import DependencyGraph, Impact
from planguard.model import Plan
from planguard.policy import Verdict, evaluate
from planguard.registry import Check, run_checks


@dataclass
class PlanReview:
    plan: Plan
    graph: DependencyGraph
    impacts: dict[str, Impact]
    findings: list[Finding]
    catalog: Catalog
    # What reports derive from the review, worked out once (report.common).
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


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


def review_plan(plan: Plan, checks: list[Check], config: Config) -> PlanReview:
    graph = DependencyGraph(plan)
    cycles = graph.cycles(limit=1)
    if cycles:
        loop = " → ".join([*cycles[0], cycles[0][0]])
        raise InputError(plan.source, f"dependency cycle: {loop}")
    catalog = Catalog.load(config.data_bearing_types)
    ctx = Context(plan=plan, graph=graph, catalog=catalog, settings=config.checks)
    findings = run_checks(ctx, checks, config.disable)
    return PlanReview(plan, graph, ctx.impacts, findings, catalog)


def review(
    plans: list[Plan],
    checks: list[Check],
    config: Config,
    *,
    actor: str | None = None,
    acks: Acks | None = None,
    fail_on: Severity | None = None,
    today: dt.date | None = None,
) -> Review:
    reviews = [review_plan(plan, checks, config) for plan in plans]
    findings = [f for r in reviews for f in r.findings]
    verdict = evaluate(
        findings, plans, config, actor=actor, acks=acks, fail_on=fail_on, today=today
    )
    return Review(reviews, verdict, config, checks)
