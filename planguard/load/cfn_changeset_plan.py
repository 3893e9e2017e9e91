"""The plan of change sets: nested change sets joined to their parents, and
templates paired with the change sets they were made from.

The rules are in planguard.load.cloudformation's docstring; a single change
set is read by planguard.load.cfn_changeset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planguard.errors import InputError
from planguard.load.cfn_changeset import ChangeSet, causing_edges, to_change
from planguard.load.cfn_stacks import Stack, assemble, noop_changes, stack_label, unique_labels
from planguard.load.files import contradiction
from planguard.model import Plan, PlanKind

if TYPE_CHECKING:
    from planguard.load.cfn_template import Template


def _fits(cs: ChangeSet, template: Template) -> bool:
    ids = set(template.resources)
    return cs.present_after() <= ids and not (cs.removed() & ids)


def change_set_plan(
    change_sets: list[ChangeSet], templates: list[Template], notes: list[str]
) -> Plan:
    """One plan of change sets (nested ones under their parents' stacks), with
    the templates given alongside as their graphs or as unchanged stacks."""
    parent = _parents(change_sets, notes)
    paired, extra = _pair(change_sets, templates)
    roots = [cs for cs in change_sets if id(cs) not in parent]
    labels = unique_labels(
        [cs.doc.StackName or stack_label(cs.path) for cs in roots]
        + [stack_label(t.path) for t in extra]
    )
    root_prefix = {}
    many = len(labels) > 1
    for label, cs in zip(labels, roots, strict=False):
        root_prefix[id(cs)] = f"{label}/" if many else ""
    stacks: list[Stack] = []
    errored = False
    for cs in change_sets:
        prefix = root_prefix[id(_root(cs, parent))] + "".join(
            f"{lid}/" for lid in _chain(cs, parent)
        )
        t = paired.get(id(cs))
        notes.extend(contradiction(problem) for problem in cs.contradictions)
        if t is not None:
            notes.extend(contradiction(problem) for problem in _other_types(cs, t))
        noecho = cs.noecho | (t.noecho if t else frozenset())
        changes = [to_change(cs, rc, prefix, t, noecho) for rc in cs.changes]
        if t is not None:
            changes.extend(noop_changes(t, prefix, cs.ids))
        stacks.append(
            Stack(
                prefix,
                cs.doc.StackName or stack_label(cs.path),
                t,
                changes=changes,
                cs_edges=[e for rc in cs.changes for e in causing_edges(rc)],
            )
        )
        status = cs.doc.Status or ""
        if status == "FAILED":
            why = cs.doc.StatusReason or "no reason given"
            if "didn't contain changes" not in why and "No updates" not in why:
                errored = True
            notes.append(f"{cs.path}: change set status FAILED: {why}")
    for label, t in zip(labels[len(roots) :], extra, strict=True):
        prefix = f"{label}/" if many else ""
        stacks.append(Stack(prefix, label, t, changes=noop_changes(t, prefix, set())))
    if not templates:
        notes.append(
            "change set reviewed without its template: dependencies are only those the "
            "change set names (give the template alongside for the full graph)"
        )
    source = ", ".join([cs.path for cs in change_sets] + [t.path for t in templates])
    return assemble(source, PlanKind.CFN_CHANGE_SET, stacks, notes=notes, errored=errored)


def _other_types(cs: ChangeSet, template: Template) -> list[str]:
    """Where a change set and the template paired with it name another type for a
    resource (CloudFormation refuses to change a resource's type in place)."""
    out = []
    for i, rc in enumerate(cs.changes):
        res = template.resources.get(rc.LogicalResourceId)
        if rc.Action != "Remove" and res is not None and res.type != rc.ResourceType:
            out.append(
                f"{cs.path}: Changes[{i}] ({rc.LogicalResourceId}): ResourceType "
                f"{rc.ResourceType}, but the template {template.path} gives another Type"
            )
    return out


# A nested change set -> (its parent, the parent's logical id of the nested stack).
_Parents = dict[int, tuple[ChangeSet, str]]


def _parents(change_sets: list[ChangeSet], notes: list[str]) -> _Parents:
    """Each nested change set's parent, by id(); a note for one given without it."""
    by_id = {cs.doc.ChangeSetId: cs for cs in change_sets if cs.doc.ChangeSetId}
    parent: _Parents = {}
    for cs in change_sets:
        pid = cs.doc.ParentChangeSetId
        if not pid:
            continue
        up = by_id.get(pid)
        if up is None or up is cs:
            notes.append(f"{cs.path}: nested change set given without its parent change set")
            continue
        link = next(
            (
                rc.LogicalResourceId
                for rc in up.changes
                if rc.ChangeSetId and rc.ChangeSetId == cs.doc.ChangeSetId
            ),
            None,
        ) or next(
            (
                rc.LogicalResourceId
                for rc in up.changes
                if rc.ResourceType == "AWS::CloudFormation::Stack"
                and cs.doc.StackId
                and rc.PhysicalResourceId == cs.doc.StackId
            ),
            None,
        )
        if link is None:
            raise InputError(
                cs.path,
                f"nested change set: its parent {up.path} has no AWS::CloudFormation::Stack "
                "change that points at it",
            )
        parent[id(cs)] = (up, link)
    return parent


def _chain(cs: ChangeSet, parent: _Parents) -> list[str]:
    """The logical ids of the nested stacks from the root stack down to `cs`."""
    out: list[str] = []
    seen = {id(cs)}
    while id(cs) in parent:
        cs, lid = parent[id(cs)]
        if id(cs) in seen:
            raise InputError(cs.path, "nested change sets refer to each other in a loop")
        seen.add(id(cs))
        out.append(lid)
    return out[::-1]


def _root(cs: ChangeSet, parent: _Parents) -> ChangeSet:
    seen = {id(cs)}
    while id(cs) in parent:
        cs = parent[id(cs)][0]
        if id(cs) in seen:  # two change sets naming each other as parent
            raise InputError(cs.path, "nested change sets refer to each other in a loop")
        seen.add(id(cs))
    return cs


def _pair(
    change_sets: list[ChangeSet], templates: list[Template]
) -> tuple[dict[int, Template], list[Template]]:
    """Templates paired with change sets by content (see planguard.load.cloudformation):
    by id() of the change set, and the templates that fit none."""
    paired: dict[int, Template] = {}
    extra: list[Template] = []
    for t in templates:
        match = next((cs for cs in change_sets if id(cs) not in paired and _fits(cs, t)), None)
        if match is not None:
            paired[id(match)] = t
        else:
            extra.append(t)
    left = [cs for cs in change_sets if id(cs) not in paired]
    if extra and left:
        cs, t = left[0], extra[0]
        missing = sorted(cs.present_after() - set(t.resources))
        kept = sorted(cs.removed() & set(t.resources))
        why = (
            f"lacks {', '.join(missing[:5])}"
            if missing
            else f"still has removed {', '.join(kept[:5])}"
        )
        raise InputError(
            t.path,
            f"does not match change set {cs.path}: the template {why} "
            "(give the template the change set was created from)",
        )
    return paired, extra
