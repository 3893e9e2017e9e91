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

References are resolved to config addresses when the plan is loaded; what
they mean for each instance is worked out when the dependency graph asks
(TerraformEdges), which in a review is only around what is destroyed or
replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from planguard.errors import InputError
from planguard.load import tfaddr
from planguard.load.tfrefs import MODULE_ANY, MODULE_WIDE, UNKNOWABLE, ConfigIndex, Same
from planguard.model import Edge, Resource
from planguard.speed.ondemand import FilledOnRead

if TYPE_CHECKING:
    from planguard.load.terraform import _CfgModule, _StateResource


Targets = dict[str, list[tuple[str, Any, Any, str | None, str]]]


def edges(
    path: str,
    config: _CfgModule | None,
    resources: dict[str, Resource],
    state: list[_StateResource],
    targets: Callable[[], Targets | None] | None = None,
) -> TerraformEdges:
    """Instance-level edges from configuration references (`config`, the
    configuration's root module) and prior-state depends_on, worked out as
    they are asked for (see TerraformEdges). `targets`, when given, asks for
    what the configuration's references resolve to
    (ConfigIndex.resource_targets), worked out by another process from the
    same configuration; None from it: resolve them here."""
    return TerraformEdges(path, config, resources, state, targets)


class TerraformEdges(FilledOnRead[Edge]):
    """A plan's edges: read as a list, every edge, sorted by dependent then
    dependency; asked by the dependency graph, only what it asks about.

    A review walks back from the few destroyed or replaced resources, so it
    needs the edges into those, into their dependents, and so on: the
    `dependents` of a resource are found among the instances of the resources
    whose configuration (or prior state) names it, each instance's
    dependencies worked out as the full list would have them. The
    configuration's references are resolved to config addresses for every
    resource when the plan is loaded (a bad address fails the load); what
    they mean per instance is left until asked.
    """

    def __init__(
        self,
        path: str,
        config: _CfgModule | None,
        resources: dict[str, Resource],
        state: list[_StateResource],
        targets: Callable[[], Targets | None] | None = None,
    ) -> None:
        super().__init__()
        self.instances = index = _InstanceIndex(resources)
        # Prior-state objects by address, in the plan's order (a deposed
        # object is one more under the same address).
        self._state: dict[str, list[_StateResource]] = {}
        for sr in state:
            if sr.address in index.parsed:
                self._state.setdefault(sr.address, []).append(sr)
        self._closure: dict[str, set[str]] | None = None
        self._reduced: dict[tuple[str, ...], list[str]] = {}
        # What one instance's depends_on adds, by (module instance, config address,
        # list): count and for_each siblings list the same and get the same answer.
        self._added: dict[_StateScope, list[tuple[str, str]]] = {}
        # (what the configuration gave, scope) -> that plus what the state adds.
        self._combined: dict[
            tuple[int, _StateScope], tuple[dict[str, str] | None, dict[str, str]]
        ] = {}
        self._sources: dict[str, _Source | None] = {}
        # address -> {dependency: via}, shared between instances (never changed
        # once stored); None: depends on nothing.
        self._deps: dict[str, dict[str, str] | None] = {}
        self._reverse: dict[tuple[str, int, tuple[tfaddr.Key, ...]], dict[str, list[str]]] = {}
        self._dep_configs: dict[str, str | None] = {}
        self._plans: dict[str, list[tuple[str, int]]] = {}
        self._named_in_state: dict[str, tuple[set[str], list[str]]] | None = None
        self._users: tuple[dict[str, set[str]], dict[str, set[str]]] | None = None
        self._acyclic: bool | None = None
        given = None
        if targets is not None:
            # While another process resolves the configuration, what prior
            # state names is read here: the cycle check needs it in any case
            # (mono 50k: ~0.1 s of waiting put to use).
            self._state_configs()
            given = targets()
        if given is None:
            given = {}
            if config is not None:
                try:
                    given = ConfigIndex(config).resource_targets()
                except tfaddr.AddressError as exc:
                    raise InputError(path, f"bad address in configuration: {exc}") from None
        self._targets = given
        # The config addresses each resource refers to through configuration:
        # prior-state depends_on names config addresses without instance keys,
        # so it only adds what the configuration does not say more precisely.
        self._referenced = {cfg: {t for t, *_ in refs} for cfg, refs in given.items()}

    # -- what the dependency graph asks ---------------------------------------------

    def dependencies(self, address: str) -> list[tuple[str, str]]:
        """(dependency, via) of one instance."""
        deps = self._of(address) if address in self.instances.parsed else None
        return [(b, via) for b, via in deps.items() if b != address] if deps else []

    def dependents(self, address: str) -> list[tuple[str, str]]:
        """(dependent, via) of one instance: every edge into it."""
        target = self.instances.parsed.get(address)
        if target is None:
            return []
        out: dict[str, str] = {}
        for cfg, shared in self._sources_of(target):
            keys = target.module_keys[:shared]
            for src in self._reverse_of(cfg, shared, keys).get(address, ()):
                if src != address:
                    out[src] = self._of(src)[address]  # type: ignore[index]
        return list(out.items())

    def dependent_addresses(self, address: str) -> list[str]:
        """The dependents of one instance, as `dependents` gives them, without how."""
        target = self.instances.parsed.get(address)
        if target is None:
            return []
        out: list[str] = []
        for cfg, shared in self._sources_of(target):
            found = self._reverse_of(cfg, shared, target.module_keys[:shared]).get(address)
            if found:
                out += found  # an instance is of one config address: no repeats
        return [src for src in out if src != address] if address in out else out

    def _sources_of(self, target: tfaddr.Address) -> list[tuple[str, int]]:
        """The config addresses whose instances may depend on an instance of
        `target`'s, each with the module steps they share: a source means
        instances of the target in the module instance they share (see
        _merged, _InstanceIndex.candidates), so only the source's instances
        with the target's keys there can."""
        found = self._plans.get(target.config_address)
        if found is None:
            by_config = self.instances.by_config
            found = [
                (cfg, _shared_prefix(by_config[cfg][0][0].module_path, target.module_path))
                for cfg in sorted(self._users_of(target.config_address))
                if by_config.get(cfg)
            ]
            self._plans[target.config_address] = found
        return found

    def acyclic(self) -> bool:
        """True when no instance can be on a cycle: the config addresses the
        edges join (through configuration or prior state) form none. False
        says nothing either way (the full list then tells)."""
        if self._acyclic is None:
            self._acyclic = _acyclic(self._config_graph())
        return self._acyclic

    # -- one instance ------------------------------------------------------------

    def _of(self, address: str) -> dict[str, str] | None:
        """{dependency: via} of one instance, as the full list has them (an edge to
        itself included: it is dropped where edges are made)."""
        if address in self._deps:
            return self._deps[address]
        src = self.instances.parsed[address]
        source = self._source(src.config_address)
        deps = source.deps(self.instances, src) if source is not None else None
        for sr in self._state.get(address, ()):
            deps = self._with_state(sr, src, deps)
        self._deps[address] = deps
        return deps

    def _source(self, cfg: str) -> _Source | None:
        if cfg not in self._sources:
            refs = self._targets.get(cfg)
            instances = self.instances.by_config.get(cfg)
            self._sources[cfg] = (
                _Source(self.instances, refs, instances[0][0].module_path)
                if refs is not None and instances
                else None
            )
        return self._sources[cfg]

    def _with_state(
        self, sr: _StateResource, owner: tfaddr.Address, known: dict[str, str] | None
    ) -> dict[str, str] | None:
        """`known` with what one prior-state object's depends_on adds.

        Terraform writes prior-state depends_on transitively (an instance lists
        the VPC its subnet is in). Keeping only the direct ones (a transitive
        reduction, read off the lists themselves) leaves reachability intact and
        makes explaining paths name each step.
        """
        listed = tuple(sr.depends_on)
        state_scope = (owner.modules, owner.config_address, listed)
        targets = self._added.get(state_scope)
        if targets is None:
            targets = self._added[state_scope] = _state_targets(
                self.instances,
                owner,
                listed,
                self._reduced,
                self._state_closure(),
                self._referenced.get(owner.config_address, ()),
            )
        if not targets:
            return known
        entry = self._combined.get((id(known), state_scope))
        if entry is None or entry[0] is not known:
            deps: dict[str, str] = {}
            for dep, via in targets:
                deps.setdefault(dep, via)
            if known:
                deps.update(known)  # what the configuration says wins
            entry = self._combined[(id(known), state_scope)] = (known, deps)
        return entry[1]

    def _state_closure(self) -> dict[str, set[str]]:
        """Every dependency prior state lists for any instance of each config address."""
        if self._closure is None:
            closure: dict[str, set[str]] = {}
            parsed = self.instances.parsed
            last: dict[str, list[str]] = {}  # siblings mostly list the same
            for address, objects in self._state.items():
                cfg = parsed[address].config_address
                into = closure.get(cfg)
                if into is None:
                    into = closure[cfg] = set()
                for sr in objects:
                    listed = sr.depends_on
                    if not listed:
                        continue
                    before = last.get(cfg)
                    if before != listed:
                        into.update(listed)
                        last[cfg] = listed
                    elif before is not listed:
                        # The same list as a sibling's: one copy is kept (the
                        # lists are read, never changed, once decoded).
                        sr.depends_on = before
            self._closure = closure
        return self._closure

    # -- the other way -------------------------------------------------------------

    def _users_of(self, cfg: str) -> set[str]:
        """Config addresses whose instances may depend on an instance of `cfg`:
        those whose configuration resolves to it, and those whose prior state
        names it (or a module it is in)."""
        if self._users is None:
            named: dict[str, set[str]] = {}
            for source, referenced in self._referenced.items():
                for target in referenced:
                    named.setdefault(target, set()).add(source)
            modules: dict[str, set[str]] = {}
            for source, (targets, whole) in self._state_configs().items():
                for target in targets:
                    named.setdefault(target, set()).add(source)
                for dep in whole:
                    modules.setdefault(dep, set()).add(source)
            self._users = (named, modules)
        named, modules = self._users
        found = set(named.get(cfg, ()))
        if modules:
            parts = cfg.split(".")
            for n in range(1, len(parts)):
                found |= modules.get(".".join(parts[:n]), set())
        return found

    def _reverse_of(
        self, cfg: str, shared: int, keys: tuple[tfaddr.Key, ...]
    ) -> dict[str, list[str]]:
        """The instances of `cfg` whose first `shared` module steps have `keys`,
        by each of their dependencies."""
        memo = (cfg, shared, keys)
        reverse = self._reverse.get(memo)
        if reverse is None:
            reverse = self._reverse[memo] = {}
            group = self.instances.groups(cfg, shared).get(keys)
            for src in group[0] if group is not None else ():
                for dep in self._of(src) or ():
                    reverse.setdefault(dep, []).append(src)
        return reverse

    def _dep_config(self, dep: str) -> str | None:
        """The config address a prior-state dependency names (None: a whole module)."""
        if dep not in self._dep_configs:
            try:
                self._dep_configs[dep] = tfaddr.parse(dep).config_address
            except tfaddr.AddressError:
                self._dep_configs[dep] = None
        return self._dep_configs[dep]

    def _config_graph(self) -> list[tuple[str, Iterable[str]]]:
        """(config address, config addresses its instances' edges may lead to)."""
        graph: list[tuple[str, Iterable[str]]] = list(self._referenced.items())
        by_config = self.instances.by_config
        for source, (targets, whole) in self._state_configs().items():
            graph.append((source, targets))
            for dep in whole:
                graph.append((source, [cfg for cfg in by_config if cfg.startswith(dep + ".")]))
        return graph

    def _state_configs(self) -> dict[str, tuple[set[str], list[str]]]:
        """For each config address, the config addresses its prior state names,
        and the modules it names whole (`module.x`)."""
        if self._named_in_state is None:
            named: dict[str, tuple[set[str], list[str]]] = {}
            dep_config = self._dep_config
            for source, listed in self._state_closure().items():
                if all(dep_config(dep) == dep for dep in listed):
                    # Config addresses as prior state writes them (nearly
                    # always): the same set, shared rather than held twice
                    # (neither is changed once made).
                    named[source] = (listed, [])
                    continue
                targets: set[str] = set()
                whole: list[str] = []
                for dep in listed:
                    cfg_dep = dep_config(dep)
                    if cfg_dep is None:
                        whole.append(dep)
                    else:
                        targets.add(cfg_dep)
                named[source] = (targets, sorted(whole))
            self._named_in_state = named
        return self._named_in_state

    # -- the full list ----------------------------------------------------------------

    def _items(self) -> list[Edge]:
        out: list[Edge] = []
        ordered: dict[int, list[tuple[str, str]]] = {}
        for a in sorted(self.instances.parsed):
            deps = self._of(a)
            if not deps:
                continue
            items = ordered.get(id(deps))
            if items is None:
                items = ordered[id(deps)] = sorted(deps.items())
            out.extend([Edge(a, b, via) for b, via in items if b != a])
        return out


