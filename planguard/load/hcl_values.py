"""Values in python-hcl2's serialised blocks: literals, expressions and references.

python-hcl2 serialises a literal as its value (strings keep their quotes) and
an expression as its source text wrapped in `${...}`. `value` turns either
into plain data, with expressions left as text; `references` finds the
traversals (`aws_vpc.main.id`, `var.x`, `module.m.out`) an expression makes,
which is all the dependency graph and the prediction need of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# A traversal: root.attr.attr with optional [index] steps.
_TRAVERSAL = re.compile(
    r"(?<![\w.\])\"'-])([A-Za-z_][\w-]*(?:\[[^\[\]]*\])?(?:\.[A-Za-z_][\w-]*(?:\[[^\[\]]*\])?)+)"
)
_INDEX = re.compile(r"\[([^\[\]]*)\]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def value(raw: Any) -> Any:
    """A serialised hcl2 value as plain data; expressions keep their source text."""
    if isinstance(raw, str):
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            return raw[1:-1]
        return raw
    if isinstance(raw, list):
        return [value(v) for v in raw]
    if isinstance(raw, dict):
        return {unquote(str(k)): value(v) for k, v in raw.items() if k != "__is_block__"}
    return raw


def is_expression(v: Any) -> bool:
    """True when a value is (or contains) something only Terraform can evaluate."""
    if isinstance(v, str):
        return "${" in v
    if isinstance(v, list):
        return any(is_expression(x) for x in v)
    if isinstance(v, dict):
        return any(is_expression(x) for x in v.values())
    return False


def _interpolations(text: str) -> Iterable[str]:
    """The insides of every `${...}` in a string, nesting respected."""
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            return
        depth, j = 1, start + 2
        while j < len(text) and depth:
            ch = text[j]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            j += 1
        yield text[start + 2 : j - 1]
        i = j


def normalise(ref: str) -> str:
    """`aws_x.y[count.index].id` → `aws_x.y.id`: keep only literal instance keys."""

    def keep(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        if inner.isdigit() or (len(inner) >= 2 and inner[0] == inner[-1] == '"'):
            return f"[{inner}]"
        return ""

    return _INDEX.sub(keep, ref)


def references(v: Any) -> list[str]:
    """Every traversal (`aws_vpc.main.id`, `var.x`, `module.m.out`) inside a value."""
    out: list[str] = []
    stack = [v]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            for inner in _interpolations(item):
                # Nested templates are references too; plain quoted text is not.
                strings = [m.span() for m in _STRING.finditer(inner)]
                for m in _TRAVERSAL.finditer(inner):
                    if not any(a <= m.start() < b for a, b in strings):
                        out.append(normalise(m.group(1)))
                stack.extend(s for s in _STRING.findall(inner) if "${" in s)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return out


def ref_list(v: Any) -> list[str]:
    """A list of bare references, as in depends_on and moved.from (`${a.b}` or `a.b`)."""
    items = v if isinstance(v, list) else [v]
    out = []
    for item in items:
        if not isinstance(item, str):
            continue
        text = item[2:-1] if item.startswith("${") and item.endswith("}") else item
        out.append(normalise(text.strip()))
    return out
