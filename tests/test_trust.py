"""The author of a change can never lower its own gate: `planguard review
--trusted-ref` in a real git repository, with a base commit and a change that
tries, the way a hostile pull request (or an agent) would.

The base commit holds a strict policy, a plan that destroys the billing
database and the .tf sources beside it. Each test changes the working tree the
way the change would, and the review must still block, with PG002 naming what
the change did to its own gate.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.cli import main

PLAN = FIXTURES / "checks/PG101/bad.json"
PLANGUARD = [sys.executable, "-m", "planguard"]
TF = """\
resource "aws_db_instance" "billing" {
  identifier = "billing"
  engine     = "postgres"
}
"""


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "base",
        "GIT_AUTHOR_EMAIL": "base@example.com",
        "GIT_COMMITTER_NAME": "base",
        "GIT_COMMITTER_EMAIL": "base@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    out = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / ".planguard.yml").write_text("fail_on: high\n")
    shutil.copy(PLAN, root / "infra/plan.json")
    (root / "infra/main.tf").write_text(TF)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "tag", "base")
    monkeypatch.chdir(root)
    return root


def review(*args: str) -> tuple[int, dict]:
    """The review as JSON, with the trusted ref; (exit code, report)."""
    out = Path("report.json").absolute()
    code = main(["review", *args, "--trusted-ref", "base", "--json", str(out), "-o", os.devnull])
    report = json.loads(out.read_text())
    out.unlink()
    return code, report


def kept(report: dict) -> list[str]:
    return [f["id"] for f in report["findings"] if not f["suppressed"]]


def pg002(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["id"] == "PG002"]


def weakenings(report: dict) -> list[str]:
    return [f["message"] for f in pg002(report)]


def test_the_base_blocks_the_destroy(repo: Path) -> None:
    code, report = review("infra/plan.json")
    assert code == 1
    assert "PG101" in kept(report)
    assert weakenings(report) == []
    assert any("from commit" in n for n in report["verdict"]["notes"])


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("fail_on: high\ndisable: [PG101]\n", "this change disables PG101"),
        (
            "fail_on: high\nignore:\n  - check: PG101\n    address: '*'\n    reason: fine\n",
            "this change adds an ignore of PG101 for *",
        ),
        (
            "fail_on: high\nseverity: {PG101: low}\n",
            "this change lowers PG101 from critical to low",
        ),
        (
            "fail_on: critical\nseverity: {PG101: high}\n",
            "this change raises fail_on from high to critical",
        ),
        ("fail_on: high\napprovals: {required: 0}\n", "this change lowers approvals.required"),
    ],
)
def test_a_policy_from_the_change_is_not_used(repo: Path, policy: str, expected: str) -> None:
    (repo / ".planguard.yml").write_text(policy)
    code, report = review("infra/plan.json")
    assert code == 1
    assert "PG101" in kept(report)
    assert any(w.startswith(expected) for w in weakenings(report)), weakenings(report)
    first = pg002(report)[0]
    assert first["location"]["file"] == ".planguard.yml"
    assert first["location"]["line"] >= 1
    # What the change's own settings would do once merged is said, for the approver.
    assert any("once merged" in n for n in report["verdict"]["notes"])


def test_a_nearer_policy_file_cannot_shadow_the_root(repo: Path) -> None:
    (repo / "infra/pyproject.toml").write_text("[tool.planguard]\ndisable = ['PG101']\n")
    os.chdir(repo / "infra")
    code, report = review("plan.json")
    assert code == 1
    assert "PG101" in kept(report)
    assert any("infra/pyproject.toml" in w for w in weakenings(report))


def test_an_inline_ignore_from_the_change_is_not_used(repo: Path) -> None:
    (repo / "infra/main.tf").write_text("# planguard:ignore PG101 it is fine\n" + TF)
    code, report = review("infra/plan.json")
    assert code == 1
    assert "PG101" in kept(report)
    assert weakenings(report) == [
        "this change adds an inline ignore of PG101 on aws_db_instance.billing"
    ]
    assert pg002(report)[0]["location"] == {"file": "infra/main.tf", "line": 2}


def test_an_inline_ignore_on_the_base_still_counts(repo: Path) -> None:
    (repo / "infra/main.tf").write_text("# planguard:ignore PG101 retired, see RFC-12\n" + TF)
    git(repo, "commit", "-qam", "ignore on the base")
    git(repo, "tag", "-f", "base")
    code, report = review("infra/plan.json")
    assert code == 0
    assert "PG101" not in kept(report)
    assert weakenings(report) == []


def test_an_inline_ignore_in_hcl_predictions_is_not_used(repo: Path) -> None:
    (repo / "infra/main.tf").write_text(
        "# planguard:ignore PG102 fine\n" + TF.replace('"billing"\n', '"billing-2"\n', 1)
    )
    code, report = review("--hcl", "infra", "--base", "base")
    assert code == 1
    assert "PG102" in kept(report)
    assert any("inline ignore of PG102" in w for w in weakenings(report))


def test_a_policy_change_already_on_the_base_counts(repo: Path) -> None:
    (repo / ".planguard.yml").write_text("fail_on: high\ndisable: [PG101]\n")
    git(repo, "commit", "-qam", "policy reviewed on its own")
    git(repo, "tag", "-f", "base")
    code, report = review("infra/plan.json")
    assert code == 0
    assert weakenings(report) == []


def test_user_checks_from_the_change_never_run(repo: Path) -> None:
    """A PR's checks_dir would run its Python with the job's token: it is not
    imported at all (run in a subprocess, so that an escape shows as exit 0)."""
    (repo / "evil").mkdir()
    leak = repo.parent / "leaked-token"
    (repo / "evil/pg901_escape.py").write_text(
        "import os, pathlib\n"
        f"pathlib.Path({str(leak)!r}).write_text(os.environ.get('PLANGUARD_GITHUB_TOKEN', ''))\n"
        "os._exit(0)\n"
    )
    (repo / ".planguard.yml").write_text("fail_on: high\nchecks_dir: evil\n")
    env = {**os.environ, "PLANGUARD_GITHUB_TOKEN": "ghs_secret"}
    proc = subprocess.run(
        [*PLANGUARD, "review", "infra/plan.json", "--trusted-ref", "base", "--format", "json"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert not leak.exists()
    report = json.loads(proc.stdout)
    assert any("adds the user checks in evil" in w for w in weakenings(report))


def test_user_checks_of_the_base_run(repo: Path) -> None:
    (repo / "org").mkdir()
    (repo / "org/pg950_always.py").write_text(USER_CHECK)
    (repo / ".planguard.yml").write_text("fail_on: high\nchecks_dir: org\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "org checks")
    git(repo, "tag", "-f", "base")
    code, report = review("infra/plan.json")
    assert code == 1
    assert "PG950" in kept(report)


USER_CHECK = """\
from planguard.findings import CheckMeta, Severity

