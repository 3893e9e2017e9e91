"""The pre-commit hooks, run by the real `pre-commit` against this repository.

`pre-commit try-repo` clones this repository, installs it into a fresh
virtual environment like any user's pre-commit would, and runs the hook in a
throwaway git repository whose HEAD holds a database that the working tree
removes. The environment is built once per test session (PRE_COMMIT_HOME is
shared), so only the first run pays for the install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

MAIN_TF = """\
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_db_instance" "billing" {
  identifier = "billing"
  engine     = "postgres"
  tags = {
    team = "payments"
  }
}
"""


def _pre_commit() -> str:
    here = Path(sys.executable).parent / "pre-commit"
    found = str(here) if here.exists() else shutil.which("pre-commit")
    if not found:
        pytest.fail("the pre-commit executable is missing (it is in the test extras)")
    return found


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "PRE_COMMIT", "GIT_", "PLANGUARD_"))
    }
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
        GIT_CONFIG_GLOBAL=os.devnull,
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / ".git").exists():
        pytest.fail(f"{REPO} is not a git repository: try-repo needs one")
    return tmp_path_factory.mktemp("pre-commit-home")


def _project(root: Path, env: dict[str, str]) -> Path:
    root.mkdir()
    (root / "main.tf").write_text(MAIN_TF)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root


def _try_repo(root: Path, env: dict[str, str], hook: str) -> subprocess.CompletedProcess[str]:
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    return subprocess.run(
        [_pre_commit(), "try-repo", str(REPO), hook, "--all-files", "--verbose"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_removing_a_database_is_refused(tmp_path: Path, home: Path) -> None:
    env = _env(home)
    root = _project(tmp_path / "infra", env)
    text = (root / "main.tf").read_text()
    (root / "main.tf").write_text(text[: text.index('resource "aws_db_instance"')])
    proc = _try_repo(root, env, "planguard-hcl")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "PG101" in out, out
    assert "aws_db_instance.billing" in out, out
    assert "main.tf:5" in out, out
    assert "predictions from sources" in out, out


def test_a_tag_change_passes(tmp_path: Path, home: Path) -> None:
    env = _env(home)
    root = _project(tmp_path / "infra", env)
    (root / "main.tf").write_text(MAIN_TF.replace('"payments"', '"billing"'))
    proc = _try_repo(root, env, "planguard-hcl")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Passed" in out, out


def test_hook_starts_fast(tmp_path: Path, home: Path) -> None:
    """A warm run of the installed hook on a small repo, as pre-commit reports its duration.

    try-repo builds a new environment every time, so this installs the hook
    the way users do (a config naming this repository at its HEAD commit) and
    times the second run: the first one also builds python-hcl2's grammar cache.
    """
    env = _env(home)
    root = _project(tmp_path / "infra", env)
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {REPO}\n  rev: {rev}\n  hooks:\n  - id: planguard-hcl\n"
    )
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    durations = []
    for _ in range(3):
        proc = subprocess.run(
            [_pre_commit(), "run", "planguard-hcl", "--all-files", "--verbose"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out
        match = re.search(r"- duration: ([0-9.]+)s", out)
        assert match, out
        durations.append(float(match.group(1)))
    warm = min(durations[1:])
    print(f"planguard-hcl hook: first run {durations[0]:.2f}s, warm {warm:.2f}s")
    # Under a second warm; the margin keeps a busy CI machine from failing it.
    assert warm < 1.5, f"the hook took {warm:.2f}s on a small repo"
