"""Helpers shared by the built-in checks (not a check: the registry never lists it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

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


def lookup(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for a dotted path, stepping through lists.

    Terraform nested blocks are lists of objects (`versioning_configuration =
    [{status = ...}]`), so `versioning_configuration.status` reaches into each.
    """
    yield from _walk(value, path.split("."), "")


def _walk(value: Any, steps: list[str], at: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, steps, f"{at}[{i}]")
        return
    if not steps:
        yield at, value
        return
    if isinstance(value, dict) and steps[0] in value:
        key = steps[0]
        yield from _walk(value[key], steps[1:], f"{at}.{key}" if at else key)


def side(change: Change, which: str) -> Any:
    """One whole masked side of a change, with CloudFormation Properties merged in."""
    if change.attributes is None:
        return None
    value = change.attributes.side(which)
    if (
        is_cfn(change.type)
        and isinstance(value, dict)
        and isinstance(value.get("Properties"), dict)
    ):
        value = {**value["Properties"], **{k: v for k, v in value.items() if k != "Properties"}}
    return value


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def introducing(changes: Iterable[Change]) -> Iterator[Change]:
    """Managed changes that can bring something new into being: creates, updates
    and replacements (what a widening or exposure check compares)."""
    for change in changes:
        if change.mode is Mode.MANAGED and change.action in _INTRODUCING:
            yield change


_INTRODUCING = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE})
