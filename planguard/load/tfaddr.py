"""Terraform addresses: `module.a["x"].module.b[0].data.aws_ami.this[2]`.

Parsed by hand because instance keys are arbitrary strings (dots, brackets
and escaped quotes are all legal inside `["..."]`).
"""

from __future__ import annotations

import json
import re

Key = int | str | None
ModuleStep = tuple[str, Key]


class AddressError(ValueError):
    pass


class Address:
    """A parsed resource instance address; the derived forms are computed once."""

    __slots__ = (
        "config_address",
        "key",
        "mode",
        "module",
        "module_keys",
        "module_path",
        "modules",
        "name",
        "type",
    )

    def __init__(
        self, modules: tuple[ModuleStep, ...], mode: str, type: str, name: str, key: Key
    ) -> None:
        self.modules = modules
        self.mode = mode  # "managed" or "data"
        self.type = type
        self.name = name
        self.key = key
        if modules:
            self.module_path, self.module, prefix, self.module_keys = _module_forms(modules)
        else:
            self.module_path, self.module, prefix, self.module_keys = (), "", "", ()
        local = f"data.{type}.{name}" if mode == "data" else f"{type}.{name}"
        self.config_address = prefix + local

    def _fields(self) -> tuple[tuple[ModuleStep, ...], str, str, str, Key]:
        return (self.modules, self.mode, self.type, self.name, self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Address) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Address(modules={self.modules!r}, mode={self.mode!r}, type={self.type!r}, "
            f"name={self.name!r}, key={self.key!r})"
        )


def format_key(key: Key) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    if '"' not in key and "\\" not in key and key.isprintable():
        return f'["{key}"]'  # what json.dumps gives: nothing to escape
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


# Module instance paths repeat across every resource in them: their forms
# (path, text, config prefix, keys) are worked out once each.
_MODULE_FORMS_MAX = 1 << 16
_Forms = tuple[tuple[str, ...], str, str, tuple[Key, ...]]
_module_forms_seen: dict[tuple[ModuleStep, ...], _Forms] = {}


def _module_forms(modules: tuple[ModuleStep, ...]) -> _Forms:
    forms = _module_forms_seen.get(modules)
    if forms is None:
        path = tuple(step for step, _ in modules)
        forms = (
            path,
            format_modules(modules),
            "".join(f"module.{m}." for m in path),
            tuple(key for _, key in modules),
        )
        if len(_module_forms_seen) >= _MODULE_FORMS_MAX:
            _module_forms_seen.clear()
        _module_forms_seen[modules] = forms
    return forms


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
            raise AddressError(f"empty name at position {i}")
        key: Key = None
        if j < n and text[j] == "[":
            key, j = _read_key(text, j)
        out.append((name, key))
        if j < n:
            if text[j] != ".":
                raise AddressError(f"unexpected character at position {j}")
            j += 1
            if j == n:
                raise AddressError("address ends with '.'")
        i = j
    return out


def _read_key(text: str, j: int) -> tuple[Key, int]:
    n = len(text)
    if j + 1 < n and text[j + 1] == '"':
        k = j + 2
        while k < n and text[k] != '"':
            k += 2 if text[k] == "\\" else 1
        if k >= n or k + 1 >= n or text[k + 1] != "]":
            raise AddressError("unterminated instance key")
        try:
            return json.loads(text[j + 1 : k + 1]), k + 2
        except ValueError as exc:
            raise AddressError("bad instance key") from exc
    k = text.find("]", j)
    if k < 0:
        raise AddressError("unterminated index")
    raw = text[j + 1 : k]
    if raw == "*":
        return None, k + 1
    try:
        return int(raw), k + 1
    except ValueError as exc:
        raise AddressError("bad index") from exc


_SIMPLE = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)+")
# One segment of the common forms: a plain name with no key, a decimal index,
# or a quoted key with nothing to unescape. Anything else (escapes, odd
# characters, malformed text) goes through `split`, which also words errors.
_SEGMENT = re.compile(r'([A-Za-z0-9_\-]+)(?:\[(?:([0-9]+)|"([^"\\\x00-\x1f]*)")\])?(\.|\Z)')


