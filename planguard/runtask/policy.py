"""The server's policy: a file on the server, or a file in a git repository at
a pinned commit. Never the workspace's: the run task sees only the plan.

`--policy` takes either a path, or `git+URL@COMMIT` with an optional
`#PATH` (the policy file in that repository; default: the first of
`.planguard.yml`, `.planguard.yaml` and a `pyproject.toml` with
`[tool.planguard]` at its root). COMMIT is a full commit id (40 or 64 hex
digits): a branch or tag could move under the server. The commit is fetched
once, at start-up, into the server's private directory, with no hooks run;
the policy (and any `checks_dir` it names, relative to it) is read from there.
The policy is loaded at start-up too, so a broken one stops the server from
starting rather than failing every run.
"""

from __future__ import annotations

import os
import re
import subprocess

from planguard import config as config_mod
from planguard.errors import UsageError

_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_USERINFO = re.compile(r"//[^/@\s]+@")


def resolve(spec: str | None, workdir: str) -> str | None:
    """The policy file for `spec`, checked; None for the built-in defaults."""
    if spec is None:
        return None
    path = _checkout(spec[4:], workdir) if spec.startswith("git+") else os.path.abspath(spec)
    config_mod.load(path)  # ConfigError (exit 2) names the file and the problem
    return path


def parse_git(spec: str) -> tuple[str, str, str | None]:
    """`URL@COMMIT[#PATH]` as (url, commit, path)."""
    spec, _, path = spec.partition("#")
    url, at, commit = spec.rpartition("@")
    if not at or not url or not _COMMIT.match(commit):
        raise UsageError(
            "--policy: a git policy is git+URL@COMMIT[#PATH], COMMIT a full commit id "
            "(40 or 64 hex digits), so that it cannot move"
        )
    return url, commit, path or None


def _checkout(spec: str, workdir: str) -> str:
    url, commit, path = parse_git(spec)
    repo = os.path.join(workdir, "policy")
    os.makedirs(repo, mode=0o700)
    _git(["init", "--quiet"], repo)
    _git(["fetch", "--quiet", "--depth", "1", "--no-tags", url, commit], repo)
    _git(["checkout", "--quiet", "--detach", "FETCH_HEAD"], repo)
    head = _git(["rev-parse", "HEAD"], repo).strip()
    if head != commit:
        raise UsageError(f"--policy: fetched {head[:12]}, not the commit asked for")
    if path is None:
        found = next((n for n in config_mod.POLICY_FILES if _is_policy(repo, n)), None)
        if found is None:
            raise UsageError(f"--policy: no policy file at the root of commit {commit[:12]}")
        path = found
    full = os.path.realpath(os.path.join(repo, path))
    if not full.startswith(os.path.realpath(repo) + os.sep):
        raise UsageError("--policy: the policy path leaves the repository")
    return full


def _is_policy(repo: str, name: str) -> bool:
    path = os.path.join(repo, name)
    return os.path.isfile(path) and config_mod.is_policy(name, config_mod.read_file(path))


def _git(args: list[str], cwd: str) -> str:
    # No hooks (a global core.hooksPath could run one on checkout), no prompt.
    command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false", *args]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, timeout=300, check=False
        )
    except FileNotFoundError:
        raise UsageError("--policy: git is not installed (needed for a git policy)") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--policy: git {args[0]} failed: {type(exc).__name__}") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").splitlines()
        first = next((ln.strip() for ln in lines if ln.strip()), f"exit status {proc.returncode}")
        raise UsageError(f"--policy: git {args[0]}: {_USERINFO.sub('//', first)}")
    return proc.stdout.decode(errors="replace")
