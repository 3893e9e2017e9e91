"""CloudFormation templates (JSON or YAML with short-form intrinsics) read into plain data.

cfn-lint's decoder does the parsing: it understands `!Ref`/`!GetAtt`/`!Sub`…,
rejects duplicate keys (so duplicate logical ids), bounds YAML alias expansion,
and keeps source marks, from which each resource gets its line. Everything
after decoding works on plain dicts, lists and scalars.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planguard.errors import InputError

# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resources-section-structure.html
LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")  # fullmatch
INCLUDE = "Fn::Transform"
_POLICIES = frozenset({"Delete", "Retain", "Snapshot", "RetainExceptOnCreate"})
_QUOTE = re.compile("['\"`]")
_DUPLICATE = re.compile(r"Duplicate found '([^']*)'")
_MARK = re.compile(r"line (\d+), column (\d+)")
_LINE_NOTE = re.compile(r"\s*\(?\bline \d+\)?")
_SUB_VAR = re.compile(r"\$\{([^!}][^}]*)\}")
# Dynamic references whose resolved value is a secret. `{{resolve:ssm:…}}` is plain.
SECRET_DYNAMIC_REF = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")
# Resource-level settings whose change is an update of the resource itself.
RESOURCE_SETTINGS = (
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
)


@dataclass(frozen=True)
class Ref:
    """One reference from a resource to another name in the template."""

    via: str  # "ref", "getatt", "sub", "depends_on" or "condition" (inside Fn::If)
    target: str
    attribute: str | None = None


@dataclass
class TemplateResource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    line: int | None
    body: dict[str, Any]  # the whole resource, plain data
    depends_on: tuple[str, ...] = ()
    condition: str | None = None
    deletion_policy: str | None = None
    update_replace_policy: str | None = None
    refs: list[Ref] = field(default_factory=list)
    imports: list[Any] = field(default_factory=list)  # Fn::ImportValue name expressions
    ignores: tuple[tuple[str, str], ...] = ()

    def side(self) -> dict[str, Any]:
        """The value kept in `Attributes`: properties plus the data-protection settings."""
        out: dict[str, Any] = {"Properties": self.properties}
        for key in ("DeletionPolicy", "UpdateReplacePolicy"):
            if key in self.body:
                out[key] = self.body[key]
        return out


@dataclass
class Template:
    path: str
    resources: dict[str, TemplateResource]
    parameters: dict[str, dict[str, Any]]
    noecho: frozenset[str]
    outputs: dict[str, dict[str, Any]]
    mappings: dict[str, Any]
    conditions: dict[str, Any]
    transform: bool = False
    includes: bool = False  # Resources has an Fn::Transform (AWS::Include, a macro)
    nested_urls: dict[str, str] = field(default_factory=dict)  # logical id -> TemplateURL

    def sensitive_mask(self, value: Any) -> Any:
        """A mask (True / dict / list / None) over `value` for NoEcho and secret references."""
        return secret_mask(value, self.noecho)

    def export_names(self) -> Iterator[tuple[str, Any, set[str]]]:
        """(output name, Export.Name expression, logical ids its Value refers to)."""
        for name, out in self.outputs.items():
            export = out.get("Export")
            if not isinstance(export, dict):
                continue
            refs: list[Ref] = []
            walk_refs(out.get("Value"), refs, [], in_if=False)
            targets = {r.target for r in refs if r.target in self.resources}
            yield name, export.get("Name"), targets


def decode(path: str, text: bytes) -> Template:
    """Parse template bytes; any problem is an InputError naming `path`."""
    try:
        source = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (bad byte at offset {exc.start})") from None
    import yaml
    from cfnlint.decode import decode_str

    try:
        raw, matches = decode_str(source)
    except RecursionError:
        raise InputError(path, "template nested too deeply") from None
    except (yaml.YAMLError, ValueError) as exc:  # JSON and YAML errors it does not report
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise InputError(path, parse_problem(problem, line, column)) from None
    if matches or raw is None:
        first = matches[0] if matches else None
        msg = getattr(first, "message", "") or "cannot parse template"
        line = getattr(first, "linenumber", None)
        column = getattr(first, "columnnumber", None)
        raise InputError(path, parse_problem(msg, line, column))
    try:
        return _template(path, raw)
    except RecursionError:
        raise InputError(path, "template nested too deeply") from None


def parse_problem(message: str, line: int | None, column: int | None) -> str:
    """A parser's message as the kind of problem and where, without the input's
    text: YAML and JSON errors quote the offending token, tag or line (which can
    be a secret), so everything from the first quote on is dropped."""
    mark = _MARK.search(message)  # PyYAML's own "line 5, column 27", when it gives one
    if mark:
        line, column = int(mark.group(1)), int(mark.group(2))
    text = message.split("\n", 1)[0].removeprefix("Template could not be parsed: ")
    duplicate = _DUPLICATE.match(text)
    if duplicate:
        name = shown(duplicate.group(1))
        text = f"Duplicate found '{name}'" if name else "Duplicate found"
    else:
        text = _QUOTE.split(text, 1)[0]
    text = _LINE_NOTE.sub("", text).strip().rstrip(":,").strip() or "cannot parse template"
    where = ", ".join(
        f"{word} {n}" for word, n in (("line", line), ("column", column)) if n and n > 0
    )
    return f"cannot parse template: {text[:100]}" + (f" ({where})" if where else "")


def _what(kind: str, name: str, line: int | None) -> str:
    """ "parameter Name", or for a name that is not a logical id "a parameter (line 3)"."""
    if LOGICAL_ID.fullmatch(name):
        return f"{kind} {name}"
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{article} {kind}" + (f" (line {line})" if line else "")


def shown(name: str) -> str:
    """A name from the input as it may appear in a message: a logical id (letters
    and digits, as every report shows it), else nothing of it."""
    return name if LOGICAL_ID.fullmatch(name) else ""


def _plain(node: Any, path: str) -> Any:
    """cfn-lint's nodes (str/dict/list subclasses with marks) as plain values."""
    if isinstance(node, dict):
        return {str(k): _plain(v, path) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, path) for v in node]
    if isinstance(node, str):
        return str(node)
    if node is None or isinstance(node, (bool, int, float)):
        return node
    if isinstance(node, (dt.date, dt.datetime)):
        return node.isoformat()
    raise InputError(path, f"unsupported value in template: {type(node).__name__}")


