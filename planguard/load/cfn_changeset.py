"""`aws cloudformation describe-change-set` output, mapped to the model.

The shape is the API's DescribeChangeSet response:
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html
and its ResourceChange:
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html

| Action  | Replacement       | model                                               |
|---------|-------------------|-----------------------------------------------------|
| Add     | (any)             | create                                              |
| Modify  | False             | update                                              |
| Modify  | True              | replace (create first, as CloudFormation does)      |
| Modify  | Conditional       | replace, `conditional=True`                         |
| Modify  | absent            | replace, `conditional=True` (CloudFormation always  |
|         |                   | says; without it a replacement cannot be ruled out) |
| Remove  |                   | delete                                              |
| Import  |                   | no-op, `importing=True`                             |
| Dynamic | False             | update                                              |
| Dynamic | True/Conditional/ | replace, `conditional=True` (decided only when the  |
|         | absent            | change set runs, so it may be anything)             |
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import Struct

from planguard.errors import InputError
from planguard.load.cfn_template import LOGICAL_ID, Template, TemplateResource, secret_mask
from planguard.model import Action, Change, Location, ReplaceOrder
from planguard.values import Attributes

ACTIONS = frozenset({"Add", "Modify", "Remove", "Import", "Dynamic"})
REPLACEMENTS = frozenset({"True", "False", "Conditional"})
RECREATION = frozenset({"Never", "Conditionally", "Always"})
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html
STATUSES = frozenset(
    {
        "CREATE_PENDING",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
        "DELETE_PENDING",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
        "DELETE_FAILED",
        "FAILED",
    }
)
# AWS::Service::Name, Custom::Name, a third party's Org::Service::Name, modules
# (…::MODULE): https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resources-section-structure.html
RESOURCE_TYPE = re.compile(r"[A-Za-z0-9]+(::[A-Za-z0-9_@-]+){1,3}")
# PolicyAction: what CloudFormation does with the old physical resource.
_DELETION = {"Delete": "Delete", "Retain": "Retain", "Snapshot": "Snapshot"}
_REPLACE = {
    "ReplaceAndDelete": "Delete",
    "ReplaceAndRetain": "Retain",
    "ReplaceAndSnapshot": "Snapshot",
}
KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"
MASKED_PARAMETER = "****"  # how CloudFormation prints a NoEcho parameter


class _Target(Struct, gc=False):
    Attribute: str | None = None
    Name: str | None = None
    RequiresRecreation: str | None = None
    Path: str | None = None
    BeforeValue: Any = None
    AfterValue: Any = None
    AttributeChangeType: str | None = None


class _Detail(Struct, gc=False):
    Target: _Target | None = None
    Evaluation: str | None = None
    ChangeSource: str | None = None
    CausingEntity: str | None = None


class _ResourceChange(Struct, gc=False):
    Action: str
    LogicalResourceId: str
    ResourceType: str = ""
    PhysicalResourceId: str | None = None
    Replacement: str | None = None
    Scope: list[str] = []
    Details: list[_Detail] = []
    ChangeSetId: str | None = None
    PolicyAction: str | None = None
    BeforeContext: str | dict[str, Any] | None = None
    AfterContext: str | dict[str, Any] | None = None


class _Change(Struct, gc=False):
    Type: str | None = None
    ResourceChange: _ResourceChange | None = None


class _Parameter(Struct, gc=False):
    ParameterKey: str
    ParameterValue: str | None = None


class _ChangeSetDoc(Struct, gc=False):
    Changes: list[_Change]
    ChangeSetName: str | None = None
    ChangeSetId: str | None = None
    StackName: str | None = None
    StackId: str | None = None
    ParentChangeSetId: str | None = None
    RootChangeSetId: str | None = None
    Parameters: list[_Parameter] | None = None
    Status: str | None = None
    StatusReason: str | None = None
    ExecutionStatus: str | None = None
    NextToken: str | None = None


@dataclass
class ChangeSet:
    path: str
    doc: _ChangeSetDoc
    changes: list[_ResourceChange]
    noecho: frozenset[str]
    # What in it cannot all be true at once, one line each (PG001 blocks on them).
    contradictions: list[str] = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        return {rc.LogicalResourceId for rc in self.changes}

    def present_after(self) -> set[str]:
        """Logical ids that must be in the template this change set was made from."""
        return {rc.LogicalResourceId for rc in self.changes if rc.Action != "Remove"}

    def removed(self) -> set[str]:
        return {rc.LogicalResourceId for rc in self.changes if rc.Action == "Remove"}


def decode(path: str, doc: Any) -> ChangeSet:
    """Validate a decoded describe-change-set document. Anything of a shape the API
    never gives is an InputError. A change whose parts contradict each other is
    read as its Action says and listed in `contradictions`, for PG001 to block on:
    such a change set was edited after CloudFormation wrote it."""
    try:
        cs = msgspec.convert(doc, _ChangeSetDoc)
    except msgspec.ValidationError as exc:
        raise InputError(path, f"not a valid describe-change-set response: {exc}") from None
    if cs.NextToken:
        raise InputError(
            path,
            "change set output is one page of several (NextToken is set); "
            "give the complete list of Changes",
        )
    if cs.Status is not None and cs.Status not in STATUSES:
        raise InputError(path, "unknown change set Status")
    if cs.Status in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
        raise InputError(
            path,
            f"change set is still being created (Status {cs.Status}): its Changes may be "
            "incomplete; describe it again once its Status is CREATE_COMPLETE",
        )
    changes: list[_ResourceChange] = []
    contradictions: list[str] = []
    seen: set[str] = set()
    for i, change in enumerate(cs.Changes):
        rc = _checked(path, i, change)
        if rc.LogicalResourceId in seen:
            raise InputError(path, f"duplicate logical id {rc.LogicalResourceId} in Changes")
        seen.add(rc.LogicalResourceId)
        changes.append(rc)
        problem = _contradiction(rc)
        if problem:
            contradictions.append(f"{path}: Changes[{i}] ({rc.LogicalResourceId}): {problem}")
    noecho = frozenset(
        p.ParameterKey for p in cs.Parameters or () if p.ParameterValue == MASKED_PARAMETER
    )
    return ChangeSet(path, cs, changes, noecho, contradictions)


def _checked(path: str, i: int, change: _Change) -> _ResourceChange:
    """One entry of Changes, refused unless its shape is one the API gives.
    Messages name the entry and the field, never the field's value (the input
    may hold secrets), except values already checked against a known set."""
    if change.Type != "Resource":
        # The API knows only "Resource"; anything else describes we know not what.
        what = "no Type" if change.Type is None else "a Type other than Resource"
        raise InputError(path, f"Changes[{i}]: {what} (describe-change-set gives Resource)")
    rc = change.ResourceChange
    if rc is None:
        # A resource change we cannot read could be a deletion: fail closed.
        raise InputError(path, f"Changes[{i}]: a Resource change without ResourceChange")
    if not LOGICAL_ID.fullmatch(rc.LogicalResourceId):
        raise InputError(
            path, f"Changes[{i}]: LogicalResourceId is not a logical id (letters and digits)"
        )
    where = f"Changes[{i}] ({rc.LogicalResourceId})"
    if rc.Action not in ACTIONS:
        raise InputError(path, f"{where}: unknown Action (one of {', '.join(sorted(ACTIONS))})")
    if not rc.ResourceType:
        raise InputError(path, f"{where}: {rc.Action} without ResourceType")
    if not RESOURCE_TYPE.fullmatch(rc.ResourceType):
        raise InputError(path, f"{where}: ResourceType is not a resource type (AWS::Service::Name)")
    if rc.Replacement is not None and rc.Replacement not in REPLACEMENTS:
        raise InputError(path, f"{where}: unknown Replacement (True, False or Conditional)")
    if rc.PolicyAction is not None and rc.PolicyAction not in {**_DELETION, **_REPLACE}:
        raise InputError(path, f"{where}: unknown PolicyAction")
    for d in rc.Details:
        rr = d.Target.RequiresRecreation if d.Target else None
        if rr is not None and rr not in RECREATION:
            raise InputError(path, f"{where}: unknown RequiresRecreation in Details")
    return rc


def _contradiction(rc: _ResourceChange) -> str | None:
    """What in a (well-typed) resource change cannot all be true at once."""
    action, replacement = rc.Action, rc.Replacement
    if action in ("Remove", "Import") and replacement in ("True", "Conditional"):
        return f"{action} with Replacement {replacement}"
    if action == "Add" and rc.BeforeContext is not None:
        return "Add with a BeforeContext (a new resource has no before)"
    if action == "Remove" and rc.AfterContext is not None:
        return "Remove with an AfterContext (a removed resource has no after)"
    if rc.PolicyAction in _REPLACE:
        # ReplaceAnd*: what happens to the old resource when it is replaced.
        if action == "Remove":
            return f"Remove with PolicyAction {rc.PolicyAction}"
        if action == "Modify" and replacement == "False":
            return f"Replacement False but PolicyAction {rc.PolicyAction}"
    if action == "Modify":
        said = {
            t.RequiresRecreation for d in rc.Details if (t := d.Target) and t.RequiresRecreation
        }
        recreates = sorted(said & {"Always", "Conditionally"})
        if replacement == "False" and recreates:
            return f"Replacement False but a change that RequiresRecreation {recreates[0]}"
        if replacement in ("True", "Conditional") and said and not recreates:
            return f"Replacement {replacement} but every change RequiresRecreation Never"
    return None


def _action(rc: _ResourceChange) -> tuple[Action, bool]:
    """The model action and whether the replacement is only possible."""
    if rc.Action == "Add":
        return Action.CREATE, False
    if rc.Action == "Remove":
        return Action.DELETE, False
    if rc.Action == "Import":
        return Action.NOOP, False
    if rc.Action == "Modify":
        if rc.Replacement == "True":
            return Action.REPLACE, False
        if rc.Replacement == "False":
            return Action.UPDATE, False
        return Action.REPLACE, True
    # Dynamic: decided when the change set runs.
    if rc.Replacement == "False":
        return Action.UPDATE, False
    return Action.REPLACE, True


def pointer(text: str) -> tuple[str | int, ...]:
    """A JSON pointer ("/Properties/Tags/0/Key") as path steps."""
    steps: list[str | int] = []
    for part in text.strip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        steps.append(int(part) if part.isdigit() else part)
    return tuple(steps)


def _target_path(t: _Target) -> tuple[str | int, ...]:
    if t.Path:
        return pointer(t.Path)
    attr = t.Attribute or "Properties"
    return (attr, t.Name) if t.Name else (attr,)


def reason(
    action: str,
    replacement: str | None,
    always: list[str],
    conditionally: list[str],
    causes: list[str],
) -> str | None:
    """The tool's words, e.g.
    "Replacement: True; RequiresRecreation: Always (DBInstanceIdentifier)"."""
    parts = []
    if action == "Dynamic":
        parts.append("Action: Dynamic (decided when the change set runs)")
    if action == "Import":
        parts.append("Import")
    if replacement is not None and action in ("Modify", "Dynamic"):
        parts.append(f"Replacement: {replacement}")
    elif action == "Modify":
        parts.append("Replacement not given (a replacement cannot be ruled out)")
    if always:
        parts.append(f"RequiresRecreation: Always ({', '.join(dict.fromkeys(always))})")
    if conditionally:
        parts.append(
            f"RequiresRecreation: Conditionally ({', '.join(dict.fromkeys(conditionally))})"
        )
    if causes:
        parts.append(f"caused by {', '.join(dict.fromkeys(causes))}")
    return "; ".join(parts) or None


def _context(path: str, lid: str, value: str | dict[str, Any] | None) -> Any:
    """Before/AfterContext: a JSON string from AWS, an object in some recordings."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise InputError(path, f"{lid}: BeforeContext/AfterContext is not JSON") from None
        if not isinstance(value, dict):
            raise InputError(path, f"{lid}: BeforeContext/AfterContext must be an object")
    return value


