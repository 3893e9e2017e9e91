"""Acknowledgements: a second person accepts exactly these findings of a plan.

`planguard ack` writes, per plan (named by its path in the repository, a key
the caller gives), each finding's check, address, changes and fingerprint.
The fingerprint binds the evidence the check decided on (the ports opened,
the statements widened, the settings lowered, what is destroyed), so a plan
that widens anything afterwards no longer matches and is blocked again. The
evidence itself is never written: it may hold sensitive values.

Version 1 files listed (address, action) pairs only, which bound names and
not content; they are refused with the way out (write the file again).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from planguard.errors import ConfigError
from planguard.findings import CHECK_ID, Finding

ACK_VERSION = 2
DEFAULT_ACK_FILE = ".planguard-ack.json"
_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")

Change = tuple[str, str]


class AckEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One accepted finding. `changes` and `address` are what a reviewer of the
    file reads; `fingerprint` is what binds (all of them must match)."""

    check: str
    address: str
    fingerprint: str
    changes: tuple[Change, ...]

    @classmethod
    def of(cls, finding: Finding) -> AckEntry:
        return cls(finding.check_id, finding.address, finding.fingerprint, finding.changes)


class _AckPlan(msgspec.Struct, forbid_unknown_fields=True):
    accepted: list[AckEntry] = []


class _AckFile(msgspec.Struct, forbid_unknown_fields=True):
    planguard_ack: int
    by: str
    reason: str
    plans: dict[str, _AckPlan]


class _Version(msgspec.Struct):
    planguard_ack: int


@dataclass(frozen=True)
class Signature:
    origin: str
    by: str
    reason: str


@dataclass
class Acks:
    """The acknowledgements in force, by plan key."""

    # Where they come from (one file, or several joined), for "acknowledged in …".
    path: str
    accepted: dict[str, frozenset[AckEntry]] = field(default_factory=dict)
    signatures: tuple[Signature, ...] = ()

    def covers(self, finding: Finding, plan_key: str) -> bool:
        """Whether an entry for this plan accepts this very finding: the same
        check, address, changes and fingerprint. Never an integrity failure,
        nor a finding about no change (it would bind a name only)."""
        if not _ackable(finding):
            return False
        return AckEntry.of(finding) in self.accepted.get(_norm(plan_key), frozenset())

    def unused(self, keyed_findings: Iterable[tuple[str, Finding]]) -> list[tuple[str, AckEntry]]:
        """(plan key, entry) of the entries no finding matches, sorted: what
        the plan no longer does, or what it now does differently."""
        found = {(_norm(key), AckEntry.of(f)) for key, f in keyed_findings if _ackable(f)}
        return sorted(
            (
                (plan, entry)
                for plan, entries in self.accepted.items()
                for entry in entries
                if (plan, entry) not in found
            ),
            key=lambda pe: (pe[0], _order(pe[1])),
        )

    @property
    def entries(self) -> int:
        return sum(len(entries) for entries in self.accepted.values())


def _ackable(finding: Finding) -> bool:
    return not finding.unconditional and bool(finding.changes)


def _norm(key: str) -> str:
    return Path(key).as_posix().removeprefix("./")


def _order(entry: AckEntry) -> tuple[str, str, str]:
    return (entry.check, entry.address, entry.fingerprint)


def loads(data: bytes, origin: str) -> Acks:
    """The acknowledgements in `data` (a file's bytes, from disk or from a git
    commit); `origin` names it in errors and reports."""
    try:
        version = msgspec.json.decode(data, type=_Version).planguard_ack
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ConfigError(origin, f"not a planguard acknowledgement file: {exc}") from None
    if version == 1:
        raise ConfigError(
            origin,
            "acknowledgement file version 1 names changes but not what they do; "
            "run `planguard ack` again to write version 2",
        )
    if version != ACK_VERSION:
        raise ConfigError(origin, f"unsupported acknowledgement version {version}")
    try:
        doc = msgspec.json.decode(data, type=_AckFile)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ConfigError(origin, f"not a planguard acknowledgement file: {exc}") from None
    if not doc.by.strip() or not doc.reason.strip():
        raise ConfigError(origin, "an acknowledgement needs `by` and `reason`, not empty")
    accepted: dict[str, set[AckEntry]] = {}
    for plan, entry in doc.plans.items():
        for item in entry.accepted:
            if not CHECK_ID.match(item.check):
                raise ConfigError(origin, "an accepted entry's check is not a check id (PGnnn)")
            if not _FINGERPRINT.match(item.fingerprint):
                raise ConfigError(origin, "an accepted entry's fingerprint is not a fingerprint")
        accepted.setdefault(_norm(plan), set()).update(entry.accepted)
    return Acks(
        origin,
        {plan: frozenset(entries) for plan, entries in accepted.items()},
        (Signature(origin, doc.by, doc.reason),),
    )


def load(path: str) -> Acks:
    """An acknowledgement file on disk (a regular file within the settings size)."""
    from planguard.config import read_file

    return loads(read_file(path), path)


def merge(acks: Sequence[Acks]) -> Acks:
    """Several files in force at once: their entries, plan by plan."""
    if not acks:
        raise ValueError("nothing to merge")
    origins = list(dict.fromkeys(a.path for a in acks))
    accepted: dict[str, frozenset[AckEntry]] = {}
    for one in acks:
        for plan, entries in one.accepted.items():
            accepted[plan] = accepted.get(plan, frozenset()) | entries
    signatures = tuple(s for one in acks for s in one.signatures)
    return Acks(", ".join(origins), accepted, signatures)


def render(keyed_findings: Iterable[tuple[str, Finding]], by: str, reason: str) -> bytes:
    """The acknowledgement of these (plan key, finding) pairs, deterministic:
    one line per finding, so a reviewer of the file's diff sees each check and
    address. Integrity failures and findings about no change are left out
    (they cannot be acknowledged)."""
    by, reason = by.strip(), reason.strip()
    if not by or not reason:
        raise ValueError("an acknowledgement needs who gives it (by) and why (reason)")
    plans: dict[str, set[AckEntry]] = {}
    for key, finding in keyed_findings:
        if _ackable(finding):
            plans.setdefault(_norm(key), set()).add(AckEntry.of(finding))
    enc = msgspec.json.encode
    lines = [
        "{",
        f'  "planguard_ack": {ACK_VERSION},',
        f'  "by": {enc(by).decode()},',
        f'  "reason": {enc(reason).decode()},',
    ]
    if not plans:
        lines += ['  "plans": {}', "}"]
        return ("\n".join(lines) + "\n").encode()
    lines.append('  "plans": {')
    for i, (plan, entries) in enumerate(sorted(plans.items())):
        lines.append(f'    {enc(plan).decode()}: {{"accepted": [')
        rows = [f"      {enc(e).decode()}" for e in sorted(entries, key=_order)]
        lines.append(",\n".join(rows))
        lines.append("    ]}" + ("," if i < len(plans) - 1 else ""))
    lines += ["  }", "}"]
    return ("\n".join(lines) + "\n").encode()
