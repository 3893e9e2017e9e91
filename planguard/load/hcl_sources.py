"""Where `.tf` sources are read from: the working tree, a git commit, or nothing yet.

Each is a planguard.load.hcl_parse.Source over repository-relative POSIX paths.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING

from planguard.errors import InputError

if TYPE_CHECKING:
    from planguard.gitutil import GitTree

_SKIP_DIRS = frozenset({".terraform", ".git", "node_modules"})


class WorkTree:
    """Files on disk under `root`; paths are relative to it."""

    def __init__(self, root: str) -> None:
        self.root = root

    def describe(self) -> str:
        return "the working tree"

    def tf_files(self, directory: str) -> list[str]:
        full = os.path.join(self.root, directory)
        try:
            names = sorted(os.listdir(full))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:  # a symlink loop or no permission: unread is not empty
            raise InputError(directory, f"cannot read: {exc.strerror or exc}") from None
        return [
            posixpath.normpath(posixpath.join(directory, n))
            for n in names
            if n.endswith(".tf")
            and (os.path.isfile(os.path.join(full, n)) or os.path.islink(os.path.join(full, n)))
        ]

    def read(self, path: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, path), "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from None

    def tf_dirs(self, under: str) -> set[str]:
        out = set()
        base = os.path.join(self.root, under)
        for here, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
            if any(f.endswith(".tf") for f in files):
                rel = os.path.relpath(here, self.root).replace(os.sep, "/")
                out.add(posixpath.normpath(rel))
        return out


class GitSource:
    """Files of one commit (planguard.gitutil.GitTree), read in one batch per directory."""

    def __init__(self, tree: GitTree, label: str) -> None:
        self.tree = tree
        self.label = label

    def describe(self) -> str:
        return self.label

    def _tf(self) -> list[str]:
        return [p for p in self.tree.files() if p.endswith(".tf")]

    def tf_files(self, directory: str) -> list[str]:
        directory = posixpath.normpath(directory)
        paths = sorted(p for p in self._tf() if (posixpath.dirname(p) or ".") == directory)
        self.tree.read_many(paths)
        return paths

    def read(self, path: str) -> bytes | None:
        return self.tree.read(path)

    def tf_dirs(self, under: str) -> set[str]:
        under = posixpath.normpath(under)
        out = set()
        for p in self._tf():
            d = posixpath.dirname(p) or "."
            parts = d.split("/")
            if any(part.startswith(".") or part in _SKIP_DIRS for part in parts if part != "."):
                continue
            if under == "." or d == under or d.startswith(under + "/"):
                out.add(d)
        return out


class EmptySource:
    """The base of a repository with no commits yet: nothing existed before."""

    def describe(self) -> str:
        return "an empty tree"

    def tf_files(self, directory: str) -> list[str]:
        return []

    def read(self, path: str) -> bytes | None:
        return None

    def tf_dirs(self, under: str) -> set[str]:
        return set()