def merge_masks(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if a is True or b is True:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: merge_masks(a.get(k), b.get(k)) for k in a.keys() | b.keys()}
    if isinstance(a, list) and isinstance(b, list):
        n = max(len(a), len(b))
        return [
            merge_masks(a[i] if i < len(a) else None, b[i] if i < len(b) else None)
            for i in range(n)
        ]
    return True  # shapes disagree: mask the whole value


def mask_at(path: tuple[str | int, ...]) -> Any:
    mask: Any = True
    for step in reversed(path):
        mask = {step: mask} if isinstance(step, str) else [None] * step + [mask]
    return mask


def _unknown(value: Any) -> Any:
    if value == KNOWN_AFTER_APPLY:
        return True
    if isinstance(value, dict):
        got = {k: m for k, v in value.items() if (m := _unknown(v)) is not None}
        return got or None
    if isinstance(value, list):
        marks = [_unknown(v) for v in value]
        return marks if any(m is not None for m in marks) else None
    return None


def to_change(
    cs: ChangeSet,
    rc: _ResourceChange,
    prefix: str,
    template: Template | None,
    noecho: frozenset[str],
) -> Change:
    """One resource change as a model Change at `prefix` + its logical id; the
    `template` the change set was made from, when given, adds line, policies and masks."""
    path = cs.path
    lid = rc.LogicalResourceId
    action, conditional = _action(rc)
    before = _context(path, lid, rc.BeforeContext)
    after = _context(path, lid, rc.AfterContext)
    details = _read_details(rc, action, noecho)
    secret = details.secret
    policies = details.policies
    res = template.resources.get(lid) if template else None
    if "before" in policies:
        before = {**(before or {}), **policies["before"]}
    if "after" in policies:
        after = {**(after or {}), **policies["after"]}
    if res is not None:
        secret = merge_masks(secret, template.sensitive_mask(res.side()) if template else None)
    for side in (before, after):
        if side is not None:
            secret = merge_masks(secret, secret_mask(side, noecho))
    deletion, update_replace = _policies(rc, res)
    attributes = None
    if before is not None or after is not None:
        attributes = Attributes(
            before,
            after,
            before_sensitive=secret,
            after_sensitive=secret,
            after_unknown=_unknown(after),
        )
    module = prefix.rstrip("/")
    return Change(
        address=prefix + lid,
        type=rc.ResourceType or (res.type if res else ""),
        action=action,
        name=lid,
        config_address=prefix + lid,
        module=module,
        provider="cloudformation",
        importing=rc.Action == "Import",
        order=ReplaceOrder.CREATE_FIRST if action is Action.REPLACE else None,
        reason=reason(
            rc.Action, rc.Replacement, details.always, details.conditionally, details.causes
        ),
        replace_paths=tuple(details.replace_paths),
        conditional=conditional,
        deletion_policy=deletion,
        update_replace_policy=update_replace,
        location=Location(template.path, res.line) if template and res else None,
        attributes=attributes,
    )


