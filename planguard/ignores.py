"""Inline ignores that count: only those the trusted commit already had.

Loaders attach the `# planguard:ignore` comments (and CloudFormation
`Metadata.planguard.ignore`) of the sources they read, which in CI are the
change's own. With a trusted commit, each resource keeps only the ignores its
block had there; the rest are weakenings of the gate, shown as such.
"""

from __future__ import annotations

import os
import posixpath

import msgspec

from planguard.errors import InputError
from planguard.model import Plan
from planguard.settings import Weakening
from planguard.trust import Repo, Tree

Ignores = tuple[tuple[str, str], ...]


class _TreeSource:
    """A trusted tree as the HCL reader wants it."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def describe(self) -> str:
        return self.tree.describe()

    def tf_files(self, directory: str) -> list[str]:
        names = self.tree.listdir(directory)
        return [
            posixpath.normpath(posixpath.join(directory, n)) for n in names if n.endswith(".tf")
        ]

    def read(self, path: str) -> bytes | None:
        return self.tree.read(path)


class _Trusted:
    """The ignores of each source file at the trusted commit, read once."""

    def __init__(self, tree: Tree, repo: Repo) -> None:
        self.tree, self.repo = tree, repo
        self._hcl: dict[str, dict[str, Ignores]] = {}
        self._cfn: dict[str, dict[str, Ignores]] = {}

    def _rel(self, file: str) -> str | None:
        # HCL locations are repository-relative, template locations as given.
        if not os.path.exists(file) and self.repo.root is not None:
            file = os.path.join(self.repo.root, file)
        return self.repo.inside(file)

    def of(self, file: str, keys: tuple[str, ...]) -> Ignores:
        rel = self._rel(file)
        if rel is None:
            return ()
        if rel.endswith(".tf"):
            table = self._hcl_dir(posixpath.dirname(rel) or ".")
        else:
            table = self._template(rel)
        return next((table[k] for k in keys if k in table), ())

    def _hcl_dir(self, directory: str) -> dict[str, Ignores]:
        if directory not in self._hcl:
            from planguard.load import hcl_parse

            try:
                config = hcl_parse.read(_TreeSource(self.tree), directory)
                blocks = config.resources()
            except InputError:
                blocks = {}  # unreadable at the base: nothing there was trusted
            self._hcl[directory] = {a: b.ignores for a, b in blocks.items()}
        return self._hcl[directory]

    def _template(self, rel: str) -> dict[str, Ignores]:
        if rel not in self._cfn:
            from planguard.load.cloudformation import load_template_text

            data = self.tree.read(rel)
            table: dict[str, Ignores] = {}
            if data is not None:
                try:
                    template = load_template_text(rel, data)
                    table = {k: r.ignores for k, r in template.resources.items()}
                except InputError:
                    pass
            self._cfn[rel] = table
        return self._cfn[rel]


def restrict(plans: list[Plan], tree: Tree, repo: Repo) -> list[Weakening]:
    """Keep on each resource only the ignores the trusted commit had; return the others."""
    trusted = _Trusted(tree, repo)
    out: list[Weakening] = []
    for plan in plans:
        changed = {}
        for address, res in plan.resources.items():
            if not res.ignores:
                continue
            keys = _keys(res.config_address, address)
            have = trusted.of(res.location.file, keys) if res.location else ()
            # The trusted commit's ignores (and reasons), where the change still has them.
            asked = {check_id for check_id, _ in res.ignores}
            kept = tuple(i for i in have if i[0] in asked)
            for check_id in sorted(asked - {c for c, _ in kept}):
                out.append(
                    Weakening(f"adds an inline ignore of {check_id} on {address}", res.location)
                )
            if kept != res.ignores:
                changed[address] = msgspec.structs.replace(res, ignores=kept)
        plan.resources.update(changed)
    return list(dict.fromkeys(out))  # one weakening a resource and check


def _keys(config_address: str, address: str) -> tuple[str, ...]:
    keys = [k for k in (config_address, address) if k]
    keys += [k.rsplit("/", 1)[-1] for k in keys if "/" in k]
    return tuple(dict.fromkeys(keys))
