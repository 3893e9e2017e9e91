"""Predicted changes from `.tf` sources: a git base against the working tree, no plan needed.

A commit has no state and no credentials, but its diff already shows the
obvious destructive edits. Both trees are read with python-hcl2 (see
planguard.load.hcl_parse) and compared resource by resource, in Terraform's
own terms so that every check treats a prediction like a plan:

- a resource or module call that is gone is a delete (`delete_because_no_resource_config`,
  `delete_because_no_module`), unless a `moved` block carries it to a new
  address, or a `removed` block with `destroy = false` forgets it instead;
- a rename without `moved` is therefore a delete plus a create;
- a changed argument that the provider cannot update in place (the curated
  table planguard/data/force_replace.json) is a replace
  (`replace_because_cannot_update`), conditional when either side is an
  expression only Terraform can evaluate;
- any other change of a block, `lifecycle` included, is an update, with both
  sides' literal values in `Attributes` (so `lifecycle.prevent_destroy` and
  protection arguments are visible to the checks).

Addresses are config addresses (`module.db.aws_db_instance.main`): without
state there are no instance keys.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import msgspec

from planguard.load import hcl_parse, tfaddr
from planguard.load.hcl_edges import edges
from planguard.load.hcl_parse import Configuration, ModulePath, ResourceBlock
from planguard.load.hcl_values import is_expression
from planguard.model import (
    Action,
    Change,
    Edge,
    Location,
    Mode,
    Plan,
    PlanKind,
    ReplaceOrder,
    Resource,
)
from planguard.values import Attributes

# -- the curated table ---------------------------------------------------------


@cache
def force_replace() -> dict[str, tuple[tuple[str | int, ...], ...]]:
    raw = resources.files("planguard.data").joinpath("force_replace.json").read_bytes()
    doc = msgspec.json.decode(raw)
    return {
        type_: tuple(tuple(int(s) if s.isdigit() else s for s in path.split(".")) for path in paths)
        for type_, paths in doc["types"].items()
    }


_MISSING = object()


def _at(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step, _MISSING)
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


# -- prediction ----------------------------------------------------------------


def _is_module_address(address: str) -> bool:
    try:
        parts = tfaddr.split(address)
    except tfaddr.AddressError:
        return False
    return len(parts) % 2 == 0 and all(p[0] == "module" for p in parts[::2])


def _strip_keys(address: str) -> str:
    try:
        return ".".join(name for name, _ in tfaddr.split(address))
    except tfaddr.AddressError:
        return address


class _Moves:
    def __init__(self, config: Configuration | None) -> None:
        self.moves = []
        for m in config.moved if config else ():
            a, b = _strip_keys(m.from_), _strip_keys(m.to)
            if a != b:
                self.moves.append((a, b, _is_module_address(a)))

    def translate(self, address: str) -> str:
        for _ in range(len(self.moves) + 1):
            for frm, to, is_module in self.moves:
                if address == frm:
                    address = to
                    break
                if is_module and address.startswith(frm + "."):
                    address = to + address[len(frm) :]
                    break
            else:
                return address
        return address


def _covering(removed: list[hcl_parse.Removed], address: str) -> hcl_parse.Removed | None:
    for r in removed:
        frm = _strip_keys(r.from_)
        if address == frm or address.startswith(frm + "."):
            return r
    return None


def _module_prefixes(module: ModulePath) -> list[str]:
    return ["".join(f"module.{m}." for m in module[:i])[:-1] for i in range(1, len(module) + 1)]


def _location(block: ResourceBlock | hcl_parse.ModuleCall, at_base: bool = False) -> Location:
    return Location(block.file, block.line, at_base)


def _split_address(address: str) -> tuple[str, str]:
    try:
        a = tfaddr.parse(address)
    except tfaddr.AddressError:
        return "", ""
    return a.module, a.name


def _base_change(block: ResourceBlock, action: Action, **kw: Any) -> Change:
    module, name = _split_address(block.address)
    return Change(
        address=block.address,
        type=block.type,
        name=name,
        mode=Mode.DATA if block.mode == "data" else Mode.MANAGED,
        action=action,
        config_address=block.address,
        module=module,
        provider=block.provider or block.type.split("_", 1)[0],
        **kw,
    )


def _ignored(lc: hcl_parse.Lifecycle) -> set[str] | None:
    """Top-level arguments ignore_changes covers (None: all of them)."""
    if lc.ignore_changes == "all":
        return None
    return {_strip_keys(i).split(".")[0] for i in lc.ignore_changes}


def _compare(before: ResourceBlock, after: ResourceBlock, previous: str | None) -> Change:
    ignored = _ignored(after.lifecycle)
    keys = set(before.attrs) | set(after.attrs)
    keys.discard("lifecycle")
    if ignored is None:
        keys = set()
    else:
        keys -= ignored
    changed = sorted(k for k in keys if before.attrs.get(k) != after.attrs.get(k))
    lifecycle_changed = before.attrs.get("lifecycle") != after.attrs.get("lifecycle")
    forced: list[tuple[str | int, ...]] = []
    conditional = True
    for path in force_replace().get(after.type, ()):
        if ignored is None or path[0] in ignored:
            continue
        old, new = _at(before.attrs, path), _at(after.attrs, path)
        if old == new:
            continue
        forced.append(path)
        exact = old is not _MISSING and new is not _MISSING
        if exact and not is_expression(old) and not is_expression(new):
            conditional = False
    kw: dict[str, Any] = {
        "previous_address": previous,
        "location": _location(after),
        "attributes": Attributes(before.attrs, after.attrs),
    }
    if forced:
        order = (
            ReplaceOrder.CREATE_FIRST
            if after.lifecycle.create_before_destroy is True
            else ReplaceOrder.DELETE_FIRST
        )
        return _base_change(
            after,
            Action.REPLACE,
            order=order,
            reason="replace_because_cannot_update",
            replace_paths=tuple(forced),
            conditional=conditional,
            **kw,
        )
    action = Action.UPDATE if changed or lifecycle_changed else Action.NOOP
    return _base_change(after, action, **kw)


def predict(
    base: Configuration | None,
    head: Configuration | None,
    *,
    source: str,
    base_label: str,
) -> Plan:
    """The changes that applying `head` where `base` was applied would make."""
    base_res = base.resources() if base else {}
    head_res = head.resources() if head else {}
    base_calls = base.calls() if base else {}
    head_calls = head.calls() if head else {}
    moves = _Moves(head)
    removed = head.removed if head else []
    imports = {_strip_keys(i.to) for i in head.imports} if head else set()

    changes: dict[str, Change] = {}
    res_out: dict[str, Resource] = {}
    translated: dict[str, str] = {}

    # Every base block: kept (at its address, or where `moved` takes it) or gone.
    matched: set[str] = set()
    for address, b in sorted(base_res.items()):
        target = moves.translate(address)
        translated[address] = target
        h = head_res.get(target)
        if h is not None and h.type == b.type and h.mode == b.mode:
            matched.add(target)
            if b.mode == "managed":
                changes[target] = _compare(b, h, address if target != address else None)
            continue
        res_out[address] = _resource(b)
        if b.mode == "managed":
            changes[address] = _gone(b, target != address, head_calls, removed)

    # Every head block that no base block became: new, or imported.
    for address, h in sorted(head_res.items()):
        res_out[address] = _resource(h)
        if address in matched or h.mode != "managed":
            continue
        importing = address in imports
        changes[address] = _base_change(
            h,
            Action.NOOP if importing else Action.CREATE,
            importing=importing,
            location=_location(h),
            attributes=Attributes(None, h.attrs),
        )

    notes = _removed_calls(base_calls, head_calls, moves, removed, changes, res_out)
    _replace_triggers(changes, head_res)
    return Plan(
        source=source,
        kind=PlanKind.HCL,
        tool="terraform",
        changes=[changes[a] for a in sorted(changes)],
        resources=dict(sorted(res_out.items())),
        edges=_edges(base, head, translated, res_out),
        predicted=True,
        notes=_notes(base, head, base_label, notes),
    )


def _resource(block: ResourceBlock) -> Resource:
    """The graph node of a block, at its config address."""
    module, _ = _split_address(block.address)
    return Resource(
        address=block.address,
        type=block.type,
        mode=Mode.DATA if block.mode == "data" else Mode.MANAGED,
        config_address=block.address,
        module=module,
        location=_location(block),
        ignores=block.ignores,
    )


def _gone(
    block: ResourceBlock,
    moved: bool,
    head_calls: dict[str, hcl_parse.ModuleCall],
    removed: list[hcl_parse.Removed],
) -> Change:
    """A managed base block with no counterpart in head: forgotten (a `removed`
    block with `destroy = false`), else deleted, with Terraform's reason."""
    address = block.address
    cover = _covering(removed, address)
    if cover is not None and not cover.destroy:
        return _base_change(
            block,
            Action.FORGET,
            location=_location(block, at_base=True),
            attributes=Attributes(block.attrs, None),
        )
    if moved:
        reason = "delete_because_no_move_target"
    elif any(p not in head_calls for p in _module_prefixes(block.module)):
        reason = "delete_because_no_module"
    else:
        reason = "delete_because_no_resource_config"
    return _base_change(
        block,
        Action.DELETE,
        reason=reason,
        location=_location(block, at_base=True),
        attributes=Attributes(block.attrs),
    )


