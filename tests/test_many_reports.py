"""Several plans reviewed at once report byte for byte what one process reports.

With several big plan files, worker processes review them side by side and
make each plan's part of the JSON and Markdown reports (planguard.speed.parts);
the parent renders the rest, building no graph of its own. Every report, the
exit code and what goes to stderr must be what the same command gives
without workers; a file that fails fails the run as it would alone.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import weakref
from pathlib import Path
from typing import Any

import msgspec
import pytest

from helpers import FIXTURES, no_children_left
from planguard import engine
from planguard import review as review_mod
from planguard.cli import main
from planguard.config import Config
from planguard.errors import PlanguardError
from planguard.load import load
from planguard.model import Change, Plan
from planguard.registry import all_checks
from planguard.report import Format, render
from planguard.speed import fork, parts

# Plans that destroy or replace what others depend on: pictures, paths, change lines.
PLANS = [
    str(FIXTURES / "scenarios" / "incident-env-recreated.json"),
    str(FIXTURES / "scenarios" / "vpc-delete.json"),
    str(FIXTURES / "scenarios" / "sg-swap-cascade.json"),
    str(FIXTURES / "scenarios" / "nested-modules.json"),
    str(FIXTURES / "terraform" / "instances" / "foreach-remove-one-of-30" / "output.json"),
    str(FIXTURES / "terraform" / "real" / "moved" / "output.json"),
]
FORMATS = (Format.MARKDOWN, Format.JSON, Format.TERMINAL, Format.SARIF)


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pool for these small files; how many times it ran."""
    if not fork.available():
        pytest.skip("the pool needs fork")
    monkeypatch.setattr(review_mod, "PARALLEL_MIN_BYTES", 0)
    ran: list[int] = []
    pool = fork.pool

    def counted(*args: Any, **kwargs: Any) -> Any:
        ran.append(1)
        return pool(*args, **kwargs)

    monkeypatch.setattr(fork, "pool", counted)
    return ran


def _serial() -> engine.Review:
    return engine.review(load(PLANS), all_checks(), Config())


@pytest.mark.usefixtures("pooled")
def test_parts_made_in_the_workers_give_the_same_reports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no policy file: the defaults
    made = parts.for_formats(["markdown", "json"])
    review = engine.run(engine.Request(plans=tuple(PLANS), parts=made))
    assert all(set(pr.parts) == {"markdown", "json"} for pr in review.plans)
    serial = _serial()
    for fmt in (Format.MARKDOWN, Format.JSON):
        assert render(review, fmt) == render(serial, fmt), fmt
    for fmt in (Format.TERMINAL, Format.SARIF):
        assert render(review, fmt) == render(serial, fmt), fmt
    # No report asked for a graph or an impact, and none came back: asking
    # now is an error, not an empty answer.
    assert all(isinstance(pr, review_mod._Returned) for pr in review.plans)
    assert all(pr._graph is None and pr._impacts is None for pr in review.plans)
    assert all(not pr.plan.edges for pr in review.plans)
    with pytest.raises(RuntimeError, match="without a graph"):
        review.plans[0].impacts  # noqa: B018
    with pytest.raises(RuntimeError, match="without a graph"):
        review.plans[0].graph.dependencies("x")


@pytest.mark.usefixtures("pooled")
def test_without_parts_a_review_builds_its_graph_when_asked() -> None:
    """Without parts (another front end), the edges the worker walked come
    back, and the graph is built from them the first time it is asked for."""
    reviewed = review_mod.review_files(PLANS, all_checks(), Config(), max_bytes=1 << 30, jobs=2)
    assert reviewed is not None
    serial = _serial()
    assert all(pr._graph is None for pr in reviewed)
    for back, alone in zip(reviewed, serial.plans, strict=True):
        assert _reach(back) == _reach(alone)
    assert any(_reach(pr) for pr in reviewed)


def _reach(pr: review_mod.PlanReview) -> dict[str, list[str]]:
    return {a: i.dependents for a, i in pr.impacts.items() if i.dependents}


