"""The last few decoded attribute sides, kept by the identity of their owner.

Reads come in runs on one change (a report's five protection attributes, a
check's before and after): decoding a side once per run instead of once per
read is most of what PG105 and the protection column cost (see
docs/performance.md). Each entry holds its owner, so the owner's id cannot be
reused while the entry lives.
"""

from __future__ import annotations

from typing import Any

_MAX = 16
_kept: dict[tuple[int, str], tuple[object, Any]] = {}


def get(owner: object, part: str) -> Any:
    """What `put` kept for (owner, part), or None."""
    hit = _kept.get((id(owner), part))
    return None if hit is None else hit[1]


def put(owner: object, part: str, value: Any) -> None:
    """Keep `value` (never mutated by readers) for (owner, part), oldest out first."""
    if len(_kept) >= _MAX:
        del _kept[next(iter(_kept))]
    _kept[(id(owner), part)] = (owner, value)


def forget() -> None:
    """Drop everything kept (and with it the owners)."""
    _kept.clear()
