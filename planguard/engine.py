"""The one owner of a review run: these inputs and these settings in, a Review out.

Every front end (`planguard review`, `planguard ack`, `planguard github`, the
pre-commit hooks) builds a `Request` and calls `run`; none of them loads,
schedules or applies policy itself. The run, in order:

1. settings from where they are trusted (planguard.trust, planguard.settings):
   the working tree, or a trusted commit, compared with the change's own;
2. the checks, built-in and the trusted user checks;
3. load and review: input detection and loading, file:line and inline ignores
   from the sources, graph, impact and checks, scheduled serially, over a pool
   of processes for several big plans, or with value-reading checks in a
   second process (planguard.review, planguard.value_checks);
4. inline ignores cut to the trusted ones, acknowledgements, and PG002 for what
   the change does to its own gate;
5. policy: the verdict.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from planguard import settings as settings_mod
from planguard.ack import Acks
from planguard.config import Config, validate_check_settings
from planguard.errors import UsageError
from planguard.findings import Context, Finding, Severity
from planguard.load import DEFAULT_MAX_BYTES, LoadOptions
from planguard.model import Plan
from planguard.policy import Verdict, evaluate, inline_ignores
from planguard.progress import progress
from planguard.registry import Check, all_checks, run_check
from planguard.review import PlanReview, ReportParts, Review, TrustReport
from planguard.settings import Named, Settings, Weakening
from planguard.trust import WORKING_TREE, EmptyTree, Trust, TrustError

# CI variables that name who authored the change, most specific first.
ACTOR_VARIABLES = (
    "PLANGUARD_ACTOR",
    "GITHUB_ACTOR",
    "GITLAB_USER_LOGIN",
    "BUILD_REQUESTEDFOREMAIL",
    "BITBUCKET_STEP_TRIGGERER_UUID",
    "CIRCLE_USERNAME",
)


def actor(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    author: str | None = None,
) -> str | None:
    """Who authored the change: as given, else the pull request's author, else
    the CI's variables."""
    if explicit:
        return explicit
    if author:
        return author
    env = os.environ if env is None else env
    return next((env[name] for name in ACTOR_VARIABLES if env.get(name)), None)


@dataclass(frozen=True)
class Request:
    """What to review, and with which settings."""

    plans: tuple[str, ...] = ()
    # A CloudFormation template pair (`--before`/`--after`).
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    # Directories of .tf sources to predict from, compared with `base` (a git ref).
    hcl: tuple[str, ...] = ()
    base: str | None = None
    # Where the plans' .tf sources are (default: beside each plan file).
    source_dir: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    named: Named = field(default_factory=Named)
    trust: Trust = WORKING_TREE
    fail_on: Severity | None = None
    required_approvals: int | None = None
    actor: str | None = None
    today: dt.date | None = None
    # False: no acknowledgement counts (`planguard ack` writes them).
    use_acks: bool = True
    # What the reports about to be rendered want of each plan, worked out in
    # the worker processes that review several plans at once, or while a
    # single review waits for its value checks (see
    # planguard.review.ReportParts; planguard.speed.parts makes them).
    parts: ReportParts | None = field(default=None, compare=False)

    @property
    def plan_files_only(self) -> bool:
        return bool(self.plans) and not (self.before or self.after or self.hcl or self.base)


def run(request: Request) -> Review:
    """Review `request`'s inputs under its trusted settings."""
    if not (request.plans or request.before or request.after or request.hcl):
        raise UsageError("review needs at least one plan file (or --before/--after, or --hcl)")
    trust, trusted, head = _settings(request)
    cfg = trusted.config
    if request.required_approvals is not None:
        cfg = replace(cfg, required_approvals=request.required_approvals)
    try:
        checks = all_checks(list(trusted.checks_dirs))
    finally:
        for directory in trusted.temporary:  # imported by now
            shutil.rmtree(directory, ignore_errors=True)
    validate_check_settings(cfg, {c.meta.id: c.meta.options for c in checks})
    reviews = _review(request, checks, cfg)
    plans = [r.plan for r in reviews]
    key = _plan_key(trust)
    judge = _Judge(request.actor, request.fail_on, request.today, key)
    keys = {plan.source: key(plan.source) for plan in plans}
    if not request.use_acks:
        trusted = replace(trusted, ack_files=())
    if trust.local:
        verdict = judge(reviews, checks, cfg, _acks(trusted))
        return Review(reviews, verdict, cfg, checks, plan_keys=keys, acks_apply=request.use_acks)

    from planguard import ignores

    assert trust.tree is not None
    head_ignores = inline_ignores(plans)
    weak = ignores.restrict(plans, trust.tree, trust.repo)
    weak += settings_mod.weakenings(trusted, head, {c.meta.id: c.meta.severity for c in checks})
    verdict = judge(reviews, checks, cfg, _acks(trusted), weak)
    report = TrustReport(source=trust.describe(), local=False, problem=trust.problem)
    if weak:
        merged_cfg = replace(head.config, required_approvals=cfg.required_approvals)
        merged = judge(reviews, checks, merged_cfg, _acks(head), inline=head_ignores)
        report = replace(report, weakened=len(weak), if_merged=merged)
    verdict.notes[:0] = report.notes()
    return Review(
        reviews, verdict, cfg, checks, trust=report, plan_keys=keys, acks_apply=request.use_acks
    )


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
    """Review plans already loaded, with settings already read (tests,
    benchmarks, programs embedding planguard): the same steps as `run` after
    the load, with the caller's settings trusted."""
    from planguard.review import review_plans

    reviews = review_plans(plans, checks, config)
    verdict = _Judge(actor, fail_on, today, None)(reviews, checks, config, acks)
    return Review(reviews, verdict, config, checks)


