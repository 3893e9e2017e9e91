"""What a check is and what it reports: the contract between checks and the rest.

A check module (checks/pgNNN_*.py) has a frozen `META` and a function
`check(ctx) -> Iterator[Finding]`. Checks read the plan, the graph and the
impact through `Context`; they never filter, print or exit.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from planguard.model import Change, Location, Plan

if TYPE_CHECKING:
    from planguard.catalog import Catalog
    from planguard.graph import DependencyGraph, Impact

CHECK_ID = re.compile(r"^PG\d{3}$")


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of {names})") from None


_RANK = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True)
class CheckMeta:
    id: str
    slug: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    # Options a user may set under `checks: {PGnnn: {...}}`, with defaults.
    options: dict[str, Any] = field(default_factory=dict)
    # What the check reads, for scheduling. One that reads attribute values
    # and never the graph or the impact (ctx.graph, ctx.impacts) runs, on a big
    # plan, in a second process beside the graph (planguard.value_checks); reading
    # the graph there is a crash, so say needs_graph=False only when true.
    reads_values: bool = False
    needs_graph: bool = True

    @property
    def docs_anchor(self) -> str:
        return f"{self.id.lower()}-{self.slug}"

    @property
    def runs_beside_graph(self) -> bool:
        return self.reads_values and not self.needs_graph


@dataclass(frozen=True)
class Finding:
    check_id: str
    severity: Severity
    title: str
    message: str
    plan: str
    address: str = ""
    # The destructive changes this finding is about, as (address, action):
    # an acknowledgement must name every one of them.
    changes: tuple[tuple[str, str], ...] = ()
    location: Location | None = None
    details: tuple[str, ...] = ()
    suggestion: str | None = None
    # Integrity failures (a crashed check, an errored plan) block whatever the
    # policy says: they cannot be ignored, remapped or acknowledged.
    unconditional: bool = False
    # The values the check decided on (ports, statements, old → new settings),
    # canonical and sorted. They may be sensitive: never rendered anywhere,
    # only bound into `fingerprint` (kept out of repr, which tracebacks show).
    evidence: tuple[str, ...] = field(default=(), repr=False)

    @property
    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (-self.severity.rank, self.check_id, self.plan, self.address, self.message)

    @property
    def fingerprint(self) -> str:
        """What an acknowledgement binds: the check, the resource, the changes and
        the evidence. Any widening (one more port, a wider statement, one more
        protection lowered) gives another fingerprint, so needs a new ack."""
        doc = [self.check_id, self.address, [list(c) for c in self.changes], list(self.evidence)]
        text = json.dumps(doc, separators=(",", ":"))  # ASCII: any address encodes
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Context:
    """What a check may read. Built once per plan."""

    plan: Plan
    graph: DependencyGraph
    catalog: Catalog
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # How the change's own settings would lower the gate (planguard.settings
    # Weakening); given to one plan's context of a run, read by PG002.
    weakenings: tuple[Any, ...] = ()

    @cached_property
    def impacts(self) -> dict[str, Impact]:
        """Downstream impact of every destroyed or replaced resource, by address."""
        return {i.address: i for i in self.graph.impact()}

    def option(self, meta: CheckMeta, name: str) -> Any:
        return self.settings.get(meta.id, {}).get(name, meta.options[name])

    def finding(
        self,
        meta: CheckMeta,
        message: str,
        *,
        change: Change | None = None,
        changes: Iterable[Change] = (),
        address: str | None = None,
        details: Iterable[str] = (),
        suggestion: str | None = None,
        location: Location | None = None,
        severity: Severity | None = None,
        evidence: Iterable[str] = (),
    ) -> Finding:
        involved = list(changes) or ([change] if change is not None else [])
        if location is None and change is not None:
            location = change.location or self._location(change.address)
        return Finding(
            check_id=meta.id,
            severity=severity or meta.severity,
            title=meta.title,
            message=message,
            plan=self.plan.source,
            address=address if address is not None else (change.address if change else ""),
            changes=tuple(sorted({(c.address, c.action.value) for c in involved})),
            location=location,
            details=tuple(details),
            suggestion=suggestion,
            evidence=tuple(sorted(set(evidence))),
        )

    def _location(self, address: str) -> Location | None:
        res = self.plan.resources.get(address)
        return res.location if res else None


@functools.lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def matches(pattern: str, text: str) -> bool:
    """Glob match where only `*` and `?` are wildcards: addresses and logins
    contain brackets (`web["a"]`, `renovate[bot]`) that must match literally."""
    return _glob(pattern).fullmatch(text) is not None
