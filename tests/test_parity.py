"""Every front end asks the engine the same question and gets the same answer.

`planguard review` (planguard.commands) and `planguard github` (the GitHub
Action step, planguard.github_action) both build an engine.Request and call
engine.run. For every fixture input that loads, the verdict and the findings
must be the same through both: `planguard review FILES --format json` on
stdout, and the JSON report the Action writes (PLANGUARD_REPORT_PATH), the
Action run against a local fake GitHub API (tests/test_github_action.py).

A `push` event trusts the working tree, as the command line does. A
`pull_request` event trusts the base commit, read here through the contents
API, which serves the checkout itself (FakeGitHub.base None): with a base equal
to the change, the pull request path must agree too.

What differs by design is left out of the comparison: the verdict's notes on
where the trusted settings came from, and the actor (the pull request's author
in the Action, the CI variables on the command line).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from test_github_action import OLD, REPO, TOKEN, FakeGitHub, _server, parse_outputs  # noqa: F401

from helpers import FIXTURES
from planguard.cli import main
from planguard.review import TrustReport

EVENTS = FIXTURES / "github/events"
CFN = FIXTURES / "cloudformation"
POLICY = "fail_on: high\n"
FINDING_FIELDS = ("id", "severity", "address", "message", "location", "suppressed", "reason")


@dataclass(frozen=True)
class Case:
    """One review: `plans` (relative to `root`) with everything under `root`
    copied beside them, so both front ends see the same tree."""

    id: str
    root: Path
    plans: tuple[str, ...]
    copy: tuple[str, ...]  # paths under root to copy (files or directories)


def _single(path: Path) -> Case:
    rel = path.relative_to(FIXTURES).as_posix()
    return Case(rel, path.parent, (path.name,), (path.name,))


def _terraform() -> Iterator[Case]:
    for path in sorted(FIXTURES.glob("checks/*/*.json")):
        yield _single(path)
    for path in sorted(FIXTURES.glob("scenarios/*.json")):
        yield _single(path)
    for directory in sorted(p for p in (FIXTURES / "terraform/real").iterdir() if p.is_dir()):
        # The plan with its .tf sources (file:line, inline ignores) and modules.
        sources = tuple(
            sorted(p.name for p in directory.iterdir() if p.suffix == ".tf" or p.is_dir())
        )
        for plan in sorted(directory.iterdir()):
            if plan.suffix == ".json" or plan.name == "tfplan":
                yield Case(
                    plan.relative_to(FIXTURES).as_posix(),
                    directory,
                    (plan.name,),
                    (plan.name, *sources),
                )


def _cloudformation() -> Iterator[Case]:
    for directory in sorted((CFN / "changesets").iterdir()):
        files = tuple(sorted(p.name for p in directory.iterdir() if p.is_file()))
        for name in files:
            yield _single(directory / name)
        if len(files) > 1:
            # A change set with its templates: one combined review.
            rel = directory.relative_to(FIXTURES).as_posix()
            yield Case(f"{rel}/*", directory, files, files)
    for path in sorted((CFN / "pairs").iterdir()):
        yield _single(path)
    yield Case("cloudformation/cdk.out", CFN, ("cdk.out",), ("cdk.out",))
    for path in sorted((CFN / "localstack").iterdir()):
        yield _single(path)


CASES = [*_terraform(), *_cloudformation()]


# -- the two front ends ----------------------------------------------------------


@pytest.fixture
def httpserver(_server: HTTPServer) -> Any:  # noqa: F811
    yield _server
    _server.clear()


@pytest.fixture
def github(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(httpserver)


@dataclass
class Runs:
    """A checkout of one case, and the two front ends run in it."""

    work: Path
    out: Path
    api_url: str
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def cli(self, plans: tuple[str, ...]) -> tuple[int, str, str]:
        self.monkeypatch.chdir(self.work)
        self.capsys.readouterr()
        code = main(["review", *plans, "--format", "json", "--no-color"])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def action(self, plans: tuple[str, ...], event: str) -> tuple[int, dict[str, Any]]:
        report = self.out / f"{event}-report.json"
        for name in ("output", "summary"):
            (self.out / f"{event}-{name}").write_text("")
        env = {
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.test",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "42",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(EVENTS / f"{event}.json"),
            "GITHUB_OUTPUT": str(self.out / f"{event}-output"),
            "GITHUB_STEP_SUMMARY": str(self.out / f"{event}-summary"),
            "GITHUB_WORKSPACE": str(self.work),
            "PLANGUARD_PLANS": "\n".join(plans),
            "PLANGUARD_GITHUB_TOKEN": TOKEN,
            "PLANGUARD_REPORT_PATH": str(report),
        }
        with self.monkeypatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            mp.chdir(self.work)
            self.capsys.readouterr()
            code = main(["github"])
            log = self.capsys.readouterr()
        assert report.is_file(), f"the Action wrote no report (exit {code}):\n{log.out}{log.err}"
        outputs = parse_outputs((self.out / f"{event}-output").read_text())
        return code, {"report": json.loads(report.read_text()), "outputs": outputs}


@pytest.fixture
def runs(
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runs:
    for name in list(os.environ):
        if name.startswith(("PLANGUARD_", "GITHUB_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    out.mkdir()
    (work / ".planguard.yml").write_text(POLICY)
    return Runs(work, out, httpserver.url_for("/").rstrip("/"), monkeypatch, capsys)


def _checkout(case: Case, work: Path) -> None:
    for rel in case.copy:
        src = case.root / rel
        if src.is_dir():
            shutil.copytree(src, work / rel)
        else:
            shutil.copy2(src, work / rel)


# -- the comparison --------------------------------------------------------------


def _verdict(doc: dict[str, Any]) -> dict[str, Any]:
    v = dict(doc["verdict"])
    v.pop("actor")  # by design: the pull request's author in the Action
    return v


def _findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: f[k] for k in FINDING_FIELDS} for f in doc["findings"]]


def _differences(a: Any, b: Any, path: str = "$") -> list[str]:
    """Where two JSON documents differ, as paths with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for key in sorted({*a, *b}, key=str)
            for d in _differences(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}.{key}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: review {b!r} != github {a!r}"]