def _line(key: Any) -> int | None:
    mark = getattr(key, "start_mark", None)
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else None


def _section(path: str, doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(path, f"{name} must be a mapping, not {type(value).__name__}")
    return value


def _template(path: str, raw: Any) -> Template:
    if not isinstance(raw, dict):
        raise InputError(path, f"a template must be a mapping, not {type(raw).__name__}")
    if "Resources" not in raw:
        raise InputError(path, "not a CloudFormation template: no Resources section")
    lines = {
        name: {str(k): _line(k) for k in raw[name]}
        for name in ("Resources", "Parameters", "Outputs")
        if isinstance(raw.get(name), dict)
    }
    doc = _plain(raw, path)
    resources_raw = doc.get("Resources")
    if not isinstance(resources_raw, dict):
        raise InputError(path, "Resources must be a mapping")
    parameters = _section(path, doc, "Parameters")
    noecho = set()
    for name, param in parameters.items():
        what = _what("parameter", name, lines.get("Parameters", {}).get(name))
        if not isinstance(param, dict) or not isinstance(param.get("Type"), str):
            raise InputError(path, f"{what}: must be a mapping with a Type")
        flag = param.get("NoEcho", False)
        if isinstance(flag, str) and flag.lower() in ("true", "false"):
            flag = flag.lower() == "true"
        if not isinstance(flag, bool):
            raise InputError(path, f"{what}: NoEcho must be true or false")
        if flag:
            noecho.add(name)
    outputs = _section(path, doc, "Outputs")
    for name, out in outputs.items():
        what = _what("output", name, lines.get("Outputs", {}).get(name))
        if not isinstance(out, dict) or "Value" not in out:
            raise InputError(path, f"{what}: must be a mapping with a Value")
        export = out.get("Export")
        if export is not None and (not isinstance(export, dict) or "Name" not in export):
            raise InputError(path, f"{what}: Export must be a mapping with a Name")
        problem = intrinsic_problem(out)
        if problem:
            raise InputError(path, f"{what}: {problem}")
    transform = doc.get("Transform") is not None
    # Fn::Transform as a key of Resources (AWS::Include, a macro) adds resources
    # from elsewhere (an S3 object, a Lambda): what they are is not known here.
    includes = resources_raw.pop(INCLUDE, None) is not None
    resources = {}
    for logical_id, body in resources_raw.items():
        line = lines.get("Resources", {}).get(logical_id)
        if not LOGICAL_ID.fullmatch(logical_id):
            at = f" (line {line})" if line else ""
            raise InputError(path, f"a resource's logical id is not letters and digits{at}")
        if logical_id in parameters:
            raise InputError(
                path, f"duplicate logical id {logical_id} (a parameter and a resource)"
            )
        resources[logical_id] = _resource(path, logical_id, body, line)
    for res in resources.values():
        for dep in res.depends_on:
            if dep not in resources and not (transform or includes):
                raise InputError(
                    path,
                    f"resource {res.logical_id}: DependsOn names no resource of the "
                    f"template {shown(dep)}".rstrip(),
                )
    template = Template(
        path=path,
        resources=resources,
        parameters=parameters,
        noecho=frozenset(noecho),
        outputs=outputs,
        mappings=_section(path, doc, "Mappings"),
        conditions=_section(path, doc, "Conditions"),
        transform=transform,
        includes=includes,
    )
    for res in resources.values():
        url = res.properties.get("TemplateURL")
        if res.type == "AWS::CloudFormation::Stack" and isinstance(url, str):
            template.nested_urls[res.logical_id] = url
    return template


def _policy(path: str, logical_id: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in _POLICIES:
            known = ", ".join(sorted(_POLICIES))
            raise InputError(path, f"resource {logical_id}: unknown {key} (one of {known})")
        return value
    if isinstance(value, dict):
        # An intrinsic (Fn::If, Ref to a parameter): unknown until deployed, so
        # nothing is promised and the default (Delete) is assumed.
        return None
    raise InputError(path, f"resource {logical_id}: {key} must be a string")


def _resource(path: str, logical_id: str, body: Any, line: int | None) -> TemplateResource:
    if not isinstance(body, dict):
        raise InputError(path, f"resource {logical_id}: must be a mapping")
    rtype = body.get("Type")
    if not isinstance(rtype, str) or not rtype:
        raise InputError(path, f"resource {logical_id}: Type must be a non-empty string")
    props = body.get("Properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise InputError(path, f"resource {logical_id}: Properties must be a mapping")
    deps = body.get("DependsOn", ())
    if isinstance(deps, str):
        deps = (deps,)
    if not isinstance(deps, (list, tuple)) or not all(isinstance(d, str) for d in deps):
        raise InputError(path, f"resource {logical_id}: DependsOn must be a name or list of names")
    condition = body.get("Condition")
    if condition is not None and not isinstance(condition, str):
        raise InputError(path, f"resource {logical_id}: Condition must be a string")
    metadata = body.get("Metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError(path, f"resource {logical_id}: Metadata must be a mapping")
    res = TemplateResource(
        logical_id=logical_id,
        type=rtype,
        properties=props,
        line=line,
        body=body,
        depends_on=tuple(deps),
        condition=condition,
        deletion_policy=_policy(path, logical_id, "DeletionPolicy", body.get("DeletionPolicy")),
        update_replace_policy=_policy(
            path, logical_id, "UpdateReplacePolicy", body.get("UpdateReplacePolicy")
        ),
        ignores=_ignores(path, logical_id, metadata or {}),
    )
    problem = intrinsic_problem(props)
    if problem:
        at = f" (line {line})" if line else ""
        raise InputError(path, f"resource {logical_id}{at}: {problem} in Properties")
    walk_refs(props, res.refs, res.imports, in_if=False)
    res.refs.extend(Ref("depends_on", d) for d in res.depends_on)
    return res


def _ignores(path: str, logical_id: str, metadata: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """`Metadata: {planguard: {ignore: [{id: PG101, reason: why}]}}` (or `{PG101: why}`)."""
    own = metadata.get("planguard")
    if own is None:
        return ()
    ignore = own.get("ignore") if isinstance(own, dict) else None
    items: list[tuple[Any, Any]]
    if isinstance(ignore, dict):
        items = list(ignore.items())
    elif isinstance(ignore, list) and all(isinstance(i, dict) for i in ignore):
        items = [(i.get("id"), i.get("reason", "")) for i in ignore]
    else:
        raise InputError(
            path, f"resource {logical_id}: Metadata.planguard.ignore must list {{id, reason}}"
        )
    out = []
    for check_id, reason in items:
        if not isinstance(check_id, str) or not isinstance(reason, str):
            raise InputError(path, f"resource {logical_id}: bad Metadata.planguard.ignore entry")
        out.append((check_id, reason))
    return tuple(out)


def sub_names(text: str) -> Iterator[tuple[str, str | None]]:
    """Names a Fn::Sub string refers to: `${Res}`, `${Res.Attr}` (not `${!Literal}`)."""
    for match in _SUB_VAR.finditer(text):
        name = match.group(1).strip()
        if name.startswith("AWS::"):
            continue
        base, _, attr = name.partition(".")
        yield base, attr or None


def walk_refs(node: Any, out: list[Ref], imports: list[Any], *, in_if: bool) -> None:
    """Collect Ref/GetAtt/Sub references (and Fn::ImportValue names) under `node`."""
    if isinstance(node, list):
        for item in node:
            walk_refs(item, out, imports, in_if=in_if)
        return
    if not isinstance(node, dict):
        return
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str):
            out.append(Ref("condition" if in_if else "ref", value))
            return
        if key == "Fn::GetAtt":
            attr: str | None
            if isinstance(value, str) and "." in value:
                base, attr = value.split(".", 1)
                out.append(Ref("condition" if in_if else "getatt", base, attr))
                return
            if isinstance(value, list) and value and isinstance(value[0], str):
                attr = value[1] if len(value) > 1 and isinstance(value[1], str) else None
                out.append(Ref("condition" if in_if else "getatt", value[0], attr))
                walk_refs(value[1:], out, imports, in_if=in_if)
                return
        if key == "Fn::Sub":
            text: str | None
            variables: dict[Any, Any] | None
            text, variables = (value, {}) if isinstance(value, str) else (None, None)
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                text, variables = value[0], value[1] if isinstance(value[1], dict) else {}
            if text is not None:
                assert variables is not None  # set together with text
                for base, attr in sub_names(text):
                    if base not in variables:
                        out.append(Ref("condition" if in_if else "sub", base, attr))
                walk_refs(list(variables.values()), out, imports, in_if=in_if)
                return
        if key == "Fn::If" and isinstance(value, list) and len(value) == 3:
            walk_refs(value[1:], out, imports, in_if=True)
            return
        if key == "Fn::ImportValue":
            imports.append(value)
    for item in node.values():
        walk_refs(item, out, imports, in_if=in_if)


# The intrinsic functions a template may use outside Rules:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
# (Fn::ForEach::Name comes with the AWS::LanguageExtensions transform; cfn-lint
# also knows Fn::GetStackOutput.)
_FUNCTIONS = frozenset(
    {
        "Fn::And",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::Contains",
        "Fn::Equals",
        "Fn::FindInMap",
        "Fn::GetAtt",
        "Fn::GetAZs",
        "Fn::GetStackOutput",
        "Fn::If",
        "Fn::ImportValue",
        "Fn::Join",
        "Fn::Length",
        "Fn::Not",
        "Fn::Or",
        "Fn::Select",
        "Fn::Split",
        "Fn::Sub",
        "Fn::ToJsonString",
        "Fn::Transform",
    }
)


def intrinsic_problem(node: Any) -> str | None:
    """What is wrong with the intrinsic functions under `node`, if anything: an
    unknown `Fn::` (an unknown YAML tag becomes one), or a Ref, Fn::GetAtt, Fn::Sub
    or Fn::If of a shape CloudFormation rejects. The graph is built from these
    references; one that cannot be read would be a dependency silently missed."""
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, list):
            todo.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if len(item) == 1:
            ((key, value),) = item.items()
            if key.startswith("Fn::") and not (
                key in _FUNCTIONS or key.startswith("Fn::ForEach::")
            ):
                name = shown(key[4:])
                return f"unknown intrinsic function {'Fn::' + name if name else ''}".rstrip()
            problem = _shape_problem(key, value)
            if problem:
                return problem
        todo.extend(item.values())
    return None


def _shape_problem(key: str, value: Any) -> str | None:
    if key == "Ref" and not (isinstance(value, str) and value):
        return "Ref must name a resource or parameter"
    if key == "Fn::GetAtt":
        if isinstance(value, str):
            base, _, attr = value.partition(".")
            ok = bool(base and attr)
        else:
            ok = (
                isinstance(value, list)
                and len(value) == 2
                and isinstance(value[0], str)
                and bool(value[0])
                and isinstance(value[1], (str, dict))
            )
        if not ok:
            return "Fn::GetAtt must be [resource, attribute] or resource.attribute"
    if key == "Fn::Sub" and not (
        isinstance(value, str)
        or (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], dict)
        )
    ):
        return "Fn::Sub must be a string or [string, {variables}]"
    if key == "Fn::If" and not (
        isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
    ):
        return "Fn::If must be [condition, value if true, value if false]"
    return None


def _is_intrinsic(node: dict[str, Any]) -> bool:
    if len(node) != 1:
        return False
    key = next(iter(node))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _mentions_secret(node: Any, noecho: frozenset[str]) -> bool:
    if isinstance(node, str):
        return bool(SECRET_DYNAMIC_REF.search(node))
    if isinstance(node, list):
        return any(_mentions_secret(i, noecho) for i in node)
    if isinstance(node, dict):
        refs: list[Ref] = []
        walk_refs(node, refs, [], in_if=False)
        if any(r.target in noecho for r in refs):
            return True
        return any(_mentions_secret(v, noecho) for v in node.values())
    return False


def secret_mask(value: Any, noecho: frozenset[str]) -> Any:
    """True where a value is, or is built from, a NoEcho parameter or a secret dynamic
    reference; a dict/list of such marks below; None where nothing is secret."""
    if isinstance(value, str):
        return True if SECRET_DYNAMIC_REF.search(value) else None
    if isinstance(value, dict):
        if _is_intrinsic(value):
            return True if _mentions_secret(value, noecho) else None
        mask = {k: m for k, v in value.items() if (m := secret_mask(v, noecho)) is not None}
        return mask or None
    if isinstance(value, list):
        marks = [secret_mask(v, noecho) for v in value]
        return marks if any(m is not None for m in marks) else None
    return None


def literal(node: Any, stack_name: str, parameters: dict[str, dict[str, Any]]) -> str | None:
    """The string an export name expression evaluates to, where it can be known statically.

    `${AWS::StackName}` is the stack's name; parameters take their Default;
    other pseudo parameters stay as written (`${AWS::Region}`), on both sides of a match.
    """
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return str(node)
    if not isinstance(node, dict) or len(node) != 1:
        return None
    ((key, value),) = node.items()
    if key == "Ref" and isinstance(value, str):
        if value == "AWS::StackName":
            return stack_name
        if value.startswith("AWS::"):
            return "${" + value + "}"
        default = parameters.get(value, {}).get("Default")
        return literal(default, stack_name, parameters) if default is not None else None
    if key == "Fn::Sub":
        text, variables = (value, {}) if isinstance(value, str) else (None, {})
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
            text = value[0]
            variables = value[1] if isinstance(value[1], dict) else {}
        if text is None:
            return None
        failed = False

        def repl(match: re.Match[str]) -> str:
            nonlocal failed
            name = match.group(1).strip()
            if name in variables:
                got = literal(variables[name], stack_name, parameters)
            else:
                got = literal({"Ref": name}, stack_name, parameters) if "." not in name else None
            if got is None:
                failed = True
                return ""
            return got

        result = _SUB_VAR.sub(repl, text).replace("${!", "${")
        return None if failed else result
    if key == "Fn::Join" and isinstance(value, list) and len(value) == 2:
        delim, parts = value
        if not isinstance(delim, str) or not isinstance(parts, list):
            return None
        got = [literal(p, stack_name, parameters) for p in parts]
        return None if any(g is None for g in got) else delim.join(got)  # type: ignore[arg-type]
    return None
