"""The settings of one run, read from where they are trusted (planguard.trust),
and how the change's own settings would weaken the gate once merged."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from planguard import config as config_mod
from planguard.ack import DEFAULT_ACK_FILE
from planguard.config import Config
from planguard.errors import ConfigError
from planguard.findings import Severity
from planguard.model import Location
from planguard.trust import Repo, Tree, materialize


@dataclass(frozen=True)
class Named:
    """Settings files a front end names (command-line options, Action inputs)."""

    config: str | None = None
    acks: tuple[str, ...] = ()
    checks_dirs: tuple[str, ...] = ()


@dataclass(frozen=True)
class File:
    """A settings file: `label` is its repository-relative path when it lies in
    the repository (so the two sides compare), else the path as given."""

    label: str
    data: bytes


@dataclass(frozen=True)
class Settings:
    config: Config
    config_file: File | None
    ack_files: tuple[File, ...]
    # Each user checks directory: its label and its modules' bytes, by name.
    checks_sources: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]
    # The same directories where they can be imported from.
    checks_dirs: tuple[str, ...] = ()
    temporary: tuple[str, ...] = field(default=(), compare=False)


class _Reader:
    """Reads a path as given: from `tree` when it lies in the repository and a
    tree is trusted, else from disk."""

    def __init__(self, tree: Tree | None, repo: Repo) -> None:
        self.tree, self.repo = tree, repo

    def label(self, path: str) -> str:
        rel = self.repo.inside(path)
        return rel if rel is not None else path

    def read(self, path: str) -> bytes | None:
        rel = self.repo.inside(path)
        if self.tree is not None and rel is not None:
            return self.tree.read(rel)
        if not os.path.lexists(path):
            return None
        return config_mod.read_file(path)

    def modules(self, directory: str) -> tuple[tuple[str, bytes], ...]:
        rel = self.repo.inside(directory)
        if self.tree is not None and rel is not None:
            names = self.tree.listdir(rel)
            found = ((n, self.tree.read(posixpath.join(rel, n))) for n in names)
        else:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                return ()
            found = ((n, self.read(os.path.join(directory, n))) for n in names)
        return tuple((n, data) for n, data in found if n.endswith(".py") and data is not None)


def read(named: Named, tree: Tree | None, repo: Repo, *, load_checks: bool = True) -> Settings:
    """The settings of `tree` (None: the working tree, as found from the
    current directory). `load_checks` False: compare only, import nothing."""
    reader = _Reader(tree, repo)
    cfg, cfg_file = _policy(named, reader, tree, repo)
    acks = _acks(named, reader, tree, repo)
    dirs = [*cfg.checks_dirs, *named.checks_dirs]
    sources = tuple((reader.label(d), reader.modules(d)) for d in dirs)
    loadable: list[str] = []
    temporary: list[str] = []
    if load_checks:
        for directory in dirs:
            rel = repo.inside(directory)
            if tree is not None and rel is not None:
                out = materialize(tree, rel)
                temporary.append(out)
                loadable.append(out)
            else:
                loadable.append(directory)
    return Settings(cfg, cfg_file, acks, sources, tuple(loadable), tuple(temporary))


def _policy(
    named: Named, reader: _Reader, tree: Tree | None, repo: Repo
) -> tuple[Config, File | None]:
    if tree is None:
        path = named.config if named.config is not None else config_mod.find()
        if path is None:
            return Config(), None
        cfg = config_mod.load(path)
        data = reader.read(str(path))
        return cfg, File(reader.label(str(path)), data or b"")
    if named.config is not None:
        candidates = [named.config]
    else:
        here = repo.here
        candidates = []
        while True:
            candidates += [posixpath.join(here, n) for n in config_mod.POLICY_FILES]
            if here in (".", ""):
                break
            here = posixpath.dirname(here) or "."
        candidates = [os.path.join(repo.root or ".", c) for c in dict.fromkeys(candidates)]
    for candidate in candidates:
        found = reader.read(candidate)
        if found is None:
            if named.config is not None and repo.inside(candidate) is None:
                raise ConfigError(candidate, "cannot read: no such file")
            continue
        label = reader.label(candidate)
        if named.config is None and not config_mod.is_policy(label, found):
            continue
        rel = repo.inside(candidate)
        base = Path(posixpath.dirname(rel) or ".") if rel is not None else Path(candidate).parent
        if rel is not None and repo.root is not None:
            base = Path(repo.root) / base
        return config_mod.loads(label, found, base=base), File(label, found)
    return Config(), None


def _acks(named: Named, reader: _Reader, tree: Tree | None, repo: Repo) -> tuple[File, ...]:
    paths = list(named.acks) or [DEFAULT_ACK_FILE]
    out = []
    for path in paths:
        data = reader.read(path)
        if data is None:
            if named.acks and (tree is None or repo.inside(path) is None):
                raise ConfigError(path, "cannot read acknowledgement file: no such file")
            continue
        out.append(File(reader.label(path), data))
    return tuple(out)


# -- what the change does to its own gate -------------------------------------------


@dataclass(frozen=True)
class Weakening:
    """One way the change's own settings would lower the gate once merged."""

    what: str
    location: Location | None = None


