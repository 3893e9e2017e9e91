"""The curated catalogues of resource types: data-bearing
(planguard/data/data_bearing.json) and state-only (planguard/data/state_only.json).

Kept as data so that users extend the data-bearing one in config
(`data_bearing_types`) without code. Each entry maps a resource type to the
kind of data it holds, or to why it has no object outside Terraform's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import msgspec

from planguard.findings import matches


@cache
def _builtin() -> dict[str, str]:
    raw = resources.files("planguard.data").joinpath("data_bearing.json").read_bytes()
    doc = msgspec.json.decode(raw)
    out: dict[str, str] = {}
    for kind, entry in doc["kinds"].items():
        for type_ in entry["types"]:
            out[type_] = kind
    return out


@cache
def _state_only() -> dict[str, str]:
    raw = resources.files("planguard.data").joinpath("state_only.json").read_bytes()
    types: dict[str, str] = msgspec.json.decode(raw)["types"]
    return types


@dataclass(frozen=True)
class Catalog:
    types: dict[str, str] = field(default_factory=dict)
    # Glob patterns from config (e.g. "aws_rds_*"), checked after exact names.
    patterns: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls, extra: dict[str, str] | None = None) -> Catalog:
        types = dict(_builtin())
        patterns = []
        for type_, kind in (extra or {}).items():
            if any(ch in type_ for ch in "*?["):
                patterns.append((type_, kind))
            else:
                types[type_] = kind
        return cls(types, tuple(sorted(patterns)))

    def data_kind(self, type_: str) -> str | None:
        """What kind of data a resource of this type holds, or None."""
        kind = self.types.get(type_)
        if kind is not None:
            return kind
        for pattern, kind in self.patterns:
            if matches(pattern, type_):
                return kind
        return None

    def state_only(self, type_: str) -> str | None:
        """Why a resource of this type has no object outside Terraform's state
        (destroying it first causes no downtime), or None. A type the user
        names data-bearing is never state-only."""
        why = _state_only().get(type_)
        if why is None or self.data_kind(type_) is not None:
            return None
        return why
