"""CloudFormation inputs: change sets, templates, template pairs and cdk.out directories.

What becomes a Plan (`build`):

- Change sets (`aws cloudformation describe-change-set` JSON, with or without
  `--include-property-values`) form one plan of kind CFN_CHANGE_SET. Nested-stack
  change sets given together are joined to their parent through the parent's
  `AWS::CloudFormation::Stack` change (`ChangeSetId`, else `PhysicalResourceId` =
  the child's `StackId`).
- Templates given alongside change sets are paired with them by content, not by
  name: a template belongs to the first unpaired change set whose added, modified,
  imported and dynamic logical ids all exist in the template and whose removed ones
  do not. The pair's graph comes from the template. A template that fits no change
  set while a change set is left without one is an error (most likely the wrong
  version of the template); otherwise it is an unchanged stack in the same review.
- `--before`/`--after` templates pair by position into one predicted plan of kind
  CFN_TEMPLATES (`predicted=True`); `--after` alone means new stacks, `--before`
  alone deleted ones. Templates given as plain inputs join that plan unchanged.
- Templates alone (and cdk.out directories) form one CFN_TEMPLATES plan that
  predicts nothing: every resource is a no-op change, so the graph, the settings
  and the data-protection policies are reviewed but nothing is destroyed.

Addresses: a resource's logical id; inside a nested stack `Parent/Child`. When a
plan covers more than one top-level stack (several change sets or templates
reviewed together), every address starts with its stack's label:
`StackLabel/LogicalId`. The label is the change set's StackName, else the
template file name without `.template.json`/`.json`/`.yaml`/`.yml`; repeats get
`-2`, `-3`.

Every resource known from a template is a change (`no-op` when nothing happens to
it), so ratios such as "N of M resources" count the whole stack.

The attribute values of a change mirror CloudFormation's Before/AfterContext:
`{"Properties": {...}, "DeletionPolicy": ..., "UpdateReplacePolicy": ...}`; replace
paths are steps in that object, e.g. `("Properties", "DBInstanceIdentifier")`.

For a template read from elsewhere (a git ref), call `load_template_text` and
`predict_templates`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planguard.errors import InputError
from planguard.model import Action, Change, Edge, Location, OutputChange, Plan, PlanKind, Resource
from planguard.values import Attributes

if TYPE_CHECKING:
    from planguard.load import LoadOptions
    from planguard.load.cfn_changeset import ChangeSet
    from planguard.load.cfn_template import Template

_YAML_TEMPLATE = re.compile(rb"^(Resources|AWSTemplateFormatVersion)[ \t]*:", re.MULTILINE)
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
_MAX_ASSEMBLY_DEPTH = 8


def looks_like_yaml_template(data: bytes) -> bool:
    """A YAML document with a top-level Resources (or format version) key."""
    return bool(_YAML_TEMPLATE.search(data))


# -- cdk.out -------------------------------------------------------------------


def is_cdk_out(path: str) -> bool:
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, "manifest.json"))


def read_cdk_out(path: str, max_bytes: int) -> list[tuple[str, str, Any, bytes]]:
    """The stack templates of a CDK cloud assembly (manifest.json artifacts of type
    aws:cloudformation:stack, and nested assemblies of CDK stages)."""
    from planguard.load import read_bytes

    try:
        root = Path(path).resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise InputError(path, f"cannot read cdk.out directory: {exc}") from None
    out: list[tuple[str, str, Any, bytes]] = []
    seen: set[Path] = set()

    def inside(p: Path, shown: str) -> Path:
        try:
            real = p.resolve(strict=True)
        except (OSError, RuntimeError):
            raise InputError(shown, "missing, or a symlink loop") from None
        if real != root and root not in real.parents:
            raise InputError(shown, f"points outside {path}")
        return real

    def visit(directory: Path, shown: str, depth: int) -> None:
        real = inside(directory, shown)
        if real in seen or depth > _MAX_ASSEMBLY_DEPTH:
            raise InputError(shown, "cloud assembly refers to itself (symlink or manifest loop)")
        seen.add(real)
        manifest_path = os.path.join(shown, "manifest.json")
        inside(real / "manifest.json", manifest_path)
        manifest = _json(manifest_path, read_bytes(manifest_path, max_bytes))
        artifacts = manifest.get("artifacts", {})
        if not isinstance(artifacts, dict):
            raise InputError(manifest_path, "artifacts must be an object")
        for name, art in artifacts.items():
            if not isinstance(art, dict):
                raise InputError(manifest_path, f"artifact {name} must be an object")
            props = art.get("properties") or {}
            if not isinstance(props, dict):
                raise InputError(manifest_path, f"artifact {name}: properties must be an object")
            if art.get("type") == "aws:cloudformation:stack":
                file = props.get("templateFile")
                if not isinstance(file, str) or not file:
                    raise InputError(manifest_path, f"artifact {name}: no templateFile")
                shown_file = os.path.join(shown, file)
                real_file = inside(real / file, shown_file)
                if not real_file.is_file():
                    raise InputError(shown_file, "not a file")
                data = read_bytes(shown_file, max_bytes)
                out.append((shown_file, "cfn-template", _json(shown_file, data), data))
            elif art.get("type") == "cdk:cloud-assembly":
                sub = props.get("directoryName")
                if not isinstance(sub, str) or not sub:
                    raise InputError(manifest_path, f"artifact {name}: no directoryName")
                visit(real / sub, os.path.join(shown, sub), depth + 1)

    visit(root, path, 0)
    if not out:
        for file in sorted(root.glob("*.template.json")):
            shown_file = os.path.join(path, file.name)
            inside(file, shown_file)
            data = read_bytes(shown_file, max_bytes)
            out.append((shown_file, "cfn-template", _json(shown_file, data), data))
    if not out:
        raise InputError(path, "cdk.out directory has no stack templates")
    return out


def _json(path: str, data: bytes) -> dict[str, Any]:
    from planguard.load import decode_object

    return decode_object(path, data)


# -- entry points ----------------------------------------------------------------


def load_template_text(path_label: str, text: bytes) -> Template:
    """A template from bytes held in memory (e.g. `git show base:template.yaml`)."""
    from planguard.load import to_utf8
    from planguard.load.cfn_template import decode

    return decode(path_label, to_utf8(path_label, text))


def _read_before(spec: str, max_bytes: int) -> bytes:
    """A `--before` template: a file, or `REF:PATH` for the file at a git ref
    (`origin/main:stacks/app.yaml`), so a branch is compared with its base."""
    from planguard import gitutil
    from planguard.load import read_bytes

    if os.path.exists(spec) or ":" not in spec:
        return read_bytes(spec, max_bytes)

    ref, _, path = spec.partition(":")
    if not ref or not path:
        raise InputError(spec, "expected a file or REF:PATH")
    root = gitutil.toplevel(os.path.dirname(path) or ".")
    rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
    try:
        body = gitutil.GitTree.at(root, ref).read(rel)
    except gitutil.GitError as exc:
        raise InputError(spec, str(exc)) from None
    if body is None:
        raise InputError(spec, f"no file {rel} at {ref}")
    if len(body) > max_bytes:
        raise InputError(spec, "file is over the size limit (raise it with --max-size)")
    return body


def build(items: list[tuple[str, str, Any, bytes]], options: LoadOptions) -> list[Plan]:
    """Plans from CloudFormation inputs; see the module docstring for the rules."""
    current = items[0][0] if items else (options.after or options.before or ["input"])[0]
    try:
        return _build(items, options)
    except InputError:
        raise
    except RecursionError:
        raise InputError(current, "input nested too deeply") from None


def _build(items: list[tuple[str, str, Any, bytes]], options: LoadOptions) -> list[Plan]:
    from planguard.load import read_bytes
    from planguard.load.cfn_changeset import decode as decode_change_set

    change_sets: list[ChangeSet] = []
    templates: list[Template] = []
    notes: list[str] = []
    for path, kind, doc, data in items:
        if kind == "cfn-change-set":
            cs, more = decode_change_set(path, doc)
            change_sets.append(cs)
            notes.extend(more)
        elif kind == "cfn-template":
            templates.append(load_template_text(path, data))
        else:
            raise InputError(path, f"not a CloudFormation input kind: {kind!r}")
    before = [load_template_text(p, _read_before(p, options.max_bytes)) for p in options.before]
    after = [load_template_text(p, read_bytes(p, options.max_bytes)) for p in options.after]
    plans = []
    if change_sets:
        plans.append(_change_set_plan(change_sets, templates, notes))
        templates = []
    if before or after:
        if before and after and len(before) != len(after):
            extra = (options.before if len(before) > len(after) else options.after)[
                min(len(before), len(after))
            ]
            raise InputError(
                extra,
                f"--before and --after pair by position: {len(before)} --before "
                f"but {len(after)} --after",
            )
        n = max(len(before), len(after))
        pairs = [(before[i] if before else None, after[i] if after else None) for i in range(n)]
        plans.append(predict_templates(pairs, templates))
        templates = []
    if templates:
        plans.append(_templates_plan(templates))
    return plans


# -- stacks and their assembly into a Plan ---------------------------------------


@dataclass
class _Stack:
    """One stack (or nested stack) of a plan: its changes and its graph source."""

    prefix: str
    stack_name: str
    template: Template | None = None
    before: Template | None = None  # predicted plans: edges of removed resources
    changes: list[Change] = field(default_factory=list)
    cs_edges: list[tuple[str, str, str]] = field(default_factory=list)


def _label(path: str) -> str:
    name = os.path.basename(path.rstrip("/\\")) or path
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _unique(labels: Iterable[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        candidate, n = label, 1
        while candidate in out:
            n += 1
            candidate = f"{label}-{n}"
        out.append(candidate)
    return out


def _noop_changes(template: Template, prefix: str, known: set[str]) -> list[Change]:
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


def _assemble(
    source: str,
    kind: PlanKind,
    stacks: list[_Stack],
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


def _nodes(source: str, stacks: list[_Stack]) -> tuple[list[Change], dict[str, Resource]]:
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
    stacks: list[_Stack], link: Callable[[str, str, str], None]
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
    stacks: list[_Stack], exports: dict[str, list[str]], link: Callable[[str, str, str], None]
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


def _templates_plan(templates: list[Template]) -> Plan:
    labels = _unique(_label(t.path) for t in templates)
    many = len(templates) > 1
    stacks = []
    for label, t in zip(labels, templates, strict=True):
        prefix = f"{label}/" if many else ""
        stacks.append(_Stack(prefix, label, t, changes=_noop_changes(t, prefix, set())))
    notes = [
        "templates reviewed without --before: nothing is predicted to change; "
        "every resource is listed as unchanged (give --before to predict changes)"
    ]
    return _assemble(
        ", ".join(t.path for t in templates), PlanKind.CFN_TEMPLATES, stacks, notes=notes
    )


def predict_templates(
    pairs: list[tuple[Template | None, Template | None]],
    unchanged: list[Template] | None = None,
    source: str | None = None,
) -> Plan:
    """A predicted plan from (before, after) template pairs of the same stacks.

    `None` on one side means the stack is new (no before) or deleted (no after).
    `unchanged` templates join the review as stacks that do not change.
    """
    from planguard.load.cfn_predict import output_changes, predict

    unchanged = unchanged or []
    pairs = [(b, a) for b, a in pairs if b is not None or a is not None]
    if not pairs:
        raise InputError(source or "templates", "no templates to compare")
    labels = _unique(
        [_label((a or b).path) for b, a in pairs]  # type: ignore[union-attr]
        + [_label(t.path) for t in unchanged]
    )
    many = len(labels) > 1
    stacks: list[_Stack] = []
    outputs: list[OutputChange] = []
    for label, (b, a) in zip(labels, pairs, strict=False):
        prefix = f"{label}/" if many else ""
        stacks.append(_Stack(prefix, label, a, before=b, changes=predict(b, a, prefix)))
        for oc in output_changes(b, a):
            outputs.append(OutputChange(prefix + oc.name, oc.action, oc.sensitive))
    for label, t in zip(labels[len(pairs) :], unchanged, strict=True):
        prefix = f"{label}/" if many else ""
        stacks.append(_Stack(prefix, label, t, changes=_noop_changes(t, prefix, set())))
    if source is None:
        source = ", ".join(
            f"{b.path} → {a.path}"
            if a and b
            else f"(new) → {a.path}"
            if a
            else f"{b.path} → (deleted)"  # type: ignore[union-attr]
            for b, a in pairs
        )
    notes = [
        "predicted from templates, without AWS: replacements follow the createOnlyProperties "
        "and conditionalCreateOnlyProperties of cfn-lint's bundled resource schemas; "
        "parameter values given at deploy time, conditions, transforms and drift are not "
        "evaluated — a change set from CloudFormation is authoritative"
    ]
    return _assemble(
        source, PlanKind.CFN_TEMPLATES, stacks, predicted=True, notes=notes, outputs=outputs
    )


# -- change sets -------------------------------------------------------------------


def _fits(cs: ChangeSet, template: Template) -> bool:
    ids = set(template.resources)
    return cs.present_after() <= ids and not (cs.removed() & ids)


def _change_set_plan(
    change_sets: list[ChangeSet], templates: list[Template], notes: list[str]
) -> Plan:
    """One plan of change sets (nested ones under their parents' stacks), with
    the templates given alongside as their graphs or as unchanged stacks."""
    from planguard.load.cfn_changeset import causing_edges, to_change

    parent = _parents(change_sets, notes)
    paired, extra = _pair(change_sets, templates)
    roots = [cs for cs in change_sets if id(cs) not in parent]
    labels = _unique(
        [cs.doc.StackName or _label(cs.path) for cs in roots] + [_label(t.path) for t in extra]
    )
    root_prefix = {}
    many = len(labels) > 1
    for label, cs in zip(labels, roots, strict=False):
        root_prefix[id(cs)] = f"{label}/" if many else ""
    stacks: list[_Stack] = []
    errored = False
    for cs in change_sets:
        prefix = root_prefix[id(_root(cs, parent))] + "".join(
            f"{lid}/" for lid in _chain(cs, parent)
        )
        t = paired.get(id(cs))
        noecho = cs.noecho | (t.noecho if t else frozenset())
        changes = [to_change(cs, rc, prefix, t, noecho) for rc in cs.changes]
        if t is not None:
            changes.extend(_noop_changes(t, prefix, cs.ids))
        stacks.append(
            _Stack(
                prefix,
                cs.doc.StackName or _label(cs.path),
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
        stacks.append(_Stack(prefix, label, t, changes=_noop_changes(t, prefix, set())))
    if not templates:
        notes.append(
            "change set reviewed without its template: dependencies are only those the "
            "change set names (give the template alongside for the full graph)"
        )
    source = ", ".join([cs.path for cs in change_sets] + [t.path for t in templates])
    return _assemble(source, PlanKind.CFN_CHANGE_SET, stacks, notes=notes, errored=errored)


# A nested change set -> (its parent, the parent's logical id of the nested stack).
_Parents = dict[int, tuple["ChangeSet", str]]


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
    while id(cs) in parent:
        cs = parent[id(cs)][0]
    return cs


def _pair(
    change_sets: list[ChangeSet], templates: list[Template]
) -> tuple[dict[int, Template], list[Template]]:
    """Templates paired with change sets by content (see the module docstring):
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
