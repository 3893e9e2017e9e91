"""Which configuration resources may refer to which, read off what each
reference names, without resolving it.

A reference made in a module names one symbol there: a resource, a var
(whatever the caller passed), a module output (whatever the output refers
to) or a whole module call (every resource in it); a module call's own
depends_on, count and for_each reach every resource in it. Resolving a
reference (planguard.load.tfrefs) follows these same steps, so the
resources a resource's references resolve to are among those its symbols
lead to, through vars, outputs and module calls only.

That makes two questions cheap that would otherwise need every reference of
the configuration resolved: which resources may depend on a given one
(`users`), and whether the configuration can form a cycle at all
(`acyclic`). When no var or output leads back to itself (`settled`), what a
reference resolves to does not depend on what was resolved before it, so
references can be resolved one resource at a time, as impact asks.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from planguard.load.tfrefs import IGNORED_ROOTS, ConfigIndex, ModulePath

# A symbol: a resource's config address (str), or ("var", module, name),
# ("output", module, name), ("module", module) for a whole module call,
# ("call", module) for what a module call's own arguments refer to.
Symbol = Hashable


class SymbolGraph:
    """The configuration's symbols and what each refers to."""

    def __init__(self, index: ConfigIndex) -> None:
        self._index = index
        self.leads: dict[Symbol, list[Symbol]] = {}
        todo: list[Symbol] = []
        for path in sorted(index.modules):
            for cfg, res in index.blocks[path]:
                if cfg is None:
                    continue
                refs = [
                    *index.refs(res.expressions),
                    *index.refs(res.count_expression),
                    *index.refs(res.for_each_expression),
                ]
                leads = self._named(path, [r for r, _ in refs] + list(res.depends_on), todo)
                if path:
                    leads.append(self._add(("call", path), todo))
                self.leads.setdefault(cfg, []).extend(leads)
        while todo:
            symbol = todo.pop()
            self.leads[symbol] = self._leads_of(symbol, todo)
        self._users: dict[Symbol, list[Symbol]] | None = None
        # Only vars and outputs are followed inside a resolution: a circle
        # among them is what makes resolving order matter.
        self.settled = acyclic(
            (s, [t for t in leads if isinstance(t, tuple) and t[0] in ("var", "output")])
            for s, leads in self.leads.items()
            if isinstance(s, tuple) and s[0] in ("var", "output")
        )

    def users(self, cfg: str) -> set[str]:
        """Config resources whose references may resolve to `cfg` (more, never fewer)."""
        if self._users is None:
            users: dict[Symbol, list[Symbol]] = {}
            for symbol, leads in self.leads.items():
                for target in leads:
                    users.setdefault(target, []).append(symbol)
            self._users = users
        found: set[str] = set()
        seen: set[Symbol] = {cfg}
        stack: list[Symbol] = [cfg]
        while stack:
            for user in self._users.get(stack.pop(), ()):
                if user in seen:
                    continue
                seen.add(user)
                if isinstance(user, str):
                    found.add(user)  # a resource: its own users refer to it, not to cfg
                else:
                    stack.append(user)
        return found

    def acyclic(self, more: Iterable[tuple[str, Iterable[str]]]) -> bool:
        """Whether no resource can depend on itself through the configuration
        or the edges in `more` ((config address, config addresses)); False
        says nothing either way."""
        return acyclic([*self.leads.items(), *more])

    # -- building -----------------------------------------------------------------

    def _add(self, symbol: Symbol, todo: list[Symbol]) -> Symbol:
        if symbol not in self.leads:
            self.leads[symbol] = []
            todo.append(symbol)
        return symbol

    def _named(self, path: ModulePath, refs: Iterable[str], todo: list[Symbol]) -> list[Symbol]:
        out: list[Symbol] = []
        for ref in refs:
            symbol = self._symbol(path, ref)
            if symbol is not None:
                out.append(symbol if isinstance(symbol, str) else self._add(symbol, todo))
        return out

    def _symbol(self, path: ModulePath, ref: str) -> Symbol | None:
        """What `ref`, made in module `path`, names (as ConfigIndex.resolve reads it)."""
        index = self._index
        segs = index.split(ref)
        if not segs:
            return None
        root = segs[0][0]
        if root in IGNORED_ROOTS:
            return None
        if root == "var":
            return ("var", path, segs[1][0]) if path and len(segs) >= 2 else None
        if root == "module":
            if len(segs) < 2:
                return None
            called = (*path, segs[1][0])
            module = index.modules.get(called)
            if module is None:
                return None
            if len(segs) >= 3 and segs[2][0] in module.outputs:
                return ("output", called, segs[2][0])
            return ("module", called)
        if root == "data":
            return f"{index.prefix(path)}data.{segs[1][0]}.{segs[2][0]}" if len(segs) >= 3 else None
        if len(segs) < 2 or segs[0][1] is not None:
            return None
        return f"{index.prefix(path)}{segs[0][0]}.{segs[1][0]}"

    def _leads_of(self, symbol: Any, todo: list[Symbol]) -> list[Symbol]:
        index = self._index
        kind, path = symbol[0], symbol[1]
        if kind == "var":
            inputs = index.call_inputs(path).get(symbol[2], ())
            return self._named(path[:-1], [r for r, _ in inputs], todo)
        if kind == "output":
            output = index.modules[path].outputs[symbol[2]]
            refs = [r for r, _ in index.refs(output.expression)] + list(output.depends_on)
            return self._named(path, refs, todo)
        if kind == "module":
            out: list[Symbol] = [cfg for cfg, _ in index.blocks[path] if cfg]
            for name in index.modules[path].module_calls:
                if (*path, name) in index.modules:
                    out.append(self._add(("module", (*path, name)), todo))
            return out
        # "call": the module call's own depends_on, count and for_each, read
        # in the calling module, and those of the calls around it.
        call = index.calls.get(path)
        out = []
        if call is not None:
            refs = [
                *call.depends_on,
                *[r for r, _ in index.refs(call.count_expression)],
                *[r for r, _ in index.refs(call.for_each_expression)],
            ]
            out = self._named(path[:-1], refs, todo)
        if len(path) > 1:
            out.append(self._add(("call", path[:-1]), todo))
        return out


def acyclic(graph: Iterable[tuple[Symbol, Iterable[Symbol]]]) -> bool:
    """Whether `graph` ((node, what it leads to), a node perhaps more than once)
    has no cycle, an edge from a node to itself included (Kahn)."""
    number: dict[Symbol, int] = {}
    below: list[list[int]] = []
    remaining: list[int] = []
    for node, targets in graph:
        n = number.get(node)
        if n is None:
            n = number[node] = len(below)
            below.append([])
            remaining.append(0)
        for t in targets:
            m = number.get(t)
            if m is None:
                m = number[t] = len(below)
                below.append([])
                remaining.append(0)
            below[m].append(n)
            remaining[n] += 1
    order = [n for n, k in enumerate(remaining) if k == 0]
    for done in order:  # grows while it is walked
        for up in below[done]:
            remaining[up] -= 1
            if remaining[up] == 0:
                order.append(up)
    return len(order) == len(number)