def _removed_calls(
    base_calls: dict[str, hcl_parse.ModuleCall],
    head_calls: dict[str, hcl_parse.ModuleCall],
    moves: _Moves,
    removed: list[hcl_parse.Removed],
    changes: dict[str, Change],
    res_out: dict[str, Resource],
) -> list[str]:
    """Module calls that are gone and were not followed (registry, git): their
    resources are unknown here, but each call itself is destroyed. Adds them to
    `changes` and `res_out`; returns a note for each."""
    notes: list[str] = []
    for address, call in sorted(base_calls.items()):
        if call.directory is not None or moves.translate(address) in head_calls:
            continue
        cover = _covering(removed, address)
        if cover is not None and not cover.destroy:
            continue
        module, name = address.rsplit(".module.", 1) if ".module." in address else ("", address)
        changes[address] = Change(
            address=address,
            type="module",
            name=name.removeprefix("module."),
            action=Action.DELETE,
            config_address=address,
            module=module,
            reason="delete_because_no_module",
            location=_location(call, at_base=True),
        )
        res_out[address] = Resource(
            address=address,
            type="module",
            config_address=address,
            module=module,
            location=_location(call),
            ignores=call.ignores,
        )
        notes.append(f"{address} is removed; its resources ({call.source}) are not listed")
    return notes


