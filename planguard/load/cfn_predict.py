"""A template pair turned into a predicted change set, without calling AWS.

CloudFormation's own rule: a change to a property the resource type's schema
lists in `createOnlyProperties` replaces the resource; one in
`conditionalCreateOnlyProperties` may. The schemas are the ones cfn-lint ships
(https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html).
A value that is textually the same still changes when it refers to a resource
being replaced (its physical id or attributes change), to a parameter whose
default changed, or to a Mappings entry that changed, so replacements propagate
down the references. One that refers to a parameter read from Parameter Store
(`AWS::SSM::Parameter::Value<…>`) may change at any deploy. When the template's
Resources has an Fn::Transform (AWS::Include, a macro), what it adds or
redefines is unknown: every resource that could be replaced may be.

Measured against the change sets localstack recorded from AWS: see
benchmarks/cfn_agreement.py.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from planguard.load.cfn_changeset import reason
from planguard.load.cfn_template import (
    RESOURCE_SETTINGS,
    Ref,
    Template,
    TemplateResource,
    secret_mask,
    walk_refs,
)
from planguard.model import Action, Change, Location, OutputChange, ReplaceOrder
from planguard.values import Attributes

Steps = tuple[str, ...]
_REGION = "us-east-1"  # schemas differ little between regions; cfn-lint's default
_STRENGTH = {None: 0, "Delete": 0, "Snapshot": 1, "RetainExceptOnCreate": 2, "Retain": 2}
_ABSENT = object()
_SSM_TYPE = "AWS::SSM::Parameter::Value<"
_INCLUDED = (
    "Replacement: Conditional; the template's Resources has an Fn::Transform "
    "(AWS::Include or a macro) that may redefine this resource"
)
# (action, replacement only possible, reason, replace paths)
_Outcome = tuple[Action, bool, str | None, tuple[tuple[str, ...], ...]]


@cache
def create_only(resource_type: str) -> tuple[tuple[Steps, ...], tuple[Steps, ...]] | None:
    """(createOnlyProperties, conditionalCreateOnlyProperties) as property steps,
    or None when no schema knows the type."""
    if resource_type.startswith("AWS::Serverless::"):
        return None  # SAM schemas carry no create-only information
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(_REGION, resource_type).schema
    except ResourceNotFoundError:  # a type cfn-lint has no schema for
        return None

    def steps(key: str) -> tuple[Steps, ...]:
        out = []
        for ptr in schema.get(key) or ():
            if isinstance(ptr, str) and ptr.startswith("/properties/"):
                out.append(tuple(ptr[len("/properties/") :].split("/")))
        return tuple(out)

    return steps("createOnlyProperties"), steps("conditionalCreateOnlyProperties")


def values_at(value: Any, steps: Steps) -> list[Any]:
    """Every value at `steps` ("*" is any list item or map value); absent is `_ABSENT`."""
    if not steps:
        return [value]
    head, rest = steps[0], steps[1:]
    if head == "*":
        items = (
            value
            if isinstance(value, list)
            else (list(value.values()) if isinstance(value, dict) else [])
        )
        return [v for item in items for v in values_at(item, rest)]
    if isinstance(value, dict) and head in value:
        return values_at(value[head], rest)
    return [_ABSENT]


def _lookups(value: Any) -> list[list[Any]]:
    """The arguments of every Fn::FindInMap under `value`."""
    found: list[list[Any]] = []
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, dict):
            args = item.get("Fn::FindInMap") if len(item) == 1 else None
            if isinstance(args, list) and len(args) >= 3:
                found.append(args)
            todo.extend(item.values())
    return found


def _entry(mapping: Any, keys: list[Any]) -> Any:
    """mapping[key1][key2], or None where any level is missing."""
    for key in keys:
        mapping = mapping.get(key) if isinstance(mapping, dict) else None
    return mapping


def _display(steps: Steps) -> str:
    return ".".join(steps)


def _report_path(steps: Steps) -> tuple[str, ...]:
    cut = steps.index("*") if "*" in steps else len(steps)
    return ("Properties", *steps[:cut])


def _weaker(a: str | None, b: str | None) -> str | None:
    return a if _STRENGTH.get(a, 0) <= _STRENGTH.get(b, 0) else b


class _Predictor:
    def __init__(self, before: Template | None, after: Template | None) -> None:
        self.before = before
        self.after = after
        bp = before.parameters if before else {}
        ap = after.parameters if after else {}
        self.changed_params = {p for p in ap if p in bp and bp[p] != ap[p]}
        # A parameter of an SSM type is read from Parameter Store at each deploy:
        # its value may change while both templates stay the same.
        self.ssm_params = {
            p for p, spec in ap.items() if str(spec.get("Type", "")).startswith(_SSM_TYPE)
        }
        self.mappings = (before.mappings if before else {}, after.mappings if after else {})
        self.level: dict[str, int] = {}  # 2: replaced, 1: maybe replaced

    def volatility(self, value: Any) -> tuple[int, list[str]]:
        """How surely `value` changes although written the same, and because of what."""
        refs: list[Ref] = []
        walk_refs(value, refs, [], in_if=False)
        level, causes = 0, []
        for r in refs:
            if r.target in self.changed_params:
                level = 2
                causes.append(f"{r.target} (ParameterReference)")
                continue
            if r.target in self.ssm_params:
                level = max(level, 1)
                causes.append(f"{r.target} (ParameterReference)")
                continue
            got = self.level.get(r.target, 0)
            if not got:
                continue
            sure = 2 if got == 2 and r.via in ("ref", "sub") and r.attribute is None else 1
            level = max(level, sure)
            source = "ResourceReference" if r.attribute is None else "ResourceAttribute"
            causes.append(f"{r.target} ({source})")
        for args in _lookups(value):
            got = self.lookup_change(args)
            if got:
                level = max(level, got)
                causes.append(f"{args[0] if isinstance(args[0], str) else 'a mapping'} (Mappings)")
        return level, causes

    def lookup_change(self, args: list[Any]) -> int:
        """How surely an Fn::FindInMap written the same gives another value: 2 when
        the entry it names changed, 1 when its map changed and the keys are only
        known at deploy time, else 0."""
        before, after = self.mappings
        name = args[0]
        if not isinstance(name, str):
            return 1 if before != after else 0
        bmap, amap = before.get(name), after.get(name)
        if bmap == amap:
            return 0
        if not all(isinstance(k, str) for k in args[1:3]):
            return 1
        return 2 if _entry(bmap, args[1:3]) != _entry(amap, args[1:3]) else 0

    def outcome(self, b: TemplateResource, a: TemplateResource) -> _Outcome:
        if b.type != a.type:
            why: str | None = f"Replacement: True; Type changed ({b.type} → {a.type})"
            return Action.REPLACE, False, why, ()
        bprops, aprops = b.properties, a.properties
        vol, vol_causes = self.volatility(aprops)
        changed = bprops != aprops or vol > 0
        settings = any(b.body.get(k) != a.body.get(k) for k in RESOURCE_SETTINGS)
        rules = create_only(a.type)
        if self.after is not None and self.after.includes and (rules is None or any(rules)):
            # What the included fragment adds or redefines is not known here.
            return Action.REPLACE, True, _INCLUDED, ()
        if rules is None:
            if changed:
                return (
                    Action.REPLACE,
                    True,
                    f"Replacement: Conditional; no resource schema for {a.type}",
                    (),
                )
            return (Action.UPDATE if settings else Action.NOOP), False, None, ()
        always: list[str] = []
        conditionally: list[str] = []
        causes: list[str] = []
        paths: list[tuple[str, ...]] = []
        because: list[str]
        for kind, pointers in (("always", rules[0]), ("conditionally", rules[1])):
            for steps in pointers:
                before_v, after_v = values_at(bprops, steps), values_at(aprops, steps)
                if before_v != after_v:
                    level, because = 2, []
                else:
                    level, because = self.volatility([v for v in after_v if v is not _ABSENT])
                if not level:
                    continue
                name = _display(steps)
                (always if kind == "always" and level == 2 else conditionally).append(name)
                causes.extend(because)
                if _report_path(steps) not in paths:
                    paths.append(_report_path(steps))
        if always:
            why = reason("Modify", "True", always, conditionally, causes)
            return Action.REPLACE, False, why, tuple(paths)
        if conditionally:
            why = reason("Modify", "Conditional", always, conditionally, causes)
            return Action.REPLACE, True, why, tuple(paths)
        if changed or settings:
            return Action.UPDATE, False, reason("Modify", "False", [], [], vol_causes), ()
        return Action.NOOP, False, None, ()


def predict(before: Template | None, after: Template | None, prefix: str = "") -> list[Change]:
    """Predicted changes for one stack, addresses under `prefix`."""
    p = _Predictor(before, after)
    bres = before.resources if before else {}
    ares = after.resources if after else {}
    both = [lid for lid in ares if lid in bres]
    # Replacements propagate along references; iterate to a fixed point.
    results: dict[str, _Outcome] = {}
    for _ in range(len(both) + 1):
        stable = True
        for lid in both:
            got = p.outcome(bres[lid], ares[lid])
            results[lid] = got
            level = 0 if got[0] is not Action.REPLACE else (1 if got[1] else 2)
            if p.level.get(lid, 0) != level:
                p.level[lid] = level
                stable = False
        if stable:
            break
    changes = []
    for lid in [*ares, *(lid for lid in bres if lid not in ares)]:
        b, a = bres.get(lid), ares.get(lid)
        if a is not None and b is not None:
            action, conditional, why, paths = results[lid]
        elif a is not None:
            action, conditional, why, paths = Action.CREATE, False, None, ()
        else:
            action, conditional, why, paths = Action.DELETE, False, None, ()
        changes.append(_change(lid, prefix, before, after, b, a, action, conditional, why, paths))
    return changes


def _change(
    lid: str,
    prefix: str,
    before: Template | None,
    after: Template | None,
    b: TemplateResource | None,
    a: TemplateResource | None,
    action: Action,
    conditional: bool,
    why: str | None,
    paths: tuple[tuple[str, ...], ...],
) -> Change:
    res = a or b
    assert res is not None
    template = after if a is not None else before
    assert template is not None
    if action is Action.DELETE:
        deletion, update_replace = b.deletion_policy, b.update_replace_policy  # type: ignore[union-attr]
    elif action is Action.REPLACE and b is not None and a is not None:
        deletion = a.deletion_policy
        update_replace = _weaker(b.update_replace_policy, a.update_replace_policy)
    else:
        deletion, update_replace = res.deletion_policy, res.update_replace_policy
    return Change(
        address=prefix + lid,
        type=res.type,
        action=action,
        name=lid,
        config_address=prefix + lid,
        module=prefix.rstrip("/"),
        provider="cloudformation",
        order=ReplaceOrder.CREATE_FIRST if action is Action.REPLACE else None,
        reason=why,
        replace_paths=paths,
        conditional=conditional,
        deletion_policy=deletion,
        update_replace_policy=update_replace,
        location=Location(template.path, res.line),
        attributes=Attributes(
            b.side() if b else None,
            a.side() if a else None,
            before_sensitive=before.sensitive_mask(b.side()) if b and before else None,
            after_sensitive=after.sensitive_mask(a.side()) if a and after else None,
        ),
    )


def output_changes(before: Template | None, after: Template | None) -> list[OutputChange]:
    bo = before.outputs if before else {}
    ao = after.outputs if after else {}
    out = []
    for name in sorted(bo.keys() | ao.keys()):
        if name not in bo:
            action = Action.CREATE
        elif name not in ao:
            action = Action.DELETE
        elif bo[name] != ao[name]:
            action = Action.UPDATE
        else:
            continue
        sensitive = any(
            t is not None
            and name in t.outputs
            and secret_mask(t.outputs[name].get("Value"), t.noecho) is not None
            for t in (before, after)
        )
        out.append(OutputChange(name, action, sensitive))
    return out
