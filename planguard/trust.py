"""Where the settings that can lower the gate come from.

The author of a change can never lower its own gate. Four things can: the
policy file, the user checks it names, inline `planguard:ignore` comments and
acknowledgement files. A person running planguard on their own machine trusts
their working tree. In CI the change is the working tree, so those four are
read from a trusted commit instead (the pull request's base, or
`--trusted-ref`), through git when the commit is in the checkout, else through
GitHub's contents API; when neither can be read, the built-in defaults (strict)
apply and the report says so. Nothing from the change itself is imported or run.

A path outside the repository (an organisation's policy on the runner) is not
part of any change and is read from disk.
"""

from __future__ import annotations

import base64
import os
import posixpath
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from planguard.errors import PlanguardError

if TYPE_CHECKING:
    from planguard.github import GitHub


class TrustError(PlanguardError):
    """The trusted commit cannot be read (exit 2 where it is asked for by name)."""

    exit_code = 2


class Tree(Protocol):
    """Files of one commit (or the working tree) by repository-relative POSIX path."""

    def describe(self) -> str: ...

    def read(self, path: str) -> bytes | None:
        """The file's bytes; None when there is no file at `path`."""
        ...

    def listdir(self, path: str) -> list[str]:
        """Names of the files (not directories) directly in `path`; [] if none."""
        ...


class GitTree:
    """One commit of the local repository, read with git."""

    def __init__(self, root: str, commit: str) -> None:
        from planguard import gitutil

        self.commit = commit
        self._tree = gitutil.GitTree(root, commit)

    def describe(self) -> str:
        return f"commit {self.commit[:7]} (git)"

    def read(self, path: str) -> bytes | None:
        return self._tree.read(posixpath.normpath(path))

    def listdir(self, path: str) -> list[str]:
        directory = posixpath.normpath(path)
        return sorted(
            posixpath.basename(p)
            for p in self._tree.files()
            if (posixpath.dirname(p) or ".") == directory
        )


class ApiTree:
    """One commit read through GitHub's contents API, for a checkout without it."""

    def __init__(self, client: GitHub, commit: str) -> None:
        self.client = client
        self.commit = commit
        self._listings: dict[str, list[dict[str, object]]] = {}

    def describe(self) -> str:
        return f"commit {self.commit[:7]} (GitHub API)"

    def _get(self, path: str) -> object:
        from planguard.github import GitHubError

        quoted = urllib.parse.quote(posixpath.normpath(path).removeprefix("./"), safe="/")
        quoted = "" if quoted == "." else quoted
        url = f"{self.client.repo}/contents/{quoted}?ref={self.commit}"
        try:
            doc, _ = self.client.request("GET", url)
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise TrustError(f"cannot read the base commit through the API: {exc}") from None
        return doc

    def read(self, path: str) -> bytes | None:
        doc = self._get(path)
        if not isinstance(doc, dict) or doc.get("type") != "file":
            return None
        content = doc.get("content")
        if doc.get("encoding") == "base64" and isinstance(content, str):
            return base64.b64decode(content)
        blob = doc.get("sha")  # over 1 MB the contents API leaves the content out
        if not isinstance(blob, str):
            raise TrustError(f"{path}: the API gave no content")
        from planguard.github import GitHubError

        try:
            doc, _ = self.client.request("GET", f"{self.client.repo}/git/blobs/{blob}")
        except GitHubError as exc:
            raise TrustError(f"cannot read the base commit through the API: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("content"), str):
            raise TrustError(f"{path}: the API gave no content")
        return base64.b64decode(str(doc["content"]))

    def listdir(self, path: str) -> list[str]:
        doc = self._get(path)
        if not isinstance(doc, list):
            return []
        return sorted(
            str(e["name"]) for e in doc if isinstance(e, dict) and e.get("type") == "file"
        )


class EmptyTree:
    """Nothing is trusted: built-in defaults, no ignores, no acknowledgements."""

    def __init__(self, why: str) -> None:
        self.why = why

    def describe(self) -> str:
        return "built-in defaults"

    def read(self, path: str) -> bytes | None:
        return None

    def listdir(self, path: str) -> list[str]:
        return []


@dataclass(frozen=True)
class Repo:
    """Where paths are resolved: the repository root (None outside one) and the
    directory planguard runs in, relative to it."""

    root: str | None
    here: str = "."

    @classmethod
    def find(cls, cwd: str = ".") -> Repo:
        """The work tree around `cwd`: the nearest directory holding `.git` (a
        directory, or a file in a worktree). Looked up without running git,
        which would cost every local review a process."""
        here = Path(os.path.realpath(cwd))
        for directory in (here, *here.parents):
            if (directory / ".git").exists():
                return cls(str(directory), _rel(str(here), str(directory)) or ".")
        return cls(None)

    def inside(self, path: str) -> str | None:
        """`path` relative to the repository root; None when it lies outside."""
        if self.root is None:
            return None
        return _rel(os.path.abspath(path), self.root)


def _rel(path: str, root: str) -> str | None:
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root)).replace(os.sep, "/")
    rel = posixpath.normpath(rel)
    return None if rel == ".." or rel.startswith("../") else rel


@dataclass(frozen=True)
class Trust:
    """The trusted side of a run: `tree` is None for the working tree."""

    tree: Tree | None = None
    repo: Repo = field(default_factory=lambda: Repo(None))
    # Why the trusted commit could not be read (then `tree` is an EmptyTree).
    problem: str | None = None

    @property
    def local(self) -> bool:
        return self.tree is None

    def describe(self) -> str:
        if self.tree is None:
            return "the working tree"
        return self.tree.describe()


WORKING_TREE = Trust()


def working_tree(cwd: str = ".") -> Trust:
    """The working tree trusted, paths named relative to its repository."""
    return Trust(None, Repo.find(cwd))


def at_ref(ref: str, cwd: str = ".") -> Trust:
    """`--trusted-ref REF`: settings from that commit of the local repository."""
    from planguard import gitutil

    repo = Repo.find(cwd)
    if repo.root is None:
        raise TrustError("--trusted-ref needs a git repository")
    try:
        commit = gitutil.resolve(repo.root, ref)
    except gitutil.GitError:
        raise TrustError(f"--trusted-ref: no commit {ref!r} in this repository") from None
    return Trust(GitTree(repo.root, commit), repo)


def at_base(sha: str, client: GitHub | None, cwd: str = ".") -> Trust:
    """A pull request's base commit: git when the checkout has it, else the API,
    else nothing (strict defaults, with the reason)."""
    from planguard import gitutil

    repo = Repo.find(cwd)
    if repo.root is not None:
        try:
            commit = gitutil.resolve(repo.root, sha)
            return Trust(GitTree(repo.root, commit), repo)
        except gitutil.GitError:
            pass
    if repo.root is None:
        repo = Repo(os.path.abspath(cwd))
    if client is not None:
        return Trust(ApiTree(client, sha), repo)
    why = (
        f"the base commit {sha[:7]} is not in the checkout (fetch-depth) and there is no "
        "token to read it through the API"
    )
    return Trust(EmptyTree(why), repo, problem=why)


def materialize(tree: Tree, directory: str) -> str:
    """A user checks directory of the trusted commit, written to a private
    temporary directory so that it can be imported by path."""
    out = tempfile.mkdtemp(prefix="planguard-checks-")
    for name in tree.listdir(directory):
        if name.endswith(".py"):
            data = tree.read(posixpath.join(directory, name))
            if data is not None:
                Path(out, name).write_bytes(data)
    return out