@pytest.mark.usefixtures("pooled")
def test_the_parts_are_what_the_reports_work_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A report with the parts and without them (working them out from the
    review that came back, its walked edges asked for) is the same text."""
    monkeypatch.chdir(tmp_path)
    made = parts.for_formats(["markdown", "json"])
    assert made is not None
    made.needs_graph = True  # the edges come back too, to work the parts out here
    review = engine.run(engine.Request(plans=tuple(PLANS), parts=made))
    with_parts = [render(review, fmt) for fmt in (Format.MARKDOWN, Format.JSON)]
    pictures = [pr.parts["markdown"]["graph"][0] for pr in review.plans]
    assert sum(p is not None for p in pictures) >= 3  # pictures were drawn
    for pr in review.plans:
        pr.parts.clear()
    assert [render(review, fmt) for fmt in (Format.MARKDOWN, Format.JSON)] == with_parts


def test_parts_only_for_reports_that_have_them() -> None:
    assert parts.for_formats(["terminal"]) is None
    assert parts.for_formats(["sarif", "terminal"]) is None
    made = parts.for_formats(["terminal", "json"])
    assert made is not None and made.formats == {"json"}


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _files(tmp_path: Path, name: str) -> list[str]:
    return [
        "--output",
        str(tmp_path / f"{name}.txt"),
        "--markdown",
        str(tmp_path / f"{name}.md"),
        "--json",
        str(tmp_path / f"{name}.json"),
        "--sarif",
        str(tmp_path / f"{name}.sarif"),
    ]


def _read(tmp_path: Path, name: str) -> list[bytes]:
    return [(tmp_path / f"{name}.{ext}").read_bytes() for ext in ("txt", "md", "json", "sarif")]


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "json"])
def test_the_command_writes_the_same_bytes(
    fmt: str, pooled: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    argv = ["review", *PLANS, "--format", fmt]
    together = _cli([*argv, *_files(tmp_path, "together")])
    assert pooled == [1]
    monkeypatch.setattr(review_mod, "PARALLEL_MIN_BYTES", 1 << 60)  # one process
    alone = _cli([*argv, *_files(tmp_path, "alone")])
    assert pooled == [1]
    assert together == alone
    assert _read(tmp_path, "together") == _read(tmp_path, "alone")


@pytest.mark.usefixtures("pooled")
def test_a_bad_file_fails_the_run_as_it_would_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": "1.2", "resource_changes": 3}')
    argv = ["review", PLANS[0], str(bad), PLANS[1], "--format", "json"]
    together = _cli(argv)
    monkeypatch.setattr(review_mod, "PARALLEL_MIN_BYTES", 1 << 60)
    alone = _cli(argv)
    assert together == alone
    code, out, err = together
    assert code == 2 and out == ""
    assert err.startswith(f"planguard: error: {bad}: ")
    assert no_children_left()  # the other workers were stopped, not left running


@pytest.mark.usefixtures("pooled")
def test_a_killed_worker_fails_the_run_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    victim = PLANS[2]
    review_file = review_mod._review_file

    def dies_on_victim(path: str, **kwargs: Any) -> Any:
        if path == victim:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel does out of memory
        return review_file(path, **kwargs)

    monkeypatch.setattr(review_mod, "_review_file", dies_on_victim)
    code, out, err = _cli(["review", *PLANS, "--format", "json"])
    assert code == 3 and out == ""
    assert no_children_left()
    assert err == (
        f"planguard: error: {victim}: the process reviewing this file was killed by "
        "signal 9; the review did not complete\n"
    )


@pytest.mark.usefixtures("pooled")
def test_no_process_to_fork_reviews_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A system that cannot fork now gets the review of one process, not an error."""
    expected = _cli(["review", *PLANS, "--format", "json"])

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert _cli(["review", *PLANS, "--format", "json"]) == expected


def test_packing_a_review_leaves_its_values_in_place() -> None:
    """A review goes back from a worker without its values, which stay where
    they were (review._pack sets them aside only while it encodes)."""
    [plan] = load([PLANS[0]])
    pr = engine.review([plan], all_checks(), Config()).plans[0]
    before = [(c.attributes, c.before("tags")) for c in plan.changes]
    assert any(a is not None for a, _ in before)
    packed = review_mod._pack(pr)
    assert [(c.attributes, c.before("tags")) for c in plan.changes] == before
    back = review_mod._unpack(packed)
    assert all(c.attributes is None for c in back.plan.changes)
    assert [c.address for c in back.plan.changes] == [c.address for c in plan.changes]


def _every_fixture_plan() -> list[Plan]:
    """Every fixture JSON file the loader reads as a plan (change sets and
    templates too: a review of any kind goes back the same way)."""
    found = []
    for path in sorted(FIXTURES.rglob("*.json")):
        if "bad" in path.parts:
            continue  # bad on purpose
        try:
            found += load([str(path)])
        except PlanguardError:
            continue  # not a plan (an acknowledgement, a hook's input)
    return found


def test_a_review_comes_back_from_a_worker_whole() -> None:
    """Every field of every change and resource comes back as it went, apart
    from the values (which stay in the worker): fields at their defaults are
    left out of the message and come back as those defaults."""
    plans = _every_fixture_plan()
    assert len(plans) > 200
    checks = all_checks()

    def without_values(changes: list[Change]) -> list[Change]:
        return [msgspec.structs.replace(c, attributes=None) for c in changes]

    for plan in plans:
        pr = review_mod.review_plan(plan, checks, Config())
        back = review_mod._unpack(review_mod._pack(pr)).plan
        assert back.changes == without_values(plan.changes), plan.source
        assert back.drift == without_values(plan.drift), plan.source
        assert back.resources == plan.resources, plan.source
        assert list(back.resources) == list(plan.resources), plan.source
        assert (back.outputs, back.notes, back.kind, back.tool) == (
            plan.outputs,
            plan.notes,
            plan.kind,
            plan.tool,
        )
    changes = [c for plan in plans for c in plan.changes]
    assert len(changes) > 1000
    # Not only defaults went: fields that are rarely set came back too.
    for field in ("previous_address", "deposed", "order", "reason", "location", "conditional"):
        assert any(getattr(c, field) for c in changes), field
    assert any(r.location for plan in plans for r in plan.resources.values())


def test_a_worker_holds_one_file_at_a_time() -> None:
    """A worker frees a file's review when it takes the next file, not before
    the result went back; it never holds two."""
    kwargs: dict[str, Any] = {
        "checks": all_checks(),
        "config": Config(),
        "max_bytes": 1 << 30,
        "source_dir": None,
    }
    try:
        review_mod._review_file(PLANS[0], **kwargs)
        [first] = review_mod._last_reviewed
        held = weakref.ref(first)
        del first
        assert held() is not None  # still alive once its result was made
        review_mod._review_file(PLANS[1], **kwargs)
        assert held() is None
        assert [pr.plan.source for pr in review_mod._last_reviewed] == [PLANS[1]]
    finally:
        review_mod._last_reviewed.clear()
