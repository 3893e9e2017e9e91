"""Terraform and OpenTofu plans (`terraform show -json tfplan`), and the
redacted JSON plans HCP Terraform and Terraform Enterprise hand out.

Only the fields the model needs are decoded, into typed structs; attribute
values stay as raw JSON bytes inside `Attributes` until a check reads them.
The dependency edges between resource instances are planguard.load.tfedges.

A plan is refused when its JSON repeats a key (readers disagree on which
value counts), and marked for PG001 when its parts contradict each other.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from sys import intern as _intern
from typing import Any

import msgspec
from msgspec import Raw, Struct

from planguard.errors import InputError
from planguard.load import tfaddr, tfedges
from planguard.load.files import contradiction, duplicate_top_level_key
from planguard.load.tfrefs import ConfigIndex
from planguard.model import (
    REASONS,
    UNKNOWN_REASON,
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


class _Made:
    """How many of some objects the decoder made while reading one plan.

    The decoder keeps the last value of a key said twice in one object and
    drops the others without a word, but it has made them: more of an object
    than the plan keeps means a key said twice (`errored` at the top level,
    `change` in a resource change...). Counting costs a few milliseconds on a
    10k-resource plan, where reading the JSON again to look costs about half
    a decode (see _EXACT_BELOW). An earlier `null`, `[]` or `{}` leaves no
    trace; planguard then reads the later, fuller value."""

    __slots__ = (
        "actions", "changes", "config", "data", "importing", "outputs", "planned",
        "relevant", "scalars", "state",
    )  # fmt: skip

    def __init__(self) -> None:
        self.reset()

    def reset(self, data: Buffer | None = None) -> None:
        self.changes = self.actions = self.importing = 0
        self.scalars = self.planned = self.state = self.config = 0
        self.outputs = self.relevant = 0
        # The file being decoded: its pages are let go of as the decode passes them.
        self.data = data

    def passed(self) -> None:
        """The decode is past a part of the file: give back the pages it
        touched. The decoder reads the file once, front to back, so what it
        has passed is only read again for a value a check asks for (a page
        then maps back from the page cache), and the file is never held
        whole (a review of a 10k-resource plan: peak 91 -> 69 MiB)."""
        if self.data is not None:
            mapped.release(self.data)


# Resource changes decoded between two releases of the file's pages (a few MB).
_CHANGES_PER_RELEASE = 512


_made = _Made()


class _Flag:
    """A top-level true/false (`errored`, `applyable`, `complete`), decoded
    through _scalar so that each one the JSON says is counted."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


