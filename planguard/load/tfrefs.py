"""Resolve `configuration` expression references to resource config addresses.

References are scoped: inside module `x`, `aws_vpc.main` means
`module.x.aws_vpc.main`; `var.v` means whatever the caller passed for `v`;
`module.m.out` means whatever output `out` of module `m` refers to.
Locals are not part of the plan's configuration JSON, so a reference through a
local is only seen through prior-state `depends_on`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from planguard.load import tfaddr

ModulePath = tuple[str, ...]
# Which module instances a reference pins, as (depth, key) pairs: a reference
# to module.shard["eu"].out means only the "eu" instance of module.shard.
Pin = tuple[tuple[int, Any], ...]
# (config address, instance key or None, module instance pins)
Target = tuple[str, Any, Pin]

_IGNORED_ROOTS = frozenset({"local", "each", "count", "path", "terraform", "self"})


def _most_specific(refs: list[str]) -> list[str]:
    """Terraform lists a traversal with each of its prefixes (`module.m.out` and
    `module.m`); a bare prefix would stand for the whole module, so keep only
    the longest traversal of each chain."""
    if len(refs) < 2:
        return refs
    have = set(refs)
    return [r for r in refs if not any(o != r and o.startswith(r + ".") for o in have)]


def references(raw: Any) -> list[str]:
    """Every reference string inside an expression tree, in document order."""
    if raw is None:
        return []
    stack: list[Any] = [msgspec.json.decode(raw)]
    if stack == [None]:
        return []
    out: list[str] = []
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            refs = value.get("references")
            if isinstance(refs, list):
                out.extend(_most_specific([r for r in refs if isinstance(r, str)]))
            stack.extend(v for k, v in value.items() if k not in ("references", "constant_value"))
        elif isinstance(value, list):
            stack.extend(value)
    return out


class ConfigIndex:
    """The configuration's modules, indexed by module path."""

    def __init__(self, root: Any) -> None:
        self.modules: dict[ModulePath, Any] = {}
        self.calls: dict[ModulePath, Any] = {}
        stack: list[tuple[ModulePath, Any]] = [((), root)]
        while stack:
            path, module = stack.pop()
            self.modules[path] = module
            for name in sorted(module.module_calls):
                call = module.module_calls[name]
                if call.module is not None:
                    self.calls[(*path, name)] = call
                    stack.append(((*path, name), call.module))
        self._memo: dict[tuple[ModulePath, str], frozenset[Target]] = {}
        self._inputs: dict[ModulePath, dict[str, list[str]]] = {}

    def resource_targets(self) -> dict[str, list[tuple[str, Any, Pin, str]]]:
        """For each config resource: the (target, key, pins, via) it depends on."""
        out: dict[str, list[tuple[str, Any, Pin, str]]] = {}
        for path in sorted(self.modules):
            module = self.modules[path]
            inherited = self._module_level(path)
            for res in module.resources:
                local = tfaddr.split(res.address)
                mode = "data" if res.mode == "data" else "managed"
                names = [n for n, _ in local if n != "data"]
                if len(names) != 2:
                    continue
                cfg = tfaddr.config_address(path, mode, names[0], names[1])
                targets: dict[Target, str] = {}
                refs = (
                    references(res.expressions)
                    + references(res.count_expression)
                    + references(res.for_each_expression)
                )
                for ref in refs:
                    for t in self.resolve(path, ref):
                        targets.setdefault(t, "reference")
                for ref in res.depends_on:
                    for t in self.resolve(path, ref):
                        targets.setdefault(t, "depends_on")
                for t in inherited:
                    targets.setdefault(t, "module")
                targets.pop((cfg, None, ()), None)
                out[cfg] = [(t, k, p, via) for (t, k, p), via in sorted(targets.items(), key=_key)]
        return out

    def _module_level(self, path: ModulePath) -> set[Target]:
        """What a module call's depends_on/count/for_each make every resource in it depend on."""
        out: set[Target] = set()
        for i in range(1, len(path) + 1):
            call = self.calls.get(path[:i])
            if call is None:
                continue
            parent = path[: i - 1]
            refs = (
                list(call.depends_on)
                + references(call.count_expression)
                + references(call.for_each_expression)
            )
            for ref in refs:
                out |= self.resolve(parent, ref)
        return out

    def _call_inputs(self, path: ModulePath) -> dict[str, list[str]]:
        if path not in self._inputs:
            call = self.calls.get(path)
            inputs: dict[str, list[str]] = {}
            if call is not None:
                exprs = msgspec.json.decode(call.expressions)
                if isinstance(exprs, dict):
                    for name, expr in exprs.items():
                        inputs[name] = references(msgspec.json.encode(expr))
            self._inputs[path] = inputs
        return self._inputs[path]

    def _all_in(self, path: ModulePath) -> frozenset[Target]:
        out: set[Target] = set()
        for mpath, module in self.modules.items():
            if mpath[: len(path)] != path:
                continue
            for res in module.resources:
                names = [n for n, _ in tfaddr.split(res.address) if n != "data"]
                if len(names) == 2:
                    mode = "data" if res.mode == "data" else "managed"
                    out.add((tfaddr.config_address(mpath, mode, names[0], names[1]), None, ()))
        return frozenset(out)

    def resolve(self, path: ModulePath, ref: str) -> frozenset[Target]:
        """Resource targets a reference made in module `path` stands for."""
        memo_key = (path, ref)
        if memo_key in self._memo:
            return self._memo[memo_key]
        self._memo[memo_key] = frozenset()  # a cycle resolves to nothing new
        result = self._resolve(path, ref)
        self._memo[memo_key] = result
        return result

    def _resolve(self, path: ModulePath, ref: str) -> frozenset[Target]:
        try:
            segs = tfaddr.split(ref)
        except tfaddr.AddressError:
            return frozenset()
        if not segs:  # an empty reference string names nothing
            return frozenset()
        root = segs[0][0]
        if root in _IGNORED_ROOTS:
            return frozenset()
        if root == "var":
            if not path or len(segs) < 2:
                return frozenset()
            out: set[Target] = set()
            for r in self._call_inputs(path).get(segs[1][0], ()):
                out |= self.resolve(path[:-1], r)
            return frozenset(out)
        if root == "module":
            if len(segs) < 2:
                return frozenset()
            mpath = (*path, segs[1][0])
            module = self.modules.get(mpath)
            if module is None:
                return frozenset()
            found = self._all_in(mpath)
            if len(segs) >= 3:
                output = module.outputs.get(segs[2][0])
                if output is not None:
                    out = set()
                    for r in references(output.expression) + list(output.depends_on):
                        out |= self.resolve(mpath, r)
                    found = frozenset(out)
            key = segs[1][1]
            if key is None:
                return found
            pin = (len(path), key)
            return frozenset(
                (t, k, tuple(sorted({*p, pin}, key=repr)))
                for t, k, p in found
                if t.count("module.") > len(path)
            )
        if root == "data":
            if len(segs) < 3:
                return frozenset()
            return frozenset(
                {(tfaddr.config_address(path, "data", segs[1][0], segs[2][0]), segs[2][1], ())}
            )
        if len(segs) < 2 or segs[0][1] is not None:
            return frozenset()
        return frozenset(
            {(tfaddr.config_address(path, "managed", segs[0][0], segs[1][0]), segs[1][1], ())}
        )


def _key(item: tuple[Target, str]) -> tuple[str, str, str]:
    (target, key, pins), _ = item
    return target, repr(key), repr(pins)
