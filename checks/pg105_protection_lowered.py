"""PG105: a setting that protects a resource or its data is lowered.

The settings are data (planguard/data/protections.json): per-type and generic
rules, each naming an attribute path and which direction lowers it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import msgspec

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Change, Mode
from planguard.values import SENSITIVE, UNKNOWN

from ._common import (
    canonical,
    dotted,
    hidden,
    hidden_at,
    is_cfn,
    lookup_steps,
    masked,
    side,
    unmasked_side,
)

META = CheckMeta(
    id="PG105",
    slug="protection-lowered",
    title="Protection lowered",
    severity=Severity.HIGH,
    rationale=(
        "Deletion protection, final snapshots, backups, versioning, prevent_destroy and "
        "DeletionPolicy are what save the data when something goes wrong. Turning one off is "
        "often the first half of a destructive change, and rarely needed for anything else."
    ),
    remediation=(
        "Keep the protection on. If it must be lowered (to decommission the resource on "
        "purpose), do it in a change of its own, reviewed and acknowledged, and restore it "
        "afterwards if the resource stays."
    ),
    reads_values=True,
    needs_graph=False,
)


class Rule(msgspec.Struct, frozen=True):
    types: list[str]
    path: str
    kind: str
    what: str
    safe: list[str] = []


class _Rules(msgspec.Struct, frozen=True):
    rules: list[Rule]
    about: str = ""


@cache
def rules() -> tuple[Rule, ...]:
    raw = resources.files("planguard.data").joinpath("protections.json").read_bytes()
    return tuple(msgspec.json.decode(raw, type=_Rules).rules)


_POLICY_RANK = {"Retain": 2, "RetainExceptOnCreate": 2, "Snapshot": 1, "Delete": 0}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


# The worst value an unknown new value could turn out to be, by rule kind.
_WORST: dict[str, Any] = {
    "off": False,
    "on": True,
    "zero": 0,
    "shorter": float("-inf"),
    "states": None,
    "policy": "Delete",
}


def lowered(rule: Rule, before: Any, after: Any) -> bool:
    """Whether going from `before` to `after` lowers the protection (None:
    absent). An unknown `after` lowers it when its worst value would: the
    plan cannot show it is safe."""
    if masked(before):
        return False
    if after == UNKNOWN:
        after = _WORST[rule.kind]
    if rule.kind == "off":
        return _truthy(before) and not _truthy(after)
    if rule.kind == "on":
        return not _truthy(before) and _truthy(after)
    if rule.kind == "zero":
        b, a = _number(before), _number(after)
        return b is not None and b > 0 and not a
    if rule.kind == "shorter":
        b, a = _number(before), _number(after)
        return b is not None and a is not None and a < b
    if rule.kind == "states":
        return before in rule.safe and after not in rule.safe
    if rule.kind == "policy":
        rank_before = _POLICY_RANK.get(before or "Delete", 0)
        return rank_before > _POLICY_RANK.get(after or "Delete", 0)
    raise ValueError(f"protections.json: unknown rule kind {rule.kind!r}")


def _shown(value: Any, hidden: str | None) -> str:
    if hidden is not None:
        return hidden  # the marker, never the value
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def check(ctx: Context) -> Iterator[Finding]:
    for change in ctx.plan.changes:
        if change.action not in (Action.UPDATE, Action.REPLACE) or change.mode is not Mode.MANAGED:
            continue
        found = list(_lowered(change))
        if not found:
            continue
        whats = sorted({what for what, _, _ in found})
        yield ctx.finding(
            META,
            f"{change.address}: {'; '.join(whats)}",
            change=change,
            details=[detail for _, detail, _ in found],
            evidence=[evidence for _, _, evidence in found],
        )


@lru_cache(maxsize=4096)
def _applicable(type_: str) -> tuple[Rule, ...]:
    return tuple(r for r in rules() if any(fnmatch.fnmatchcase(type_, t) for t in r.types))


@lru_cache(maxsize=4096)
def _top_keys(type_: str) -> tuple[str, ...]:
    """The attributes the rules for this type start from."""
    return tuple(sorted({rule.path.split(".", 1)[0] for rule in _applicable(type_)}))


def _lowered(change: Change) -> Iterator[tuple[str, str, str]]:
    """(what, detail to show, evidence) of each protection lowered: decided on
    the unmasked values, shown from the masked ones."""
    if change.attributes is None:
        return
    keys = _top_keys(change.type)
    shown_before, before = _protections(change, "before", keys)
    if before is None:
        return
    shown_after, after = _protections(change, "after", keys)
    after = after or {}
    if not before and not after:
        return  # most changes hold none of the settings
    for rule in _applicable(change.type):
        then = dict(lookup_steps(before, rule.path))
        now = dict(lookup_steps(after, rule.path))
        for at in sorted(set(then) | set(now), key=dotted):
            old, new = then.get(at), now.get(at)
            if not lowered(rule, old, new):
                continue
            shown = (
                f"{_shown(old, hidden_at(shown_before, at))} → "
                f"{_shown(new, hidden_at(shown_after, at))}"
            )
            what = rule.what
            if new == UNKNOWN:
                what += " (perhaps: the new value is known only after apply)"
            path = dotted(at)
            yield what, f"{path}: {shown}", f"{path}: {canonical(old)} → {canonical(new)}"


def _protections(change: Change, which: str, keys: tuple[str, ...]) -> tuple[Any, Any]:
    """(masked, unmasked) attributes the rules start from; the unmasked one is
    None when the side is no object, the masked one SENSITIVE when the whole
    side is hidden. Masked reads stay the fast path: the unmasked values are
    read again only when something sensitive was hidden."""
    attributes = change.attributes
    if attributes is None:
        return None, None
    if is_cfn(change.type):
        # Properties merged in (see _common.side); templates are small.
        shown = side(change, which)
        real = unmasked_side(change, which) if hidden(shown) == SENSITIVE else shown
    else:
        shown = attributes.pick(which, keys)
        if shown is None or hidden(shown) == SENSITIVE:
            real = attributes.unmasked_pick(which, keys)
        else:
            real = shown
    if not isinstance(real, dict):
        return None, None
    return (shown if isinstance(shown, dict) else SENSITIVE), real
