"""Instance-level dependency edges of a Terraform plan.

The configuration in a plan says what each resource refers to, by config
address (`module.app.aws_subnet.a`); prior state's depends_on says what each
instance depended on at the last apply. Edges join resource instances
(`module.app["eu"].aws_subnet.a[0]`): a reference is resolved to the
instances it can mean, scoped by the module instance keys that source and
target share, and keyed by the source's own key where the reference is
(`aws_subnet.a[count.index]`, see planguard.load.tfrefs). Count and for_each
siblings otherwise get the same answers, so answers are worked out once and
shared between them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planguard.errors import InputError
from planguard.load import tfaddr
from planguard.load.tfrefs import MODULE_ANY, MODULE_WIDE, UNKNOWABLE, ConfigIndex, Same
from planguard.model import Edge, Resource

if TYPE_CHECKING:
    from planguard.load.terraform import _CfgModule, _StateResource


def edges(
    path: str,
    config: _CfgModule | None,
    resources: dict[str, Resource],
    state: list[_StateResource],
) -> list[Edge]:
    """Instance-level edges from configuration references (`config`, the
    configuration's root module) and prior-state depends_on."""
    index = _InstanceIndex(resources)
    # dependent -> {dependency: via}: nested rather than keyed by pairs, which
    # on a 50k plan would be ~330k tuples held at the peak of the load. Count
    # and for_each siblings mostly get the same answers, so the inner dicts
    # are shared between instances and never changed once stored; an edge
    # from an instance to itself is dropped when the edges are built.
    found: dict[str, dict[str, str]] = {}
    referenced = _config_edges(path, config, index, found) if config is not None else {}
    _state_edges(state, index, found, referenced)

    out: list[Edge] = []
    ordered: dict[int, list[tuple[str, str]]] = {}
    for a in sorted(found):
        deps = found[a]
        items = ordered.get(id(deps))
        if items is None:
            items = ordered[id(deps)] = sorted(deps.items())
        out.extend([Edge(a, b, via) for b, via in items if b != a])
    return out


def _config_edges(
    path: str, config: _CfgModule, index: _InstanceIndex, found_edges: dict[str, dict[str, str]]
) -> dict[str, set[str]]:
    """Add to `found_edges` what configuration references make each instance depend on.

    Returns the config addresses each resource refers to through configuration:
    prior-state depends_on names config addresses without instance keys, so
    it only adds what the configuration does not say more precisely.
    """
    referenced: dict[str, set[str]] = {}
    try:
        targets_by_config = ConfigIndex(config).resource_targets()
    except tfaddr.AddressError as exc:
        raise InputError(path, f"bad address in configuration: {exc}") from None
    for cfg_addr, refs in targets_by_config.items():
        referenced[cfg_addr] = {t for t, *_ in refs}
        instances = index.by_config.get(cfg_addr)
        if not instances:
            continue
        # Which instances of each target a source may mean depends on the
        # module instance keys source and target share: the depth shared is
        # the same for every instance of this resource, worked out once.
        module_path = instances[0][0].module_path
        shared_plan: list[_Entry] = []
        keyed_plan: list[_Entry] = []
        keyed: set[int] = set()  # the source's key steps that pick a target's instance
        for target, key, pins, why, via in refs:
            members = index.by_config.get(target)
            if members:
                shared = _shared_prefix(module_path, members[0][0].module_path)
                entry = (index.groups(target, shared), shared, key, pins, why, via)
                steps = [k.depth for k in (key, *[k for _, k in pins]) if type(k) is Same]
                (keyed_plan if steps else shared_plan).append(entry)
                keyed.update(steps)
        # An instance's dependencies depend on its first `depth` module steps,
        # and on the key steps that pick a target's instance: instances that
        # agree on the first (siblings) share one merged {dependency: via},
        # which those keyed by their own key copy and add to.
        depth = max((entry[1] for entry in shared_plan + keyed_plan), default=0)
        steps = sorted(keyed)
        merged_by_scope: dict[Any, dict[str, str]] = {}
        keyed_by_scope: dict[Any, dict[str, str]] = {}
        for src, src_text in instances:
            scope = src.modules[:depth]
            merged = merged_by_scope.get(scope)
            if merged is None:
                merged = _merged(index, shared_plan, scope, ()) if shared_plan else {}
                merged_by_scope[scope] = merged
            if steps:
                own = (*[k for _, k in src.modules], src.key)
                memo = (scope, *[own[d] for d in steps])
                mine = keyed_by_scope.get(memo)
                if mine is None:
                    # The more precise reading names the edge.
                    mine = {**merged, **_merged(index, keyed_plan, scope, own)}
                    keyed_by_scope[memo] = mine
                merged = mine
            if not merged:
                continue
            known = found_edges.get(src_text)
            found_edges[src_text] = merged if known is None else {**merged, **known}
    return referenced


# (target groups, module depth shared, key, pins, why, via)
_Entry = tuple[Any, int, Any, Any, "str | None", str]


def _merged(
    index: _InstanceIndex, plan: list[_Entry], scope: Any, own: tuple[tfaddr.Key, ...]
) -> dict[str, str]:
    """{dependency: via} of the entries of `plan`, for a source in module
    instance `scope` whose keys are `own`."""
    merged: dict[str, str] = {}
    keys = tuple([k for _, k in scope])
    for groups, shared, key, pins, why, via in plan:
        if not own:
            found = index.lookup(groups, keys[:shared], key, pins)
        elif not pins and type(key) is Same:
            # The common keyed case, `aws_subnet.a[count.index]`, inline: one
            # lookup on a large plan's every count and for_each instance.
            group = groups.get(keys[:shared])
            mine = own[key.depth]
            hit = group[1].get(mine) if group is not None and mine is not None else None
            if hit:
                for dep in hit:
                    merged.setdefault(dep, via)
                continue
            found, why = _pick(index, groups, keys[:shared], key, pins, why, own)
        else:
            found, why = _pick(index, groups, keys[:shared], key, pins, why, own)
        # Which of several instances is not known; one is one.
        shown = why is not None and (len(found) > 1 or why in _MODULE_WIDE)
        label = f"{via} ({why})" if shown else via
        for dep in found:
            merged.setdefault(dep, label)
    return merged


def _pick(
    index: _InstanceIndex,
    groups: _Groups,
    prefix: tuple[tfaddr.Key, ...],
    key: Any,
    pins: Any,
    why: str | None,
    own: tuple[tfaddr.Key, ...],
) -> tuple[list[str], str | None]:
    """The target instances one reference means for a source whose keys are
    `own`: a key given as Same(depth) is the source's key at that step. When
    no target instance has it (or the source has none there), every instance
    is meant, and the reason says the key could not be known."""
    same = type(key) is Same
    if not pins:
        if not same:
            return index.lookup(groups, prefix, key, pins), why
        mine = own[key.depth]
        found = index.lookup(groups, prefix, mine, pins) if mine is not None else []
        if found:
            return found, why
    elif not same and not any(type(k) is Same for _, k in pins):
        return index.lookup(groups, prefix, key, pins), why
    else:
        mine = own[key.depth] if same else key
        mine_pins = tuple([(d, own[k.depth] if type(k) is Same else k) for d, k in pins])
        known = mine is not None or not same
        if known and all(k is not None for _, k in mine_pins):
            found = index.lookup(groups, prefix, mine, mine_pins)
            if found:
                return found, why
    fixed = tuple((d, k) for d, k in pins if type(k) is not Same)
    unknown = MODULE_ANY if why in _MODULE_WIDE else UNKNOWABLE
    return index.lookup(groups, prefix, None if type(key) is Same else key, fixed), unknown


# A bare module reference means any resource of the module, whichever the
# number of instances: the reason is always shown.
_MODULE_WIDE = frozenset({MODULE_WIDE, MODULE_ANY})


def _state_edges(
    state: list[_StateResource],
    index: _InstanceIndex,
    found: dict[str, dict[str, str]],
    referenced: dict[str, set[str]],
) -> None:
    """Add to `found` what prior-state depends_on adds to the configuration's answer.

    Terraform writes prior-state depends_on transitively (an instance lists
    the VPC its subnet is in). Keeping only the direct ones (a transitive
    reduction, read off the lists themselves) leaves reachability intact and
    makes explaining paths name each step.
    """
    closure: dict[str, set[str]] = {}
    for sr in state:
        owner = index.parsed.get(sr.address)
        if owner is not None:
            closure.setdefault(owner.config_address, set()).update(sr.depends_on)
    reduced: dict[tuple[str, ...], list[str]] = {}
    # What one instance's depends_on adds, by (module instance, config address,
    # list): count and for_each siblings list the same and get the same answer.
    added: dict[_StateScope, list[tuple[str, str]]] = {}
    # (what the configuration gave, scope) -> that plus what the state adds.
    combined: dict[tuple[int, _StateScope], tuple[dict[str, str] | None, dict[str, str]]] = {}
    for sr in state:
        owner = index.parsed.get(sr.address)
        if owner is None:
            continue
        listed = tuple(sr.depends_on)
        state_scope = (owner.modules, owner.config_address, listed)
        targets = added.get(state_scope)
        if targets is None:
            targets = added[state_scope] = _state_targets(
                index, owner, listed, reduced, closure, referenced.get(owner.config_address, ())
            )
        if not targets:
            continue
        known = found.get(sr.address)
        entry = combined.get((id(known), state_scope))
        if entry is None or entry[0] is not known:
            deps: dict[str, str] = {}
            for dep, via in targets:
                deps.setdefault(dep, via)
            if known:
                deps.update(known)  # what the configuration says wins
            entry = combined[(id(known), state_scope)] = (known, deps)
        found[sr.address] = entry[1]


# What one prior-state depends_on list is read against: (module instance,
# config address, the list).
_StateScope = tuple[tuple[tfaddr.ModuleStep, ...], str, tuple[str, ...]]


def _state_targets(
    index: _InstanceIndex,
    src: tfaddr.Address,
    listed: tuple[str, ...],
    reduced: dict[tuple[str, ...], list[str]],
    closure: dict[str, set[str]],
    referenced: Any,
) -> list[tuple[str, str]]:
    """The instances one prior-state depends_on list makes `src` depend on, and how.

    Prior state names config addresses, without instance keys: a resource
    with several instances stands for all of them, and the edge says so.
    """
    # Instances of one resource list the same dependencies: reduce each list once.
    direct = reduced.get(listed)
    if direct is None:
        direct = reduced[listed] = [
            dep
            for dep in listed
            if not any(other != dep and dep in closure.get(other, ()) for other in listed)
        ]
    out: list[tuple[str, str]] = []
    for dep in direct:
        try:
            target = tfaddr.parse(dep)
        except tfaddr.AddressError:
            # Whole-module dependencies ("module.x") name every resource in it.
            for cfg_addr in index.by_config:
                if cfg_addr.startswith(dep + "."):
                    out.extend(_labelled(index.candidates(src, cfg_addr, None)))
            continue
        if target.config_address in referenced:
            continue
        out.extend(_labelled(index.candidates(src, target.config_address, target.key)))
    return out


_STATE_ANY = f"state ({UNKNOWABLE})"


def _labelled(found: list[str]) -> list[tuple[str, str]]:
    via = "state" if len(found) < 2 else _STATE_ANY
    return [(dep, via) for dep in found]


# Instances by the keys of their first module steps: all of them, and by
# instance key.
_Groups = dict[tuple[tfaddr.Key, ...], tuple[list[str], dict[tfaddr.Key, list[str]]]]


class _InstanceIndex:
    """Resource instances by config address, grouped for scoped lookups.

    A reference made inside module instance `module.a["x"]` to a resource of
    the same module means that module instance's resource, so candidates are
    grouped by the module instance keys the source and target share.
    """

    def __init__(self, resources: dict[str, Resource]) -> None:
        self.parsed: dict[str, tfaddr.Address] = {}
        self.by_config: dict[str, list[tuple[tfaddr.Address, str]]] = {}
        for address in resources:
            a = tfaddr.parse(address)
            self.parsed[address] = a
            self.by_config.setdefault(a.config_address, []).append((a, address))
        self._groups: dict[tuple[str, int], _Groups] = {}
        self._found: dict[tuple[tuple[tfaddr.ModuleStep, ...], str, Any, Any], list[str]] = {}

    def candidates(
        self, source: tfaddr.Address, target: str, key: Any, pins: Any = ()
    ) -> list[str]:
        # The answer depends on the source's module instance only: every
        # instance of a resource (and its siblings) asks the same questions.
        memo = (source.modules, target, key, pins)
        found = self._found.get(memo)
        if found is None:
            found = self._found[memo] = self._candidates(source, target, key, pins)
        return found

    def _candidates(self, source: tfaddr.Address, target: str, key: Any, pins: Any) -> list[str]:
        members = self.by_config.get(target)
        if not members:
            return []
        shared = _shared_prefix(source.module_path, members[0][0].module_path)
        prefix = tuple(k for _, k in source.modules[:shared])
        return self.lookup(self.groups(target, shared), prefix, key, pins)

    def groups(self, target: str, shared: int) -> _Groups:
        """Instances of `target` by the keys of their first `shared` module steps."""
        groups = self._groups.get((target, shared))
        if groups is None:
            groups = {}
            for a, text in self.by_config.get(target, ()):
                prefix = tuple(k for _, k in a.modules[:shared])
                every, by_key = groups.setdefault(prefix, ([], {}))
                every.append(text)
                by_key.setdefault(a.key, []).append(text)
            self._groups[(target, shared)] = groups
        return groups

    def lookup(
        self, groups: _Groups, prefix: tuple[tfaddr.Key, ...], key: Any, pins: Any
    ) -> list[str]:
        """The instances in one group (`prefix`) with instance key `key` (None: all)."""
        group = groups.get(prefix)
        if group is None:
            return []
        every, by_key = group
        found = every if key is None else by_key.get(key, [])
        if pins:
            parsed = self.parsed
            found = [
                t
                for t in found
                if all(
                    depth < len(parsed[t].modules) and parsed[t].modules[depth][1] == k
                    for depth, k in pins
                )
            ]
        return found


def _shared_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