@dataclass(frozen=True)
class _Judge:
    """Policy over a run's findings, with what stays the same between the
    trusted settings and the change's own."""

    actor: str | None
    fail_on: Severity | None
    today: dt.date | None
    plan_key: Callable[[str], str] | None

    def __call__(
        self,
        reviews: list[PlanReview],
        checks: list[Check],
        cfg: Config,
        acks: Acks | None,
        weak: list[Weakening] | None = None,
        inline: dict[tuple[str, str], dict[str, str]] | None = None,
    ) -> Verdict:
        findings = [f for r in reviews for f in r.findings]
        findings += _gate_findings(reviews, checks, cfg, weak or [])
        verdict = evaluate(
            findings,
            [r.plan for r in reviews],
            cfg,
            actor=self.actor,
            acks=acks,
            fail_on=self.fail_on,
            today=self.today,
            plan_key=self.plan_key,
            inline=inline,
        )
        if acks is not None:
            verdict.notes.extend(self._unused(acks, findings))
        return verdict

    def _unused(self, acks: Acks, findings: list[Finding]) -> list[str]:
        """Say when acknowledgements match nothing: the plan changed since."""
        key = self.plan_key or str
        unused = acks.unused((key(f.plan), f) for f in findings)
        if not unused:
            return []
        if len(unused) == acks.entries:
            return [f"the acknowledgements in {acks.path} match no finding of these plans"]
        return [
            f"{len(unused)} of {acks.entries} acknowledgements in {acks.path} match no finding "
            "(the plan changed since they were written)"
        ]


# -- settings --------------------------------------------------------------------


def _settings(request: Request) -> tuple[Trust, Settings, Settings]:
    """The trust in force, its settings, and the change's own (the same locally)."""
    trust = request.trust
    named = request.named
    if trust.local:
        with_checks = settings_mod.read(named, None, trust.repo)
        return trust, with_checks, with_checks
    try:
        trusted = settings_mod.read(named, trust.tree, trust.repo)
    except TrustError as exc:
        # The API failed midway: nothing read from it is trusted.
        trust = Trust(EmptyTree(str(exc)), trust.repo, problem=str(exc))
        trusted = settings_mod.read(named, trust.tree, trust.repo)
    head = settings_mod.read(named, None, trust.repo, load_checks=False)
    return trust, trusted, head


def _acks(settings: Settings) -> Acks | None:
    from planguard import ack as ack_mod

    loaded = [ack_mod.loads(f.data, f.label) for f in settings.ack_files]
    return ack_mod.merge(loaded) if loaded else None


def _plan_key(trust: Trust) -> Callable[[str], str]:
    """Plans are named in acknowledgements by their repository-relative path."""

    @functools.cache
    def key(source: str) -> str:
        rel = trust.repo.inside(source) if os.path.exists(source) else None
        return rel if rel is not None else Path(source).as_posix().removeprefix("./")

    return key


def _gate_findings(
    reviews: list[PlanReview], checks: list[Check], cfg: Config, weak: list[Weakening]
) -> list[Finding]:
    """PG002, once for the run (it is about the change, not one plan)."""
    pg002 = next((c for c in checks if c.meta.id == "PG002"), None)
    if not weak or pg002 is None or pg002.meta.id in cfg.disable or not reviews:
        return []
    first = reviews[0]
    ctx = Context(first.plan, first.graph, first.catalog, cfg.checks, weakenings=tuple(weak))
    return run_check(ctx, pg002)


# -- loading and scheduling ---------------------------------------------------------


def _review(request: Request, checks: list[Check], cfg: Config) -> list[PlanReview]:
    """Load and review every input; the fastest way the inputs allow."""
    from planguard import value_checks
    from planguard.review import review_files, review_plans

    if request.plan_files_only and len(request.plans) > 1:
        with progress("Reviewing plans…") as say:
            reviewed = review_files(
                list(request.plans),
                checks,
                cfg,
                max_bytes=request.max_bytes,
                source_dir=request.source_dir,
                done=lambda n, total: say(f"Reviewing plans… {n} of {total} done"),
                parts=request.parts,
            )
        if reviewed is not None:
            return reviewed
    options = LoadOptions(
        max_bytes=request.max_bytes, before=list(request.before), after=list(request.after)
    )
    side = None
    if request.plan_files_only:
        job = value_checks.ValueCheckJob(
            list(request.plans), options, checks, cfg, request.source_dir
        )
        side = value_checks.start(job)
    try:
        if side is not None:
            # The child resolves the configuration's references meanwhile.
            options = replace(options, resolved_from=side.resolved)
        plans = _load(request, options)
        with progress("Reviewing…"):
            return review_plans(plans, checks, cfg, value_checks=side, parts=request.parts)
    finally:
        if side is not None:
            side.close()  # normally long gone by now; else told to stop


def _load(request: Request, options: LoadOptions) -> list[Plan]:
    from planguard.load import load, sources_wanted

    with progress("Reading plans…"):
        plans = load(list(request.plans), options)
        if sources_wanted(plans, list(request.hcl), request.base, request.source_dir):
            from planguard.load import hcl

            plans = hcl.for_review(
                plans, list(request.hcl), base=request.base, source_dir=request.source_dir
            )
    return plans
