"""Helpers shared by the built-in checks (not a check: the registry never lists it)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from planguard.findings import Context
from planguard.model import Action, Change, Mode
from planguard.values import SENSITIVE, UNKNOWN

# CloudFormation policies that keep the physical resource when the stack lets go of it.
RETAINED = frozenset({"Retain", "RetainExceptOnCreate"})
MASKED = frozenset({SENSITIVE, UNKNOWN})


def masked(value: Any) -> bool:
    """A value hidden by planguard.values: sensitive, or known only after apply."""
    return isinstance(value, str) and value in MASKED


def is_cfn(type_: str) -> bool:
    return "::" in type_


def keeping_policy(change: Change) -> str | None:
    """The CloudFormation policy that applies to this destroy: Retain, Snapshot or None.

    A delete follows DeletionPolicy; a replacement removes the old resource
    under UpdateReplacePolicy.
    """
    policy = (
        change.update_replace_policy if change.action is Action.REPLACE else change.deletion_policy
    )
    if policy in RETAINED:
        return "Retain"
    if policy == "Snapshot":
        return "Snapshot"
    return None


Step = str | int
Steps = tuple[Step, ...]


def lookup(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for a dotted path, stepping through lists.

    Terraform nested blocks are lists of objects (`versioning_configuration =
    [{status = ...}]`), so `versioning_configuration.status` reaches into each.
    """
    for steps, found in lookup_steps(value, path):
        yield dotted(steps), found


def lookup_steps(value: Any, path: str) -> Iterator[tuple[Steps, Any]]:
    """`lookup` with each concrete path as its steps (for `hidden_at`)."""
    yield from _walk(value, path.split("."), ())


def dotted(steps: Steps) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _walk(value: Any, steps: list[str], at: Steps) -> Iterator[tuple[Steps, Any]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, steps, (*at, i))
        return
    if not steps:
        yield at, value
        return
    if isinstance(value, dict) and steps[0] in value:
        key = steps[0]
        yield from _walk(value[key], steps[1:], (*at, key))


def _merged(change: Change, value: Any) -> Any:
    """CloudFormation Properties merged into the resource's top level."""
    if (
        is_cfn(change.type)
        and isinstance(value, dict)
        and isinstance(value.get("Properties"), dict)
    ):
        value = {**value["Properties"], **{k: v for k, v in value.items() if k != "Properties"}}
    return value


def side(change: Change, which: str) -> Any:
    """One whole masked side of a change, with CloudFormation Properties merged in."""
    if change.attributes is None:
        return None
    return _merged(change, change.attributes.side(which))


def unmasked_side(change: Change, which: str) -> Any:
    """`side` unmasked (only unknowns marked): decide on it, never print it;
    `hidden_at` on the masked `side` says what a message may show."""
    if change.attributes is None:
        return None
    return _merged(change, change.attributes.unmasked(which))


def hidden(shown: Any) -> str | None:
    """What a masked value hides: SENSITIVE if anything sensitive or secret,
    else UNKNOWN if anything known only after apply, else None."""
    if isinstance(shown, str):
        return shown if shown in MASKED else None
    if isinstance(shown, dict):
        items: Iterable[Any] = shown.values()
    elif isinstance(shown, list):
        items = shown
    else:
        return None
    found = None
    for item in items:
        mark = hidden(item)
        if mark == SENSITIVE:
            return SENSITIVE
        found = found or mark
    return found


def hidden_at(shown: Any, steps: Steps) -> str | None:
    """`hidden` for the value at `steps` of a masked value, or for the marker
    that stands for it higher up."""
    for step in steps:
        if masked(shown):
            return shown
        if isinstance(shown, dict) and isinstance(step, str):
            shown = shown.get(step)
        elif isinstance(shown, list) and isinstance(step, int) and 0 <= step < len(shown):
            shown = shown[step]
        else:
            return None
    return hidden(shown)


def canonical(value: Any, *, unordered: bool = False) -> str:
    """A value as deterministic JSON text, for evidence: keys as text and
    sorted, anything else JSON has no form for as text; `unordered` sorts
    lists too (where order means nothing, as in IAM policies)."""
    return json.dumps(_plain(value, unordered), sort_keys=True, separators=(",", ":"))


def _plain(value: Any, unordered: bool) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v, unordered) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(v, unordered) for v in value]
        if unordered:
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return items
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def change_evidence(change: Change) -> list[str]:
    """What a finding about one destroyed or replaced resource binds: the
    change, the type, and how the old object is kept."""
    out = [f"{change.action.value} {change.address}", f"type {change.type}"]
    if change.order is not None:
        out.append(f"order {change.order.value}")
    if change.conditional:
        out.append("conditional")
    kept = keeping_policy(change)
    if kept:
        out.append(f"kept by {kept}")
    return out


def state_only(ctx: Context) -> frozenset[str]:
    """The addresses of the plan's resources that have no object outside
    Terraform's state (planguard/data/state_only.json): nothing can be without
    them, and nothing is lost with them."""
    return frozenset(
        address
        for address, resource in ctx.plan.resources.items()
        if ctx.catalog.state_only(resource.type) is not None
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def introducing(changes: Iterable[Change]) -> Iterator[Change]:
    """Managed changes that can bring something new into being: creates, updates
    and replacements (what a widening or exposure check compares)."""
    for change in changes:
        if change.mode is Mode.MANAGED and change.action in _INTRODUCING:
            yield change


_INTRODUCING = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE})
