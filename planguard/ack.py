"""Acknowledgements bound to a plan: the exact changes a second person accepted.

`planguard ack PLAN` writes every change behind a finding as (address, action).
The gate lets a finding through only when all of its changes are listed, so a
plan that later destroys one more resource is blocked again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from planguard.errors import ConfigError
from planguard.findings import Finding

ACK_VERSION = 1
DEFAULT_ACK_FILE = ".planguard-ack.json"


class _AckChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    address: str
    action: str


class _AckPlan(msgspec.Struct, forbid_unknown_fields=True):
    accepted: list[_AckChange] = []


class _AckFile(msgspec.Struct, forbid_unknown_fields=True):
    planguard_ack: int
    plans: dict[str, _AckPlan]
    by: str | None = None
    reason: str | None = None


@dataclass
class Acks:
    path: str
    accepted: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)

    def covers(self, finding: Finding) -> bool:
        if finding.unconditional or not finding.changes:
            return False
        accepted = self.accepted.get(_norm(finding.plan), frozenset())
        return all(change in accepted for change in finding.changes)


def _norm(path: str) -> str:
    return Path(path).as_posix().removeprefix("./")


def load(path: str) -> Acks:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            path, f"cannot read acknowledgement file: {exc.strerror or exc}"
        ) from None
    try:
        doc = msgspec.json.decode(raw, type=_AckFile)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ConfigError(path, f"not a planguard acknowledgement file: {exc}") from None
    if doc.planguard_ack != ACK_VERSION:
        raise ConfigError(path, f"unsupported acknowledgement version {doc.planguard_ack}")
    return Acks(
        path,
        {
            _norm(plan): frozenset((c.address, c.action) for c in entry.accepted)
            for plan, entry in doc.plans.items()
        },
    )


def render(findings: list[Finding], by: str | None, reason: str | None) -> bytes:
    """The acknowledgement document for these findings (deterministic)."""
    plans: dict[str, set[tuple[str, str]]] = {}
    for finding in findings:
        if finding.unconditional:
            continue
        plans.setdefault(_norm(finding.plan), set()).update(finding.changes)
    doc = {
        "planguard_ack": ACK_VERSION,
        "by": by,
        "reason": reason,
        "plans": {
            plan: {"accepted": [{"address": a, "action": act} for a, act in sorted(changes)]}
            for plan, changes in sorted(plans.items())
        },
    }
    return msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"


def load_all(paths: list[str] | None) -> Acks | None:
    """The acknowledgements in force: the files given, else `.planguard-ack.json`
    when it exists; several files are merged plan by plan."""
    files = paths or ([DEFAULT_ACK_FILE] if Path(DEFAULT_ACK_FILE).is_file() else [])
    merged: Acks | None = None
    for path in files:
        acks = load(path)
        if merged is None:
            merged = acks
            continue
        for plan, accepted in acks.accepted.items():
            merged.accepted[plan] = merged.accepted.get(plan, frozenset()) | accepted
    return merged