class _Text:
    """A top-level version string, decoded and counted like _Flag."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


_JSON_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "array", dict: "object"}


def _scalar(kind: type, obj: object) -> _Flag | _Text:
    """The decode hook for _Flag and _Text: checks the type (errors read as the
    decoder's own) and counts."""
    want = bool if kind is _Flag else str
    if not isinstance(obj, want):
        got = _JSON_TYPES.get(type(obj), type(obj).__name__)
        raise TypeError(f"Expected `{want.__name__}`, got `{got}`")
    _made.scalars += 1
    return _Flag(obj) if kind is _Flag else _Text(obj)  # type: ignore[arg-type]


def _value(field: _Flag | _Text | None) -> Any:
    return None if field is None else field.value


class _Importing(Struct, gc=False):
    id: str | None = None

    def __post_init__(self) -> None:
        _made.importing += 1


class _Actions(Struct, array_like=True, gc=False):
    """A change's `actions`: an array of one or two names, decoded as a struct
    rather than a list only so that it is counted (see _Made)."""

    first: str | msgspec.UnsetType = msgspec.UNSET
    second: str | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        _made.actions += 1
        if isinstance(self.first, str):
            self.first = _intern(self.first)
        if isinstance(self.second, str):
            self.second = _intern(self.second)

    def names(self) -> tuple[str, ...]:
        return tuple(a for a in (self.first, self.second) if isinstance(a, str))


class _Change(Struct, gc=False):
    actions: _Actions
    before: Raw = _NULL
    after: Raw = _NULL
    after_unknown: Raw = _NULL
    before_sensitive: Raw = _NULL
    after_sensitive: Raw = _NULL
    replace_paths: list[list[str | int]] | None = None
    importing: _Importing | None = None

    def __post_init__(self) -> None:
        _made.changes += 1
        if not _made.changes % _CHANGES_PER_RELEASE:
            _made.passed()


class _ResourceChange(Struct, gc=False):
    change: _Change
    # Terraform 1.0.0 wrote resource_drift entries without an address
    # (hashicorp/terraform#28975): it is then derived from the parts below.
    address: str | None = None
    type: str | None = None
    name: str | None = None
    mode: str | None = None
    index: int | str | None = None
    module_address: str | None = None
    previous_address: str | None = None
    deposed: str | None = None
    provider_name: str = ""
    action_reason: str | None = None

    def __post_init__(self) -> None:
        # Tens of thousands of changes repeat a few types, modes, modules and
        # providers, each decoded as a string of its own while the whole file
        # is in memory (the load's peak): one copy each instead (50k-resource
        # plan: -20 MiB at the peak). They are the strings the model keeps.
        self.provider_name = _intern(self.provider_name)
        if self.type is not None:
            self.type = _intern(self.type)
        if self.mode is not None:
            self.mode = _intern(self.mode)
        if self.name is not None:
            self.name = _intern(self.name)
        if self.module_address is not None:
            self.module_address = _intern(self.module_address)


class _OutputChange(Struct, gc=False):
    actions: list[str]
    after_sensitive: Raw = _NULL
    before_sensitive: Raw = _NULL

    def __post_init__(self) -> None:
        _made.outputs += 1


class _StateResource(Struct, gc=False):
    address: str
    mode: str = "managed"
    type: str = ""
    depends_on: list[str] = []


class _StateModule(Struct, gc=False):
    resources: list[_StateResource] = []
    child_modules: list[_StateModule] = []


class _StateValues(Struct, gc=False):
    # The module trees (prior state, planned values, configuration) are kept
    # as raw JSON by the first decode and read one at a time after it (see
    # _Trees): the plan file's pages are not all held at once with them.
    root_module: Raw = _NULL


class _State(Struct, gc=False):
    values: _StateValues | None = None

    def __post_init__(self) -> None:
        _made.state += 1
        _made.passed()


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
    root_module: Raw = _NULL

    def __post_init__(self) -> None:
        _made.config += 1
        _made.passed()


class _PlannedModule(Struct, gc=False):
    resources: list[_StateResource] = []
    child_modules: list[_PlannedModule] = []


class _PlannedValues(Struct, gc=False):
    root_module: Raw = _NULL

    def __post_init__(self) -> None:
        _made.planned += 1
        _made.passed()


class _ResourceAttr(Struct, gc=False):
    resource: str
    attribute: Raw = _NULL

    def __post_init__(self) -> None:
        _made.relevant += 1


class _PlanDoc(Struct, gc=False):
    format_version: _Text | None = None
    # The redacted plans of HCP Terraform (GET /api/v2/plans/:id/json-output-redacted,
    # and what run tasks receive) have this instead of format_version, and
    # neither configuration nor prior_state (terraform internal/command/jsonformat.Plan).
    plan_format_version: _Text | None = None
    terraform_version: _Text | None = None
    planned_values: _PlannedValues | None = None
    resource_changes: list[_ResourceChange] | None = None
    resource_drift: list[_ResourceChange] = []
    output_changes: dict[str, _OutputChange] = {}
    prior_state: _State | None = None
    configuration: _Config | None = None
    relevant_attributes: list[_ResourceAttr] = []
    errored: _Flag | None = None
    applyable: _Flag | None = None
    complete: _Flag | None = None
    values: Raw = _NULL  # present in state JSON, never in a plan

    def scalars(self) -> int:
        """How many of the counted top-level scalars the plan keeps."""
        kept = (self.format_version, self.plan_format_version, self.terraform_version)
        return sum(f is not None for f in (*kept, self.errored, self.applyable, self.complete))


_decoder = msgspec.json.Decoder(_PlanDoc, dec_hook=_scalar)
_state_tree = msgspec.json.Decoder(_StateModule | None)
_planned_tree = msgspec.json.Decoder(_PlannedModule | None)
_config_tree = msgspec.json.Decoder(_CfgModule | None)


class _Trees:
    """A plan's module trees, each decoded from its raw JSON on its own.

    The first decode keeps them raw: it then holds the resource changes'
    records and the mapped file's pages, not every record of the plan too
    (peak at 50k resources: 430 -> ~360 MiB). Each tree is then read with
    the file's pages let go of before and after, so at most one tree's pages
    are held: planned values only to be counted (and checked), prior state
    and the configuration (only when edges are wanted) for good.
    """

    def __init__(
        self,
        path: str,
        doc: _PlanDoc,
        data: Buffer,
        with_edges: bool,
        config_first: Callable[[_Trees], None] | None = None,
    ) -> None:
        self.config: _CfgModule | None = None
        self.digest = b""  # of the configuration's JSON, when read
        if config_first is not None:
            # Another process waits for what the configuration resolves to
            # (see _resolve_for_another): it is read, and handed on, first.
            self._read_config(path, doc, data)
            config_first(self)
            if not with_edges:
                self.config = None
        self.planned_managed = 0
        # The value checks' load (value_checks: no edges) of a plan with resource
        # changes skips the tree: the count then changes nothing (_build), and the
        # review's own load reads and checks it (50k: 0.06 s).
        if with_edges or not doc.resource_changes:
            planned = doc.planned_values
            tree = self._read(path, _planned_tree, planned, "$.planned_values.root_module")
            self.planned_managed = sum(1 for r in _state_resources(tree) if r.mode == "managed")
            del tree
            mapped.release(data)
        values = doc.prior_state.values if doc.prior_state else None
        where = "$.prior_state.values.root_module"
        self.state = _state_resources(self._read(path, _state_tree, values, where))
        mapped.release(data)
        if with_edges and config_first is None:
            self._read_config(path, doc, data)

    def _read_config(self, path: str, doc: _PlanDoc, data: Buffer) -> None:
        where = "$.configuration.root_module"
        self.config = self._read(path, _config_tree, doc.configuration, where)
        if doc.configuration is not None:
            self.digest = hashlib.blake2b(doc.configuration.root_module).digest()
        mapped.release(data)

    @staticmethod
    def _read(
        path: str,
        decoder: msgspec.json.Decoder[Any],
        part: _PlannedValues | _StateValues | _Config | None,
        where: str,
    ) -> Any:
        if part is None:
            return None
        try:
            return decoder.decode(part.root_module)
        except msgspec.ValidationError as exc:
            # Worded as if the whole plan had been decoded at once.
            text = str(exc)
            if " - at `$" in text:
                text = text.replace(" - at `$", f" - at `{where}", 1)
            else:
                text = f"{text} - at `{where}`"
            raise InputError(path, f"not a valid Terraform plan: {text}") from None
        except RecursionError:
            raise InputError(path, "JSON nested too deeply") from None


# Reading a plan's top level again to look for a key said twice (files.duplicate_top_level_key)
# costs about half a decode: 60-80 ms at 10k resources (59 MB), 0.3 s at 50k (the
# benchmark plans, 2 cores), more than the margin of the review's time targets.
# Below this size it costs at most a few milliseconds and is always done; above
# it, only when the counts of _Made say a key was repeated.
_EXACT_BELOW = 4 * 1024 * 1024

# The top-level keys of plan JSON (`terraform show -json`, and the redacted
# plans of HCP Terraform): a repeated one is named in the error.
_SCHEMA_KEYS = frozenset(
    {
        "format_version", "plan_format_version", "terraform_version", "variables",
        "planned_values", "resource_drift", "resource_changes", "deferred_changes",
        "deferred_action_invocations", "output_changes", "action_invocations", "prior_state",
        "configuration", "relevant_attributes", "checks", "timestamp", "applyable", "complete",
        "errored", "provider_format_version", "provider_schemas",
    }
)  # fmt: skip

_REDACTED = (
    "a redacted plan from HCP Terraform / Terraform Enterprise: it carries no configuration "
    "and no prior state, so planguard sees no references between resources (no dependents, "
    "no impact paths) and cannot tell whether the run errored; changes, drift and "
    "relevant_attributes are read"
)
_NO_FORMAT_VERSION = (
    "the plan has no format_version (trimmed by a tool or a person): read as a 1.x plan; "
    "make sure the rest of it is whole"
)


_VERSION = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6}){0,3}")


