"""The run task request body, schema-checked.

The fields are those of the Run Tasks Integration API, payload version 1
(https://developer.hashicorp.com/terraform/cloud-docs/api-docs/run-tasks/run-tasks-integration#request-body).
Fields the server does not use may come and go: unknown ones are accepted and
ignored, the ones it uses are typed and bounded.

When a run task is created, HCP Terraform checks the URL (and the HMAC key)
with a request carrying dummy data; its `access_token` is the placeholder
`test-token` (HashiCorp's run task scaffolding, `VerificationToken` in
hashicorp/terraform-run-task-scaffolding-go, internal/sdk/api/structs.go). It
is answered 200 and nothing is fetched.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

VERIFICATION_TOKEN = "test-token"

Stage = Literal["pre_plan", "post_plan", "pre_apply", "post_apply"]
# Stages with a plan to review: `plan_json_api_url` is set from post_plan on.
PLAN_STAGES = ("post_plan", "pre_apply", "post_apply")

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
_Text = Annotated[str, msgspec.Meta(max_length=4096)]
_Url = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
_Token = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class PayloadError(ValueError):
    """The body is not a run task request: one line, never quoting the input."""


class _Probe(msgspec.Struct):
    """Just enough to tell the verification request apart."""

    access_token: object = None


class TaskRequest(msgspec.Struct, kw_only=True, frozen=True):
    """A run task request: what the server reads of it."""

    payload_version: Literal[1]
    stage: Stage
    access_token: _Token
    task_result_callback_url: _Url
    task_result_id: _Id
    run_id: _Id
    organization_name: _Id
    workspace_name: _Id
    workspace_id: _Id = ""
    task_result_enforcement_level: Literal["mandatory", "advisory", ""] = ""
    plan_json_api_url: _Url | None = None
    is_speculative: bool = False
    run_app_url: _Text | None = None
    run_message: _Text | None = None

    def __repr__(self) -> str:
        # Never the token (reprs end up in tracebacks and logs).
        return f"TaskRequest(run_id={self.run_id!r}, stage={self.stage!r})"

    @property
    def workspace(self) -> str:
        return f"{self.organization_name}/{self.workspace_name}"


_PROBE = msgspec.json.Decoder(_Probe)
_REQUEST = msgspec.json.Decoder(TaskRequest)


def is_verification(body: bytes) -> bool:
    """Whether `body` is the verification request sent when a run task is created."""
    try:
        probe = _PROBE.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return probe.access_token == VERIFICATION_TOKEN


def parse(body: bytes) -> TaskRequest:
    """The request in `body`; PayloadError says what is wrong, never quoting it."""
    try:
        request = _REQUEST.decode(body)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"not a run task request (payload version 1): {_where(exc)}") from None
    except msgspec.DecodeError:
        raise PayloadError("not JSON") from None
    if request.stage in PLAN_STAGES and not request.plan_json_api_url:
        raise PayloadError(f"stage {request.stage} without plan_json_api_url")
    return request


def _where(exc: msgspec.ValidationError) -> str:
    """msgspec's message names the field (`... - at `$.stage``) and, for a type
    mismatch, the types; keep those, never a value."""
    problem, _, at = str(exc).partition(" - at `")
    field = at.rstrip("`").removeprefix("$.") or "the body"
    if problem.startswith("Object missing required field"):
        return problem.replace("Object missing required field", "missing field")
    if problem.startswith("Expected `"):  # types and lengths only
        return f"{field}: {problem[0].lower()}{problem[1:]}"
    return f"{field}: not an allowed value"
