"""PG106: a resource destroyed here is probably the one created there, renamed.

Without a `moved` block, Terraform destroys the old address and creates the
new one. We pair each destroy with a create of the same type whose attributes
are near-identical (masked values, ignoring ids, ARNs, timestamps and values
known only after apply), and suggest the `moved` block that keeps it. When a
whole module is renamed, one module-level block replaces one per resource.
Nothing to compare (null or empty on both sides, everything known only after
apply, a change set without property values) is no likeness: no rename is
claimed, at most an info hint when the pairing is not a guess.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Change, Mode

from ._common import is_cfn, plural

META = CheckMeta(
    id="PG106",
    slug="probable-rename",
    title="Probable rename without a moved block",
    severity=Severity.HIGH,
    rationale=(
        "Renaming a resource or module in Terraform without a `moved` block destroys the "
        "existing object and creates a new one. For a database or bucket that is data loss; "
        "for anything else it is needless downtime and churn."
    ),
    remediation=(
        "Add the suggested `moved` block next to the new configuration (Terraform 1.1+), run "
        "the plan again and check that the destroy and create became a move. Use "
        "`terraform state mv` on older versions."
    ),
    options={"min_similarity": 0.8},
    reads_values=True,
    needs_graph=False,
)

# Identity and bookkeeping attributes differ between two objects even when the
# configuration is the same.
_IGNORED = re.compile(
    r"^(id|arn|.*_arn|self_link|etag|fingerprint|unique_id|owner_id|.*_time|.*_date|"
    r".*_timestamp|creation_.*|created_.*|last_modified.*|generation|tags_all)$"
)


@lru_cache(maxsize=65_536)
def _ignored(key: str) -> bool:
    return _IGNORED.match(key) is not None


def _flat(change: Change, side: str) -> tuple[dict[str, Any], set[str]]:
    """(comparable leaves by path, masked paths) of one side of a change."""
    if change.attributes is None:
        return {}, set()
    return change.attributes.leaves(side, skip=_ignored)


class _NewSide:
    """The similarity of one new object to candidate old ones, with what
    depends on the new object alone worked out once.

    Similarity is the share of comparable leaf values that are equal. Not
    comparable: values of the new object known only after apply or masked
    (and everything under them), and values the old object has where the new
    one has none at all (computed by the provider, not configured). No leaf of
    the new object lies under one of its masked paths (flattening stops
    there), so all of its leaves are comparable.
    """

    def __init__(self, new: dict[str, Any], ids: frozenset[int], unknown: set[str]) -> None:
        self.new = new
        # The numbers of its (path, value) leaves: equal numbers, equal leaves.
        self.ids = ids
        self.unknown = unknown
        self.present = {_top(k) for k in new}
        self._under: dict[str, bool] = {}

    def similarity(self, old: dict[str, Any], old_ids: frozenset[int], minimum: float) -> float:
        """The score, or 0.0 when it is certainly below `minimum`."""
        new, present, under = self.new, self.present, self._under
        same = len(self.ids & old_ids)
        if new and same / len(new) < minimum:
            return 0.0  # the old-only leaves below can only lower it
        # Compared: the new leaves, and the old-only leaves under a top-level
        # attribute the new object has, unless the new one masks them.
        extra = 0
        for k in old.keys() - new.keys():
            if _top(k) not in present:
                continue
            hidden = under.get(k)
            if hidden is None:
                hidden = under[k] = _under(k, self.unknown)
            extra += not hidden
        total = len(new) + extra
        if not total:
            return 0.0  # nothing compared is no likeness (`_candidates` skips these)
        return same / total


@lru_cache(maxsize=65_536)
def _top(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


_STEP = re.compile(r"[.\[]")


def _under(path: str, prefixes: set[str]) -> bool:
    if not prefixes:
        return False
    if path in prefixes:
        return True
    # p is a parent of path when path continues it with "." or "[": look up
    # the part before each such separator (fewer than the prefixes, and hashed).
    return any(path[: m.start()] in prefixes for m in _STEP.finditer(path))


def _relative(change: Change) -> str:
    return change.address[len(change.module) + 1 :] if change.module else change.address


def _moved(old: str, new: str) -> str:
    return f"moved {{\n  from = {old}\n  to   = {new}\n}}"


def pairs(ctx: Context, minimum: float) -> list[tuple[Change, Change, float]]:
    """Best one-to-one pairing of destroyed and created resources of the same type."""
    gone = [
        c
        for c in ctx.plan.changes
        if c.action is Action.DELETE and c.mode is Mode.MANAGED and c.deposed is None
    ]
    new = [
        c
        for c in ctx.plan.changes
        if c.action is Action.CREATE and c.mode is Mode.MANAGED and not c.importing
    ]
    if not gone or not new:
        return []
    types = {c.type for c in gone} & {c.type for c in new}
    gone = [c for c in gone if c.type in types]
    new = [c for c in new if c.type in types]
    old_leaves = {c.address: _flat(c, "before")[0] for c in gone}
    new_leaves: dict[str, dict[str, Any]] = {}
    # Leaves known only after apply (or masked) are not comparable.
    unknown: dict[str, set[str]] = {}
    for c in new:
        new_leaves[c.address], unknown[c.address] = _flat(c, "after")
    # Each distinct (path, value) leaf gets a number: sets of numbers index
    # and intersect faster than sets of pairs (a tuple's hash is not kept).
    numbers: dict[tuple[str, Any], int] = {}

    def numbered(leaves: dict[str, Any]) -> frozenset[int]:
        return frozenset([numbers.setdefault(item, len(numbers)) for item in leaves.items()])

    old_ids = {a: numbered(leaves) for a, leaves in old_leaves.items()}
    new_ids = {a: numbered(leaves) for a, leaves in new_leaves.items()}
    scored = []
    sides: dict[str, _NewSide] = {}
    for g, n in _candidates(gone, new, minimum, old_ids, new_ids):
        side = sides.get(n.address)
        if side is None:
            side = sides[n.address] = _NewSide(
                new_leaves[n.address], new_ids[n.address], unknown[n.address]
            )
        score = side.similarity(old_leaves[g.address], old_ids[g.address], minimum)
        if score >= minimum:
            # Ties go to the same name in another module, then the same module.
            rank = (-score, _relative(g) != _relative(n), g.module != n.module)
            scored.append((rank, g.address, n.address, g, n, score))
    scored.sort(key=lambda s: s[:3])
    used: set[str] = set()
    out = []
    for _, ga, na, g, n, score in scored:
        if ga in used or na in used:
            continue
        used.update((ga, na))
        out.append((g, n, score))
    return out


def _candidates(
    gone: list[Change],
    new: list[Change],
    minimum: float,
    old_ids: dict[str, frozenset[int]],
    new_ids: dict[str, frozenset[int]],
) -> list[tuple[Change, Change]]:
    """The same-type pairs that can reach `minimum`; the others are never scored.

    A pair's similarity is at most (leaves of the new object that the old
    object has with the same value) / (how many leaves the new one has). A
    pair needing `need` of those `count` equal leaves must share one of any
    `count - need + 1` of them, so an index of the destroyed objects' (path,
    value) leaves, probed with the rarest ones, finds every pair that can
    qualify without comparing all of them.
    """
    olds: dict[str, list[Change]] = {}
    for g in gone:
        olds.setdefault(g.type, []).append(g)
    out: list[tuple[Change, Change]] = []
    index: dict[str, dict[int, list[int]]] = {}
    for type_, members in olds.items():
        posting = index[type_] = {}
        for i, g in enumerate(members):
            for leaf in old_ids[g.address]:
                posting.setdefault(leaf, []).append(i)
    for n in new:
        members, posting = olds[n.type], index[n.type]
        comparable = list(new_ids[n.address])
        count = len(comparable)
        if not count:
            continue  # nothing to compare: at most a hint (see `hints`)
        need = next((k for k in range(count + 1) if k / count >= minimum), None)
        if need is None:
            continue
        if need == 0:
            out.extend((g, n) for g in members)
            continue
        # Rarest first; ties by number, so the probe does not depend on set order.
        comparable.sort(key=lambda leaf: (len(posting.get(leaf, ())), leaf))
        hits = set().union(*(posting.get(leaf, ()) for leaf in comparable[: count - need + 1]))
        out.extend((members[i], n) for i in sorted(hits))
    return out


def hints(ctx: Context, matched: list[tuple[Change, Change, float]]) -> list[tuple[Change, Change]]:
    """Destroy and create pairs that cannot be compared: one side has no value
    to compare (a change set without property values, a new object known only
    after apply), and the type has just this one destroyed and one created
    left unpaired, so the pairing at least is not a guess."""
    used = {c.address for g, n, _ in matched for c in (g, n)}
    gone: dict[str, list[Change]] = {}
    new: dict[str, list[Change]] = {}
    for c in ctx.plan.changes:
        if c.mode is not Mode.MANAGED or c.address in used:
            continue
        if c.action is Action.DELETE and c.deposed is None:
            gone.setdefault(c.type, []).append(c)
        elif c.action is Action.CREATE and not c.importing:
            new.setdefault(c.type, []).append(c)
    out = []
    for type_ in sorted(gone.keys() & new.keys()):
        if len(gone[type_]) == 1 and len(new[type_]) == 1:
            g, n = gone[type_][0], new[type_][0]
            if not _flat(g, "before")[0] or not _flat(n, "after")[0]:
                out.append((g, n))
    return out


def check(ctx: Context) -> Iterator[Finding]:
    minimum = float(ctx.option(META, "min_similarity"))
    matched = pairs(ctx, minimum)
    # A module rename: every resource of module M is destroyed and each one has
    # its counterpart, at the same relative address, under one module N.
    by_module: dict[tuple[str, str], list[tuple[Change, Change, float]]] = {}
    for g, n, score in matched:
        if g.module and n.module and g.module != n.module and _relative(g) == _relative(n):
            by_module.setdefault((g.module, n.module), []).append((g, n, score))
    handled: set[str] = set()
    modules = _Modules(ctx) if any(len(g) >= 2 for g in by_module.values()) else None
    for (old_mod, new_mod), group in sorted(by_module.items(), key=lambda kv: kv[0]):
        if (
            len(group) < 2
            or modules is None
            or not modules.whole(old_mod, {g.address for g, _, _ in group})
        ):
            continue
        handled.update(g.address for g, _, _ in group)
        total = modules.members(old_mod)
        yield ctx.finding(
            META,
            f"{old_mod} looks renamed to {new_mod}: all {plural(len(total), 'resource')} of it "
            f"are destroyed and {len(group)} of them recreated there with the same attributes; "
            "one moved block for the module keeps them",
            changes=[g for g, _, _ in group],
            address=old_mod,
            details=[f"{g.address} → {n.address}" for g, n, _ in sorted(group, key=_by_old)],
            suggestion=_moved(old_mod, new_mod),
            evidence=[f"{g.address} → {n.address}" for g, n, _ in group],
        )
    for g, n, score in sorted(matched, key=_by_old):
        if g.address in handled:
            continue
        if is_cfn(g.type):
            # CloudFormation has no move: the fix is to keep the logical id.
            yield ctx.finding(
                META,
                f"{g.address} is deleted and {n.address} is created with {score:.0%} of the "
                "same properties: probably a renamed logical id; keep the old one to keep "
                "the resource",
                change=g,
                evidence=[f"{g.address} → {n.address}"],
            )
            continue
        yield ctx.finding(
            META,
            f"{g.address} is destroyed and {n.address} is created with "
            f"{score:.0%} of the same attributes: probably a rename without a moved block",
            change=g,
            suggestion=_moved(g.address, n.address),
            evidence=[f"{g.address} → {n.address}"],
        )
    # No values, no likeness claimed: a note for the reviewer, never a block.
    for g, n in hints(ctx, matched):
        if is_cfn(g.type):
            yield ctx.finding(
                META,
                f"{g.address} is deleted and {n.address} is created, both {g.type}, with no "
                "property values of theirs to compare (a change set without them, or none "
                "set), so planguard cannot tell a renamed logical id from a new resource: if "
                "it is a rename, keep the old id to keep the resource",
                change=g,
                severity=Severity.INFO,
                evidence=[f"{g.address} → {n.address}", "not compared"],
            )
            continue
        yield ctx.finding(
            META,
            f"{g.address} is destroyed and {n.address} is created, both {g.type}; the plan "
            "holds no attribute values of theirs to compare, so planguard cannot tell a "
            "rename from a new resource: if it is a rename, the moved block keeps it",
            change=g,
            severity=Severity.INFO,
            suggestion=_moved(g.address, n.address),
            evidence=[f"{g.address} → {n.address}", "not compared"],
        )


def _by_old(pair: tuple[Change, Change, float]) -> str:
    return pair[0].address


class _Modules:
    """Managed members and destroyed addresses of every module, gathered in
    one pass over the plan (modules inside a module count as its own)."""

    def __init__(self, ctx: Context) -> None:
        self.managed: dict[str, set[str]] = {}
        self.destroyed: dict[str, set[str]] = {}
        for address, r in ctx.plan.resources.items():
            if r.module and r.mode is Mode.MANAGED:
                self.managed.setdefault(r.module, set()).add(address)
        for c in ctx.plan.changes:
            if c.module and c.mode is Mode.MANAGED:
                self.managed.setdefault(c.module, set()).add(c.address)
            if c.module and c.action is Action.DELETE:
                self.destroyed.setdefault(c.module, set()).add(c.address)
        self._managed_names = sorted(self.managed)
        self._destroyed_names = sorted(self.destroyed)

    @staticmethod
    def _within(table: dict[str, set[str]], names: list[str], module: str) -> set[str]:
        out = set(table.get(module, ()))
        # Module names that continue `module` with "." sort together, between
        # module + "." and module + "/" ("/" follows "." in code point order).
        for name in names[bisect_left(names, module + ".") : bisect_left(names, module + "/")]:
            out |= table[name]
        return out

    def members(self, module: str) -> set[str]:
        return self._within(self.managed, self._managed_names, module)

    def whole(self, module: str, matched: set[str]) -> bool:
        """Nothing of `module` survives the plan unmatched."""
        members = self.members(module)
        destroyed = self._within(self.destroyed, self._destroyed_names, module)
        return members <= destroyed and len(matched) * 2 >= len(members)
