"""Resolve `configuration` expression references to resource config addresses.

References are scoped: inside module `x`, `aws_vpc.main` means
`module.x.aws_vpc.main`; `var.v` means whatever the caller passed for `v`;
`module.m.out` means whatever output `out` of module `m` refers to.
Locals are not part of the plan's configuration JSON, so a reference through a
local is only seen through prior-state `depends_on`.

Instance keys. The plan JSON keeps a literal index (`aws_subnet.a[0].id` is
listed with its prefixes `aws_subnet.a[0]` and `aws_subnet.a`), but not an
index computed from an expression: `aws_subnet.a[count.index].id` is listed as
`aws_subnet.a` followed by `count.index`, in the order the expression reads.
So a resource named bare and directly followed by `each.key`, `each.value` or
`count.index` is read as indexed by the source's own key, when both iterate
the same collection (see `_Iter`); `for_each = aws_iam_user.team` keys each
instance by the matching user. Anything else that names a whole count or
for_each resource stands for every instance, and says why (a Target's fourth
item, shown in the edge's `via`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

from planguard.load import tfaddr

ModulePath = tuple[str, ...]


class Same(NamedTuple):
    """The key the source instance has at one step of its address: module step
    `depth`, or its own instance key when `depth` is its number of module steps."""

    depth: int


# Which module instances a reference pins, as (depth, key) pairs: a reference
# to module.shard["eu"].out means only the "eu" instance of module.shard.
Pin = tuple[tuple[int, Any], ...]
# (config address, instance key or None, module instance pins, why every
# instance is meant or None): a key is a literal key, Same(depth) or None (all).
Target = tuple[str, Any, Pin, str | None]

# Why a reference means every instance of a count or for_each resource.
EVERY = "every instance"
UNKNOWABLE = "any instance: key not knowable from the plan"
# `module.m[each.key].out` is listed as `module.m` and `each.key`: which output
# is lost, so every resource of the module instance is meant. Terraform does
# the same: prior state's depends_on then lists every resource of the module.
MODULE_WIDE = "any resource of the module instance: output not knowable from the plan"
MODULE_ANY = "any resource of any module instance: key and output not knowable from the plan"

_IGNORED_ROOTS = frozenset({"local", "each", "count", "path", "terraform", "self"})
# What can follow a bare resource as its index, and the iteration it needs.
_INDEXES = {"each.key": "for_each", "each.value": "for_each", "count.index": "count"}


class _Iter(NamedTuple):
    """How a resource or module call iterates: `kind` ("for_each" or "count"),
    the module it is evaluated in, and the expression as the plan shows it
    (None when the plan shows neither references nor a constant)."""

    kind: str
    scope: ModulePath
    expr: tuple[Any, ...] | None
    refs: tuple[tuple[str, str | None], ...]


def reference_list(raw: Any) -> list[tuple[str, str | None]]:
    """Every reference inside an expression tree, each with what directly follows
    it in its expression's list (None at the end): a bare resource followed by
    `each.key` is how the plan shows `resource[each.key]`."""
    if raw is None:
        return []
    return _references_in(msgspec.json.decode(raw))


def _references_in(value: Any) -> list[tuple[str, str | None]]:
    """reference_list of an expression tree already decoded."""
    stack: list[Any] = [value]
    if value is None:
        return []
    out: list[tuple[str, str | None]] = []
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


def _most_specific(refs: list[str]) -> list[tuple[str, str | None]]:
    """Terraform lists a traversal with each of its prefixes (`module.m.out`,
    `module.m`; `a.b[0].id`, `a.b[0]`, `a.b`): a bare prefix would stand for the
    whole resource or module, so keep only the longest traversal of each chain."""
    if len(refs) < 2:
        return [(r, None) for r in refs]
    have = set(refs)
    out: list[tuple[str, str | None]] = []
    for i, r in enumerate(refs):
        if i and _prefix_of(r, refs[i - 1]):
            continue  # a shorter form of the reference just listed
        if any(o.startswith(r + ".") for o in have):
            continue
        j = i + 1
        while j < len(refs) and _prefix_of(refs[j], refs[j - 1]):
            j += 1
        out.append((r, refs[j] if j < len(refs) else None))
    return out


def _prefix_of(short: str, long: str) -> bool:
    return long.startswith(short + ".") or long.startswith(short + "[")


def _expression(raw: Any) -> tuple[Any, ...] | None:
    value = msgspec.json.decode(raw) if raw is not None else None
    if not isinstance(value, dict):
        return None
    refs = value.get("references")
    if isinstance(refs, list) and refs:
        return ("references", *[r for r in refs if isinstance(r, str)])
    if "constant_value" in value:
        return ("constant", msgspec.json.encode(value["constant_value"]))
    return None


def _iteration(node: Any, scope: ModulePath) -> _Iter | None:
    for kind, raw in (("for_each", node.for_each_expression), ("count", node.count_expression)):
        if bytes(raw) == b"null":  # most resources: neither
            continue
        expr = _expression(raw)
        if expr is not None or bytes(raw) != b"":
            return _Iter(kind, scope, expr, tuple(reference_list(raw)))
    return None


class ConfigIndex:
    """The configuration's modules, indexed by module path."""

    def __init__(self, root: Any) -> None:
        # A resource's address within its module, by (address, mode) as written.
        self._locals: dict[tuple[str, str], str | None] = {}
        self._prefixes: dict[ModulePath, str] = {}
        self.modules: dict[ModulePath, Any] = {}
        self.calls: dict[ModulePath, Any] = {}
        # How each resource (by config address) and module call (by path) iterates.
        self.iters: dict[str | ModulePath, _Iter] = {}
        stack: list[tuple[ModulePath, Any]] = [((), root)]
        while stack:
            path, module = stack.pop()
            self.modules[path] = module
            for name in sorted(module.module_calls):
                call = module.module_calls[name]
                if call.module is not None:
                    self.calls[(*path, name)] = call
                    it = _iteration(call, path)
                    if it is not None:
                        self.iters[(*path, name)] = it
                    stack.append(((*path, name), call.module))
        # Each module's resources with their config addresses (None: not a resource address).
        self.blocks: dict[ModulePath, list[tuple[str | None, Any]]] = {}
        for path, module in self.modules.items():
            blocks = self.blocks[path] = []
            for res in module.resources:
                cfg = self._address(path, res)
                blocks.append((cfg, res))
                it = _iteration(res, path) if cfg is not None else None
                if cfg is not None and it is not None:
                    self.iters[cfg] = it
        self._memo: dict[tuple[ModulePath, str], frozenset[Target]] = {}
        self._inputs: dict[ModulePath, dict[str, list[tuple[str, str | None]]]] = {}
        # Modules called several times (a monorepo's service module) repeat the
        # same expressions: each distinct one is read once.
        self._lists: dict[bytes, list[tuple[str, str | None]]] = {}
        self._segments: dict[str, list[tuple[str, tfaddr.Key]] | None] = {}
        self._bares: dict[str, tuple[str, str] | None] = {}
        self._subtrees: dict[ModulePath, frozenset[Target]] = {}
        # Each target's place in a resource's sorted targets (see _order).
        self._order: dict[Target, tuple[str, str, str, str]] = {}

    def resource_targets(self) -> dict[str, list[tuple[str, Any, Pin, str | None, str]]]:
        """For each config resource: the (target, key, pins, why, via) it depends on."""
        out: dict[str, list[tuple[str, Any, Pin, str | None, str]]] = {}
        order = self._order
        for path in sorted(self.modules):
            inherited = self._module_level(path)
            # No resolution is under way here, so what a reference made in
            # this module means is settled and can be remembered (inside one,
            # a reference on a cycle resolves to less, see resolve).
            keyed: dict[tuple[str, str | None, int], frozenset[Target]] = {}
            iterated: dict[tuple[str, str | None], frozenset[Target]] = {}
            depth = len(path)
            for cfg, res in self.blocks[path]:
                if cfg is None:
                    continue
                it = self.iters.get(cfg)
                ctx = (it, depth)
                targets: dict[Target, str] = {}
                for ref, after in self._list(res.expressions):
                    memo = (ref, after, id(it))
                    found = keyed.get(memo)
                    if found is None:
                        found = keyed[memo] = self._keyed(path, ref, after, ctx)
                    for t in found:
                        targets.setdefault(t, "reference")
                if it is not None:  # else neither count nor for_each is set
                    for ref, after in self._list(res.count_expression) + self._list(
                        res.for_each_expression
                    ):
                        found = iterated.get((ref, after))
                        if found is None:
                            found = iterated[(ref, after)] = self._iterated(path, ref, after, depth)
                        for t in found:
                            targets.setdefault(t, "reference")
                for ref in res.depends_on:
                    for t in self.resolve(path, ref):
                        targets.setdefault(t, "depends_on")
                for t in inherited:
                    targets.setdefault(t, "module")
                for t in [t for t in targets if t[0] == cfg and t[1] is None and not t[2]]:
                    del targets[t]
                if len(targets) > 1:
                    for t in targets:
                        if t not in order:
                            order[t] = _order(t)
                    items = sorted(targets.items(), key=lambda item: order[item[0]])
                else:
                    items = list(targets.items())
                out[cfg] = [(t, k, p, why, via) for (t, k, p, why), via in items]
        return out

    def _list(self, raw: Any) -> list[tuple[str, str | None]]:
        """reference_list, each distinct expression read once (never changed by callers)."""
        if raw is None:
            return []
        key = bytes(raw)
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = reference_list(raw)
        return found

    def _split(self, ref: str) -> list[tuple[str, tfaddr.Key]] | None:
        """tfaddr.split of a reference, remembered (None: not an address)."""
        if ref in self._segments:
            return self._segments[ref]
        try:
            segs: list[tuple[str, tfaddr.Key]] | None = tfaddr.split(ref)
        except tfaddr.AddressError:
            segs = None
        self._segments[ref] = segs
        return segs

    def _address(self, path: ModulePath, res: Any) -> str | None:
        local = self._locals.get((res.address, res.mode), "")
        if local == "":
            names = [n for n, _ in tfaddr.split(res.address) if n != "data"]
            if len(names) != 2:
                local = None
            else:
                mode = "data" if res.mode == "data" else "managed"
                local = tfaddr.config_address((), mode, names[0], names[1])
            self._locals[(res.address, res.mode)] = local
        return None if local is None else self._prefix(path) + local

    def _prefix(self, path: ModulePath) -> str:
        """`module.a.module.b.`: the config address prefix of module `path`."""
        prefix = self._prefixes.get(path)
        if prefix is None:
            prefix = self._prefixes[path] = "".join(f"module.{m}." for m in path)
        return prefix

    def _module_level(self, path: ModulePath) -> set[Target]:
        """What a module call's depends_on/count/for_each make every resource in it depend on."""
        out: set[Target] = set()
        for i in range(1, len(path) + 1):
            call = self.calls.get(path[:i])
            if call is None:
                continue
            parent = path[: i - 1]
            for ref in call.depends_on:
                out |= self.resolve(parent, ref)
            for ref, after in self._list(call.count_expression) + self._list(
                call.for_each_expression
            ):
                out |= self._iterated(parent, ref, after, i - 1)
        return out

    def _call_inputs(self, path: ModulePath) -> dict[str, list[tuple[str, str | None]]]:
        if path not in self._inputs:
            call = self.calls.get(path)
            inputs: dict[str, list[tuple[str, str | None]]] = {}
            if call is not None:
                exprs = msgspec.json.decode(call.expressions)
                if isinstance(exprs, dict):
                    for name, expr in exprs.items():
                        inputs[name] = _references_in(expr)
            self._inputs[path] = inputs
        return self._inputs[path]

    # -- instance keys ---------------------------------------------------------

    def _keyed(
        self, path: ModulePath, ref: str, after: str | None, ctx: tuple[_Iter | None, int]
    ) -> frozenset[Target]:
        """What `ref`, made in module `path`, stands for when `after` follows it in
        its expression: a bare resource or module call followed by `each.key`,
        `each.value` or `count.index` means the instance with the source's key,
        as long as source (`ctx`: its iteration and key depth) and target iterate
        the same collection."""
        found = self.resolve(path, ref)
        bare = self._bare(ref) if found else None
        if bare is None:
            if after is None:
                return found
            # `var.ids[each.key]`: whatever the caller passed, indexed somehow.
            return frozenset((t, k, p, UNKNOWABLE if w == EVERY else w) for t, k, p, w in found)
        kind, name = bare
        if after is None:
            why = EVERY
        else:
            it, depth = ctx
            theirs = self.iters.get(
                next(iter(found))[0] if kind == "resource" else (*path, name[len("module.") :])
            )
            if after in _INDEXES and self._same_keys(it, theirs, after, path, name):
                same = Same(depth)
                if kind == "resource":
                    return frozenset((t, same, p, None) for t, k, p, _ in found if k is None)
                pin = (len(path), same)
                return frozenset(
                    (t, k, tuple(sorted({*p, pin}, key=repr)), MODULE_WIDE) for t, k, p, _ in found
                )
            why = UNKNOWABLE
        if kind == "module":
            return frozenset(
                (t, k, p, MODULE_WIDE if why == EVERY else MODULE_ANY) for t, k, p, _ in found
            )
        return frozenset((t, k, p, why if k is None and w is None else w) for t, k, p, w in found)

    def _iterated(
        self, path: ModulePath, ref: str, after: str | None, depth: int
    ) -> frozenset[Target]:
        """A count or for_each expression's reference: iterating over a resource
        itself (`for_each = aws_iam_user.team`, `count = length(aws_subnet.a)`)
        gives each instance the key of its own instance of it."""
        found = self.resolve(path, ref)
        bare = self._bare(ref) if found else None
        if bare is None:
            return found
        if bare[0] == "resource" and after is None:
            return frozenset((t, Same(depth), p, None) for t, k, p, _ in found if k is None)
        why = EVERY if after is None else UNKNOWABLE
        return frozenset((t, k, p, why if k is None and w is None else w) for t, k, p, w in found)

    def _same_keys(
        self, it: _Iter | None, target: _Iter | None, after: str, path: ModulePath, name: str
    ) -> bool:
        """Whether source and target iterate the same collection, in the way `after` indexes."""
        if it is None or target is None or it.kind != _INDEXES[after] or target.kind != it.kind:
            return False
        if it.refs == ((name, None),) and it.scope == path:
            return True  # the source iterates over the target itself
        mine = self._origin(it)
        return mine is not None and mine == self._origin(target)

    def _origin(self, it: _Iter, seen: frozenset[str] = frozenset()) -> Any:
        """The collection behind an iteration: iterating over a resource is
        iterating over that resource's own collection."""
        if it.expr is None:
            return None
        if len(it.refs) == 1 and it.refs[0][1] is None:
            bare = self._bare(it.refs[0][0])
            if bare is not None and bare[0] == "resource":
                cfg = next(iter(self.resolve(it.scope, it.refs[0][0])), (None,))[0]
                inner = self.iters.get(cfg) if cfg is not None and cfg not in seen else None
                if inner is not None and cfg is not None:
                    return self._origin(inner, seen | {cfg})
        return (it.kind, it.scope, it.expr)

    # -- resolving -------------------------------------------------------------

    def _all_in(self, path: ModulePath) -> frozenset[Target]:
        """Every resource of the module at `path` and of the modules it calls."""
        found = self._subtrees.get(path)
        if found is None:
            out: set[Target] = {(cfg, None, (), None) for cfg, _ in self.blocks[path] if cfg}
            for name in self.modules[path].module_calls:
                if (*path, name) in self.modules:
                    out |= self._all_in((*path, name))
            found = self._subtrees[path] = frozenset(out)
        return found

    def _bare(self, ref: str) -> tuple[str, str] | None:
        if ref not in self._bares:
            self._bares[ref] = _bare(ref)
        return self._bares[ref]

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
        segs = self._split(ref)
        if not segs:  # not an address, or an empty reference string: names nothing
            return frozenset()
        root = segs[0][0]
        if root in _IGNORED_ROOTS:
            return frozenset()
        if root == "var":
            if not path or len(segs) < 2:
                return frozenset()
            out: set[Target] = set()
            # The caller's expression is read in the caller's module, where
            # each.key and count.index are the key of this module's instance.
            ctx = (self.iters.get(path), len(path) - 1)
            for r, after in self._call_inputs(path).get(segs[1][0], ()):
                out |= self._keyed(path[:-1], r, after, ctx)
            return frozenset(out)
        if root == "module":
            return self._module_ref(path, segs)
        if root == "data":
            if len(segs) < 3:
                return frozenset()
            cfg = f"{self._prefix(path)}data.{segs[1][0]}.{segs[2][0]}"
            return frozenset({(cfg, segs[2][1], (), None)})
        if len(segs) < 2 or segs[0][1] is not None:
            return frozenset()
        cfg = f"{self._prefix(path)}{segs[0][0]}.{segs[1][0]}"
        return frozenset({(cfg, segs[1][1], (), None)})

    def _module_ref(
        self, path: ModulePath, segs: list[tuple[str, tfaddr.Key]]
    ) -> frozenset[Target]:
        if len(segs) < 2:
            return frozenset()
        mpath = (*path, segs[1][0])
        module = self.modules.get(mpath)
        if module is None:
            return frozenset()
        output = module.outputs.get(segs[2][0]) if len(segs) >= 3 else None
        if output is None:
            found = self._all_in(mpath)
        else:
            out: set[Target] = set()
            for r, after in self._list(output.expression):
                out |= self._keyed(mpath, r, after, (None, len(mpath)))
            for r in output.depends_on:
                out |= self.resolve(mpath, r)
            found = frozenset(out)
        key = segs[1][1]
        if key is None:
            return found
        pin = (len(path), key)
        return frozenset(
            (t, k, tuple(sorted({*p, pin}, key=repr)), w)
            for t, k, p, w in found
            if t.count("module.") > len(path)
        )


def _bare(ref: str) -> tuple[str, str] | None:
    """("resource", config-relative name) for a whole resource (`aws_subnet.a`,
    `data.aws_ami.x`), ("module", `module.m`) for a whole module call, else None."""
    try:
        segs = tfaddr.split(ref)
    except tfaddr.AddressError:
        return None
    if any(k is not None for _, k in segs):
        return None
    root = segs[0][0] if segs else ""
    if root == "module":
        return ("module", ref) if len(segs) == 2 else None
    if root in _IGNORED_ROOTS or root == "var":
        return None
    return ("resource", ref) if len(segs) == (3 if root == "data" else 2) else None


def _order(target: Target) -> tuple[str, str, str, str]:
    """Where a target goes among a resource's targets (one target never twice)."""
    address, key, pins, why = target
    return address, repr(key), repr(pins), why or ""