def check_format_version(path: str, version: object, field: str = "format_version") -> None:
    if not isinstance(version, str) or not version:
        raise InputError(path, f"plan has no {field}")
    major = version.split(".", 1)[0]
    if major not in SUPPORTED_MAJOR:
        shown = version if _VERSION.fullmatch(version) else "(not a version number)"
        raise InputError(
            path,
            f"unsupported plan {field} {shown} (planguard reads 0.x and 1.x)",
        )


def load(
    path: str,
    data: Buffer,
    *,
    edges: bool = True,
    note: str | None = None,
    resolved_from: Callable[[str, bytes], Any] | None = None,
    resolved_to: Callable[[str, bytes, Any], Any] | None = None,
) -> Plan:
    """Decode plan JSON bytes into a Plan; any problem is an InputError.
    `note`, when given, is added to the plan's notes (how the JSON was found);
    `resolved_from` and `resolved_to` as in LoadOptions.

    The collector is paused meanwhile: loading makes hundreds of thousands of
    objects and no garbage cycles, and collections triggered by the
    allocations alone cost a quarter of the load.
    """
    try:
        with collector.paused():
            notes = [note] if note else []
            return _load(path, data, edges, notes, resolved_from, resolved_to)
    finally:
        _made.data = None
        tfaddr.forget()