META = CheckMeta("PG950", "always", "Always", Severity.INFO, "why", "how")


def check(ctx):
    yield ctx.finding(META, "seen by the organisation's check")
"""


def test_an_ack_file_from_the_change_lifts_nothing(repo: Path) -> None:
    assert main(["ack", "infra/plan.json", "--by", "mallory", "--reason", "mine"]) == 0
    assert Path(".planguard-ack.json").exists()
    code, report = review("infra/plan.json")
    assert code == 1
    assert "PG101" in kept(report)
    assert any("adds the acknowledgement file .planguard-ack.json" in w for w in weakenings(report))


def test_an_ack_already_on_the_base_counts(repo: Path) -> None:
    assert main(["ack", "infra/plan.json", "--by", "alice", "--reason", "retiring billing"]) == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "acknowledged by alice")
    git(repo, "tag", "-f", "base")
    code, report = review("infra/plan.json")
    assert code == 0
    assert "PG101" not in kept(report)


def test_pg001_cannot_be_switched_off(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".planguard.yml").write_text("disable: [PG001]\n")
    assert main(["review", "infra/plan.json"]) == 2
    err = capsys.readouterr().err
    assert ".planguard.yml:1: disable.0: PG001 (plan integrity) cannot be disabled" in err


def test_an_unknown_trusted_ref_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "infra/plan.json", "--trusted-ref", "nosuchref"]) == 2
    assert "no commit 'nosuchref'" in capsys.readouterr().err


def test_an_ack_that_matches_nothing_is_said(repo: Path) -> None:
    assert main(["ack", "infra/plan.json", "--by", "alice", "--reason", "retiring billing"]) == 0
    # The plan changes: the database is kept after all, the ack now binds nothing.
    shutil.copy(FIXTURES / "checks/PG101/good.json", repo / "infra/plan.json")
    out = Path("report.json").absolute()
    assert main(["review", "infra/plan.json", "--json", str(out), "-o", os.devnull]) == 0
    notes = json.loads(out.read_text())["verdict"]["notes"]
    assert "the acknowledgements in .planguard-ack.json match no finding of these plans" in notes


def test_ack_keys_plans_by_their_path_in_the_repository(repo: Path) -> None:
    os.chdir(repo / "infra")
    assert main(["ack", "plan.json", "--by", "alice", "--reason", "retiring billing"]) == 0
    doc = json.loads(Path(".planguard-ack.json").read_text())
    assert list(doc["plans"]) == ["infra/plan.json"]
    assert main(["review", "plan.json", "-o", os.devnull]) == 0


@pytest.mark.parametrize("missing", [["--by", "alice"], ["--reason", "why"]])
def test_ack_needs_a_person_and_a_reason(
    repo: Path, missing: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ack", "infra/plan.json", *missing]) == 2
    assert "ack needs --" in capsys.readouterr().err


CFN = FIXTURES / "cloudformation"


@pytest.mark.parametrize(
    "inputs",
    [
        [
            "--before",
            str(CFN / "pairs/orders-before.yaml"),
            "--after",
            str(CFN / "pairs/orders-after.yaml"),
        ],
        ["--hcl", "infra", "--base", "base"],
        ["infra/plan.json", "infra/other.json"],
    ],
    ids=["template-pair", "hcl", "several-plans"],
)
def test_ack_works_for_every_input_review_takes(repo: Path, inputs: list[str]) -> None:
    """What `review` blocks, `ack` acknowledges, and the same review then passes."""
    shutil.copy(FIXTURES / "checks/PG105/bad.json", repo / "infra/other.json")
    (repo / "infra/main.tf").write_text("")  # --hcl: the database is removed
    assert main(["review", *inputs, "-o", os.devnull]) == 1
    assert main(["ack", *inputs, "--by", "alice", "--reason", "reviewed"]) == 0
    assert main(["review", *inputs, "-o", os.devnull]) == 0


def test_a_template_ignore_from_the_change_is_not_used(repo: Path) -> None:
    """CloudFormation's inline ignore (Metadata.planguard.ignore) is held to the
    same rule: only the trusted commit's template counts."""
    shutil.copy(CFN / "pairs/orders-before.yaml", repo / "before.yaml")
    after = (CFN / "pairs/orders-after.yaml").read_text()
    shutil.copy(CFN / "pairs/orders-after.yaml", repo / "after.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "templates")
    git(repo, "tag", "-f", "base")
    ignored = after.replace(
        "    Type: AWS::RDS::DBInstance\n",
        "    Type: AWS::RDS::DBInstance\n"
        "    Metadata:\n      planguard:\n        ignore: {PG102: it is fine}\n",
        1,
    )
    assert ignored != after
    (repo / "after.yaml").write_text(ignored)
    code, report = review("--before", "before.yaml", "--after", "after.yaml")
    assert code == 1
    assert "PG102" in kept(report)
    assert any("inline ignore of PG102 on Database" in w for w in weakenings(report))


def test_a_pyproject_policy_on_the_base_is_found(repo: Path) -> None:
    (repo / ".planguard.yml").unlink()
    (repo / "pyproject.toml").write_text("[tool.planguard]\ndisable = ['PG101']\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "policy in pyproject.toml, reviewed on its own")
    git(repo, "tag", "-f", "base")
    code, report = review("infra/plan.json")
    assert code == 0
    assert "PG101" not in kept(report)