def _edges(
    base: Configuration | None,
    head: Configuration | None,
    translated: dict[str, str],
    res_out: dict[str, Resource],
) -> list[Edge]:
    """Edges between the predicted resources: head's first, then base's at the
    addresses `moved` gave them (so a deleted block keeps its dependents)."""
    found: dict[tuple[str, str], str] = {}
    for config, mapping in ((head, None), (base, translated)):
        if config is None:
            continue
        for src, dst, via in sorted(edges(config)):
            if mapping is not None:
                src, dst = mapping.get(src, src), mapping.get(dst, dst)
            if src in res_out and dst in res_out and src != dst:
                found.setdefault((src, dst), via)
    return [Edge(a, b, via) for (a, b), via in sorted(found.items())]


def _notes(
    base: Configuration | None, head: Configuration | None, base_label: str, notes: list[str]
) -> list[str]:
    """What the prediction is, then `notes`, then each side's reading notes (once each)."""
    notes.insert(
        0,
        f"predicted from Terraform sources: {base_label} against the working tree; "
        "not a plan computed against real state",
    )
    for config in (base, head):
        for note in config.notes if config else ():
            if note not in notes:
                notes.append(note)
    return notes


def _replace_triggers(changes: dict[str, Change], head_res: dict[str, ResourceBlock]) -> None:
    """`replace_triggered_by` a resource that changes: replaced, if the trigger's value changes."""
    for address, change in list(changes.items()):
        block = head_res.get(address)
        if block is None or change.action not in (Action.UPDATE, Action.NOOP):
            continue
        prefix = "".join(f"module.{m}." for m in block.module)
        for ref in block.lifecycle.replace_triggered_by:
            parts = _strip_keys(ref).split(".")
            target = prefix + ".".join(parts[:2])
            other = changes.get(target)
            if other is not None and other.action in (Action.UPDATE, Action.REPLACE):
                changes[address] = msgspec.structs.replace(
                    change,
                    action=Action.REPLACE,
                    order=ReplaceOrder.DELETE_FIRST,
                    reason="replace_by_triggers",
                    conditional=True,
                )
                break
