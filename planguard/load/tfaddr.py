"""Terraform addresses: `module.a["x"].module.b[0].data.aws_ami.this[2]`.

Parsed by hand because instance keys are arbitrary strings (dots, brackets
and escaped quotes are all legal inside `["..."]`).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

Key = int | str | None
ModuleStep = tuple[str, Key]


class AddressError(ValueError):
    pass


@dataclass(frozen=True)
class Address:
    modules: tuple[ModuleStep, ...]
    mode: str  # "managed" or "data"
    type: str
    name: str
    key: Key

    @functools.cached_property
    def module_path(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.modules)

    @functools.cached_property
    def module(self) -> str:
        return format_modules(self.modules)

    @functools.cached_property
    def config_address(self) -> str:
        return config_address(self.module_path, self.mode, self.type, self.name)


def format_key(key: Key) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


def format_modules(steps: tuple[ModuleStep, ...]) -> str:
    return ".".join(f"module.{name}{format_key(key)}" for name, key in steps)


def config_address(module_path: tuple[str, ...], mode: str, type_: str, name: str) -> str:
    local = f"data.{type_}.{name}" if mode == "data" else f"{type_}.{name}"
    prefix = "".join(f"module.{m}." for m in module_path)
    return prefix + local


def split(text: str) -> list[tuple[str, Key]]:
    """Split an address or reference into (name, key) segments."""
    out: list[tuple[str, Key]] = []
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and text[j] not in ".[":
            j += 1
        name = text[i:j]
        if not name:
            raise AddressError(f"empty name at position {i} in {text!r}")
        key: Key = None
        if j < n and text[j] == "[":
            key, j = _read_key(text, j)
        out.append((name, key))
        if j < n:
            if text[j] != ".":
                raise AddressError(f"unexpected {text[j]!r} at position {j} in {text!r}")
            j += 1
            if j == n:
                raise AddressError(f"address ends with '.': {text!r}")
        i = j
    return out


def _read_key(text: str, j: int) -> tuple[Key, int]:
    n = len(text)
    if j + 1 < n and text[j + 1] == '"':
        k = j + 2
        while k < n and text[k] != '"':
            k += 2 if text[k] == "\\" else 1
        if k >= n or k + 1 >= n or text[k + 1] != "]":
            raise AddressError(f"unterminated key in {text!r}")
        try:
            return json.loads(text[j + 1 : k + 1]), k + 2
        except ValueError as exc:
            raise AddressError(f"bad key in {text!r}") from exc
    k = text.find("]", j)
    if k < 0:
        raise AddressError(f"unterminated index in {text!r}")
    raw = text[j + 1 : k]
    if raw == "*":
        return None, k + 1
    try:
        return int(raw), k + 1
    except ValueError as exc:
        raise AddressError(f"bad index {raw!r} in {text!r}") from exc


_SIMPLE = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)+")


@functools.lru_cache(maxsize=65536)
def parse(text: str) -> Address:
    """Parse a resource instance (or config) address."""
    if _SIMPLE.fullmatch(text):
        # No instance keys: plain dotted names (most addresses in most plans).
        parts: list[tuple[str, Key]] = [(name, None) for name in text.split(".")]
    else:
        parts = split(text)
    modules: list[ModuleStep] = []
    i = 0
    while i < len(parts) and parts[i] == ("module", None) and i + 2 < len(parts):
        modules.append(parts[i + 1])
        i += 2
    rest = parts[i:]
    mode = "managed"
    if rest and rest[0] == ("data", None):
        mode, rest = "data", rest[1:]
    if len(rest) != 2 or rest[0][1] is not None:
        raise AddressError(f"not a resource address: {text!r}")
    (type_, _), (name, key) = rest
    return Address(tuple(modules), mode, type_, name, key)
