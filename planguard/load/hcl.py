"""Terraform sources (`.tf`) as review inputs.

- `load_trees`: predicted plans for the root module(s) of a directory, a git
  base against the working tree, no plan needed (the rules of the prediction:
  planguard.load.hcl_predict);
- `locate` and `for_review`: plans from `terraform show -json` given the
  file:line and inline ignores of their resources, read from `.tf` files (a
  directory given, else the one the plan file is in).
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

import msgspec

from planguard.errors import InputError
from planguard.load import hcl_parse, tfaddr
from planguard.load.files import has_sources
from planguard.load.hcl_parse import Configuration, ResourceBlock, Source
from planguard.load.hcl_predict import predict
from planguard.load.hcl_sources import EmptySource, GitSource, WorkTree
from planguard.model import Location, Plan, PlanKind

# -- entry points --------------------------------------------------------------


def _roots(sources: list[Any], directory: str) -> list[str]:
    """`directory` itself when it holds .tf files, else every root module below it."""
    if any(s.tf_files(directory) for s in sources):
        return [directory]
    found: set[str] = set()
    for s in sources:
        found |= s.tf_dirs(directory)
    return sorted(found)


def _read(source: Source, directory: str) -> Configuration | None:
    if not source.tf_files(directory):
        return None
    return hcl_parse.read(source, directory)


def load_trees(directory: str, *, base: str | None = None, cwd: str = ".") -> list[Plan]:
    """Predicted plans for the root module(s) at `directory`: `base` against the work tree."""
    from planguard import gitutil

    root = gitutil.toplevel(cwd)
    here = os.path.relpath(os.path.abspath(os.path.join(cwd, directory)), root)
    here = posixpath.normpath(here.replace(os.sep, "/"))
    if here.startswith(".."):
        raise InputError(directory, "is outside the git repository")
    if not os.path.isdir(os.path.join(root, here)):
        raise InputError(directory, "no such directory")
    ref = base or gitutil.default_base(root)
    head_src = WorkTree(root)
    base_src: Any
    if ref == "HEAD" and not gitutil.has_commits(root):
        base_src = EmptySource()
    else:
        base_src = GitSource(gitutil.GitTree.at(root, ref), ref)
    roots = _roots([head_src, base_src], here)
    if not roots:
        return []  # nothing to predict (a hook that always runs lands here in repos without .tf)
    configs = [(r, _read(base_src, r), _read(head_src, r)) for r in roots]
    # A directory another root calls as a module is not a root of its own.
    used = {
        c.directory
        for _, *pair in configs
        for config in pair
        if config is not None
        for c in config.calls().values()
        if c.directory
    }
    plans = []
    for r, b, h in configs:
        if r in used and len(roots) > 1:
            continue
        plans.append(predict(b, h, source=r if r != "." else "./", base_label=ref))
    return plans


def source_index(directory: str) -> tuple[str, dict[str, ResourceBlock]]:
    """Resource blocks of the configuration in `directory` on disk, by config address.

    Paths are relative to the git work tree when there is one (as code scanning
    wants), else to the current directory.
    """
    from planguard import gitutil

    try:
        root = gitutil.toplevel(directory)
    except gitutil.GitError:
        root = os.getcwd()
    rel = posixpath.normpath(os.path.relpath(os.path.abspath(directory), root).replace(os.sep, "/"))
    config = hcl_parse.read(WorkTree(root), rel)
    return root, config.resources()


def locate(plan: Plan, directory: str) -> Plan:
    """The plan with file:line and inline ignores of its resources, from `directory`'s .tf."""
    _, blocks = source_index(directory)
    if not blocks:
        return plan
    resources_out = {}
    for address, res in plan.resources.items():
        block = blocks.get(res.config_address or address)
        if block is not None:
            res = msgspec.structs.replace(
                res, location=Location(block.file, block.line), ignores=res.ignores or block.ignores
            )
        resources_out[address] = res
    changes = []
    for change in plan.changes:
        block = blocks.get(change.config_address or change.address)
        if block is None and change.previous_address:
            # A destroyed or moved-away object: its block may be gone; try its old address.
            try:
                block = blocks.get(tfaddr.parse(change.previous_address).config_address)
            except tfaddr.AddressError:
                block = None
        if block is not None and change.location is None:
            change = msgspec.structs.replace(change, location=Location(block.file, block.line))
        changes.append(change)
    plan.resources = resources_out
    plan.changes = changes
    return plan


def for_review(
    plans: list[Plan],
    hcl_dirs: list[str],
    *,
    base: str | None = None,
    source_dir: str | None = None,
) -> list[Plan]:
    """What `review` reads besides plan files: predictions from sources, and plan locations.

    Plans get file:line from `source_dir`, or from `.tf` files next to the plan file.
    """
    from planguard.errors import UsageError

    if base is not None and not hcl_dirs:
        raise UsageError("--base needs --hcl (the sources to compare with it)")
    out = []
    for plan in plans:
        where = source_dir
        if where is None and plan.kind is PlanKind.TERRAFORM:
            near = os.path.dirname(plan.source) or "."
            where = near if has_sources(near) else None
        out.append(locate(plan, where) if where is not None else plan)
    for directory in hcl_dirs:
        out.extend(load_trees(directory, base=base))
    return out
