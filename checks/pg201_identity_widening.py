"""PG201: identity permissions widen (wildcards, admin roles, open trust).

Both sides of each change are compared; only grants that are new after the
change fire, so an edit that keeps or narrows a policy is silent. Messages say
what widened, never the policy text.

A statement on every resource ("*") widens only when it may write: its actions
are judged by their IAM access level (planguard/iam_actions.py, from data).
Read and list actions, and the log and trace writes AWS's own managed policies
grant, are info; actions that only take "*" and only read are silent; an action
the table does not know counts as a write.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from planguard import iam_actions
from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Change
from planguard.values import SENSITIVE

from ._common import (
    Steps,
    canonical,
    hidden_at,
    introducing,
    lookup_steps,
    masked,
    side,
    unmasked_side,
)

META = CheckMeta(
    id="PG201",
    slug="identity-widening",
    title="Identity permissions widened",
    severity=Severity.HIGH,
    rationale=(
        "Wildcard actions or resources, administrator roles and trust policies open to other "
        "principals give far more access than a change usually needs, and a leaked credential "
        "or a compromised workload inherits all of it."
    ),
    remediation=(
        "Grant the specific actions on the specific resources the workload uses; attach a "
        "narrower managed policy or role instead of an administrator one; in trust policies "
        "name the exact principals and add conditions (aws:PrincipalOrgID, sts:ExternalId)."
    ),
    options={
        "admin_policies": ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"],
        "admin_roles": ["roles/owner", "roles/editor", "roles/iam.securityAdmin"],
        "azure_admin_roles": ["Owner", "Contributor", "User Access Administrator"],
    },
    reads_values=True,
    needs_graph=False,
)

# Where policy documents live, by resource type (dotted paths step through lists).
POLICY_PATHS: dict[str, tuple[str, ...]] = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_iam_role": ("assume_role_policy", "inline_policy.policy"),
    "aws_s3_bucket_policy": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_ecr_repository_policy": ("policy",),
    "aws_secretsmanager_secret_policy": ("policy",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Role": ("AssumeRolePolicyDocument", "Policies.PolicyDocument"),
    "AWS::IAM::User": ("Policies.PolicyDocument",),
    "AWS::IAM::Group": ("Policies.PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
}
# Where managed policy ARNs are attached.
ARN_PATHS: dict[str, str] = {
    "aws_iam_role_policy_attachment": "policy_arn",
    "aws_iam_user_policy_attachment": "policy_arn",
    "aws_iam_group_policy_attachment": "policy_arn",
    "aws_iam_policy_attachment": "policy_arn",
    "aws_iam_role": "managed_policy_arns",
    "aws_ssoadmin_managed_policy_attachment": "managed_policy_arn",
    "AWS::IAM::Role": "ManagedPolicyArns",
    "AWS::IAM::User": "ManagedPolicyArns",
    "AWS::IAM::Group": "ManagedPolicyArns",
}
# Well-known ids of Azure's built-in Owner, Contributor and User Access Administrator.
_AZURE_ADMIN_IDS = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
_ACCOUNT = re.compile(r"^(?:arn:aws[\w-]*:iam::)?(\d{12})(?::|$)")

# A wide grant: (kind, value), e.g. ("action", "s3:*") or ("principal", "*").
Grant = tuple[str, str]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and not masked(value):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def document_grants(doc: dict[str, Any]) -> set[Grant]:
    """The wide grants an IAM policy document makes (Allow statements only)."""
    return {grant for grant, _ in statement_grants(doc)}


def statement_grants(doc: dict[str, Any]) -> list[tuple[Grant, str]]:
    """Each wide grant with the statement that makes it, canonical (evidence:
    widening a statement that already made the grant changes the text)."""
    out: list[tuple[Grant, str]] = []
    for stmt in _as_list(doc.get("Statement")):
        if isinstance(stmt, dict) and stmt.get("Effect") == "Allow":
            text = _canonical(stmt)
            out += [(grant, text) for grant in sorted(_statement_grants(stmt))]
    return out


def _statement_grants(stmt: dict[str, Any]) -> set[Grant]:
    out: set[Grant] = set()
    actions = [str(a).lower() for a in _as_list(stmt.get("Action"))]
    every_action = "*" in actions or "NotAction" in stmt
    every_resource = "*" in _as_list(stmt.get("Resource")) or "NotResource" in stmt
    if "*" in actions:
        out.add(("action", "*"))
    out.update(("action", a) for a in actions if a.endswith(":*"))
    if "NotAction" in stmt:
        out.add(("notaction", ""))
    if "Principal" not in stmt and every_resource:
        out.update(_every_resource(actions, every_action))
    if every_action and every_resource and "Principal" not in stmt:
        out.add(("admin", ""))
    out.update(_principal_grants(stmt))
    return out


def _every_resource(actions: list[str], every_action: bool) -> set[Grant]:
    """What actions on "*" grant, by the access level of each action they match."""
    if every_action:
        return {("resource", "*")}
    reach = iam_actions.reach(actions)
    if reach.widens:
        # Service wildcards ("s3:*") are named by their own grant already.
        writes = {("write", a) for a, _ in reach.writes if not a.endswith(":*")}
        return {("resource", "*"), *writes, *(("unknown", a) for a in reach.unknown)}
    if reach.logging:
        return {("logging", "*")}
    if reach.scoped_reads:
        return {("read", "*")}
    return set()  # reads of actions that take no resource but "*": nothing wider to ask


def _canonical(stmt: dict[str, Any]) -> str:
    """A statement without its Sid, lists as sets, IAM actions in lower case."""
    doc = {
        key: ([str(a).lower() for a in _as_list(v)] if key in ("Action", "NotAction") else v)
        for key, v in stmt.items()
        if key != "Sid"
    }
    return "statement " + canonical(doc, unordered=True)


def _principal_grants(stmt: dict[str, Any]) -> set[Grant]:
    principal = stmt.get("Principal")
    if principal is None:
        return set()
    values = _as_list(principal) if not isinstance(principal, dict) else []
    if isinstance(principal, dict):
        values = [v for key in ("AWS", "CanonicalUser") for v in _as_list(principal.get(key))]
    out: set[Grant] = set()
    for value in map(str, values):
        if value == "*":
            # A condition (organisation, source account, external id) narrows "*".
            if not stmt.get("Condition"):
                out.add(("principal", "*"))
        elif m := _ACCOUNT.match(value):
            out.add(("account", m.group(1)))
    return out


_CRITICAL, _HIGH, _INFO = Severity.CRITICAL, Severity.HIGH, Severity.INFO


def _describe(grant: Grant) -> tuple[str, Severity]:
    kind, value = grant
    if kind == "admin":
        return 'allows every action on every resource ("*" on "*")', _CRITICAL
    if kind == "action" and value == "*":
        return 'allows every action ("*")', _CRITICAL
    if kind == "action":
        service = value.split(":", 1)[0]
        return f'allows every {service} action ("{value}")', (
            _CRITICAL if service in ("iam", "sts", "kms") else _HIGH
        )
    if kind == "notaction":
        return "allows every action except a list (NotAction)", _CRITICAL
    if kind == "resource":
        return 'allows writes on every resource ("*")', _HIGH
    if kind == "write":
        levels = {level for _, found in iam_actions.reach([value]).writes for level in found}
        return f'"{value}" ({", ".join(sorted(levels))})', _HIGH
    if kind == "unknown":
        return f'"{value}" (not in the IAM action table, so taken as a write)', _HIGH
    if kind == "logging":
        return 'writes logs or traces on every resource ("*"), as AWS managed policies do', _INFO
    if kind == "read":
        return 'reads every resource ("*") (read and list actions only)', _INFO
    if kind == "principal":
        return 'trusts any principal ("*")', _CRITICAL
    if kind == "account":
        return f"trusts account {value}", _HIGH
    if kind == "attach":
        return f"attaches the {value} policy", _CRITICAL
    if kind == "role":
        return f"grants {value}", _CRITICAL
    raise AssertionError(grant)


def _reads_grants(type_: str) -> bool:
    """Whether `_grants` looks at resources of this type at all."""
    return (
        type_ in POLICY_PATHS
        or type_ in ARN_PATHS
        or type_ == "azurerm_role_assignment"
        or (type_.startswith("google_") and type_.endswith(("_iam_member", "_iam_binding")))
    )


class _Grants:
    """The wide grants of one side: the evidence of each (statements, ARNs,
    members), and those a message may not describe (all their sources were
    sensitive)."""

    def __init__(self) -> None:
        self.evidence: dict[Grant, set[str]] = {}
        self.hidden: set[Grant] = set()

    def add(self, grant: Grant, evidence: str, mark: str | None) -> None:
        if grant not in self.evidence:
            self.evidence[grant] = set()
            if mark == SENSITIVE:
                self.hidden.add(grant)
        elif mark != SENSITIVE:
            self.hidden.discard(grant)  # shown by a source that is not sensitive
        self.evidence[grant].add(evidence)


def _grants(ctx: Context, change: Change, which: str) -> _Grants:
    """Decided on the unmasked values: a `sensitive()` policy is still read."""
    out = _Grants()
    if not _reads_grants(change.type):
        return out  # without decoding a value nothing reads
    value = unmasked_side(change, which)
    if not isinstance(value, dict):
        return out
    shown: list[Any] = []

    def mark(*steps: Steps) -> str | None:
        if not shown:
            shown.append(side(change, which))  # the masked side, read only when needed
        marks = {hidden_at(shown[0], s) for s in steps}
        return SENSITIVE if SENSITIVE in marks else None

    for path in POLICY_PATHS.get(change.type, ()):
        for steps, raw in lookup_steps(value, path):
            doc = _document(raw)
            if doc is not None:
                for grant, statement in statement_grants(doc):
                    out.add(grant, statement, mark(steps))
    admin_policies = set(ctx.option(META, "admin_policies"))
    arn_path = ARN_PATHS.get(change.type)
    if arn_path:
        for steps, arn in lookup_steps(value, arn_path):
            name = str(arn).rsplit("/", 1)[-1]
            if name in admin_policies:
                out.add(("attach", name), f"attach {arn}", mark(steps))
    if change.type.startswith("google_") and change.type.endswith(("_iam_member", "_iam_binding")):
        role = value.get("role")
        if role in set(ctx.option(META, "admin_roles")):
            members = _as_list(value.get("members")) or _as_list(value.get("member"))
            where = mark(("role",), ("members",), ("member",))
            for m in map(str, members):
                out.add(("role", f"{role} to {m}"), f"role {role} to {m}", where)
    if change.type == "azurerm_role_assignment":
        role = value.get("role_definition_name")
        role_id = str(value.get("role_definition_id") or "").rsplit("/", 1)[-1]
        role = role or _AZURE_ADMIN_IDS.get(role_id)
        if role in set(ctx.option(META, "azure_admin_roles")):
            where = mark(("role_definition_name",), ("role_definition_id",))
            out.add(("role", f"the {role} role"), f"role {role}", where)
    return out


def check(ctx: Context) -> Iterator[Finding]:
    for change in introducing(ctx.plan.changes):
        after = _grants(ctx, change, "after")
        if not after.evidence:
            continue
        before = _grants(ctx, change, "before") if change.action is not Action.CREATE else None
        new = set(after.evidence) - set(before.evidence if before else ())
        if change.action is Action.CREATE:
            # A new role trusting an account is ordinary; widening an existing trust is not.
            new = {g for g in new if g[0] != "account"}
        if ("resource", "*") not in new:
            # The actions only say what a new write on "*" is: one more action
            # where writes on "*" were already granted stays silent, as before.
            new = {g for g in new if g[0] not in ("write", "unknown")}
        if ("admin", "") in new:
            new -= {("action", "*"), ("resource", "*")}
        if not new:
            continue
        severity = max((_describe(g)[1] for g in new), key=lambda s: s.rank)
        # Members of IAM bindings are identities: count them, don't list them.
        phrases = _summarise(sorted(g for g in new if g not in after.hidden))
        if any(g in after.hidden for g in new):
            phrases.append(f"widens permissions {SENSITIVE}")  # not what, nor to whom
        now = "now " if change.action is not Action.CREATE else ""
        yield ctx.finding(
            META,
            f"{change.address} {now}{'; '.join(phrases)}",
            change=change,
            severity=severity,
            evidence=[
                *(f"grant {kind} {value}" for kind, value in new),
                *(e for g in new for e in after.evidence[g]),
            ],
        )


_LISTED = 3  # write actions named in a message; the rest are counted


def _summarise(grants: list[Grant]) -> list[str]:
    out: list[str] = []
    roles: dict[str, int] = {}
    actions = [_describe(g)[0] for g in grants if g[0] in ("write", "unknown")]
    for grant in grants:
        text = _describe(grant)[0]
        if grant[0] in ("write", "unknown"):
            continue
        if grant == ("resource", "*") and actions:
            continue  # said by the actions, below
        if text.startswith("grants ") and " to " in text:
            role = text[len("grants ") :].split(" to ", 1)[0]
            roles[role] = roles.get(role, 0) + 1
        else:
            out.append(text)
    if actions:
        named = ", ".join(actions[:_LISTED])
        more = len(actions) - _LISTED
        rest = f" and {more} more" if more > 0 else ""
        out.append(f'allows {named}{rest} on every resource ("*")')
    out.sort()
    for role, n in sorted(roles.items()):
        out.append(f"grants {role} to {n} new member{'s' if n != 1 else ''}")
    return out
