"""The dependency graph: an edge A → B means "A depends on B".

Review work (dependents, impact, cycle detection) runs on adjacency lists of
node numbers, which a 50k-resource plan builds in a fraction of a second and
holds in a few bytes an edge; the networkx DiGraph is built on demand for
exports and analyses that want it.

A Terraform plan's edges are worked out as they are asked for
(planguard.load.tfedges.TerraformEdges): the graph then reads the edges into
a resource the first time it walks back from it, and the edges out of one
when asked for its dependencies, so a review reads only the edges into what
is destroyed or replaced and into its dependents. What needs every edge
(edge counts and kinds, networkx, a cycle the configuration does not rule
out) reads the whole list, and finds what the other way would have found.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from planguard.model import DESTRUCTIVE, Change, Edge, Plan

if TYPE_CHECKING:
    import networkx as nx

    from planguard.load.tfedges import TerraformEdges


class Impact:
    """What depends, directly or not, on one destroyed or replaced resource.

    The members are found by a traversal shared with the other impacts of the
    same review (see `DependencyGraph.impact`); the sorted addresses and the
    explaining paths are only worked out when a check or report asks.
    """

    __slots__ = ("_depth", "_members", "_parent", "_sorted", "change", "graph")

    def __init__(self, graph: DependencyGraph, change: Change, members: frozenset[int]) -> None:
        self.graph = graph
        self.change = change
        self._members = members
        self._sorted: tuple[str, ...] | None = None
        self._parent: dict[int, int] | None = None
        self._depth: dict[int, int] | None = None

    def __repr__(self) -> str:
        return f"Impact({self.address!r}, {self.count} dependents)"

    @property
    def address(self) -> str:
        return self.change.address

    @property
    def count(self) -> int:
        """How many resources depend on this one (cheaper than len(dependents))."""
        return len(self._members)

    @property
    def dependents(self) -> tuple[str, ...]:
        """Every dependent's address, sorted."""
        if self._sorted is None:
            names = self.graph._names
            self._sorted = tuple(sorted([names[i] for i in self._members]))
        return self._sorted

    def _bfs(self) -> tuple[dict[int, int], dict[int, int]]:
        if self._parent is None or self._depth is None:
            start = self.graph._index.get(self.change.address)
            self._parent, self._depth = self.graph._bfs(start) if start is not None else ({}, {})
        return self._parent, self._depth

    def depth(self, member: str) -> int:
        """Edges on the shortest chain from the changed resource to `member` (0 if none)."""
        node = self.graph._index.get(member)
        return self._bfs()[1].get(node, 0) if node is not None else 0

    def longest_paths(self, limit: int) -> list[list[str]]:
        """Up to `limit` of the longest chains down to dependents that end one
        (no other chain goes on through them), longest first, then in order."""
        parent, depth = self._bfs()
        inner = set(parent.values())
        ends: dict[int, list[int]] = {}
        for node, d in depth.items():
            if node not in inner:
                ends.setdefault(d, []).append(node)
        names = self.graph._names
        out: list[list[str]] = []
        for d in sorted(ends, reverse=True):
            if len(out) >= limit:
                break
            chains = sorted(self.path(names[node]) for node in ends[d])
            out.extend(chains[: limit - len(out)])
        return out

    def path(self, member: str) -> list[str]:
        """The chain from the changed resource down to `member`, shortest first found."""
        parent, _ = self._bfs()
        names, index = self.graph._names, self.graph._index
        start = index[self.change.address]
        node = index[member]
        chain = [node]
        while chain[-1] != start:
            chain.append(parent[chain[-1]])
        return [names[n] for n in reversed(chain)]


def _on_demand(edges: object) -> bool:
    """Whether a plan's edges answer questions about one resource without being
    read whole (and have not been read whole yet)."""
    from planguard.speed.ondemand import FilledOnRead

    return isinstance(edges, FilledOnRead) and not edges.filled and hasattr(edges, "dependents")


