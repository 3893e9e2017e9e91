"""Dependency edges of a source configuration, resolved like a plan's configuration.

The parsed modules are shaped like the plan JSON `configuration` that
planguard.load.tfrefs.ConfigIndex reads, so vars, module outputs, depends_on and
count/for_each resolve in module scope exactly as for plans; `local.x` is
expanded first (plans do not show locals).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from planguard.load import hcl_parse
from planguard.load.hcl_parse import Configuration, ModulePath
from planguard.load.tfrefs import ConfigIndex


@dataclass
class _Res:
    address: str
    mode: str
    expressions: bytes
    count_expression: bytes
    for_each_expression: bytes = b"null"
    depends_on: tuple[str, ...] = ()


@dataclass
class _Out:
    expression: bytes
    depends_on: tuple[str, ...] = ()


@dataclass
class _Call:
    expressions: bytes
    count_expression: bytes
    for_each_expression: bytes
    depends_on: list[str]
    module: Any


@dataclass
class _Mod:
    resources: list[_Res]
    module_calls: dict[str, _Call]
    outputs: dict[str, _Out]


def _refs(refs: Iterable[str]) -> bytes:
    return msgspec.json.encode({"references": list(refs)})


def _expand_locals(module: hcl_parse.Module, refs: list[str]) -> list[str]:
    """References through `local.x` stand for whatever `x` refers to."""
    out: list[str] = []
    seen: set[str] = set()
    stack = list(refs)
    while stack:
        ref = stack.pop()
        if ref.startswith("local."):
            name = ref.split(".")[1].split("[")[0]
            if name not in seen:
                seen.add(name)
                stack.extend(module.locals.get(name, ()))
        else:
            out.append(ref)
    return out


def _index_module(config: Configuration, path: ModulePath) -> _Mod:
    module = config.modules[path]
    res = []
    for r in module.resources.values():
        res.append(
            _Res(
                address=r.local_address,
                mode=r.mode,
                expressions=_refs(_expand_locals(module, r.refs)),
                count_expression=_refs(_expand_locals(module, r.count_refs)),
                depends_on=tuple(_expand_locals(module, r.depends_on)),
            )
        )
    calls = {}
    for name, call in module.calls.items():
        child = (*path, name)
        calls[name] = _Call(
            expressions=msgspec.json.encode(
                {k: {"references": _expand_locals(module, v)} for k, v in call.inputs.items()}
            ),
            count_expression=_refs(_expand_locals(module, call.count_refs)),
            for_each_expression=b"null",
            depends_on=_expand_locals(module, call.depends_on),
            module=_index_module(config, child) if child in config.modules else None,
        )
    outputs = {k: _Out(_refs(_expand_locals(module, v))) for k, v in module.outputs.items()}
    return _Mod(res, calls, outputs)


def edges(config: Configuration) -> set[tuple[str, str, str]]:
    """(dependent, dependency, via) between config addresses, resolved in module scope."""
    if () not in config.modules:
        return set()
    index = ConfigIndex(_index_module(config, ()))
    out = set()
    for source, targets in index.resource_targets().items():
        for item in targets:
            # (target, key, …, via): only the config address and how it is known
            # matter here, since sources have no instance keys.
            target, via = item[0], item[-1]
            if target != source:
                out.add((source, target, via))
    return out
