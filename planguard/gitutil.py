"""The few git questions planguard asks, answered by the `git` CLI.

Reading a tree at a ref (for HCL predictions) needs file listings and file
contents at that ref; CI needs the merge base with the target branch. Every
failure is a `GitError` with git's own first line of complaint.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field

from planguard.errors import PlanguardError


class GitError(PlanguardError):
    """git is missing, the directory is not a repository, or a ref is unknown (exit 2)."""

    exit_code = 2


def _git(args: list[str], cwd: str, *, data: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=data,
            capture_output=True,
            check=False,
            timeout=120,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (needed to read the base of --hcl)") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} failed: {exc}") from None
    if proc.returncode != 0:
        first = next(
            (ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()),
            f"exit status {proc.returncode}",
        )
        raise GitError(f"git {' '.join(args[:2])}: {first.strip()}")
    return proc.stdout


def toplevel(path: str = ".") -> str:
    """The root of the work tree that contains `path`."""
    start = path if os.path.isdir(path) else os.path.dirname(path) or "."
    return _git(["rev-parse", "--show-toplevel"], start).decode().strip()


def resolve(root: str, ref: str) -> str:
    """The commit a ref names (so a moving branch is read once, consistently)."""
    try:
        out = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    except GitError as exc:
        if "exit status" not in str(exc):  # git itself failed, not the look-up
            raise
        raise GitError(f"git ref {ref!r} names no commit in {root}") from None
    return out.decode().strip()


def has_commits(root: str) -> bool:
    try:
        _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], root)
    except GitError:
        return False
    return True


def merge_base(root: str, a: str, b: str = "HEAD") -> str:
    return _git(["merge-base", a, b], root).decode().strip()


def default_base(root: str, env: Mapping[str, str] | None = None) -> str:
    """HEAD locally (pre-commit), the merge base with the target branch in a pull request."""
    target = (os.environ if env is None else env).get("GITHUB_BASE_REF")
    if target:
        return merge_base(root, f"origin/{target}")
    return "HEAD"


@dataclass
class GitTree:
    """The files of one commit, read with a single `git cat-file --batch` per batch of paths."""

    root: str
    commit: str
    _files: list[str] | None = field(default=None, repr=False)
    _cache: dict[str, bytes | None] = field(default_factory=dict, repr=False)

    @classmethod
    def at(cls, root: str, ref: str) -> GitTree:
        return cls(root, resolve(root, ref))

    def files(self) -> list[str]:
        """Every file path in the commit, relative to the repository root."""
        if self._files is None:
            out = _git(["ls-tree", "-r", "-z", "--name-only", self.commit], self.root)
            self._files = [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
        return self._files

    def read_many(self, paths: list[str]) -> dict[str, bytes | None]:
        """Contents of files at the commit (None for a path that is not a file there)."""
        wanted = [p for p in paths if p not in self._cache]
        if wanted:
            spec = "".join(f"{self.commit}:{p}\n" for p in wanted).encode(
                "utf-8", "surrogateescape"
            )
            out = _git(["cat-file", "--batch"], self.root, data=spec)
            pos = 0
            for path in wanted:
                end = out.index(b"\n", pos)
                header = out[pos:end].split()
                pos = end + 1
                if len(header) == 2 and header[1] == b"missing":
                    self._cache[path] = None
                    continue
                size = int(header[2])
                body = out[pos : pos + size]
                pos += size + 1
                self._cache[path] = body if header[1] == b"blob" else None
        return {p: self._cache[p] for p in paths}

    def read(self, path: str) -> bytes | None:
        return self.read_many([path])[path]