def _load(
    path: str,
    data: Buffer,
    with_edges: bool,
    notes: list[str],
    resolved_from: Callable[[str, bytes], Any] | None,
    resolved_to: Callable[[str, bytes, Any], Any] | None,
) -> Plan:
    _made.reset(data)
    try:
        doc = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise InputError(path, f"not a valid Terraform plan: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(path, "JSON nested too deeply") from None
    _refuse_repeated_keys(path, doc, data)
    mapped.release(data)  # the model is built without the file's pages
    send = None if resolved_to is None else lambda t: _resolve_for_another(path, t, resolved_to)
    trees = _Trees(path, doc, data, with_edges, config_first=send)
    format_version = _value(doc.format_version)
    if format_version is not None:
        check_format_version(path, format_version)
    if doc.planned_values is None and doc.resource_changes is None and doc.configuration is None:
        if bytes(doc.values) != b"null":
            raise InputError(path, "this is Terraform state JSON, not a plan")
        raise InputError(path, "not a Terraform plan: no planned_values or resource_changes")
    if format_version is None and doc.plan_format_version is not None:
        check_format_version(path, doc.plan_format_version.value, "plan_format_version")
        notes.append(_REDACTED)
    elif format_version is None:
        notes.append(_NO_FORMAT_VERSION)
    return _build(path, doc, trees, with_edges, notes, resolved_from)


def _resolve_for_another(
    path: str, trees: _Trees, goes_to: Callable[[str, bytes, Any], Any]
) -> None:
    """Resolve the configuration's references and send them on (see value_checks)."""
    targets = None
    if trees.config is not None:
        try:
            targets = ConfigIndex(trees.config).resource_targets()
        except Exception:
            # Sent as nothing: the other process resolves them itself, meets
            # the same problem and says so as it always has.
            targets = None
    goes_to(path, trees.digest, targets)


_READERS_DISAGREE = "JSON readers disagree on which value counts"


def _refuse_repeated_keys(path: str, doc: _PlanDoc, data: Buffer) -> None:
    """A key said twice at the top level, or in a resource change (see _Made)."""
    changes = [*(doc.resource_changes or ()), *doc.resource_drift]
    top = (
        _made.scalars > doc.scalars()
        or _made.planned > (doc.planned_values is not None)
        or _made.state > (doc.prior_state is not None)
        or _made.config > (doc.configuration is not None)
        or _made.outputs > len(doc.output_changes)
        or _made.relevant > len(doc.relevant_attributes)
        or _made.changes > len(changes)  # resource_changes twice, or `change` twice in one
    )
    if top or len(data) < _EXACT_BELOW:
        repeated = duplicate_top_level_key(path, data)
        if repeated is not None:
            # Other keys are not named: they may be anyone's text.
            named = (
                f"the top-level key `{repeated}`" if repeated in _SCHEMA_KEYS else "a top-level key"
            )
            raise InputError(path, f"{named} appears twice ({_READERS_DISAGREE})")
    if _made.changes > len(changes):
        key = "change"
    elif _made.actions > _made.changes:
        key = "actions"
    elif _made.importing > sum(1 for rc in changes if rc.change.importing is not None):
        key = "importing"
    elif top:  # the counts saw a repeated top-level key the exact reading cannot name
        raise InputError(path, f"a top-level key appears twice ({_READERS_DISAGREE})")
    else:
        return
    raise InputError(path, f"a resource change has `{key}` twice ({_READERS_DISAGREE})")


# _ACTIONS by the fields of an _Actions: no tuple built per change.
_BY_FIELDS: dict[tuple[object, object], tuple[Action, ReplaceOrder | None]] = {
    (names[0], names[1] if len(names) > 1 else msgspec.UNSET): action
    for names, action in _ACTIONS.items()
}


def _action(path: str, address: str, rc: _ResourceChange) -> tuple[Action, ReplaceOrder | None]:
    actions = rc.change.actions
    found = _BY_FIELDS.get((actions.first, actions.second))
    if found is None:
        raise InputError(path, f"{address}: actions Terraform never writes")
    return found


def _address(path: str, where: str, rc: _ResourceChange, hcl_keys: bool) -> str:
    """The change's address; when it has none, the address Terraform would
    have written for its module_address, mode, type, name and index."""
    if rc.address is not None:
        return rc.address
    if rc.type is None or rc.name is None or rc.mode is None:
        raise InputError(
            path, f"{where}: missing required field `address` (and no mode, type and name)"
        )
    local = f"{rc.type}.{rc.name}"
    if rc.mode == "data":
        local = "data." + local
    if isinstance(rc.index, int):
        local += f"[{rc.index}]"
    elif isinstance(rc.index, str):
        local += f"[{_hcl_quoted(rc.index) if hcl_keys else _go_quoted(rc.index)}]"
    return f"{rc.module_address}.{local}" if rc.module_address else local


def _hcl_quoted(key: str) -> str:
    """A string instance key as Terraform 1.3+ writes it in addresses
    (toHCLQuotedString in internal/addrs/instance_key.go)."""
    out = ['"']
    for i, ch in enumerate(key):
        if ch in _HCL_ESCAPES:
            out.append(_HCL_ESCAPES[ch])
        elif ch in "$%":
            out.append(ch * 2 if key[i + 1 : i + 2] == "{" else ch)
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_HCL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}
_GO_ESCAPES = {
    **_HCL_ESCAPES, "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v",
}  # fmt: skip


