"""Command-line values converted without building a pydantic adapter per option.

The typer release planguard runs on converts every option's value through a
pydantic `TypeAdapter` it builds on first use: importing pydantic and building
~20 adapters is ~90 ms of a 230 ms review of a small plan, for values that are
already what the annotation asks (a `str` for a `str`, the default itself, a
choice spelled exactly as one of its values).

`install()` wraps typer's builder: values of those plain shapes are returned as
typer would return them, anything else (a number given as text, a choice that
needs normalising, an invalid value and its error message) goes to typer's own
converter, built only then. Nothing changes when typer's internals are not the
expected ones.
"""

from __future__ import annotations

import types
from enum import Enum
from typing import Any, Union, get_args, get_origin

_MISS = object()


def _plain(annotation: Any) -> Any:
    """`X | None` as X; other annotations unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _fast(annotation: Any, info: Any, value: Any, ctx: Any) -> Any:
    """The value typer would give, or _MISS when unsure."""
    if getattr(info, "parser", None) is not None:
        return _MISS
    if annotation is str:
        return value if type(value) is str else _MISS
    if annotation is bool:
        return value if type(value) is bool else _MISS
    if annotation is int:
        if type(value) is int and info.min is None and info.max is None:
            return value
        return _MISS
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if isinstance(value, annotation):
            return value
        if type(value) is str and getattr(ctx, "token_normalize_func", None) is None:
            for member in annotation:
                if str(member.value) == value:
                    return member
        return _MISS
    if get_origin(annotation) is list and isinstance(value, (list, tuple)):
        (item,) = get_args(annotation) or (None,)
        out = []
        for element in value:
            converted = _fast(_plain(item), info, element, ctx)
            if converted is _MISS:
                return _MISS
            out.append(converted)
        return out
    return _MISS


class _Lazy:
    """Stands in for typer's RuntimeParam: `coerce` with the same contract."""

    __slots__ = ("_build", "_descriptor", "_real")

    def __init__(self, build: Any, descriptor: Any) -> None:
        self._build = build
        self._descriptor = descriptor
        self._real: Any = None

    def _runtime(self) -> Any:
        if self._real is None:
            self._real = self._build(self._descriptor)
        return self._real

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        if not (multi and isinstance(value, str)):
            d = self._descriptor
            fast = _fast(_plain(d.annotation), d.parameter_info, value, ctx)
            if fast is not _MISS:
                return fast
        return self._runtime().coerce(value, param=param, ctx=ctx)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime(), name)


def install() -> None:
    try:
        from typer import core
    except ImportError:
        return
    build = getattr(core, "build_runtime_param", None)
    param = getattr(core, "_TyperParameter", None)
    if build is None or param is None or getattr(build, "planguard_lazy", False):
        return
    if not hasattr(param, "get_runtime_param"):
        return

    def lazy(descriptor: Any) -> Any:
        if getattr(descriptor, "file_annotation", None) is not None:
            return build(descriptor)
        return _Lazy(build, descriptor)

    lazy.planguard_lazy = True  # type: ignore[attr-defined]
    core.build_runtime_param = lazy