def assert_same(cli: dict[str, Any], action: dict[str, Any], trust_notes: list[str]) -> None:
    """The Action's report is the command line's, but for the actor and the
    notes on where trusted settings came from (`trust_notes`, put first)."""
    verdict = {k: action["verdict"][k] for k in ("blocked", "level", "score")}
    assert verdict == {k: cli["verdict"][k] for k in verdict}, "the verdicts differ"
    findings = _findings(action)
    assert findings == _findings(cli), "the findings differ:\n" + "\n".join(
        _differences(findings, _findings(cli), "findings")
    )
    # The rest too: the other verdict fields, counts, destructive rows, details.
    expected = {**cli, "verdict": {**_verdict(cli), "notes": trust_notes + cli["verdict"]["notes"]}}
    got = {**action, "verdict": _verdict(action)}
    assert got == expected, "the reports differ:\n" + "\n".join(_differences(got, expected))


def _review_both(
    runs: Runs, case: Case, event: str = "push"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both front ends on `case`; (the command line's report, the Action's)."""
    _checkout(case, runs.work)
    code, out, err = runs.cli(case.plans)
    if code == 2:
        pytest.skip(f"{case.id} does not load: {err.strip()}")
    assert code in (0, 1), f"planguard review exited {code}: {err}"
    cli = json.loads(out)
    action_code, action = runs.action(case.plans, event)
    trust_notes = []
    if event == "pull_request":
        base = TrustReport(source=f"commit {OLD[:7]} (GitHub API)", local=False)
        trust_notes = base.notes()
    assert_same(cli, action["report"], trust_notes)
    # Nothing approves in these runs: the gate is the verdict, and says so.
    assert action_code == code
    assert action["outputs"]["blocked"] == ("true" if cli["verdict"]["blocked"] else "false")
    assert action["outputs"]["risk-level"] == cli["verdict"]["level"]
    assert action["outputs"]["risk-score"] == str(cli["verdict"]["score"])
    return cli, action["report"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_review_and_action_agree(case: Case, runs: Runs, github: FakeGitHub) -> None:
    _review_both(runs, case)
    assert github.calls == []  # a push trusts the checkout: no API call


# With sources and modules, a combined CloudFormation review, and plain plans.
PR_CASES = [
    {c.id: c for c in CASES}[case_id]
    for case_id in (
        "checks/PG105/bad.json",
        "scenarios/incident-env-recreated.json",
        "terraform/real/moved/output.json",
        "cloudformation/changesets/vpc-replace/*",
    )
]


@pytest.mark.parametrize("case", PR_CASES, ids=[c.id for c in PR_CASES])
def test_a_pull_request_whose_base_is_the_checkout_agrees(
    case: Case, runs: Runs, github: FakeGitHub, httpserver: HTTPServer
) -> None:
    _review_both(runs, case, "pull_request")
    # The settings were read at the base, through the API.
    assert any("/contents" in path for _, path in github.calls)
    httpserver.check_assertions()


IGNORED_TF = """\
# planguard:ignore PG101 reason
resource "aws_db_instance" "billing" {}
"""


@pytest.mark.parametrize("event", ["push", "pull_request"])
def test_an_inline_ignore_is_read_alike(
    event: str, runs: Runs, github: FakeGitHub, httpserver: HTTPServer, tmp_path: Path
) -> None:
    source = tmp_path / "case"
    source.mkdir()
    shutil.copy(FIXTURES / "checks/PG101/bad.json", source / "plan.json")
    (source / "main.tf").write_text(IGNORED_TF)
    case = Case("ignored", source, ("plan.json",), ("plan.json", "main.tf"))
    cli, action = _review_both(runs, case, event)
    for doc in (cli, action):
        [pg101] = [f for f in doc["findings"] if f["id"] == "PG101"]
        assert pg101["suppressed"] is True
        assert pg101["location"] == {"file": "main.tf", "line": 2}
        assert pg101["reason"].endswith("reason")
    httpserver.check_assertions()