def _go_quoted(key: str) -> str:
    """A string instance key as Terraform before 1.3 wrote it: Go's %q
    (hashicorp/terraform#31394 changed it)."""
    out = ['"']
    for ch in key:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _hcl_keys(terraform_version: str | None) -> bool:
    """Whether this Terraform quotes string instance keys the HCL way (1.3+)."""
    if not terraform_version:
        return True
    parts = terraform_version.split(".")
    try:
        return (int(parts[0]), int(parts[1].split("-")[0])) >= (1, 3)
    except (ValueError, IndexError):
        return True


def _disagrees(rc: _ResourceChange, addr: tfaddr.Address) -> bool:
    """Whether the change's own type, name, mode, index or module_address
    says something else than its address (Terraform writes them from it). A
    part that is left out says nothing."""
    if (rc.type, rc.name, rc.mode) != (addr.type, addr.name, addr.mode) and any(
        part is not None and part != named
        for part, named in ((rc.type, addr.type), (rc.name, addr.name), (rc.mode, addr.mode))
    ):
        return True
    if rc.index is not None and rc.index != addr.key and not _same_key(rc.index, addr.key):
        return True
    module = rc.module_address
    if module is None or module == addr.module:
        return False
    try:
        parts = tfaddr.split(module) if module else []
    except tfaddr.AddressError:
        return True
    if len(parts) % 2:
        return True
    steps = tuple(parts[i + 1] for i in range(0, len(parts), 2))
    return parts[0::2] != [("module", None)] * len(steps) or steps != addr.modules


