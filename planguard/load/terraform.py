"""Terraform and OpenTofu plans (`terraform show -json tfplan`).

Only the fields the model needs are decoded, into typed structs; attribute
values stay as raw JSON bytes inside `Attributes` until a check reads them.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw, Struct

from planguard.errors import InputError
from planguard.load import tfaddr
from planguard.load.tfrefs import ConfigIndex
from planguard.model import (
    Action,
    Change,
    Edge,
    Mode,
    OutputChange,
    Plan,
    PlanKind,
    ReplaceOrder,
    Resource,
)
from planguard.speed import collector, mapped
from planguard.speed.mapped import Buffer
from planguard.values import Attributes

SUPPORTED_MAJOR = ("0", "1")

_NULL = Raw(b"null")

_ACTIONS: dict[tuple[str, ...], tuple[Action, ReplaceOrder | None]] = {
    ("no-op",): (Action.NOOP, None),
    ("create",): (Action.CREATE, None),
    ("read",): (Action.READ, None),
    ("update",): (Action.UPDATE, None),
    ("delete",): (Action.DELETE, None),
    ("forget",): (Action.FORGET, None),
    ("delete", "create"): (Action.REPLACE, ReplaceOrder.DELETE_FIRST),
    ("create", "delete"): (Action.REPLACE, ReplaceOrder.CREATE_FIRST),
    # Terraform 1.7+: forget the old object and create a new one in its place.
    ("create", "forget"): (Action.REPLACE, ReplaceOrder.CREATE_FIRST),
}


class _Importing(Struct, gc=False):
    id: str | None = None


class _Change(Struct, gc=False):
    actions: list[str]
    before: Raw = _NULL
    after: Raw = _NULL
    after_unknown: Raw = _NULL
    before_sensitive: Raw = _NULL
    after_sensitive: Raw = _NULL
    replace_paths: list[list[str | int]] | None = None
    importing: _Importing | None = None


class _ResourceChange(Struct, gc=False):
    address: str
    change: _Change
    type: str = ""
    name: str = ""
    mode: str = "managed"
    index: int | str | None = None
    module_address: str | None = None
    previous_address: str | None = None
    deposed: str | None = None
    provider_name: str = ""
    action_reason: str | None = None


class _OutputChange(Struct, gc=False):
    actions: list[str]
    after_sensitive: Raw = _NULL
    before_sensitive: Raw = _NULL


class _StateResource(Struct, gc=False):
    address: str
    mode: str = "managed"
    type: str = ""
    depends_on: list[str] = []


class _StateModule(Struct, gc=False):
    resources: list[_StateResource] = []
    child_modules: list[_StateModule] = []


class _StateValues(Struct, gc=False):
    root_module: _StateModule | None = None


class _State(Struct, gc=False):
    values: _StateValues | None = None


class _CfgResource(Struct, gc=False):
    address: str
    mode: str = "managed"
    type: str = ""
    name: str = ""
    expressions: Raw = _NULL
    count_expression: Raw = _NULL
    for_each_expression: Raw = _NULL
    depends_on: list[str] = []


class _CfgOutput(Struct, gc=False):
    expression: Raw = _NULL
    depends_on: list[str] = []


class _CfgModuleCall(Struct, gc=False):
    source: str = ""
    expressions: Raw = _NULL
    count_expression: Raw = _NULL
    for_each_expression: Raw = _NULL
    depends_on: list[str] = []
    module: _CfgModule | None = None


class _CfgModule(Struct, gc=False):
    resources: list[_CfgResource] = []
    module_calls: dict[str, _CfgModuleCall] = {}
    outputs: dict[str, _CfgOutput] = {}


class _Config(Struct, gc=False):
    root_module: _CfgModule | None = None


class _PlannedModule(Struct, gc=False):
    resources: list[_StateResource] = []
    child_modules: list[_PlannedModule] = []


class _PlannedValues(Struct, gc=False):
    root_module: _PlannedModule | None = None


class _PlanDoc(Struct, gc=False):
    format_version: str
    terraform_version: str | None = None
    planned_values: _PlannedValues | None = None
    resource_changes: list[_ResourceChange] | None = None
    resource_drift: list[_ResourceChange] = []
    output_changes: dict[str, _OutputChange] = {}
    prior_state: _State | None = None
    configuration: _Config | None = None
    errored: bool = False
    applyable: bool | None = None
    complete: bool | None = None
    values: Raw = _NULL  # present in state JSON, never in a plan


_decoder = msgspec.json.Decoder(_PlanDoc)


def check_format_version(path: str, version: object) -> None:
    if not isinstance(version, str) or not version:
        raise InputError(path, "plan has no format_version")
    major = version.split(".", 1)[0]
    if major not in SUPPORTED_MAJOR:
        raise InputError(
            path,
            f"unsupported plan format_version {version} (planguard reads 0.x and 1.x)",
        )


def load(path: str, data: Buffer, *, edges: bool = True) -> Plan:
    """Decode plan JSON bytes into a Plan; any problem is an InputError.

    The collector is paused meanwhile: loading makes hundreds of thousands of
    objects and no garbage cycles, and collections triggered by the
    allocations alone cost a quarter of the load.
    """
    try:
        with collector.paused():
            return _load(path, data, edges)
    finally:
        tfaddr.forget()


def _load(path: str, data: Buffer, with_edges: bool) -> Plan:
    try:
        doc = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise InputError(path, f"not a valid Terraform plan: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(path, "JSON nested too deeply") from None
    mapped.release(data)  # the model is built without the file's pages
    check_format_version(path, doc.format_version)
    if doc.planned_values is None and doc.resource_changes is None and doc.configuration is None:
        if bytes(doc.values) != b"null":
            raise InputError(path, "this is Terraform state JSON, not a plan")
        raise InputError(path, "not a Terraform plan: no planned_values or resource_changes")
    return _build(path, doc, with_edges)


def _action(path: str, rc: _ResourceChange) -> tuple[Action, ReplaceOrder | None]:
    try:
        return _ACTIONS[tuple(rc.change.actions)]
    except KeyError:
        raise InputError(path, f"{rc.address}: unknown actions {rc.change.actions!r}") from None


def _change(path: str, rc: _ResourceChange) -> Change:
    action, order = _action(path, rc)
    try:
        addr = tfaddr.parse(rc.address)
    except tfaddr.AddressError as exc:
        raise InputError(path, f"bad resource address: {exc}") from None
    if rc.previous_address is not None:
        try:
            tfaddr.parse(rc.previous_address)
        except tfaddr.AddressError as exc:
            raise InputError(path, f"bad previous_address: {exc}") from None
    c = rc.change
    return Change(
        address=rc.address,
        type=rc.type or addr.type,
        name=rc.name or addr.name,
        mode=Mode.DATA if addr.mode == "data" else Mode.MANAGED,
        action=action,
        order=order,
        config_address=addr.config_address,
        module=addr.module,
        provider=rc.provider_name,
        index=addr.key,
        previous_address=rc.previous_address,
        importing=c.importing is not None,
        deposed=rc.deposed,
        reason=rc.action_reason,
        replace_paths=tuple(tuple(p) for p in c.replace_paths or ()),
        attributes=Attributes(
            c.before,
            c.after,
            before_sensitive=c.before_sensitive,
            after_sensitive=c.after_sensitive,
            after_unknown=c.after_unknown,
        ),
    )


def _state_resources(module: _StateModule | _PlannedModule | None) -> list[_StateResource]:
    out: list[_StateResource] = []
    stack = [module] if module else []
    while stack:
        m = stack.pop()
        out.extend(m.resources)
        stack.extend(m.child_modules)
    return out


def _is_sensitive(raw: Raw) -> bool:
    value = msgspec.json.decode(raw)
    return value is True or (isinstance(value, (dict, list)) and bool(value))


def _build(path: str, doc: _PlanDoc, with_edges: bool = True) -> Plan:
    """The Plan of a decoded document."""
    # Parts of the document are let go as soon as they are read: on a 50k
    # plan they are tens of MiB, and the peak is reached later, building edges.
    changes, resources = _changes(path, doc)
    no_changes = doc.resource_changes is None
    doc.resource_changes = []

    state = _state_resources(
        doc.prior_state.values.root_module if doc.prior_state and doc.prior_state.values else None
    )
    _add_state_only(path, state, resources)

    drift = [_change(path, rc) for rc in doc.resource_drift]
    doc.resource_drift = []
    outputs = _outputs(doc.output_changes)

    edges = _edges(path, doc, resources, state) if with_edges else []
    tool = "terraform"
    if any("registry.opentofu.org" in c.provider for c in changes):
        tool = "opentofu"
    notes = []
    if no_changes and not doc.errored:
        notes.append("no resource changes (refresh-only or empty plan)")
    return Plan(
        source=path,
        kind=PlanKind.TERRAFORM,
        tool=tool,
        tool_version=doc.terraform_version,
        format_version=doc.format_version,
        changes=changes,
        resources=resources,
        edges=edges,
        drift=drift,
        outputs=outputs,
        errored=doc.errored,
        applyable=doc.applyable,
        complete=doc.complete,
        notes=notes,
    )


def _changes(path: str, doc: _PlanDoc) -> tuple[list[Change], dict[str, Resource]]:
    """The resource changes, and a resource for each changed address; lets go
    of the planned values (read only to tell a plan without changes apart)."""
    changes: list[Change] = []
    resources: dict[str, Resource] = {}
    seen: set[tuple[str, str | None]] = set()
    planned, doc.planned_values = doc.planned_values, None
    for rc in doc.resource_changes or ():
        change = _change(path, rc)
        ident = (change.address, change.deposed)
        if ident in seen:
            raise InputError(path, f"duplicate resource change for {change.address}")
        seen.add(ident)
        changes.append(change)
        resources.setdefault(change.address, Resource.of(change))
    if doc.resource_changes is None and _state_resources(planned.root_module if planned else None):
        raise InputError(path, "plan lists planned resources but has no resource_changes")
    return changes, resources


def _add_state_only(path: str, state: list[_StateResource], resources: dict[str, Resource]) -> None:
    """Resources in prior state that no change names (graph nodes all the same)."""
    for sr in state:
        if sr.address in resources:
            continue
        try:
            addr = tfaddr.parse(sr.address)
        except tfaddr.AddressError as exc:
            raise InputError(path, f"bad address in prior_state: {exc}") from None
        resources[sr.address] = Resource(
            address=sr.address,
            type=addr.type,
            mode=Mode.DATA if addr.mode == "data" else Mode.MANAGED,
            config_address=addr.config_address,
            module=addr.module,
        )


def _outputs(output_changes: dict[str, _OutputChange]) -> list[OutputChange]:
    """Output changes by name; an unknown action list counts as an update."""
    outputs = []
    for name in sorted(output_changes):
        oc = output_changes[name]
        action, _ = _ACTIONS.get(tuple(oc.actions), (Action.UPDATE, None))
        sensitive = _is_sensitive(oc.before_sensitive) or _is_sensitive(oc.after_sensitive)
        outputs.append(OutputChange(name, action, sensitive))
    return outputs


def _edges(
    path: str,
    doc: _PlanDoc,
    resources: dict[str, Resource],
    state: list[_StateResource],
) -> list[Edge]:
    """Instance-level edges from configuration references and prior-state depends_on."""
    index = _InstanceIndex(resources)
    # dependent -> {dependency: via}: nested rather than keyed by pairs, which
    # on a 50k plan would be ~330k tuples held at the peak of the load. Count
    # and for_each siblings get the same answers, so the inner dicts are
    # shared between instances and never changed once stored; an edge from
    # an instance to itself is dropped when the edges are built.
    found: dict[str, dict[str, str]] = {}
    config = doc.configuration.root_module if doc.configuration else None
    referenced = _config_edges(path, config, index, found) if config is not None else {}
    _state_edges(state, index, found, referenced)

    edges: list[Edge] = []
    ordered: dict[int, list[tuple[str, str]]] = {}
    for a in sorted(found):
        deps = found[a]
        items = ordered.get(id(deps))
        if items is None:
            items = ordered[id(deps)] = sorted(deps.items())
        edges.extend([Edge(a, b, via) for b, via in items if b != a])
    return edges


def _config_edges(
    path: str, config: _CfgModule, index: _InstanceIndex, found: dict[str, dict[str, str]]
) -> dict[str, set[str]]:
    """Add to `found` what configuration references make each instance depend on.

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
        referenced[cfg_addr] = {t for t, _, _, _ in refs}
        instances = index.by_config.get(cfg_addr)
        if not instances:
            continue
        # Which instances of each target a source may mean depends on the
        # module instance keys source and target share: the depth shared is
        # the same for every instance of this resource, worked out once.
        module_path = instances[0][0].module_path
        plan = []
        for target, key, pins, via in refs:
            members = index.by_config.get(target)
            if members:
                shared = _shared_prefix(module_path, members[0][0].module_path)
                plan.append((index.groups(target, shared), shared, key, pins, via))
        # An instance's dependencies depend on its first `depth` module
        # steps only: instances of one resource under those (in sibling
        # module instances further down) share one merged {dependency: via}.
        depth = max((entry[1] for entry in plan), default=0)
        merged_by_scope: dict[tuple[tfaddr.ModuleStep, ...], dict[str, str]] = {}
        for src, src_text in instances:
            scope = src.modules[:depth]
            merged = merged_by_scope.get(scope)
            if merged is None:
                merged = merged_by_scope[scope] = {}
                keys = tuple([k for _, k in scope])
                for groups, shared, key, pins, via in plan:
                    for dep in index.lookup(groups, keys[:shared], key, pins):
                        merged.setdefault(dep, via)
            if not merged:
                continue
            known = found.get(src_text)
            found[src_text] = merged if known is None else {**merged, **known}
    return referenced


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
    added: dict[_StateScope, list[str]] = {}
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
            deps = dict.fromkeys(targets, "state")
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
) -> list[str]:
    """The instances one prior-state depends_on list makes `src` depend on."""
    # Instances of one resource list the same dependencies: reduce each list once.
    direct = reduced.get(listed)
    if direct is None:
        direct = reduced[listed] = [
            dep
            for dep in listed
            if not any(other != dep and dep in closure.get(other, ()) for other in listed)
        ]
    out: list[str] = []
    for dep in direct:
        try:
            target = tfaddr.parse(dep)
        except tfaddr.AddressError:
            # Whole-module dependencies ("module.x") name every resource in it.
            for cfg_addr in index.by_config:
                if cfg_addr.startswith(dep + "."):
                    out.extend(index.candidates(src, cfg_addr, None))
            continue
        if target.config_address in referenced:
            continue
        out.extend(index.candidates(src, target.config_address, target.key))
    return out


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