def _acyclic(graph: list[tuple[str, Iterable[str]]]) -> bool:
    """Whether `graph` ((node, what it leads to), a node perhaps more than once)
    has no cycle, an edge from a node to itself included (Kahn)."""
    number: dict[str, int] = {}
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
        remaining[n] += len(targets)  # type: ignore[arg-type]
    order = [n for n, k in enumerate(remaining) if k == 0]
    for done in order:  # grows while it is walked
        for up in below[done]:
            remaining[up] -= 1
            if remaining[up] == 0:
                order.append(up)
    return len(order) == len(number)


class _Source:
    """What the configuration makes the instances of one resource depend on.

    Which instances of each target a source may mean depends on the module
    instance keys source and target share: the depth shared is the same for
    every instance of the resource, worked out once. An instance's
    dependencies depend on its first `depth` module steps, and on the key
    steps that pick a target's instance: instances that agree on the first
    (siblings) share one merged {dependency: via}, which those keyed by their
    own key copy and add to.
    """

    __slots__ = ("depth", "keyed_by_scope", "keyed_plan", "merged_by_scope", "shared_plan", "steps")

    def __init__(
        self,
        index: _InstanceIndex,
        refs: list[tuple[str, Any, Any, str | None, str]],
        module_path: tuple[str, ...],
    ) -> None:
        self.shared_plan: list[_Entry] = []
        self.keyed_plan: list[_Entry] = []
        keyed: set[int] = set()  # the source's key steps that pick a target's instance
        for target, key, pins, why, via in refs:
            members = index.by_config.get(target)
            if members:
                shared = _shared_prefix(module_path, members[0][0].module_path)
                entry = (index.groups(target, shared), shared, key, pins, why, via)
                steps = [k.depth for k in (key, *[k for _, k in pins]) if type(k) is Same]
                (self.keyed_plan if steps else self.shared_plan).append(entry)
                keyed.update(steps)
        self.depth = max((entry[1] for entry in self.shared_plan + self.keyed_plan), default=0)
        self.steps = sorted(keyed)
        self.merged_by_scope: dict[Any, dict[str, str]] = {}
        self.keyed_by_scope: dict[Any, dict[str, str]] = {}

    def deps(self, index: _InstanceIndex, src: tfaddr.Address) -> dict[str, str] | None:
        # Every instance of one resource has the same module steps: the
        # module instance is told by their keys.
        scope = src.module_keys[: self.depth]
        merged = self.merged_by_scope.get(scope)
        if merged is None:
            merged = _merged(index, self.shared_plan, scope, ()) if self.shared_plan else {}
            self.merged_by_scope[scope] = merged
        if self.steps:
            own = (*src.module_keys, src.key)
            memo = (scope, *[own[d] for d in self.steps])
            mine = self.keyed_by_scope.get(memo)
            if mine is None:
                # The more precise reading names the edge.
                mine = {**merged, **_merged(index, self.keyed_plan, scope, own)}
                self.keyed_by_scope[memo] = mine
            merged = mine
        return merged or None


# (target groups, module depth shared, key, pins, why, via)
_Entry = tuple[Any, int, Any, Any, "str | None", str]


def _merged(
    index: _InstanceIndex,
    plan: list[_Entry],
    keys: tuple[tfaddr.Key, ...],
    own: tuple[tfaddr.Key, ...],
) -> dict[str, str]:
    """{dependency: via} of the entries of `plan`, for a source in the module
    instance whose first steps have `keys`, and whose own keys are `own`."""
    merged: dict[str, str] = {}
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
        prefix = source.module_keys[:shared]
        return self.lookup(self.groups(target, shared), prefix, key, pins)

    def groups(self, target: str, shared: int) -> _Groups:
        """Instances of `target` by the keys of their first `shared` module steps."""
        groups = self._groups.get((target, shared))
        if groups is None:
            groups = {}
            for a, text in self.by_config.get(target, ()):
                prefix = a.module_keys[:shared]
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
