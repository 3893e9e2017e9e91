"""The git-aware template pair: `--before REF:PATH` reads the template at a ref."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import FIXTURES

PAIRS = FIXTURES / "cloudformation/pairs"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def review(cwd: Path, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "planguard", "review", "--format", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def findings(doc: dict) -> list[tuple[str, str]]:
    return sorted((f["id"], f["address"]) for f in doc["findings"])


def test_before_from_git_ref_equals_the_file_pair(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    git(repo, "init", "-q")
    shutil.copy(PAIRS / "orders-before.yaml", repo / "stacks/orders.yaml")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    shutil.copy(PAIRS / "orders-after.yaml", repo / "stacks/orders.yaml")

    from_git = review(repo, "--before", "HEAD:stacks/orders.yaml", "--after", "stacks/orders.yaml")
    from_files = review(
        tmp_path,
        "--before",
        str(PAIRS / "orders-before.yaml"),
        "--after",
        str(PAIRS / "orders-after.yaml"),
    )
    assert from_git["verdict"]["predicted"] is True
    assert findings(from_git) == findings(from_files)
    assert findings(from_git), "the orders pair has findings"
    assert from_git["plans"][0]["counts"] == from_files["plans"][0]["counts"]


def test_unknown_ref_is_a_clear_input_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    shutil.copy(PAIRS / "orders-after.yaml", repo / "orders.yaml")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "planguard",
            "review",
            "--before",
            "nope:orders.yaml",
            "--after",
            "orders.yaml",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("planguard: error: nope:orders.yaml: ")
    assert len(out.stderr.strip().splitlines()) == 1
