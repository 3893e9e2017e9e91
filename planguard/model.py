"""The model every loader produces and every later step reads.

A `Plan` is format-neutral: Terraform plans, CloudFormation change sets and
template pairs, and HCL tree pairs all become the same `Change` and `Resource`
records with instance-level dependency edges. Attribute values stay undecoded
inside `Attributes` until a check asks for them, and are masked on the way out
(see planguard.values), so nothing after the loader can see a sensitive value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from planguard.values import Attributes


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    READ = "read"
    NOOP = "no-op"
    FORGET = "forget"


DESTRUCTIVE = frozenset({Action.DELETE, Action.REPLACE})


# Terraform's action_reason values, in words a reviewer reads.
REASONS = {
    "replace_because_tainted": "tainted",
    "replace_because_cannot_update": "attribute cannot be updated in place",
    "replace_by_request": "replacement requested (-replace)",
    "replace_by_triggers": "replace_triggered_by",
    "delete_because_no_resource_config": "no longer in configuration",
    "delete_because_wrong_repetition": "count/for_each changed",
    "delete_because_count_index": "count index out of range",
    "delete_because_each_key": "for_each key removed",
    "delete_because_no_module": "module removed from configuration",
    "delete_because_no_move_target": "moved target missing",
    "read_because_config_unknown": "configuration known only at apply",
    "read_because_dependency_pending": "depends on a pending change",
    "read_because_check_nested": "read by a check block",
}


# What a reason code planguard does not know is shown as: the code is input,
# and could carry anything.
UNKNOWN_REASON = "a reason planguard does not know"


def reason_words(reason: str | None) -> str:
    """The tool's reason code in plain words."""
    return REASONS.get(reason, UNKNOWN_REASON) if reason else ""


class ReplaceOrder(StrEnum):
    """Which half of a replacement happens first."""

    DELETE_FIRST = "delete-before-create"  # downtime between the two
    CREATE_FIRST = "create-before-destroy"


class Mode(StrEnum):
    MANAGED = "managed"
    DATA = "data"


class PlanKind(StrEnum):
    TERRAFORM = "terraform-plan"
    CFN_CHANGE_SET = "cloudformation-change-set"
    CFN_TEMPLATES = "cloudformation-templates"
    HCL = "terraform-sources"


class Location(msgspec.Struct, frozen=True, gc=False):
    file: str
    line: int | None = None
    # A place in the base's sources (a resource --hcl sees removed): the
    # working tree's file has other lines there, or none.
    at_base: bool = False

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place} (at base)" if self.at_base else place


# omit_defaults: a review sent back from a worker process (planguard.review._pack)
# leaves out the fields at their defaults, most of them (10k plan: 8.0 -> 6.1 MB,
# encoded in 6 ms instead of 15).
class Resource(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """A resource instance known to the plan, changed or not."""

    address: str
    type: str
    mode: Mode = Mode.MANAGED
    config_address: str = ""
    module: str = ""
    location: Location | None = None
    # Inline suppressions found at the source (`# planguard:ignore PG101 why`
    # in HCL, Metadata in CloudFormation): (check id, reason).
    ignores: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, change: Change) -> Resource:
        """The resource a change is about, as far as the change tells."""
        return cls(
            address=change.address,
            type=change.type,
            mode=change.mode,
            config_address=change.config_address,
            module=change.module,
            location=change.location,
        )


class Change(msgspec.Struct, frozen=True, gc=False, kw_only=True, omit_defaults=True):
    """One planned (or predicted) change to one resource instance."""

    address: str
    type: str
    action: Action
    name: str = ""
    mode: Mode = Mode.MANAGED
    config_address: str = ""
    module: str = ""
    provider: str = ""
    index: int | str | None = None
    previous_address: str | None = None
    importing: bool = False
    deposed: str | None = None
    order: ReplaceOrder | None = None
    # The tool's own words for why (Terraform action_reason, CloudFormation
    # Replacement/RequiresRecreation), kept verbatim for reports.
    reason: str | None = None
    replace_paths: tuple[tuple[str | int, ...], ...] = ()
    # CloudFormation "Replacement: Conditional": may or may not be replaced.
    conditional: bool = False
    deletion_policy: str | None = None
    update_replace_policy: str | None = None
    location: Location | None = None
    attributes: Attributes | None = None

    @property
    def destructive(self) -> bool:
        return self.action in DESTRUCTIVE

    @property
    def moved(self) -> bool:
        return self.previous_address is not None and self.previous_address != self.address

    def before(self, *path: str | int) -> Any:
        """A masked value from before the change (None when absent)."""
        return self.attributes.get("before", path) if self.attributes else None

    def after(self, *path: str | int) -> Any:
        """A masked value after the change (None when absent or unknown)."""
        return self.attributes.get("after", path) if self.attributes else None

    def changed_paths(self) -> tuple[tuple[str | int, ...], ...]:
        """Attribute paths whose value differs (paths only, never values)."""
        return self.attributes.changed_paths() if self.attributes else ()


class Edge(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """`dependent` depends on `dependency`; `via` says how we know."""

    dependent: str
    dependency: str
    via: str = "reference"


class OutputChange(msgspec.Struct, frozen=True, gc=False):
    name: str
    action: Action
    sensitive: bool = False


COUNT_KEYS = (
    "create",
    "update",
    "delete",
    "replace",
    "read",
    "noop",
    "forget",
    "import",
    "move",
    "drift",
)


class Plan(msgspec.Struct, kw_only=True):
    """Everything one input says about one set of changes."""

    source: str
    kind: PlanKind
    tool: str = "terraform"
    tool_version: str | None = None
    format_version: str | None = None
    changes: list[Change] = msgspec.field(default_factory=list)
    resources: dict[str, Resource] = msgspec.field(default_factory=dict)
    edges: list[Edge] = msgspec.field(default_factory=list)
    drift: list[Change] = msgspec.field(default_factory=list)
    outputs: list[OutputChange] = msgspec.field(default_factory=list)
    errored: bool = False
    applyable: bool | None = None
    complete: bool | None = None
    # True when the changes are predicted from sources (template pair, HCL
    # trees) rather than computed by the tool against real state.
    predicted: bool = False
    notes: list[str] = msgspec.field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Instances by action; moves and imports also count in their own keys."""
        counts = dict.fromkeys(COUNT_KEYS, 0)
        for change in self.changes:
            counts["noop" if change.action is Action.NOOP else change.action.value] += 1
            if change.moved:
                counts["move"] += 1
            if change.importing:
                counts["import"] += 1
        counts["drift"] = len(self.drift)
        return counts

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.action in DESTRUCTIVE]

    def managed_in_state(self) -> int:
        """Managed instances that exist before the change (for "N of M" ratios)."""
        return sum(
            1
            for c in self.changes
            if c.mode is Mode.MANAGED and c.action is not Action.CREATE and not c.importing
        )
