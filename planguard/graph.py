"""The dependency graph: an edge A → B means "A depends on B".

Review work (dependents, impact, cycle detection) runs on plain adjacency
lists, which a 50k-resource plan builds in milliseconds; the networkx DiGraph
is built on demand for exports and analyses that want it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planguard.model import DESTRUCTIVE, Change, Plan

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Impact:
    """What depends, directly or not, on one destroyed or replaced resource."""

    change: Change
    dependents: tuple[str, ...]
    _parent: dict[str, str] = field(repr=False, compare=False)

    @property
    def address(self) -> str:
        return self.change.address

    def path(self, member: str) -> list[str]:
        """The chain from the changed resource down to `member`, shortest first found."""
        chain = [member]
        while chain[-1] != self.change.address:
            chain.append(self._parent[chain[-1]])
        return chain[::-1]


class DependencyGraph:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        deps: dict[str, list[str]] = {a: [] for a in plan.resources}
        rdeps: dict[str, list[str]] = {a: [] for a in plan.resources}
        for change in plan.changes:
            if change.address not in deps:
                deps[change.address] = []
                rdeps[change.address] = []
        via: dict[tuple[str, str], str] = {}
        for edge in plan.edges:
            a, b, kind = edge.dependent, edge.dependency, edge.via
            if a not in deps:
                deps[a], rdeps[a] = [], []
            if b not in deps:
                deps[b], rdeps[b] = [], []
            deps[a].append(b)
            rdeps[b].append(a)
            via[(a, b)] = kind
        self._deps, self._rdeps, self._via = deps, rdeps, via
        self._nx: nx.DiGraph | None = None

    # -- queries -------------------------------------------------------------

    @property
    def nodes(self) -> list[str]:
        return sorted(self._deps)

    def __contains__(self, address: str) -> bool:
        return address in self._deps

    def __len__(self) -> int:
        return len(self._deps)

    def edge_count(self) -> int:
        return len(self._via)

    def via(self, dependent: str, dependency: str) -> str:
        return self._via.get((dependent, dependency), "")

    def dependencies(self, address: str) -> list[str]:
        """What `address` depends on directly."""
        return sorted(self._deps.get(address, ()))

    def direct_dependents(self, address: str) -> list[str]:
        return sorted(self._rdeps.get(address, ()))

    def dependents(self, address: str) -> list[str]:
        """Everything that depends on `address`, directly or transitively."""
        return sorted(self._walk(address)[0])

    def impact_path(self, changed: str, member: str) -> list[str]:
        """The shortest chain of dependencies from `changed` down to `member`."""
        _, parent = self._walk(changed)
        if member not in parent:
            return []
        chain = [member]
        while chain[-1] != changed:
            chain.append(parent[chain[-1]])
        return chain[::-1]

    def _walk(self, start: str) -> tuple[set[str], dict[str, str]]:
        parent: dict[str, str] = {}
        seen = {start}
        queue = deque([start])
        rdeps = self._rdeps
        while queue:
            node = queue.popleft()
            for child in rdeps.get(node, ()):
                if child not in seen:
                    seen.add(child)
                    parent[child] = node
                    queue.append(child)
        seen.discard(start)
        return seen, parent

    def impact(self, changes: Iterable[Change] | None = None) -> list[Impact]:
        """For each destroyed or replaced resource: its downstream set and why."""
        if changes is None:
            changes = (c for c in self.plan.changes if c.action in DESTRUCTIVE)
        out = []
        for change in changes:
            members, parent = self._walk(change.address)
            out.append(Impact(change, tuple(sorted(members)), parent))
        return out

    def cycles(self, limit: int = 20) -> list[list[str]]:
        """Dependency cycles (at most `limit`), each as a list of addresses."""
        cyclic = self._cyclic_nodes()
        if not cyclic:
            return []
        import networkx as nx

        sub = self.to_networkx().subgraph(cyclic)
        out = []
        for cycle in nx.simple_cycles(sub):
            first = cycle.index(min(cycle))
            out.append(cycle[first:] + cycle[:first])
            if len(out) >= limit:
                break
        return sorted(out)

    def _cyclic_nodes(self) -> set[str]:
        """Nodes left over after peeling off every node with no dependencies (Kahn)."""
        remaining = {a: len(set(deps)) for a, deps in self._deps.items()}
        ready = deque(a for a, n in remaining.items() if n == 0)
        rdeps = {a: set(r) for a, r in self._rdeps.items()}
        while ready:
            node = ready.popleft()
            for child in rdeps.get(node, ()):
                remaining[child] -= 1
                if remaining[child] == 0:
                    ready.append(child)
        return {a for a, n in remaining.items() if n > 0}

    # -- networkx ------------------------------------------------------------

    def to_networkx(self) -> nx.DiGraph:
        if self._nx is None:
            import networkx as nx

            g = nx.DiGraph()
            actions = {c.address: c.action.value for c in self.plan.changes}
            for address in sorted(self._deps):
                res = self.plan.resources.get(address)
                g.add_node(
                    address,
                    type=res.type if res else "",
                    action=actions.get(address, "no-op"),
                )
            for (a, b), via in sorted(self._via.items()):
                g.add_edge(a, b, via=via)
            self._nx = g
        return self._nx