class DependencyGraph:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        # Node numbers in first-seen order: resources, changes, then edge ends.
        index: dict[str, int] = {a: i for i, a in enumerate(plan.resources)}
        for change in plan.changes:
            if change.address not in index:
                index[change.address] = len(index)
        self._index, self._names = index, list(index)
        self._via: dict[tuple[str, str], str] | None = None
        self._order: list[int] | None = None
        self._nx: nx.DiGraph[str] | None = None
        # Edges still to be asked for (every edge end is a resource of the plan).
        self._asking: TerraformEdges | None = None
        edges = plan.edges
        if _on_demand(edges):
            self._asking = edges  # type: ignore[assignment]
            self._deps: list[list[int] | None] = [None] * len(index)
            self._rdeps: list[list[int] | None] = [None] * len(index)
        else:
            self._read_all()

    def _read_all(self) -> None:
        """Adjacency lists of every edge of the plan."""
        self._asking = None
        index, names = self._index, self._names
        deps: list[list[int] | None] = [[] for _ in names]
        rdeps: list[list[int] | None] = [[] for _ in names]
        get = index.get
        for edge in self.plan.edges:
            a = get(edge.dependent)
            if a is None:
                a = index[edge.dependent] = len(names)
                names.append(edge.dependent)
                deps.append([])
                rdeps.append([])
            b = get(edge.dependency)
            if b is None:
                b = index[edge.dependency] = len(names)
                names.append(edge.dependency)
                deps.append([])
                rdeps.append([])
            deps[a].append(b)  # type: ignore[union-attr]
            rdeps[b].append(a)  # type: ignore[union-attr]
        self._deps, self._rdeps = deps, rdeps
        self._order = None

    def _below(self, node: int) -> list[int]:
        """What depends directly on `node` (asked for the first time if need be)."""
        found = self._rdeps[node]
        if found is None:
            assert self._asking is not None
            index = self._index
            found = self._rdeps[node] = [
                index[a] for a in self._asking.dependent_addresses(self._names[node])
            ]
        return found

    def _above(self, node: int) -> list[int]:
        """What `node` depends on directly (asked for the first time if need be)."""
        found = self._deps[node]
        if found is None:
            assert self._asking is not None
            index = self._index
            found = self._deps[node] = [
                index[b] for b, _ in self._asking.dependencies(self._names[node])
            ]
        return found

    def walked_edges(self) -> list[Edge]:
        """The edges into every resource whose dependents were read: with edges
        asked for as they are needed, those into what is destroyed or replaced
        and into everything that depends on it (what a review walked); else
        every edge. A graph of these answers every question about those
        resources as this one does (a worker's review comes back this way)."""
        if self._asking is None:
            return list(self.plan.edges)
        names, asking = self._names, self._asking
        found = [
            Edge(a, names[b], via)
            for b, known in enumerate(self._rdeps)
            if known is not None
            for a, via in asking.dependents(names[b])
        ]
        found.sort(key=lambda e: (e.dependent, e.dependency))
        return found

    # -- queries -------------------------------------------------------------

    @property
    def nodes(self) -> list[str]:
        return sorted(self._names)

    def __contains__(self, address: str) -> bool:
        return address in self._index

    def __len__(self) -> int:
        return len(self._names)

    def _edge_kinds(self) -> dict[tuple[str, str], str]:
        # Only exports ask how an edge is known: built on first use.
        if self._via is None:
            self._via = {(e.dependent, e.dependency): e.via for e in self.plan.edges}
        return self._via

    def edge_count(self) -> int:
        return len(self._edge_kinds())

    def via(self, dependent: str, dependency: str) -> str:
        return self._edge_kinds().get((dependent, dependency), "")

    def _addresses(self, nodes: Iterable[int]) -> list[str]:
        names = self._names
        return sorted([names[n] for n in nodes])

    def dependencies(self, address: str) -> list[str]:
        """What `address` depends on directly."""
        node = self._index.get(address)
        return self._addresses(self._above(node)) if node is not None else []

    def direct_dependents(self, address: str) -> list[str]:
        node = self._index.get(address)
        return self._addresses(self._below(node)) if node is not None else []

    def dependents(self, address: str) -> list[str]:
        """Everything that depends on `address`, directly or transitively."""
        node = self._index.get(address)
        if node is None:
            return []
        return self._addresses(self._bfs(node)[0])

    def impact_path(self, changed: str, member: str) -> list[str]:
        """The shortest chain of dependencies from `changed` down to `member`."""
        start, end = self._index.get(changed), self._index.get(member)
        if start is None or end is None:
            return []
        parent, _ = self._bfs(start)
        if end not in parent:
            return []
        chain = [end]
        while chain[-1] != start:
            chain.append(parent[chain[-1]])
        return [self._names[n] for n in reversed(chain)]

    def _bfs(self, start: int) -> tuple[dict[int, int], dict[int, int]]:
        """Breadth-first over dependents: each one's parent and distance from `start`.

        Of several equally short chains the one through the first address in
        sort order is kept, so that paths do not depend on the input's order.
        """
        parent: dict[int, int] = {}
        depth = {start: 0}
        queue = deque([start])
        rdeps, names, ask = self._rdeps, self._names, self._below
        while queue:
            node = queue.popleft()
            d = depth[node] + 1
            for child in rdeps[node] or ask(node):
                seen = depth.get(child)
                if seen is None:
                    depth[child] = d
                    parent[child] = node
                    queue.append(child)
                elif seen == d and names[node] < names[parent[child]]:
                    parent[child] = node
        del depth[start]
        return parent, depth

    def impact(self, changes: Iterable[Change] | None = None) -> list[Impact]:
        """For each destroyed or replaced resource: its downstream set and why.

        The downstream sets are computed dependents first (reverse topological
        order), and a walk that reaches a resource whose set is already known
        takes that set whole instead of walking under it again: 500 destroyed
        resources under one hub cost little more than one.
        """
        if changes is None:
            changes = [c for c in self.plan.changes if c.action in DESTRUCTIVE]
        else:
            changes = list(changes)
        index = self._index
        starts = {index[c.address] for c in changes if c.address in index}
        order = self._topological() if self._asking is None else self._order_under(starts)
        rank = {node: i for i, node in enumerate(order)}
        last = len(rank)
        known: dict[int, frozenset[int]] = {}
        for start in sorted(starts, key=lambda n: rank.get(n, last), reverse=True):
            known[start] = self._downstream(start, known)
        empty: frozenset[int] = frozenset()
        return [Impact(self, c, known.get(index.get(c.address, -1), empty)) for c in changes]

    def _downstream(self, start: int, known: dict[int, frozenset[int]]) -> frozenset[int]:
        rdeps, ask = self._rdeps, self._below
        seen: set[int] = set()
        stack = [start]
        while stack:
            node = stack.pop()
            for child in rdeps[node] or ask(node):
                if child in seen:
                    continue
                seen.add(child)
                below = known.get(child)
                if below is None:
                    stack.append(child)
                else:
                    seen |= below
        seen.discard(start)
        return frozenset(seen)

    def _topological(self) -> list[int]:
        """Nodes with no dependencies first (Kahn); nodes on or behind a cycle are left out."""
        if self._order is None:
            if self._asking is not None:
                self._read_all()
            deps, rdeps = self._deps, self._rdeps
            # Duplicate edges count in both lists alike, so no sets are needed.
            remaining = [len(d) for d in deps]  # type: ignore[arg-type]
            order = [n for n, k in enumerate(remaining) if k == 0]
            for node in order:  # grows while it is walked
                for child in rdeps[node]:  # type: ignore[union-attr]
                    remaining[child] -= 1
                    if remaining[child] == 0:
                        order.append(child)
            self._order = order
        return self._order

    def _order_under(self, starts: Iterable[int]) -> list[int]:
        """`starts` and everything that depends on them, dependencies first
        (Kahn on that part of the graph, whose edges in are all known once it
        is walked); nodes on or behind a cycle are left out."""
        below = self._below
        inside = set(starts)
        stack = list(inside)
        while stack:
            for child in below(stack.pop()):
                if child not in inside:
                    inside.add(child)
                    stack.append(child)
        remaining = dict.fromkeys(inside, 0)
        for node in inside:
            for child in below(node):
                remaining[child] += 1
        order = [n for n in sorted(inside) if remaining[n] == 0]
        for node in order:  # grows while it is walked
            for child in below(node):
                remaining[child] -= 1
                if remaining[child] == 0:
                    order.append(child)
        return order

    def cycles(self, limit: int = 20) -> list[list[str]]:
        """Dependency cycles (at most `limit`), each as a list of addresses."""
        if self._asking is not None and self._asking.acyclic():
            return []
        if len(self._topological()) == len(self._names):
            return []
        cyclic = self._cyclic_nodes()
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
        done = set(self._topological())
        return {name for n, name in enumerate(self._names) if n not in done}

    # -- networkx ------------------------------------------------------------

    def to_networkx(self) -> nx.DiGraph[str]:
        if self._nx is None:
            import networkx as nx

            g: nx.DiGraph[str] = nx.DiGraph()
            actions = {c.address: c.action.value for c in self.plan.changes}
            for address in sorted(self._names):
                res = self.plan.resources.get(address)
                g.add_node(
                    address,
                    type=res.type if res else "",
                    action=actions.get(address, "no-op"),
                )
            for (a, b), via in sorted(self._edge_kinds().items()):
                g.add_edge(a, b, via=via)
            self._nx = g
        return self._nx