def _same_key(index: int | str, key: tfaddr.Key) -> bool:
    """Whether a change's index is its address's instance key. Terraform 1.3+
    writes `${` and `%{` in string keys doubled (`$${`), which tfaddr, reading
    the key as a JSON string, keeps."""
    if type(index) is not type(key):
        return False
    if index == key:
        return True
    return isinstance(index, str) and index.replace("${", "$${").replace("%{", "%%{") == key


def _change(path: str, address: str, rc: _ResourceChange) -> Change:
    return _change_of(path, address, rc, _parse(path, address, "resource address"))


def _change_of(path: str, address: str, rc: _ResourceChange, addr: tfaddr.Address) -> Change:
    """The Change of a resource change whose address parses as `addr`."""
    action, order = _action(path, address, rc)
    if rc.mode is not None and rc.mode not in ("managed", "data"):
        raise InputError(path, f"{address}: mode is neither managed nor data")
    if rc.previous_address is not None:
        _parse(path, rc.previous_address, "previous_address")
    c = rc.change
    reason = rc.action_reason
    return Change(
        address=address,
        type=addr.type,
        name=addr.name,
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
        # A reason code Terraform does not write is input that could carry
        # anything: shown as unknown, never as it is.
        reason=reason if not reason or reason in REASONS else UNKNOWN_REASON,
        replace_paths=tuple(map(tuple, c.replace_paths)) if c.replace_paths else (),
        attributes=Attributes(
            c.before,
            c.after,
            before_sensitive=c.before_sensitive,
            after_sensitive=c.after_sensitive,
            after_unknown=c.after_unknown,
        ),
    )


def _parse(path: str, address: str, what: str) -> tfaddr.Address:
    try:
        return tfaddr.parse(address)
    except tfaddr.AddressError as exc:
        raise InputError(path, f"bad {what}: {exc}") from None


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


def _build(
    path: str,
    doc: _PlanDoc,
    trees: _Trees,
    with_edges: bool = True,
    notes: list[str] | None = None,
    resolved_from: Callable[[str, bytes], Any] | None = None,
) -> Plan:
    """The Plan of a decoded document."""
    # Parts of the document are let go as soon as they are read: on a 50k
    # plan they are tens of MiB, and the peak is reached later, building edges.
    notes = list(notes or ())
    hcl_keys = _hcl_keys(_value(doc.terraform_version))
    errored = bool(_value(doc.errored))
    rc_given = doc.resource_changes is not None
    changes, resources, disagreeing = _changes(path, doc, hcl_keys, trees.planned_managed)
    planned_managed = trees.planned_managed
    doc.resource_changes = []

    state = trees.state
    _add_state_only(path, state, resources)

    drift, drift_notes = _drift(path, doc, hcl_keys, resources)
    doc.resource_drift = []
    outputs = _outputs(doc.output_changes)

    edges: Any = []
    if with_edges:
        # Asked only now, and by the edges once they have read prior state:
        # the other process has had the time this one spent on the changes
        # to resolve them.
        given = None
        if resolved_from is not None and trees.config is not None:
            given = functools.partial(resolved_from, path, trees.digest)
        edges = tfedges.edges(path, trees.config, resources, state, targets=given)
    tool = "terraform"
    if any("registry.opentofu.org" in c.provider for c in changes):
        tool = "opentofu"
    if not rc_given and not errored:
        notes.append("no resource changes (refresh-only or empty plan)")
    prior_managed = sum(1 for r in state if r.mode == "managed")
    if rc_given and not changes and (planned_managed or prior_managed):
        where = " and ".join(
            f"{part} lists {n} managed resource(s)"
            for part, n in (("planned_values", planned_managed), ("prior_state", prior_managed))
            if n
        )
        notes.append(contradiction(f"resource_changes is empty, but {where}"))
    if disagreeing:
        notes.append(
            contradiction(
                f"{len(disagreeing)} resource change(s) whose type, name, mode, index or "
                f"module_address disagree with their address (first: {disagreeing[0]})"
            )
        )
    notes.extend(drift_notes)
    if doc.format_version is None and doc.plan_format_version is not None and drift:
        relevant = {a.resource for a in doc.relevant_attributes}
        feeding = sum(1 for d in drift if d.address in relevant)
        notes.append(
            f"{len(drift)} resource(s) changed outside Terraform, {feeding} of them feeding "
            "the planned changes (relevant_attributes)"
        )
    return Plan(
        source=path,
        kind=PlanKind.TERRAFORM,
        tool=tool,
        tool_version=_value(doc.terraform_version),
        format_version=_value(doc.format_version or doc.plan_format_version),
        changes=changes,
        resources=resources,
        edges=edges,
        drift=drift,
        outputs=outputs,
        errored=errored,
        applyable=_value(doc.applyable),
        complete=_value(doc.complete),
        notes=notes,
    )


