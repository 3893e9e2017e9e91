"""Shared by the report tests: big real-shaped plans written to disk for the size bound.

The big plan comes from benchmarks/gen_plan.py when that script is present;
`write_big_plan` is the fallback (and a second, hub-shaped input): one VPC
replaced under many dependents, many buckets destroyed, many updates, all in
the `terraform show -json` format so the real loader reads them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

GEN_PLAN = ROOT / "benchmarks" / "gen_plan.py"
PROVIDER = "registry.terraform.io/hashicorp/aws"


def generate(path: Path, resources: int) -> bool:
    """Run benchmarks/gen_plan.py; False when the script is not there."""
    if not GEN_PLAN.is_file():
        return False
    subprocess.run(
        [sys.executable, str(GEN_PLAN), "--resources", str(resources), "-o", str(path), "-q"],
        check=True,
        cwd=path.parent,
    )
    return True


def _rc(address: str, type_: str, name: str, index: object, actions: list[str]) -> dict:
    before = None if actions == ["create"] else {"id": address, "force_destroy": True}
    after = None if actions == ["delete"] else {"id": address, "force_destroy": False}
    rc = {
        "address": address,
        "mode": "managed",
        "type": type_,
        "name": name,
        "provider_name": PROVIDER,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": {},
            "before_sensitive": {},
            "after_sensitive": {} if after is not None else False,
        },
    }
    if index is not None:
        rc["index"] = index
    if actions == ["delete"]:
        rc["action_reason"] = "delete_because_each_key"
    if "create" in actions and "delete" in actions:
        rc["change"]["replace_paths"] = [["cidr_block"]]
        rc["action_reason"] = "replace_because_cannot_update"
    return rc


def write_big_plan(path: Path, buckets: int = 1500, apps: int = 1500) -> None:
    """A plan destroying `buckets` buckets and replacing a VPC under `apps` instances."""
    changes = [_rc("aws_vpc.main", "aws_vpc", "main", None, ["delete", "create"])]
    state = [{"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc", "name": "main"}]
    for i in range(buckets):
        key = f"tenant-{i:05d}"
        address = f'aws_s3_bucket.data["{key}"]'
        changes.append(_rc(address, "aws_s3_bucket", "data", key, ["delete"]))
        state.append(
            {"address": address, "mode": "managed", "type": "aws_s3_bucket", "name": "data"}
        )
    for i in range(apps):
        address = f"aws_instance.app[{i}]"
        changes.append(_rc(address, "aws_instance", "app", i, ["update"]))
        state.append(
            {
                "address": address,
                "mode": "managed",
                "type": "aws_instance",
                "name": "app",
                "index": i,
                "depends_on": ["aws_vpc.main"],
            }
        )
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": changes,
        "prior_state": {"format_version": "1.0", "values": {"root_module": {"resources": state}}},
        "configuration": {"root_module": {}},
        "applyable": True,
        "complete": True,
        "errored": False,
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
