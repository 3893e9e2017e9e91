"""Stacks, and their assembly into one Plan (shared by every CloudFormation plan).

A Stack is one stack (or nested stack) of a plan: its address prefix, its
changes, and where its graph comes from (a template, else the change set's
own causes). `assemble` joins stacks into a Plan: every resource any of them
knows, their changes, and the edges between them, within a stack and
through exports and Fn::ImportValue.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planguard.errors import InputError
from planguard.model import Action, Change, Edge, Location, OutputChange, Plan, PlanKind, Resource
from planguard.values import Attributes

if TYPE_CHECKING:
    from planguard.load.cfn_template import Template

_SUFFIXES = (
    ".template.json",
    ".template.yaml",
    ".template.yml",
    ".json",
    ".yaml",
    ".yml",
    ".template",
)
# When two references link the same pair, the most direct one names the edge.
_VIA_ORDER = ("ref", "getatt", "sub", "depends_on", "import", "condition")


@dataclass
class Stack:
    """One stack (or nested stack) of a plan: its changes and its graph source."""

    prefix: str
    stack_name: str
    template: Template | None = None
    before: Template | None = None  # predicted plans: edges of removed resources
    changes: list[Change] = field(default_factory=list)
    cs_edges: list[tuple[str, str, str]] = field(default_factory=list)


def stack_label(path: str) -> str:
    """A stack's label from its file name, without .template.json, .json, .yaml and the like."""
    name = os.path.basename(path.rstrip("/\\")) or path
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def unique_labels(labels: Iterable[str]) -> list[str]:
    """The labels in order, repeats made unique with `-2`, `-3`."""
    out: list[str] = []
    for label in labels:
        candidate, n = label, 1
        while candidate in out:
            n += 1
            candidate = f"{label}-{n}"
        out.append(candidate)
    return out


def noop_changes(template: Template, prefix: str, known: set[str]) -> list[Change]:
    """Unchanged resources of a template, as no-op changes."""
    out = []
    for lid, res in template.resources.items():
        if lid in known:
            continue
        side = res.side()
        mask = template.sensitive_mask(side)
        out.append(
            Change(
                address=prefix + lid,
                type=res.type,
                action=Action.NOOP,
                name=lid,
                config_address=prefix + lid,
                module=prefix.rstrip("/"),
                provider="cloudformation",
                deletion_policy=res.deletion_policy,
                update_replace_policy=res.update_replace_policy,
                location=Location(template.path, res.line),
                attributes=Attributes(side, side, before_sensitive=mask, after_sensitive=mask),
            )
        )
    return out


def assemble(
    source: str,
    kind: PlanKind,
    stacks: list[Stack],
    *,
    predicted: bool = False,
    notes: list[str] | None = None,
    outputs: list[OutputChange] | None = None,
    errored: bool = False,
) -> Plan:
    """One Plan of `stacks`: their changes, every resource they know, and the
    edges between them (within a stack, and through exports and imports)."""
    notes = list(notes or [])
    changes, resources = _nodes(source, stacks)
    found: dict[tuple[str, str], str] = {}

    def link(a: str, b: str, via: str) -> None:
        if a == b or a not in resources or b not in resources:
            return
        old = found.get((a, b))
        if old is None or _VIA_ORDER.index(via) < _VIA_ORDER.index(old):
            found[(a, b)] = via

    exports = _stack_links(stacks, link)
    unresolved = _import_links(stacks, exports, link)
    if unresolved:
        notes.append(
            f"{unresolved} Fn::ImportValue reference(s) name an export that no template "
            "given here defines; review the exporting stack together to see its dependents"
        )
    return Plan(
        source=source,
        kind=kind,
        tool="cloudformation",
        changes=changes,
        resources=resources,
        edges=[Edge(a, b, via) for (a, b), via in sorted(found.items())],
        outputs=outputs or [],
        predicted=predicted,
        errored=errored,
        notes=notes,
    )


def _nodes(source: str, stacks: list[Stack]) -> tuple[list[Change], dict[str, Resource]]:
    """The stacks' changes (one per address), and a resource for every address
    a template or a change names."""
    changes: list[Change] = []
    resources: dict[str, Resource] = {}
    for stack in stacks:
        for template in (stack.template, stack.before):
            if template is None:
                continue
            for lid, res in template.resources.items():
                address = stack.prefix + lid
                resources.setdefault(
                    address,
                    Resource(
                        address=address,
                        type=res.type,
                        config_address=address,
                        module=stack.prefix.rstrip("/"),
                        location=Location(template.path, res.line),
                        ignores=res.ignores,
                    ),
                )
        for change in stack.changes:
            changes.append(change)
            resources.setdefault(change.address, Resource.of(change))
    seen: set[str] = set()
    for change in changes:
        if change.address in seen:
            raise InputError(source, f"two changes for {change.address}")
        seen.add(change.address)
    return changes, resources


def _stack_links(
    stacks: list[Stack], link: Callable[[str, str, str], None]
) -> dict[str, list[str]]:
    """Link the references inside each stack; return the exports each defines
    (export name -> the addresses its value refers to)."""
    from planguard.load.cfn_template import literal

    exports: dict[str, list[str]] = {}
    for stack in stacks:
        t = stack.template
        if t is not None:
            for lid, res in t.resources.items():
                for ref in res.refs:
                    if ref.target in t.resources:
                        link(stack.prefix + lid, stack.prefix + ref.target, ref.via)
            for _, expr, targets in t.export_names():
                name = literal(expr, stack.stack_name, t.parameters)
                if name is not None:
                    exports.setdefault(name, []).extend(stack.prefix + x for x in sorted(targets))
        b = stack.before
        if b is not None:
            for lid, res in b.resources.items():
                if t is not None and lid in t.resources:
                    continue
                for ref in res.refs:
                    if ref.target in b.resources:
                        link(stack.prefix + lid, stack.prefix + ref.target, ref.via)
        if t is None:  # a template's graph is complete; the change set's is partial
            for a, dep, via in stack.cs_edges:
                link(stack.prefix + a, stack.prefix + dep, via)
    return exports


def _import_links(
    stacks: list[Stack], exports: dict[str, list[str]], link: Callable[[str, str, str], None]
) -> int:
    """Link each Fn::ImportValue to what the export refers to; return how many
    name no export given here."""
    from planguard.load.cfn_template import literal

    unresolved = 0
    for stack in stacks:
        t = stack.template
        if t is None:
            continue
        for lid, res in t.resources.items():
            for expr in res.imports:
                name = literal(expr, stack.stack_name, t.parameters)
                if name is None or name not in exports:
                    unresolved += 1
                    continue
                for dep in exports[name]:
                    link(stack.prefix + lid, dep, "import")
    return unresolved
