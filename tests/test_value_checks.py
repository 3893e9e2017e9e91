"""Checks run beside the review in a forked process give the same findings."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import signal
import time
from pathlib import Path

import pytest

import planguard.value_checks as value_checks
from helpers import FIXTURES, ROOT, no_children_left
from planguard.catalog import Catalog
from planguard.cli import main
from planguard.config import Config
from planguard.errors import InputError
from planguard.findings import Context
from planguard.load import LoadOptions, load
from planguard.policy import evaluate
from planguard.registry import all_checks, run_check
from planguard.review import review_plan, review_plans
from planguard.speed import fork, parts
from planguard.speed import handoff as handoff_mod
from planguard.speed.fork import available as fork_available
from planguard.speed.handoff import Handoff

PLANS = sorted(
    str(p.relative_to(ROOT))
    for p in [
        *FIXTURES.glob("checks/PG*/*.json"),
        *FIXTURES.glob("scenarios/*.json"),
        *FIXTURES.glob("terraform/real/*/output.json"),
    ]
    if p.name != "errored.json"
)


# The built-in checks that say they may run beside the graph.
BESIDE = frozenset(c.meta.id for c in all_checks() if c.meta.runs_beside_graph)


def test_the_value_checks_say_they_run_beside_the_graph() -> None:
    assert frozenset({"PG105", "PG106", "PG201", "PG301"}) == BESIDE


def _job(paths: list[str], config: Config | None = None, checks=None) -> value_checks.Job:
    return value_checks.ValueCheckJob(
        paths, LoadOptions(), checks or all_checks(), config or Config(), locate=False
    )


def _beside(paths: list[str], config: Config, checks=None):
    """A review of `paths` with the value checks run in a child, and one without."""
    checks = checks or all_checks()
    side = value_checks.ValueCheckChild(_job(paths, config, checks))
    try:
        forked = review_plans(load(paths), checks, config, value_checks=side)
    finally:
        side.close()
    serial = review_plans(load(paths), checks, config)
    return Reviewed(forked), Reviewed(serial)


class Reviewed:
    """Plan reviews and the verdict over them, as a run gives them."""

    def __init__(self, plans: list) -> None:
        self.plans = plans
        self.verdict = evaluate(
            [f for r in plans for f in r.findings], [r.plan for r in plans], Config()
        )


@pytest.mark.parametrize("path", PLANS)
def test_value_checks_never_read_the_graph(path: str) -> None:
    [plan] = load([str(ROOT / path)])
    config = Config()
    catalog = Catalog.load(config.data_bearing_types)
    apart = Context(
        plan=plan, graph=value_checks.NoGraphHere(), catalog=catalog, settings=config.checks
    )
    normal = review_plan(plan, all_checks(), config)
    for check in all_checks():
        if not check.meta.runs_beside_graph:
            continue
        found = run_check(apart, check)
        assert all(f.check_id == check.meta.id for f in found), found  # no crash finding
        assert found == [f for f in normal.findings if f.check_id == check.meta.id]


@pytest.mark.parametrize("path", PLANS)
def test_forked_review_equals_the_serial_one(path: str) -> None:
    forked, serial = _beside([str(ROOT / path)], Config())
    assert [r.findings for r in forked.plans] == [r.findings for r in serial.plans]
    assert forked.verdict == serial.verdict
    assert no_children_left()


def test_several_plans_at_once() -> None:
    paths = [str(ROOT / p) for p in PLANS[:6]]
    forked, serial = _beside(paths, Config())
    assert [r.findings for r in forked.plans] == [r.findings for r in serial.plans]
    assert sum(len(r.findings) for r in forked.plans) > 0


def test_a_failed_child_is_replaced_by_the_parent(monkeypatch) -> None:
    """Whatever happens to the child, the parent runs the checks itself."""
    parent = os.getpid()
    real_dumps = pickle.dumps

    def dumps(obj, *args, **kwargs):
        if os.getpid() != parent:
            raise MemoryError  # in the child only
        return real_dumps(obj, *args, **kwargs)

    monkeypatch.setattr(pickle, "dumps", dumps)
    path = str(FIXTURES / "scenarios/incident-env-recreated.json")
    side = value_checks.ValueCheckChild(_job([path]))
    assert side.results(load([path])) is None
    side.close()
    forked, serial = _beside([path], Config())
    assert forked.plans[0].findings == serial.plans[0].findings
    assert any(f.check_id == "PG106" for f in forked.plans[0].findings)
    assert no_children_left()


def test_a_child_that_saw_other_plans_is_not_believed() -> None:
    one = str(FIXTURES / "scenarios/incident-env-recreated.json")
    other = str(FIXTURES / "scenarios/vpc-delete.json")
    side = value_checks.ValueCheckChild(_job([other]))
    try:
        assert side.results(load([one])) is None
    finally:
        side.close()
    assert no_children_left()


def test_a_review_that_stops_early_reaps_its_child() -> None:
    path = str(FIXTURES / "bad/dependency-cycle.json")
    side = value_checks.ValueCheckChild(_job([path]))
    side.close()
    assert no_children_left()


def test_disabled_and_user_checks_stay_in_order(tmp_path: Path) -> None:
    user = tmp_path / "pg901_anything.py"
    user.write_text(
        "from planguard.findings import CheckMeta, Severity\n"
        "META = CheckMeta(id='PG901', slug='x', title='X', severity=Severity.LOW,\n"
        "                 rationale='r', remediation='m')\n"
        "def check(ctx):\n"
        "    for c in ctx.plan.destructive:\n"
        "        yield ctx.finding(META, 'seen ' + c.address, change=c)\n"
    )
    checks = all_checks([str(tmp_path)])
    config = Config(disable=frozenset({"PG105"}))
    path = str(FIXTURES / "scenarios/incident-env-recreated.json")
    forked, serial = _beside([path], config, checks)
    found = forked.plans[0].findings
    assert found == serial.plans[0].findings
    assert {f.check_id for f in found} >= {"PG106", "PG901"}
    assert "PG105" not in {f.check_id for f in found}


def test_a_user_check_that_says_so_runs_beside_the_graph(tmp_path: Path) -> None:
    """Scheduling is read from META: a user check that reads values and not the
    graph runs in the child, like the built-in value checks; its findings
    come from there (the parent never runs it)."""
    marker = tmp_path / "ran-in"
    (tmp_path / "pg902_values.py").write_text(
        "import os\n"
        "from planguard.findings import CheckMeta, Severity\n"
        "META = CheckMeta(id='PG902', slug='v', title='V', severity=Severity.LOW,\n"
        "                 rationale='r', remediation='m', reads_values=True, needs_graph=False)\n"
        "def check(ctx):\n"
        f"    with open({str(marker)!r}, 'a') as f:\n"
        "        f.write(str(os.getpid()) + '\\n')\n"
        "    for c in ctx.plan.destructive:\n"
        "        yield ctx.finding(META, 'values of ' + c.address, change=c)\n"
    )
    checks = all_checks([str(tmp_path)])
    path = str(FIXTURES / "scenarios/incident-env-recreated.json")
    job = _job([path], Config(), checks)
    assert "PG902" in {c.meta.id for c in job.checks_beside}
    side = value_checks.ValueCheckChild(job)
    try:
        [reviewed] = review_plans(load([path]), checks, Config(), value_checks=side)
    finally:
        side.close()
    assert any(f.check_id == "PG902" for f in reviewed.findings)
    [ran_in] = marker.read_text().split()  # once, and not here: in the child
    assert ran_in != str(os.getpid())


def test_when_it_is_wanted(tmp_path: Path, monkeypatch) -> None:
    small = str(FIXTURES / "scenarios/vpc-delete.json")
    assert not value_checks.wanted(_job([small]))
    monkeypatch.setattr(value_checks, "MIN_BYTES", 0)
    assert value_checks.wanted(_job([small])) == (len(os.sched_getaffinity(0)) >= 2)
    template = str(FIXTURES / "cloudformation/changesets")  # not a Terraform plan file
    assert not value_checks.wanted(_job([template]))
    everything_off = Config(disable=BESIDE)
    assert not value_checks.wanted(_job([small], everything_off))


def _cli_err(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _cli(argv: list[str]) -> tuple[int, str]:
    code, out, _ = _cli_err(argv)
    return code, out


@pytest.mark.parametrize("fmt", ["json", "markdown", "sarif"])
def test_the_command_reports_the_same_bytes(fmt: str, monkeypatch) -> None:
    """With sources next to the plan (file:line from main.tf), both ways."""
    path = str(FIXTURES / "terraform/real/moved/output.json")
    argv = ["review", path, "--format", fmt]
    monkeypatch.setattr(value_checks, "MIN_BYTES", 0)
    forked = _cli(argv)
    assert no_children_left()
    monkeypatch.setattr(value_checks, "wanted", lambda *a: False)
    assert forked == _cli(argv)


@pytest.mark.parametrize(
    "name", ["incident-env-recreated.json", "sg-swap-cascade.json", "nested-modules.json"]
)
def test_report_parts_made_while_waiting_change_no_byte(
    name: str, monkeypatch, tmp_path: Path
) -> None:
    """The parent makes the Markdown and JSON parts (pictures, paths, change
    lines) before it asks for the child's findings: the reports are the ones
    a review in one process writes."""
    if not fork_available():
        pytest.skip("the second process needs fork")
    monkeypatch.chdir(tmp_path)
    path = str(FIXTURES / "scenarios" / name)
    made: list[str] = []
    make = parts.Parts.make

    def spied(self, pr):
        made.append(pr.plan.source)
        return make(self, pr)

    monkeypatch.setattr(parts.Parts, "make", spied)
    monkeypatch.setattr(value_checks, "MIN_BYTES", 0)
    forked = _cli(["review", path, "--format", "markdown", "-o", "a.md", "--json", "a.json"])
    assert made == [path]
    assert no_children_left()
    monkeypatch.setattr(value_checks, "wanted", lambda *a: False)
    alone = _cli(["review", path, "--format", "markdown", "-o", "b.md", "--json", "b.json"])
    assert made == [path]  # without the child, the reports work them out
    assert forked == alone
    for ext in ("md", "json"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
    assert b'"paths"' in (tmp_path / "a.json").read_bytes()


def test_no_fork_no_second_process(monkeypatch) -> None:
    """A system that cannot fork gets a review in one process, not an error."""
    monkeypatch.setattr(value_checks, "MIN_BYTES", 0)

    def fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", fork)
    path = str(FIXTURES / "scenarios/incident-env-recreated.json")
    assert value_checks.start(_job([path])) is None
    code, out = _cli(["review", path, "--format", "json"])
    assert code == 1 and '"PG106"' in out


# -- the configuration's references, resolved by the child for the parent -----------

RESOLVED = [
    FIXTURES / "terraform/config-cycles/var-output-circle.json",
    FIXTURES / "terraform/config-cycles/base/output.json",
    FIXTURES / "terraform/instances/module-input-nested/output.json",
    FIXTURES / "terraform/instances/nested-foreach-in-foreach-module/output.json",
    FIXTURES / "scenarios/nested-modules.json",
]


def _asked(side: value_checks.ValueCheckChild) -> list[bool]:
    """Spy on side.resolved: whether each answer came from the child."""
    answers: list[bool] = []
    real = side.resolved

    def resolved(path: str, digest: bytes):
        found = real(path, digest)
        answers.append(found is not None)
        return found

    side.resolved = resolved  # type: ignore[method-assign]
    return answers


@pytest.mark.parametrize("path", RESOLVED, ids=lambda p: p.parent.name + "/" + p.name)
def test_the_child_resolves_the_configuration_for_the_parent(path: Path) -> None:
    side = value_checks.ValueCheckChild(_job([str(path)]))
    answers = _asked(side)
    try:
        [given] = load([str(path)], LoadOptions(resolved_from=side.resolved))
        reviewed = review_plans([given], all_checks(), Config(), value_checks=side)
    finally:
        side.close()
    assert answers == [True]
    [own] = load([str(path)])
    assert list(given.edges) == list(own.edges) != []
    assert [r.findings for r in reviewed] == [
        r.findings for r in review_plans([own], all_checks(), Config())
    ]
    assert no_children_left()


def test_what_the_child_could_not_resolve_the_parent_refuses_as_ever() -> None:
    path = str(FIXTURES / "bad/configuration-address-garbage.json")
    side = value_checks.ValueCheckChild(_job([path]))
    answers = _asked(side)
    try:
        with pytest.raises(InputError, match="bad address in configuration"):
            load([path], LoadOptions(resolved_from=side.resolved))
    finally:
        side.close()
    assert answers == [False]
    assert no_children_left()


def test_another_configuration_is_not_believed() -> None:
    """The file changed between the two reads, or another plan: resolved here."""
    path = str(RESOLVED[1])
    side = value_checks.ValueCheckChild(_job([path]))
    try:
        assert side.resolved(path, b"not the digest of this configuration") is None
        assert side.resolved(path, b"") is None  # nothing more is sent
    finally:
        side.close()
    assert no_children_left()


def test_a_parent_that_never_asks_still_gets_the_checks() -> None:
    """The child's messages fill the pipe nobody reads: it goes on all the same."""
    path = str(RESOLVED[4])
    [plan] = load([path])
    one = len(pickle.dumps(plan.edges._targets))  # type: ignore[attr-defined]
    paths = [path] * 150
    assert one * len(paths) > 1 << 16  # more than a pipe holds
    side = value_checks.ValueCheckChild(_job(paths))
    try:
        assert side.results(load(paths)) is not None
    finally:
        side.close()
    assert no_children_left()