def weakenings(trusted: Settings, head: Settings, defaults: dict[str, Severity]) -> list[Weakening]:
    """Every way `head` (the change) is laxer than `trusted` (its base).

    `defaults` are the checks' own severities (a remap is judged against them)."""
    out = list(_policy_weakenings(trusted, head, defaults))
    trusted_acks = {f.label: f.data for f in trusted.ack_files}
    for f in head.ack_files:
        if trusted_acks.get(f.label) != f.data:
            verb = "changes" if f.label in trusted_acks else "adds"
            out.append(
                Weakening(
                    f"{verb} the acknowledgement file {f.label}: acknowledgements count only "
                    "once they are on the base branch",
                    Location(f.label),
                )
            )
    trusted_checks = dict(trusted.checks_sources)
    for label, modules in head.checks_sources:
        if trusted_checks.get(label) != modules:
            verb = "changes" if label in trusted_checks else "adds"
            out.append(
                Weakening(
                    f"{verb} the user checks in {label}: the change's own check code is not "
                    "run until it is merged",
                    Location(label),
                )
            )
    return out


def _policy_weakenings(
    trusted: Settings, head: Settings, defaults: dict[str, Severity]
) -> Iterator[Weakening]:
    base, new = trusted.config, head.config
    file = head.config_file.label if head.config_file else None
    base_file = trusted.config_file.label if trusted.config_file else None

    def at(*path: str | int) -> Location | None:
        return Location(file, new.line_of(*path)) if file else None

    if file is not None and base_file is not None and file != base_file:
        yield Weakening(f"moves the policy from {base_file} to {file}", Location(file))
    for check_id in sorted(new.disable - base.disable):
        index = sorted(new.disable).index(check_id)
        yield Weakening(f"disables {check_id}", at("disable", index) or at("disable"))
    for check_id, sev in sorted(new.severity.items()):
        before = base.severity.get(check_id, defaults.get(check_id))
        if before is not None and sev.rank < before.rank:
            yield Weakening(
                f"lowers {check_id} from {before.value} to {sev.value}", at("severity", check_id)
            )
    if new.fail_on.rank > base.fail_on.rank:
        yield Weakening(
            f"raises fail_on from {base.fail_on.value} to {new.fail_on.value}", at("fail_on")
        )
    if base.max_score is not None and (new.max_score is None or new.max_score > base.max_score):
        to = "removes it" if new.max_score is None else f"raises it to {new.max_score}"
        yield Weakening(f"max_score was {base.max_score}: {to}", at("max_score"))
    lost = sorted(
        set(map(str.lower, base.automation_patterns)) - set(map(str.lower, new.automation_patterns))
    )
    if lost:
        yield Weakening(
            f"drops automation pattern(s) {', '.join(lost)}", at("automation", "patterns")
        )
    if new.automation_fail_on.rank > base.automation_fail_on.rank:
        yield Weakening(
            f"raises automation.fail_on from {base.automation_fail_on.value} to "
            f"{new.automation_fail_on.value}",
            at("automation", "fail_on"),
        )
    known = set(base.ignores)
    for i, rule in enumerate(new.ignores):
        if rule not in known:
            yield Weakening(f"adds an ignore of {rule.check} for {rule.address}", at("ignore", i))
    for type_ in sorted(set(base.data_bearing_types) - set(new.data_bearing_types)):
        yield Weakening(f"drops {type_} from data_bearing_types", at("data_bearing_types"))
    for check_id in sorted(set(base.checks) | set(new.checks)):
        if base.checks.get(check_id, {}) != new.checks.get(check_id, {}):
            yield Weakening(f"changes the options of {check_id}", at("checks", check_id))
    if new.required_approvals < base.required_approvals:
        yield Weakening(
            f"lowers approvals.required from {base.required_approvals} to {new.required_approvals}",
            at("approvals", "required"),
        )
    if new.approval_level.rank > base.approval_level.rank:
        yield Weakening(
            f"raises approvals.level from {base.approval_level.value} to "
            f"{new.approval_level.value}",
            at("approvals", "level"),
        )
