"""Read input files into Plans; detection looks at content, never at names.

Every problem with an input becomes an `InputError` naming the file: a guard
that cannot read its input must not pass it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from planguard.errors import InputError
from planguard.load.files import (
    _ZIP_MAGIC,
    DEFAULT_MAX_BYTES,
    STDIN,
    LoadOptions,
    decode_object,
    has_sources,
    read_buffer,
    read_bytes,
    terraform_bytes,
    to_utf8,
    unwrap_action_output,
)
from planguard.model import Plan, PlanKind
from planguard.speed.mapped import Buffer

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LoadOptions",
    "decode_object",
    "has_sources",
    "load",
    "read_buffer",
    "read_bytes",
    "show_binary_plan",
    "sources_wanted",
    "terraform_bytes",
    "to_utf8",
]


def sources_wanted(
    plans: list[Plan], hcl_dirs: list[str], base: str | None, source_dir: str | None
) -> bool:
    """Whether `hcl.for_review` has anything to do (the HCL reader costs an import)."""
    return bool(hcl_dirs or base or source_dir) or any(
        plan.kind is PlanKind.TERRAFORM and has_sources(os.path.dirname(plan.source) or ".")
        for plan in plans
    )


def show_binary_plan(path: str) -> bytes:
    """Turn a binary plan file into JSON with the terraform or tofu on PATH."""
    exe = shutil.which("terraform") or shutil.which("tofu")
    if exe is None:
        raise InputError(
            path,
            "binary plan file: planguard reads plan JSON; "
            "run `terraform show -json tfplan > plan.json` and review plan.json",
        )
    directory = os.path.dirname(os.path.abspath(path))
    try:
        proc = subprocess.run(
            [exe, "show", "-json", "-no-color", os.path.abspath(path)],
            cwd=directory,
            capture_output=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(path, f"`{os.path.basename(exe)} show -json` failed: {exc}") from None
    if proc.returncode != 0:
        detail = next(
            (
                line.strip()
                for line in proc.stderr.decode(errors="replace").splitlines()
                if line.strip().strip("│╷╵ ")
            ),
            "no output",
        ).strip("│╷╵ ")
        raise InputError(path, f"`{os.path.basename(exe)} show -json` failed: {detail}")
    return proc.stdout


def _not_json_hint(path: str, head: bytes) -> str:
    """What to do with text that is not a plan: the usual mistakes named."""
    if path.endswith((".tf", ".tf.json", ".tfvars")) or _HCL_BLOCK.match(head):
        return "Terraform sources, not a plan: review a directory of .tf files with --hcl DIR"
    if b"Terraform used the selected providers" in head or _PLAN_TEXT.search(head):
        return (
            "the text output of terraform plan, not JSON: save the plan with "
            "`terraform plan -out=tfplan` and give `terraform show -json tfplan`"
        )
    return "not JSON (and not a CloudFormation YAML template)"


# The first block of a .tf file, and the words of `terraform plan`'s text output.
_HCL_BLOCK = re.compile(
    rb'\s*(?:#[^\n]*\n\s*)*(resource|module|variable|terraform|provider|data|locals|output)\s+("|\{)'
)
_PLAN_TEXT = re.compile(
    rb"Plan: \d+ to add|No changes\. Your infrastructure matches"
    rb"|will be (?:created|destroyed|updated in-place)"
)


def _kind(path: str, data: Buffer) -> tuple[str, Any]:
    """("terraform", None) or a CloudFormation kind with its decoded document."""
    head = data[:4096].lstrip()
    if not head:
        raise InputError(path, "empty file")
    if head[:1] != b"{" and head[:1] != b"[":
        from planguard.load import cloudformation

        if cloudformation.looks_like_yaml_template(bytes(data)):
            return "cfn-template", None
        raise InputError(path, _not_json_hint(path, bytes(head[:2048])))
    if b'"format_version"' in head[:512] or b'"plan_format_version"' in head[:512]:
        return "terraform", None
    doc = decode_object(path, data)
    if "format_version" in doc or "plan_format_version" in doc:
        return "terraform", None
    if "Changes" in doc and ({"ChangeSetName", "ChangeSetId", "StackName"} & doc.keys()):
        return "cfn-change-set", doc
    if isinstance(doc.get("Resources"), dict):
        return "cfn-template", doc
    if {"version", "lineage", "resources"} <= doc.keys():
        raise InputError(path, "this is a Terraform state file, not a plan")
    if "resource_changes" in doc or "planned_values" in doc:
        return "terraform", None  # a plan without its format_version: read with a warning
    keys = ", ".join(sorted(str(k)[:40] for k in doc)[:6]) or "none"
    raise InputError(
        path,
        f"not a Terraform plan or CloudFormation change set/template (top-level keys: {keys})",
    )


def load(paths: list[str], options: LoadOptions | None = None) -> list[Plan]:
    """Every input, in the order given; CloudFormation inputs are combined."""
    options = options or LoadOptions()
    plans: list[Plan] = []
    cfn: list[tuple[str, str, Any, bytes]] = []
    if paths.count(STDIN) > 1:
        raise InputError(STDIN, "standard input given more than once")
    for path in paths:
        if path != STDIN and Path(path).is_dir():
            from planguard.load import cloudformation

            if cloudformation.is_cdk_out(path):
                cfn.extend(cloudformation.read_cdk_out(path, options.max_bytes))
                continue
            raise InputError(path, "is a directory (give plan files, or a cdk.out directory)")
        data = read_buffer(path, options.max_bytes)
        if data[:4] == _ZIP_MAGIC:
            if path == STDIN:
                raise InputError(path, "a binary plan on standard input: pipe `show -json`")
            data = to_utf8(path, show_binary_plan(path))
        data, note = unwrap_action_output(path, data)
        kind, doc = _kind(path, data)
        if kind == "terraform":
            from planguard.load import terraform

            plans.append(
                terraform.load(
                    path,
                    data,
                    edges=options.edges,
                    note=note,
                    resolved_from=options.resolved_from,
                    resolved_to=options.resolved_to,
                )
            )
        else:
            cfn.append((path, kind, doc, bytes(data)))
    if cfn or options.before or options.after:
        from planguard.load import cloudformation

        plans.extend(cloudformation.build(cfn, options))
    return plans