def test_the_command_with_the_child_resolving_reports_the_same_bytes(monkeypatch) -> None:
    path = str(RESOLVED[0])
    argv = ["review", path, "--format", "json"]
    monkeypatch.setattr(value_checks, "MIN_BYTES", 0)
    forked = _cli(argv)
    assert no_children_left()
    monkeypatch.setattr(value_checks, "wanted", lambda *a: False)
    assert forked == _cli(argv)


def test_planned_values_the_child_skips_are_still_checked(monkeypatch, tmp_path: Path) -> None:
    """The value checks' load leaves a plan's planned values unread when it has
    resource changes (the count changes nothing there): a broken tree is still
    refused, by the review's own load, with the same message both ways."""
    plan = json.loads((FIXTURES / "scenarios/sg-swap-cascade.json").read_text())
    assert plan["resource_changes"]
    plan["planned_values"] = {"root_module": {"resources": [{"mode": "managed"}]}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    argv = ["review", str(path), "--format", "json"]
    [child_view] = load([str(path)], LoadOptions(edges=False))  # the child's load accepts it
    assert child_view.changes
    with pytest.raises(InputError, match=r"\$\.planned_values\.root_module\.resources\[0\]"):
        load([str(path)])
    monkeypatch.setattr(value_checks, "MIN_BYTES", 0)
    forked = _cli_err(argv)
    assert no_children_left()
    monkeypatch.setattr(value_checks, "wanted", lambda *a: False)
    assert forked == _cli_err(argv)
    assert forked[0] == 2 and forked[1] == ""
    assert "planned_values.root_module.resources[0]" in forked[2]


# -- the handoff: messages from the child while both work ----------------------------


def _send_then_stamp(handoff: Handoff, message: bytes) -> tuple[bool, float]:
    handoff.child_side()
    sent = handoff.send(message)
    handoff.done_sending()
    return sent, time.monotonic()


@pytest.mark.parametrize("memory_file", [True, False], ids=["memory-file", "pipe-only"])
def test_a_message_larger_than_a_pipe_arrives_whole(memory_file: bool, monkeypatch) -> None:
    if not memory_file:
        monkeypatch.setattr(handoff_mod, "_memory_file", lambda: -1)
    message = os.urandom(3 << 20)  # three times the most a pipe holds
    handoff = Handoff()
    child = fork.Child(lambda: _send_then_stamp(handoff, message))
    handoff.parent_side()
    try:
        assert handoff.receive() == message
        assert handoff.receive() is None  # the end of the messages
        assert child.result()[0] is True
    finally:
        handoff.stop()
        child.close()


def test_a_child_never_waits_for_its_parent_to_read() -> None:
    """The resolved references of a big plan are sent while the parent is busy
    with its own load: the child goes on at once (a 50k-resource monorepo
    plan's take 4.4 MB, more than a pipe holds)."""
    message = os.urandom(4 << 20)
    handoff = Handoff()
    child = fork.Child(lambda: _send_then_stamp(handoff, message))
    handoff.parent_side()

    def waited(*_: object) -> None:
        raise AssertionError("the child waited for its parent to read")

    before = signal.signal(signal.SIGALRM, waited)
    signal.alarm(30)
    try:
        sent, at = child.result()  # before anything is read
        signal.alarm(0)
        reading = time.monotonic()
        assert sent is True and at < reading
        assert handoff.receive() == message
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
        handoff.stop()
        child.close()


def test_a_parent_that_stopped_reading_fails_the_send() -> None:
    handoff = Handoff()
    handoff.stop()  # as the parent does when it has all it needs
    child = fork.Child(lambda: _send_then_stamp(handoff, b"resolved"))
    try:
        assert child.result()[0] is False
    finally:
        child.close()