# A whole address in the common forms, module prefix apart: the prefix is
# split once per distinct prefix (see _prefix_steps).
_NAME = r"[A-Za-z0-9_\-]+"
_KEY = r'(?:\[(?:([0-9]+)|"([^"\\\x00-\x1f]*)")\])?'
_FULL = re.compile(
    rf"((?:module\.{_NAME}(?:\[(?:[0-9]+|\"[^\"\\\x00-\x1f]*\")\])?\.)*)"
    rf"(data\.)?({_NAME})\.({_NAME}){_KEY}"
)
_prefixes: dict[str, tuple[ModuleStep, ...]] = {}
# A module prefix as written (`module.a["x"].`) -> its steps and their forms.
_prefix_forms: dict[str, tuple[tuple[ModuleStep, ...], _Forms]] = {}
_NO_MODULE: tuple[tuple[ModuleStep, ...], _Forms] = ((), ((), "", "", ()))
_new = object.__new__


def _forms_of(prefix: str) -> tuple[tuple[ModuleStep, ...], _Forms]:
    found = _prefix_forms.get(prefix)
    if found is None:
        modules = _prefix_steps(prefix)
        found = (modules, _module_forms(modules)) if modules else _NO_MODULE
        if len(_prefix_forms) >= _MODULE_FORMS_MAX:
            _prefix_forms.clear()
        _prefix_forms[prefix] = found
    return found


def _prefix_steps(prefix: str) -> tuple[ModuleStep, ...]:
    steps = _prefixes.get(prefix)
    if steps is None:
        parts = _fast_split(prefix[:-1]) or []
        steps = tuple(parts[i + 1] for i in range(0, len(parts), 2))
        if len(_prefixes) >= _MODULE_FORMS_MAX:
            _prefixes.clear()
        _prefixes[prefix] = steps
    return steps


def _fast_split(text: str) -> list[tuple[str, Key]] | None:
    out: list[tuple[str, Key]] = []
    pos, n = 0, len(text)
    match = _SEGMENT.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            return None
        name, index, quoted, dot = m.groups()
        out.append((name, int(index) if index is not None else quoted))
        pos = m.end()
        if dot == "." and pos == n:
            return None  # ends with '.': let split() say so
    return out


def parse(text: str) -> Address:
    """Parse a resource instance (or config) address."""
    found = _parsed.get(text)
    if found is None:
        found = _parse(text)
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        _parsed[text] = found
    return found


# Addresses are parsed by the loader, the edge index and the reference
# resolver alike; one plan's worth is remembered (a dict, not an LRU: a
# 100k-resource plan would churn an LRU of any modest size).
_PARSED_MAX = 1 << 20
_parsed: dict[str, Address] = {}


def forget() -> None:
    """Drop the remembered addresses (the loader calls this when a plan is built)."""
    _parsed.clear()


def _parse(text: str) -> Address:
    m = _FULL.fullmatch(text)
    if m is not None:
        prefix, data, type_, name, index, quoted = m.groups()
        # "data.x" is a data source with no name (an error), not a resource of type "data".
        if data is not None or type_ != "data":
            # The common forms, built without Address.__init__: the module
            # prefix's forms are worked out once per prefix.
            a = _new(Address)
            a.modules, (a.module_path, a.module, config, a.module_keys) = (
                _forms_of(prefix) if prefix else _NO_MODULE
            )
            a.type, a.name = type_, name
            a.key = int(index) if index is not None else quoted
            if data is None:
                a.mode, a.config_address = "managed", f"{config}{type_}.{name}"
            else:
                a.mode, a.config_address = "data", f"{config}data.{type_}.{name}"
            return a
    if _SIMPLE.fullmatch(text):
        # No instance keys: plain dotted names (most addresses in most plans).
        parts: list[tuple[str, Key]] = [(name, None) for name in text.split(".")]
    else:
        fast = _fast_split(text)
        parts = fast if fast is not None else split(text)
    steps: list[ModuleStep] = []
    i = 0
    while i < len(parts) and parts[i] == ("module", None) and i + 2 < len(parts):
        steps.append(parts[i + 1])
        i += 2
    rest = parts[i:]
    mode = "managed"
    if rest and rest[0] == ("data", None):
        mode, rest = "data", rest[1:]
    if len(rest) != 2 or rest[0][1] is not None:
        raise AddressError("not a resource address")
    (type_, _), (name, key) = rest
    return Address(tuple(steps), mode, type_, name, key)
