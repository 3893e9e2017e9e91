"""Terraform and OpenTofu plans (`terraform show -json tfplan`).

Only the fields the model needs are decoded, into typed structs; attribute
values stay as raw JSON bytes inside `Attributes` until a check reads them.
The dependency edges between resource instances are planguard.load.tfedges.
"""

from __future__ import annotations

import msgspec
from msgspec import Raw, Struct

from planguard.errors import InputError
from planguard.load import tfaddr, tfedges
from planguard.model import (
    Action,
    Change,
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

    config = doc.configuration.root_module if doc.configuration else None
    edges = tfedges.edges(path, config, resources, state) if with_edges else []
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
