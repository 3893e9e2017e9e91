"""A list worked out the first time it is read.

A Terraform plan's instance-level edges are a list on the plan (`Plan.edges`),
but a review only needs the few that lead into what is destroyed or replaced
and what depends on it: building all of them was most of the review's time
on a monorepo's plan (benchmarks/gen_mono.py: 5.3 s of 9.1 s at 50k
resources). The loader hands out a `FilledOnRead` list instead; whoever
reads it as a list (exports, `planguard graph`, tests) gets every item, the
same as always, and the dependency graph, which knows the subclass, asks it
narrower questions without filling it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex, TypeVar

T = TypeVar("T")


class FilledOnRead(list[T]):
    """A list whose items `_items()` gives the first time anything reads or
    changes it; from then on an ordinary list."""

    def __init__(self) -> None:
        super().__init__()
        self.filled = False

    def _items(self) -> Iterable[T]:
        raise NotImplementedError

    def fill(self) -> None:
        if not self.filled:
            self.filled = True
            list.extend(self, self._items())

    def __radd__(self, other: list[T]) -> list[T]:
        self.fill()
        return [*other, *list.__iter__(self)]

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # Pickled as the plain list it stands for (the resolver stays behind).
        self.fill()
        return (list, (list(list.__iter__(self)),))


def _filling(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def filled_first(self: FilledOnRead[Any], *args: Any, **kwargs: Any) -> Any:
        self.fill()
        for other in args:  # `a == b` and `a + b` read b's items directly
            if isinstance(other, FilledOnRead):
                other.fill()
        return method(self, *args, **kwargs)

    filled_first.__name__ = name
    return filled_first


# Every way to read or change a list (msgspec encoders read the storage
# directly: planguard fills such a list before encoding it, see review._pack).
for _name in (
    "__iter__", "__len__", "__getitem__", "__contains__", "__eq__", "__ne__", "__lt__",
    "__le__", "__gt__", "__ge__", "__repr__", "__reversed__", "__add__", "__mul__", "__rmul__",
    "__iadd__", "__imul__", "__setitem__", "__delitem__", "append", "extend", "insert", "pop",
    "remove", "clear", "sort", "reverse", "index", "count", "copy",
):  # fmt: skip
    setattr(FilledOnRead, _name, _filling(_name))