def _changes(
    path: str, doc: _PlanDoc, hcl_keys: bool, planned_managed: int
) -> tuple[list[Change], dict[str, Resource], list[str]]:
    """The resource changes, a resource for each changed address, and the
    addresses of changes that disagree with their own parts; lets go of the
    planned values (`planned_managed`: how many managed resources they list)."""
    changes: list[Change] = []
    resources: dict[str, Resource] = {}
    seen: set[tuple[str, str | None]] = set()
    disagreeing: list[str] = []
    doc.planned_values = None
    for i, rc in enumerate(doc.resource_changes or ()):
        address = rc.address
        if address is None:
            address = _address(path, f"$.resource_changes[{i}]", rc, hcl_keys)
        addr = _parse(path, address, "resource address")
        change = _change_of(path, address, rc, addr)
        if _disagrees(rc, addr):
            disagreeing.append(address)
        ident = (address, change.deposed)
        if ident in seen:
            raise InputError(path, f"duplicate resource change for {address}")
        seen.add(ident)
        changes.append(change)
        if address not in resources:
            resources[address] = Resource.of(change)
    if doc.resource_changes is None and planned_managed:
        raise InputError(path, "plan lists planned resources but has no resource_changes")
    return changes, resources, disagreeing


def _drift(
    path: str, doc: _PlanDoc, hcl_keys: bool, resources: dict[str, Resource]
) -> tuple[list[Change], list[str]]:
    """Resource drift, and a note on entries Terraform wrote without address.

    Terraform 1.0.0 wrote resource_drift entries with neither address nor
    index, and one for every resource in state as soon as any had drifted
    (hashicorp/terraform#28975, fixed in 1.0.1). The address is derived from
    the parts, the entries whose value did not change are left out (as
    Terraform's own output left them out), and an entry of a count/for_each
    resource, whose instance is not known, is shown under the resource."""
    drift: list[Change] = []
    unkeyed = 0
    keyed: set[str] | None = None  # config addresses of count/for_each instances
    for i, rc in enumerate(doc.resource_drift):
        derived = rc.address is None
        if derived and _unchanged(rc):
            continue
        address = _address(path, f"$.resource_drift[{i}]", rc, hcl_keys)
        change = _change(path, address, rc)
        if derived and address not in resources:
            if keyed is None:
                keyed = {
                    r.config_address for r in resources.values() if r.address != r.config_address
                }
            unkeyed += address in keyed
        drift.append(change)
    notes = []
    if unkeyed:
        notes.append(
            f"{unkeyed} drift entr{'y' if unkeyed == 1 else 'ies'} written without address or "
            "instance key (Terraform 1.0.0) shown under the resource's address"
        )
    return drift, notes


def _unchanged(rc: _ResourceChange) -> bool:
    c = rc.change
    if c.actions.names() != ("update",):
        return False
    return bool(msgspec.json.decode(c.before) == msgspec.json.decode(c.after))


def _add_state_only(path: str, state: list[_StateResource], resources: dict[str, Resource]) -> None:
    """Resources in prior state that no change names (graph nodes all the same)."""
    for sr in state:
        if sr.address in resources:
            continue
        addr = _parse(path, sr.address, "address in prior_state")
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
