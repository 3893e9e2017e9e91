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

Stacks are assembled into a plan by planguard.load.cfn_stacks; change sets
become one by planguard.load.cfn_changeset_plan.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planguard.errors import InputError
from planguard.load.cfn_stacks import Stack, assemble, noop_changes, stack_label, unique_labels
from planguard.model import OutputChange, Plan, PlanKind

if TYPE_CHECKING:
    from planguard.load.cfn_changeset import ChangeSet
    from planguard.load.cfn_template import Template
    from planguard.load.files import LoadOptions

_YAML_TEMPLATE = re.compile(rb"^(Resources|AWSTemplateFormatVersion)[ \t]*:", re.MULTILINE)
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
    from planguard.load.files import read_bytes

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
    from planguard.load.files import decode_object

    return decode_object(path, data)


# -- entry points ----------------------------------------------------------------


def load_template_text(path_label: str, text: bytes) -> Template:
    """A template from bytes held in memory (e.g. `git show base:template.yaml`)."""
    from planguard.load.cfn_template import decode
    from planguard.load.files import to_utf8

    return decode(path_label, to_utf8(path_label, text))


def _read_before(spec: str, max_bytes: int) -> bytes:
    """A `--before` template: a file, or `REF:PATH` for the file at a git ref
    (`origin/main:stacks/app.yaml`), so a branch is compared with its base."""
    from planguard import gitutil
    from planguard.load.files import read_bytes

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
    from planguard.load.cfn_changeset import decode as decode_change_set
    from planguard.load.files import read_bytes

    change_sets: list[ChangeSet] = []
    templates: list[Template] = []
    notes: list[str] = []
    for path, kind, doc, data in items:
        if kind == "cfn-change-set":
            change_sets.append(decode_change_set(path, doc))
        elif kind == "cfn-template":
            templates.append(load_template_text(path, data))
        else:
            raise InputError(path, f"not a CloudFormation input kind: {kind!r}")
    before = [load_template_text(p, _read_before(p, options.max_bytes)) for p in options.before]
    after = [load_template_text(p, read_bytes(p, options.max_bytes)) for p in options.after]
    plans = []
    if change_sets:
        from planguard.load.cfn_changeset_plan import change_set_plan

        plans.append(change_set_plan(change_sets, templates, notes))
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


# -- plans of templates --------------------------------------------------------------


def _templates_plan(templates: list[Template]) -> Plan:
    labels = unique_labels(stack_label(t.path) for t in templates)
    many = len(templates) > 1
    stacks = []
    for label, t in zip(labels, templates, strict=True):
        prefix = f"{label}/" if many else ""
        stacks.append(Stack(prefix, label, t, changes=noop_changes(t, prefix, set())))
    notes = [
        "templates reviewed without --before: nothing is predicted to change; "
        "every resource is listed as unchanged (give --before to predict changes)"
    ]
    return assemble(
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
    labels = unique_labels(
        [stack_label((a or b).path) for b, a in pairs]  # type: ignore[union-attr]
        + [stack_label(t.path) for t in unchanged]
    )
    many = len(labels) > 1
    stacks: list[Stack] = []
    outputs: list[OutputChange] = []
    for label, (b, a) in zip(labels, pairs, strict=False):
        prefix = f"{label}/" if many else ""
        stacks.append(Stack(prefix, label, a, before=b, changes=predict(b, a, prefix)))
        for oc in output_changes(b, a):
            outputs.append(OutputChange(prefix + oc.name, oc.action, oc.sensitive))
    for label, t in zip(labels[len(pairs) :], unchanged, strict=True):
        prefix = f"{label}/" if many else ""
        stacks.append(Stack(prefix, label, t, changes=noop_changes(t, prefix, set())))
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
    for _, a in pairs:
        if a is not None and a.includes:
            notes.append(
                f"{a.path}: Resources has an Fn::Transform (AWS::Include or a macro): the "
                "resources it adds or redefines are not known here, so every resource of "
                "the stack that could be replaced is shown as possibly replaced"
            )
    return assemble(
        source, PlanKind.CFN_TEMPLATES, stacks, predicted=True, notes=notes, outputs=outputs
    )