@dataclass(slots=True)
class _Details:
    """What the Details of one resource change say."""

    always: list[str]  # names whose change always recreates the resource
    conditionally: list[str]  # names whose change may recreate it
    causes: list[str]  # "Entity (ChangeSource)" of the resources that cause it
    replace_paths: list[tuple[str | int, ...]]
    secret: Any  # a sensitivity mask: values that come from NoEcho parameters
    policies: dict[str, dict[str, Any]]  # "before"/"after" -> changed policy attributes


def _read_details(rc: _ResourceChange, action: Action, noecho: frozenset[str]) -> _Details:
    """Why a replacement happens (RequiresRecreation, causing entities), which
    values are secret, and the DeletionPolicy/UpdateReplacePolicy it changes."""
    always: list[str] = []
    conditionally: list[str] = []
    causes: list[str] = []
    replace_paths: list[tuple[str | int, ...]] = []
    secret: Any = None
    policies: dict[str, dict[str, Any]] = {}
    for d in rc.Details:
        t = d.Target
        if t is None:
            continue
        steps = _target_path(t)
        name = t.Name or "/".join(str(s) for s in steps[1:]) or (t.Attribute or "")
        if d.ChangeSource == "ParameterReference" and d.CausingEntity in noecho:
            secret = merge_masks(secret, mask_at(steps))
        if t.Attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            if isinstance(t.BeforeValue, str):
                policies.setdefault("before", {})[t.Attribute] = t.BeforeValue
            if isinstance(t.AfterValue, str):
                policies.setdefault("after", {})[t.Attribute] = t.AfterValue
        if action is not Action.REPLACE or t.RequiresRecreation in (None, "Never"):
            continue
        (always if t.RequiresRecreation == "Always" else conditionally).append(name)
        if steps not in replace_paths:
            replace_paths.append(steps)
        if d.CausingEntity and d.ChangeSource in ("ResourceReference", "ResourceAttribute"):
            causes.append(f"{d.CausingEntity} ({d.ChangeSource})")
    return _Details(always, conditionally, causes, replace_paths, secret, policies)


def _policies(rc: _ResourceChange, res: TemplateResource | None) -> tuple[str | None, str | None]:
    """DeletionPolicy and UpdateReplacePolicy: from the change's PolicyAction,
    else from the template."""
    deletion = update_replace = None
    if rc.PolicyAction in _DELETION:
        deletion = _DELETION[rc.PolicyAction]
    elif rc.PolicyAction in _REPLACE:
        update_replace = _REPLACE[rc.PolicyAction]
    if res is not None:
        deletion = deletion or res.deletion_policy
        update_replace = update_replace or res.update_replace_policy
    return deletion, update_replace


def causing_edges(rc: _ResourceChange) -> list[tuple[str, str, str]]:
    """(dependent, dependency, via) that the change set itself reveals."""
    out = []
    for d in rc.Details:
        if not d.CausingEntity:
            continue
        if d.ChangeSource == "ResourceReference":
            out.append((rc.LogicalResourceId, d.CausingEntity, "ref"))
        elif d.ChangeSource == "ResourceAttribute":
            out.append((rc.LogicalResourceId, d.CausingEntity.split(".", 1)[0], "getatt"))
    return out
