#!/usr/bin/env python3
"""Generate a large, realistic Terraform plan in the `terraform show -json` format.

The plan describes an AWS estate: a root module with shared resources, an IAM
module, and one `module.app["<region>"]` instance per region, each holding a
network module (`module.net`: the VPC and everything in it) and one
`module.svc["<service>"]` instance per service, which in turn calls
`module.alarms`. Every resource instance has realistic AWS attribute names and
values, prior-state `depends_on` lists that are transitive and made of
configuration addresses (as Terraform writes them), and configuration
`expressions` whose `references` are relative to the module they sit in.

Output is byte-identical for the same arguments: all randomness comes from the
seed, per-resource values are derived from a keyed hash of the resource address,
and nothing depends on dict or set iteration order of hashed objects.

    python benchmarks/gen_plan.py --resources 10000 -o plan-10k.json
    python benchmarks/gen_plan.py --hub-dependents 20000 --hub-destroyed 500 -o hub.json

The output is written piece by piece (three scratch files next to the output,
removed at the end), so memory stays modest even for 100k resources.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

FORMAT_VERSION = "1.2"
TERRAFORM_VERSION = "1.11.4"
STATE_FORMAT_VERSION = "1.0"
PROVIDER = "registry.terraform.io/hashicorp/aws"
PROVIDER_KEY = "aws"
ACCOUNT = "123456789012"
ENV = "prod"
DOMAIN = "prod.example.com"
TIMESTAMP = "2025-05-14T09:30:00Z"

# Target share of each action among the resource changes (the rest are no-op).
MIX = {"create": 0.08, "update": 0.15, "delete": 0.04, "replace": 0.03}
CREATE_BEFORE_DESTROY_SHARE = 0.15  # replaces ordered ["create", "delete"]
TAINTED_SHARE = 0.05  # replaces caused by a tainted object (no replace_paths)

REGIONS = [
    ("eu", "eu-west-1"), ("us", "us-east-1"), ("ap", "ap-southeast-1"),
    ("ca", "ca-central-1"), ("sa", "sa-east-1"), ("eu2", "eu-central-1"),
    ("us2", "us-west-2"), ("ap2", "ap-northeast-1"),
]
SERVICES = [
    "api", "web", "auth", "billing", "orders", "payments", "catalog", "search",
    "notify", "reports", "users", "inventory", "shipping", "checkout", "media",
    "analytics", "gateway", "admin", "ledger", "pricing", "reviews", "events",
]
TEAMS = ["core", "growth", "payments", "platform", "data", "identity"]
LAMBDAS = ["ingest", "thumbnail", "cleanup", "report", "sync"]
PARAMS = ["db_url", "api_key", "feature_flags", "smtp_password", "signing_key"]
USERS = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
    "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
    "victor", "walter", "yolanda",
]
DEFAULT_TAGS = {
    "BackupPolicy": "daily-35d",
    "Compliance": "soc2",
    "CostCenter": "cc-4711",
    "DataClassification": "internal",
    "Owner": "platform-team",
    "Repository": "github.com/example/infrastructure",
}
# Types whose objects carry no tags (drift is simulated as a tag edited in the console).
TAGLESS = {
    "aws_kms_alias", "aws_s3_bucket_policy", "aws_s3_bucket_versioning",
    "aws_iam_role_policy_attachment", "aws_route_table_association", "aws_network_acl_rule",
    "aws_lb_target_group_attachment", "aws_secretsmanager_secret_version", "aws_route53_record",
    "aws_iam_group", "aws_iam_group_policy_attachment", "aws_iam_access_key",
    "aws_iam_group_membership", "aws_cloudwatch_dashboard",
}
AZ_SUFFIX = "abc"
MODULE_SOURCE = {
    "root": "infrastructure/prod", "iam": "modules/iam", "net": "modules/net",
    "svc": "modules/svc", "alarms": "modules/alarms",
}

_SORTED = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
_ORDERED = json.JSONEncoder(separators=(",", ":"))
dj = _SORTED.encode  # maps: Go and cty marshal object keys sorted
dj_ordered = _ORDERED.encode  # structs: key order given by the caller


def go_escape(text: str) -> str:
    """Go's encoding/json escapes <, > and & (only ever inside strings in JSON text).
    Resource values are built without them; the small sections go through this."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---------------------------------------------------------------------------
# Keyed hashing: every id and per-resource random stream comes from here.


class Ids:
    def __init__(self, seed: int) -> None:
        self.key = f"planguard-bench/{seed}".encode()[:64]

    def digest(self, text: str, size: int) -> bytes:
        return hashlib.blake2b(text.encode(), digest_size=size, key=self.key).digest()

    def hex(self, text: str, n: int = 17) -> str:
        return self.digest(text, (n + 1) // 2).hex()[:n]

    def id(self, prefix: str, address: str) -> str:
        return f"{prefix}-0{self.hex(address, 16)}"

    def rng(self, text: str) -> random.Random:
        return random.Random(int.from_bytes(self.digest(text, 8), "big"))

    def frac(self, text: str) -> float:
        return int.from_bytes(self.digest(text, 4), "big") / 4294967296.0

    def uuid(self, text: str) -> str:
        h = self.hex(text, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def upper(self, text: str, n: int = 17) -> str:
        return self.hex(text, n).upper()


# ---------------------------------------------------------------------------
# Configuration model: blocks (resource blocks in a module) and module instances.


def c(value: Any) -> dict[str, Any]:
    return {"constant_value": value}


def r(*refs: str) -> dict[str, Any]:
    return {"references": list(refs)}


class Block:
    """A resource block of one module kind (root, iam, net, svc, alarms)."""

    __slots__ = (
        "addr", "closure", "dependents", "depends_on", "deps", "expr", "in_config", "keys",
        "kind", "mode", "name", "rep", "rep_expr", "type",
    )

    def __init__(
        self,
        kind: str,
        addr: str,
        deps: Iterable[str] = (),
        expr: dict[str, Any] | None = None,
        keys: str | None = None,
        rep_expr: dict[str, Any] | None = None,
        depends_on: Iterable[str] = (),
        in_config: bool = True,
    ) -> None:
        self.kind = kind
        self.addr = addr
        parts = addr.split(".")
        self.mode = "data" if parts[0] == "data" else "managed"
        self.type, self.name = parts[-2], parts[-1]
        # deps are block ids "<kind>:<address>"; a bare address means the same kind
        self.deps = [d if ":" in d else f"{kind}:{d}" for d in deps]
        self.expr = expr or {}
        self.keys = keys  # name of the module parameter that lists instance keys
        self.rep = None if keys is None else ("for_each" if keys in EACH_KEYS else "count")
        self.rep_expr = rep_expr
        self.depends_on = list(depends_on)
        self.in_config = in_config
        self.closure: list[str] = []
        self.dependents = 0

    @property
    def bid(self) -> str:
        return f"{self.kind}:{self.addr}"


EACH_KEYS = {"lambdas", "params", "users", "global"}

_POLICY_REFS = ("data.aws_caller_identity.current.account_id", "data.aws_caller_identity.current")

BLOCKS: dict[str, list[Block]] = {
    "root": [
        Block("root", "data.aws_caller_identity.current"),
        Block("root", "data.aws_region.current"),
        Block("root", "aws_kms_key.main", ["data.aws_caller_identity.current"], {
            "description": c("Shared key for the prod estate"),
            "enable_key_rotation": c(True),
            "deletion_window_in_days": c(30),
            "policy": r(*_POLICY_REFS),
            "tags": r("local.tags"),
        }),
        Block("root", "aws_kms_alias.main", ["aws_kms_key.main"], {
            "name": c("alias/prod-main"),
            "target_key_id": r("aws_kms_key.main.key_id", "aws_kms_key.main"),
        }),
        Block("root", "aws_route53_zone.main", [], {
            "name": c(DOMAIN), "comment": c("Public zone for prod"), "tags": r("local.tags"),
        }),
        Block("root", "aws_s3_bucket.logs", [], {
            "bucket": c(f"prod-central-logs-{ACCOUNT}"), "tags": r("local.tags"),
        }),
        Block("root", "aws_s3_bucket_policy.logs", [
            "aws_s3_bucket.logs", "data.aws_caller_identity.current",
        ], {
            "bucket": r("aws_s3_bucket.logs.id", "aws_s3_bucket.logs"),
            "policy": r("aws_s3_bucket.logs.arn", "aws_s3_bucket.logs", *_POLICY_REFS),
        }),
        Block("root", "aws_iam_role.ci", [], {
            "name": c("prod-ci-deployer"),
            "assume_role_policy": c('{"Version":"2012-10-17"}'),
            "max_session_duration": c(3600),
            "tags": r("local.tags"),
        }),
        Block("root", "aws_iam_policy.ci", ["aws_s3_bucket.logs"], {
            "name": c("prod-ci-deployer"),
            "policy": r("aws_s3_bucket.logs.arn", "aws_s3_bucket.logs"),
        }),
        Block("root", "aws_iam_role_policy_attachment.ci", [
            "aws_iam_role.ci", "aws_iam_policy.ci",
        ], {
            "role": r("aws_iam_role.ci.name", "aws_iam_role.ci"),
            "policy_arn": r("aws_iam_policy.ci.arn", "aws_iam_policy.ci"),
        }),
        Block("root", "aws_sns_topic.ops", ["aws_kms_key.main"], {
            "name": c("prod-ops"),
            "kms_master_key_id": r("aws_kms_key.main.arn", "aws_kms_key.main"),
        }),
        Block("root", "aws_cloudwatch_log_group.audit", ["aws_kms_key.main"], {
            "name": c("/prod/audit"),
            "retention_in_days": c(365),
            "kms_key_id": r("aws_kms_key.main.arn", "aws_kms_key.main"),
        }),
        Block("root", "aws_ssm_parameter.global", ["aws_kms_key.main"], {
            "name": r("each.key"),
            "type": c("String"),
            "value": r("each.value"),
        }, keys="global", rep_expr=r("var.global_parameters")),
    ],
    "iam": [
        Block("iam", "aws_iam_group.devs", [], {"name": c("developers"), "path": c("/people/")}),
        Block("iam", "aws_iam_policy.devs", [], {
            "name": c("developers-read-only"), "policy": r("var.read_only_policy"),
        }),
        Block("iam", "aws_iam_group_policy_attachment.devs", [
            "aws_iam_group.devs", "aws_iam_policy.devs",
        ], {
            "group": r("aws_iam_group.devs.name", "aws_iam_group.devs"),
            "policy_arn": r("aws_iam_policy.devs.arn", "aws_iam_policy.devs"),
        }),
        Block("iam", "aws_iam_user.dev", [], {
            "name": r("each.key"), "path": c("/people/"), "tags": r("var.tags", "each.value"),
        }, keys="users", rep_expr=r("var.users")),
        Block("iam", "aws_iam_access_key.dev", ["aws_iam_user.dev"], {
            "user": r("aws_iam_user.dev", "each.key"),
        }, keys="users", rep_expr=r("aws_iam_user.dev")),
        Block("iam", "aws_iam_group_membership.devs", ["aws_iam_group.devs", "aws_iam_user.dev"], {
            "name": c("developers"),
            "group": r("aws_iam_group.devs.name", "aws_iam_group.devs"),
            "users": r("aws_iam_user.dev"),
        }),
    ],
    "net": [
        Block("net", "aws_vpc.main", [], {
            "cidr_block": r("var.cidr"),
            "enable_dns_hostnames": c(True),
            "enable_dns_support": c(True),
            "tags": r("var.tags", "var.name"),
        }),
        Block("net", "aws_internet_gateway.main", ["aws_vpc.main"], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"), "tags": r("var.tags", "var.name"),
        }),
        Block("net", "aws_subnet.private", ["aws_vpc.main"], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "cidr_block": r("var.cidr", "count.index"),
            "availability_zone": r("var.azs", "count.index", "var.azs"),
            "tags": r("var.tags", "var.name", "count.index"),
        }, keys="private", rep_expr=r("var.azs", "var.tiers")),
        Block("net", "aws_subnet.public", ["aws_vpc.main"], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "cidr_block": r("var.cidr", "count.index"),
            "availability_zone": r("var.azs", "count.index"),
            "map_public_ip_on_launch": c(False),
            "tags": r("var.tags", "var.name", "count.index"),
        }, keys="azs", rep_expr=r("var.azs")),
        Block("net", "aws_eip.nat", ["aws_internet_gateway.main"], {
            "domain": c("vpc"), "tags": r("var.tags", "var.name", "count.index"),
        }, keys="azs", rep_expr=r("var.azs"), depends_on=["aws_internet_gateway.main"]),
        Block("net", "aws_nat_gateway.main", ["aws_eip.nat", "aws_subnet.public"], {
            "allocation_id": r("aws_eip.nat", "count.index"),
            "subnet_id": r("aws_subnet.public", "count.index"),
            "tags": r("var.tags", "var.name", "count.index"),
        }, keys="azs", rep_expr=r("var.azs")),
        Block("net", "aws_route_table.private", ["aws_vpc.main", "aws_nat_gateway.main"], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "route": [{
                "cidr_block": c("0.0.0.0/0"),
                "nat_gateway_id": r("aws_nat_gateway.main", "count.index"),
            }],
            "tags": r("var.tags", "var.name", "count.index"),
        }, keys="azs", rep_expr=r("var.azs")),
        Block("net", "aws_route_table.public", ["aws_vpc.main", "aws_internet_gateway.main"], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "route": [{
                "cidr_block": c("0.0.0.0/0"),
                "gateway_id": r("aws_internet_gateway.main.id", "aws_internet_gateway.main"),
            }],
            "tags": r("var.tags", "var.name"),
        }),
        Block("net", "aws_route_table_association.private", [
            "aws_subnet.private", "aws_route_table.private",
        ], {
            "subnet_id": r("aws_subnet.private", "count.index"),
            "route_table_id": r("aws_route_table.private", "count.index", "var.azs"),
        }, keys="private", rep_expr=r("aws_subnet.private")),
        Block("net", "aws_route_table_association.public", [
            "aws_subnet.public", "aws_route_table.public",
        ], {
            "subnet_id": r("aws_subnet.public", "count.index"),
            "route_table_id": r("aws_route_table.public.id", "aws_route_table.public"),
        }, keys="azs", rep_expr=r("aws_subnet.public")),
        Block("net", "aws_security_group.endpoints", ["aws_vpc.main"], {
            "name": r("var.name"),
            "description": c("VPC endpoints"),
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "ingress": [{
                "from_port": c(443), "to_port": c(443), "protocol": c("tcp"),
                "cidr_blocks": r("var.cidr"),
            }],
        }),
        Block("net", "aws_vpc_endpoint.s3", ["aws_vpc.main", "aws_route_table.private"], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "service_name": r("var.region"),
            "route_table_ids": r("aws_route_table.private"),
        }),
        Block("net", "aws_cloudwatch_log_group.flow", [], {
            "name": r("var.name"), "retention_in_days": c(90),
        }),
        Block("net", "aws_iam_role.flow", [], {
            "name": r("var.name"), "assume_role_policy": c('{"Version":"2012-10-17"}'),
        }),
        Block("net", "aws_flow_log.main", [
            "aws_vpc.main", "aws_cloudwatch_log_group.flow", "aws_iam_role.flow",
        ], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "traffic_type": c("ALL"),
            "log_destination": r(
                "aws_cloudwatch_log_group.flow.arn", "aws_cloudwatch_log_group.flow"
            ),
            "iam_role_arn": r("aws_iam_role.flow.arn", "aws_iam_role.flow"),
        }),
        Block("net", "aws_network_acl.main", ["aws_vpc.main", "aws_subnet.private"], {
            "vpc_id": r("aws_vpc.main.id", "aws_vpc.main"),
            "subnet_ids": r("aws_subnet.private"),
            "tags": r("var.tags", "var.name"),
        }),
        Block("net", "aws_network_acl_rule.rule", ["aws_network_acl.main"], {
            "network_acl_id": r("aws_network_acl.main.id", "aws_network_acl.main"),
            "rule_number": r("count.index"),
            "protocol": c("tcp"),
            "rule_action": c("allow"),
            "cidr_block": r("var.allowed_cidrs", "count.index"),
            "from_port": c(443),
            "to_port": c(443),
        }, keys="nacl", rep_expr=r("var.allowed_cidrs")),
    ],
    "svc": [
        Block("svc", "data.aws_iam_policy_document.assume", [], {
            "statement": [{"actions": c(["sts:AssumeRole"])}],
        }),
        Block("svc", "aws_security_group.svc", ["net:aws_vpc.main"], {
            "name": r("var.name"),
            "description": r("var.name"),
            "vpc_id": r("var.vpc_id"),
            "ingress": [{
                "from_port": c(8080), "to_port": c(8080), "protocol": c("tcp"),
                "cidr_blocks": r("var.vpc_cidr"),
            }],
            "egress": [{
                "from_port": c(0), "to_port": c(0), "protocol": c("-1"),
                "cidr_blocks": c(["0.0.0.0/0"]),
            }],
            "tags": r("var.tags"),
        }),
        Block("svc", "aws_iam_role.svc", ["data.aws_iam_policy_document.assume"], {
            "name": r("var.name"),
            "assume_role_policy": r(
                "data.aws_iam_policy_document.assume.json", "data.aws_iam_policy_document.assume"
            ),
            "tags": r("var.tags"),
        }),
        Block("svc", "aws_iam_policy.svc", [
            "aws_s3_bucket.assets", "aws_dynamodb_table.state", "aws_secretsmanager_secret.db",
        ], {
            "name": r("var.name"),
            "policy": r(
                "aws_s3_bucket.assets.arn", "aws_s3_bucket.assets",
                "aws_dynamodb_table.state.arn", "aws_dynamodb_table.state",
                "aws_secretsmanager_secret.db.arn", "aws_secretsmanager_secret.db",
            ),
        }),
        Block("svc", "aws_iam_role_policy_attachment.svc", [
            "aws_iam_role.svc", "aws_iam_policy.svc",
        ], {
            "role": r("aws_iam_role.svc.name", "aws_iam_role.svc"),
            "policy_arn": r("aws_iam_policy.svc.arn", "aws_iam_policy.svc"),
        }),
        Block("svc", "aws_iam_instance_profile.svc", ["aws_iam_role.svc"], {
            "name": r("var.name"), "role": r("aws_iam_role.svc.name", "aws_iam_role.svc"),
        }),
        Block("svc", "aws_instance.app", [
            "net:aws_subnet.private", "aws_security_group.svc", "aws_iam_instance_profile.svc",
        ], {
            "ami": r("var.ami_id"),
            "instance_type": r("var.instance_type"),
            "subnet_id": r("var.private_subnet_ids", "count.index", "var.private_subnet_ids"),
            "vpc_security_group_ids": r("aws_security_group.svc.id", "aws_security_group.svc"),
            "iam_instance_profile": r(
                "aws_iam_instance_profile.svc.name", "aws_iam_instance_profile.svc"
            ),
            "monitoring": c(True),
            "metadata_options": [{"http_tokens": c("required")}],
            "root_block_device": [
                {"volume_size": c(20), "volume_type": c("gp3"), "encrypted": c(True)},
            ],
            "tags": r("var.tags", "var.name", "count.index"),
        }, keys="k", rep_expr=r("var.instance_count")),
        Block("svc", "aws_lb.svc", [
            "net:aws_subnet.public", "aws_security_group.svc", "root:aws_s3_bucket.logs",
        ], {
            "name": r("var.name"),
            "load_balancer_type": c("application"),
            "internal": c(False),
            "subnets": r("var.public_subnet_ids"),
            "security_groups": r("aws_security_group.svc.id", "aws_security_group.svc"),
            "access_logs": [
                {"bucket": r("var.log_bucket"), "enabled": c(True), "prefix": r("var.name")},
            ],
            "tags": r("var.tags"),
        }),
        Block("svc", "aws_lb_target_group.svc", ["net:aws_vpc.main"], {
            "name": r("var.name"),
            "port": c(8080),
            "protocol": c("HTTP"),
            "vpc_id": r("var.vpc_id"),
            "health_check": [{"path": c("/healthz"), "matcher": c("200")}],
        }),
        Block("svc", "aws_lb_listener.https", ["aws_lb.svc", "aws_lb_target_group.svc"], {
            "load_balancer_arn": r("aws_lb.svc.arn", "aws_lb.svc"),
            "port": c(443),
            "protocol": c("HTTPS"),
            "ssl_policy": c("ELBSecurityPolicy-TLS13-1-2-2021-06"),
            "certificate_arn": r("var.certificate_arn"),
            "default_action": [{
                "type": c("forward"),
                "target_group_arn": r("aws_lb_target_group.svc.arn", "aws_lb_target_group.svc"),
            }],
        }),
        Block("svc", "aws_lb_target_group_attachment.app", [
            "aws_lb_target_group.svc", "aws_instance.app",
        ], {
            "target_group_arn": r("aws_lb_target_group.svc.arn", "aws_lb_target_group.svc"),
            "target_id": r("aws_instance.app", "count.index"),
            "port": c(8080),
        }, keys="k", rep_expr=r("aws_instance.app")),
        Block("svc", "aws_db_subnet_group.main", ["net:aws_subnet.private"], {
            "name": r("var.name"), "subnet_ids": r("var.private_subnet_ids"),
        }),
        Block("svc", "aws_db_instance.main", [
            "aws_db_subnet_group.main", "aws_security_group.svc", "root:aws_kms_key.main",
        ], {
            "identifier": r("var.name"),
            "engine": c("postgres"),
            "engine_version": c("16.3"),
            "instance_class": r("var.db_instance_class"),
            "allocated_storage": c(100),
            "username": c("app"),
            "password": r("var.db_password"),
            "db_subnet_group_name": r("aws_db_subnet_group.main.name", "aws_db_subnet_group.main"),
            "vpc_security_group_ids": r("aws_security_group.svc.id", "aws_security_group.svc"),
            "kms_key_id": r("var.kms_key_arn"),
            "storage_encrypted": c(True),
            "multi_az": c(True),
            "tags": r("var.tags"),
        }),
        Block("svc", "aws_s3_bucket.assets", [], {
            "bucket": r("var.name", "var.account_id"), "tags": r("var.tags"),
        }),
        Block("svc", "aws_s3_bucket_versioning.assets", ["aws_s3_bucket.assets"], {
            "bucket": r("aws_s3_bucket.assets.id", "aws_s3_bucket.assets"),
            "versioning_configuration": [{"status": c("Enabled")}],
        }),
        Block("svc", "aws_s3_bucket_policy.assets", ["aws_s3_bucket.assets", "aws_iam_role.svc"], {
            "bucket": r("aws_s3_bucket.assets.id", "aws_s3_bucket.assets"),
            "policy": r(
                "aws_s3_bucket.assets.arn", "aws_s3_bucket.assets",
                "aws_iam_role.svc.arn", "aws_iam_role.svc",
            ),
        }),
        Block("svc", "aws_dynamodb_table.state", ["root:aws_kms_key.main"], {
            "name": r("var.name"),
            "billing_mode": c("PAY_PER_REQUEST"),
            "hash_key": c("pk"),
            "range_key": c("sk"),
            "attribute": [{"name": c("pk"), "type": c("S")}, {"name": c("sk"), "type": c("S")}],
            "server_side_encryption": [{"enabled": c(True), "kms_key_arn": r("var.kms_key_arn")}],
            "tags": r("var.tags"),
        }),
        Block("svc", "aws_secretsmanager_secret.db", ["root:aws_kms_key.main"], {
            "name": r("var.name"), "kms_key_id": r("var.kms_key_arn"),
        }),
        Block("svc", "aws_secretsmanager_secret_version.db", [
            "aws_secretsmanager_secret.db", "aws_db_instance.main",
        ], {
            "secret_id": r("aws_secretsmanager_secret.db.id", "aws_secretsmanager_secret.db"),
            "secret_string": r(
                "aws_db_instance.main.address", "aws_db_instance.main", "var.db_password"
            ),
        }),
        Block("svc", "aws_ssm_parameter.config", [
            "root:aws_kms_key.main", "aws_db_instance.main",
        ], {
            "name": r("var.name", "each.key"),
            "type": c("SecureString"),
            "key_id": r("var.kms_key_arn"),
            "value": r("each.value", "aws_db_instance.main.address", "aws_db_instance.main"),
        }, keys="params", rep_expr=r("local.parameters")),
        Block("svc", "aws_cloudwatch_log_group.worker", ["root:aws_kms_key.main"], {
            "name": r("var.name", "each.key"),
            "retention_in_days": c(30),
            "kms_key_id": r("var.kms_key_arn"),
        }, keys="lambdas", rep_expr=r("var.lambdas")),
        Block("svc", "aws_lambda_function.worker", [
            "aws_iam_role.svc", "aws_security_group.svc", "net:aws_subnet.private",
            "aws_cloudwatch_log_group.worker", "aws_s3_bucket.assets",
        ], {
            "function_name": r("var.name", "each.key"),
            "role": r("aws_iam_role.svc.arn", "aws_iam_role.svc"),
            "runtime": c("python3.12"),
            "handler": r("each.value.handler", "each.value"),
            "memory_size": r("each.value.memory", "each.value"),
            "s3_bucket": r("aws_s3_bucket.assets.id", "aws_s3_bucket.assets"),
            "s3_key": r("each.key"),
            "environment": [{"variables": r("each.value.env", "each.value", "var.api_token")}],
            "vpc_config": [{
                "subnet_ids": r("var.private_subnet_ids"),
                "security_group_ids": r("aws_security_group.svc.id", "aws_security_group.svc"),
            }],
            "logging_config": [{
                "log_format": c("Text"),
                "log_group": r("aws_cloudwatch_log_group.worker", "each.key"),
            }],
        }, keys="lambdas", rep_expr=r("var.lambdas")),
        Block("svc", "aws_route53_record.svc", ["root:aws_route53_zone.main", "aws_lb.svc"], {
            "zone_id": r("var.zone_id"),
            "name": r("var.name"),
            "type": c("A"),
            "alias": [{
                "name": r("aws_lb.svc.dns_name", "aws_lb.svc"),
                "zone_id": r("aws_lb.svc.zone_id", "aws_lb.svc"),
                "evaluate_target_health": c(True),
            }],
        }),
        # Removed from the configuration; still in state where it was enabled.
        Block("svc", "aws_iam_policy.legacy", [], keys="legacy", in_config=False),
    ],
    "alarms": [
        Block("alarms", "aws_sns_topic.alerts", ["root:aws_kms_key.main"], {
            "name": r("var.name"), "kms_master_key_id": r("var.kms_key_arn"),
        }),
        Block("alarms", "aws_cloudwatch_metric_alarm.cpu", [
            "svc:aws_instance.app", "aws_sns_topic.alerts",
        ], {
            "alarm_name": r("var.name", "count.index"),
            "comparison_operator": c("GreaterThanThreshold"),
            "evaluation_periods": c(3),
            "metric_name": c("CPUUtilization"),
            "namespace": c("AWS/EC2"),
            "period": c(300),
            "statistic": c("Average"),
            "threshold": c(80),
            "dimensions": r("var.instance_ids", "count.index"),
            "alarm_actions": r("aws_sns_topic.alerts.arn", "aws_sns_topic.alerts"),
        }, keys="k", rep_expr=r("var.instance_ids")),
        Block("alarms", "aws_cloudwatch_metric_alarm.lb_5xx", [
            "svc:aws_lb.svc", "aws_sns_topic.alerts",
        ], {
            "alarm_name": r("var.name"),
            "comparison_operator": c("GreaterThanThreshold"),
            "evaluation_periods": c(5),
            "metric_name": c("HTTPCode_ELB_5XX_Count"),
            "namespace": c("AWS/ApplicationELB"),
            "period": c(60),
            "statistic": c("Sum"),
            "threshold": c(10),
            "dimensions": r("var.lb_arn_suffix"),
            "alarm_actions": r("aws_sns_topic.alerts.arn", "aws_sns_topic.alerts"),
        }),
        Block("alarms", "aws_cloudwatch_dashboard.main", [
            "svc:aws_lb.svc", "svc:aws_instance.app",
        ], {
            "dashboard_name": r("var.name"),
            "dashboard_body": r("var.lb_arn_suffix", "var.instance_ids"),
        }),
    ],
}
BLOCK_BY_ID = {b.bid: b for blocks in BLOCKS.values() for b in blocks}
VPC_BLOCK = "net:aws_vpc.main"
# Module path of each kind below an app call ("app" or "platform").
KIND_PATH = {
    "root": (), "iam": ("iam",), "net": ("net",), "svc": ("svc",), "alarms": ("svc", "alarms"),
}


def _compute_closures() -> None:
    """Transitive dependencies per block (Terraform records all ancestors in state)."""
    memo: dict[str, list[str]] = {}

    def visit(bid: str) -> list[str]:
        if bid not in memo:
            acc: dict[str, None] = {}
            for d in BLOCK_BY_ID[bid].deps:
                acc[d] = None
                for x in visit(d):
                    acc[x] = None
            memo[bid] = sorted(acc)
        return memo[bid]

    for bid, block in BLOCK_BY_ID.items():
        block.closure = visit(bid)
        for d in block.closure:
            BLOCK_BY_ID[d].dependents += 1


_compute_closures()


def config_module_path(kind: str, call: str | None) -> tuple[str, ...]:
    if kind in ("root", "iam"):
        return KIND_PATH[kind]
    assert call is not None
    return (call, *KIND_PATH[kind])


def config_address(block: Block, call: str | None) -> str:
    path = config_module_path(block.kind, call)
    return "".join(f"module.{p}." for p in path) + block.addr


# ---------------------------------------------------------------------------
# Module instances and resource instances.


class Mod:
    """A module instance (root, module.iam, module.app["eu"].module.net, ...)."""

    __slots__ = (
        "addr", "app", "aws_region", "cache", "call", "cidr", "hub", "key", "kind", "name",
        "net", "params", "parent", "region", "status", "svc", "team",
    )

    def __init__(self, kind: str, addr: str, parent: Mod | None, **kw: Any) -> None:
        self.kind = kind
        self.addr = addr
        self.parent = parent
        self.key = kw.get("key")
        self.call = kw.get("call")
        self.region = kw.get("region", "")
        self.aws_region = kw.get("aws_region", "eu-west-1")
        self.cidr = kw.get("cidr", 0)
        self.svc = kw.get("svc", "")
        self.team = kw.get("team", "platform")
        self.params: dict[str, Any] = kw.get("params", {})
        self.status = kw.get("status", "keep")  # keep | new | removed
        self.hub = kw.get("hub", False)
        self.app: Mod | None = kw.get("app")
        self.net = kw.get("net", "")
        self.name = kw.get("name", ENV)
        self.cache: dict[str, Any] = {}


class Inst:
    """One resource instance and its planned change."""

    __slots__ = (
        "action", "addr", "block", "cbd", "drift", "hub", "hub_dep", "key", "mod",
        "ordinal", "p_off", "reason", "s_off", "tainted",
    )

    def __init__(self, addr: str, mod: Mod, block: Block, key: int | str | None) -> None:
        self.addr = addr
        self.mod = mod
        self.block = block
        self.key = key
        self.action = "no-op"
        self.reason: str | None = None
        self.cbd = False  # create_before_destroy replace
        self.tainted = False
        self.drift = False
        self.hub = mod.hub
        self.hub_dep = False
        self.ordinal = 0
        self.p_off: tuple[int, int] | None = None
        self.s_off: tuple[int, int] | None = None


def instance_address(mod: Mod, block: Block, key: int | str | None) -> str:
    base = f"{mod.addr}.{block.addr}" if mod.addr else block.addr
    if key is None:
        return base
    return f"{base}[{key}]" if isinstance(key, int) else f'{base}["{key}"]'


def block_keys(block: Block, mod: Mod) -> list[int | str | None]:
    if block.keys is None:
        return [None]
    p = mod.params
    if block.keys == "k":
        return list(range(p["k"]))
    if block.keys == "azs":
        return list(range(3))
    if block.keys == "private":
        return list(range(3 * p["tiers"]))
    if block.keys == "nacl":
        return list(range(p["nacl"]))
    if block.keys == "legacy":
        return [0] if p.get("legacy") else []
    return list(p[block.keys])  # for_each keys


def module_size(kind: str, params: dict[str, Any], managed_only: bool = True) -> int:
    probe = Mod(kind, "", None, params=params)
    return sum(
        len(block_keys(b, probe))
        for b in BLOCKS[kind]
        if not (managed_only and b.mode == "data")
    )


def svc_size(k: int, w: int, p: int, legacy: bool) -> int:
    return 20 + 3 * k + 2 * w + p + (1 if legacy else 0)


def svc_vpc_dependents(k: int, w: int, p: int) -> int:
    params = {"k": k, "lambdas": LAMBDAS[:w], "params": PARAMS[:p], "legacy": False}
    probe = Mod("svc", "", None, params=params)
    return sum(
        len(block_keys(b, probe))
        for kind in ("svc", "alarms")
        for b in BLOCKS[kind]
        if b.mode == "managed" and VPC_BLOCK in b.closure
    )


# ---------------------------------------------------------------------------
# Attribute values. Each function returns the full object as it exists (or will
# exist) for one instance; ids are derived from addresses so references agree.


def _tags(i: Inst, name: str, **extra: str) -> dict[str, str]:
    m = i.mod
    t = {
        "Environment": ENV, "ManagedBy": "terraform", "Module": MODULE_SOURCE[m.kind], "Name": name,
    }
    if m.region:
        t["Region"] = m.region
    if m.svc:
        t["Service"] = m.svc
        t["Team"] = m.team
    t.update(extra)
    return t


def _with_tags(i: Inst, name: str, d: dict[str, Any], **extra: str) -> dict[str, Any]:
    t = _tags(i, name, **extra)
    d["tags"] = t
    ta = dict(DEFAULT_TAGS)
    ta.update(t)
    d["tags_all"] = ta
    return d


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def _policy(actions: list[str], resources: list[str], sid: str) -> str:
    return dj({
        "Statement": [{"Action": actions, "Effect": "Allow", "Resource": resources, "Sid": sid}],
        "Version": "2012-10-17",
    })


def _assume(service: str) -> str:
    return dj({
        "Statement": [{
            "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service},
        }],
        "Version": "2012-10-17",
    })


class Ctx:
    """Addresses and ids shared by the instances of one module instance."""

    def __init__(self, g: Ids) -> None:
        self.g = g

    def name(self, i: Inst, *parts: str) -> str:
        m = i.mod
        base = [ENV]
        if m.region:
            base.append(m.region)
        if m.svc:
            base.append(m.svc)
        return "-".join(base + [p for p in parts if p])

    def net(self, i: Inst) -> Mod:
        m = i.mod
        return m if m.kind == "net" else m.app.cache["net"]  # type: ignore[union-attr]

    def vpc_id(self, i: Inst) -> str:
        n = self.net(i)
        return self.g.id("vpc", f"{n.addr}.aws_vpc.main")

    def vpc_cidr(self, i: Inst) -> str:
        return f"10.{self.net(i).cidr}.0.0/16"

    def subnets(self, i: Inst, kind: str) -> list[str]:
        n = self.net(i)
        key = f"subnets/{kind}"
        if key not in n.cache:
            count = 3 * n.params["tiers"] if kind == "private" else 3
            n.cache[key] = [
                self.g.id("subnet", f"{n.addr}.aws_subnet.{kind}[{j}]") for j in range(count)
            ]
        return n.cache[key]

    def svc_mod(self, i: Inst) -> Mod:
        m = i.mod
        return m.parent if m.kind == "alarms" else m  # type: ignore[return-value]

    def sg_id(self, i: Inst) -> str:
        return self.g.id("sg", f"{self.svc_mod(i).addr}.aws_security_group.svc")

    def instance_id(self, i: Inst, n: int) -> str:
        return self.g.id("i", f"{self.svc_mod(i).addr}.aws_instance.app[{n}]")

    def lb(self, i: Inst) -> tuple[str, str, str]:
        s = self.svc_mod(i)
        h = self.g.hex(f"{s.addr}.aws_lb.svc", 16)
        name = self.name(i)[:26]
        suffix = f"app/{name}/{h}"
        dns = f"{name}-{int(h[:8], 16) % 10**10}.{s.aws_region}.elb.amazonaws.com"
        return _arn("elasticloadbalancing", s.aws_region, f"loadbalancer/{suffix}"), suffix, dns

    def kms_arn(self, region: str) -> str:
        return _arn("kms", region, f"key/{self.g.uuid('aws_kms_key.main')}")

    def zone_id(self) -> str:
        return "Z" + self.g.upper("aws_route53_zone.main", 20)

    def secret(self, i: Inst, slot: int, changed: bool = False) -> str:
        return f"SENSITIVE-BENCH-{i.ordinal * 16 + slot * 2 + (1 if changed else 0)}"


def az(m: Mod, n: int) -> str:
    return f"{m.aws_region}{AZ_SUFFIX[n % 3]}"


def az_id(m: Mod, n: int) -> str:
    area, direction, number = m.aws_region.split("-")
    return f"{area}{direction[0]}{number}-az{n % 3 + 1}"


def v_caller_identity(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/prod-ci-deployer/terraform",
        "id": ACCOUNT,
        "user_id": "AROA" + x.g.upper("caller", 17) + ":terraform",
    }


def v_region(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    return {
        "description": "Europe (Ireland)",
        "endpoint": "ec2.eu-west-1.amazonaws.com",
        "id": "eu-west-1",
        "name": "eu-west-1",
    }


def v_policy_document(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    doc = _assume("ec2.amazonaws.com")
    return {
        "id": str(int(x.g.hex(i.addr, 8), 16)),
        "json": json.dumps(json.loads(doc), indent=2, sort_keys=True),
        "minified_json": doc,
        "override_policy_documents": None,
        "policy_id": None,
        "source_policy_documents": None,
        "statement": [{
            "actions": ["sts:AssumeRole"], "condition": [], "effect": "Allow", "not_actions": [],
            "not_principals": [], "not_resources": [],
            "principals": [
                {"identifiers": ["ec2.amazonaws.com", "lambda.amazonaws.com"], "type": "Service"},
            ],
            "resources": [], "sid": "",
        }],
        "version": "2012-10-17",
    }


def v_kms_key(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    kid = x.g.uuid(i.addr)
    return _with_tags(i, "prod-main", {
        "arn": _arn("kms", "eu-west-1", f"key/{kid}"),
        "bypass_policy_lockout_safety_check": False,
        "custom_key_store_id": "",
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "deletion_window_in_days": 30,
        "description": "Shared key for the prod estate",
        "enable_key_rotation": True,
        "id": kid,
        "is_enabled": True,
        "key_id": kid,
        "key_usage": "ENCRYPT_DECRYPT",
        "multi_region": False,
        "policy": _policy(["kms:*"], ["*"], "EnableRootAccess"),
        "rotation_period_in_days": 365,
        "xks_key_id": "",
    })


def v_kms_alias(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    kid = x.g.uuid("aws_kms_key.main")
    return {
        "arn": _arn("kms", "eu-west-1", "alias/prod-main"),
        "id": "alias/prod-main",
        "name": "alias/prod-main",
        "name_prefix": "",
        "target_key_arn": _arn("kms", "eu-west-1", f"key/{kid}"),
        "target_key_id": kid,
    }


def v_zone(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    zid = x.zone_id()
    ns = [
        f"ns-{100 + j * 317}.awsdns-{10 + j * 7}.{tld}"
        for j, tld in enumerate(("com", "net", "org", "co.uk"))
    ]
    return _with_tags(i, DOMAIN, {
        "arn": f"arn:aws:route53:::hostedzone/{zid}",
        "comment": "Public zone for prod",
        "delegation_set_id": "",
        "force_destroy": False,
        "id": zid,
        "name": DOMAIN,
        "name_servers": ns,
        "primary_name_server": ns[0],
        "vpc": [],
        "zone_id": zid,
    })


LOG_BUCKET = f"prod-central-logs-{ACCOUNT}"


def _bucket(x: Ctx, i: Inst, name: str, region: str) -> dict[str, Any]:
    return _with_tags(i, name, {
        "acceleration_status": "",
        "acl": None,
        "arn": f"arn:aws:s3:::{name}",
        "bucket": name,
        "bucket_domain_name": f"{name}.s3.amazonaws.com",
        "bucket_prefix": "",
        "bucket_regional_domain_name": f"{name}.s3.{region}.amazonaws.com",
        "cors_rule": [],
        "force_destroy": False,
        "grant": [{
            "id": x.g.hex("canonical-user", 64), "permissions": ["FULL_CONTROL"],
            "type": "CanonicalUser", "uri": "",
        }],
        "hosted_zone_id": "Z1BKCTXD74EZPE",
        "id": name,
        "lifecycle_rule": [],
        "logging": [],
        "object_lock_configuration": [],
        "object_lock_enabled": False,
        "policy": "",
        "region": region,
        "replication_configuration": [],
        "request_payer": "BucketOwner",
        "server_side_encryption_configuration": [{"rule": [{
            "apply_server_side_encryption_by_default": [
                {"kms_master_key_id": "", "sse_algorithm": "AES256"},
            ],
            "bucket_key_enabled": False,
        }]}],
        "versioning": [{"enabled": True, "mfa_delete": False}],
        "website": [],
    })


def v_bucket(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    if i.mod.kind == "root":
        return _bucket(x, i, f"prod-central-logs-{ACCOUNT}", "eu-west-1")
    return _bucket(x, i, f"{x.name(i, 'assets')}-{x.g.hex(i.addr, 6)}", i.mod.aws_region)


def _bucket_name(x: Ctx, i: Inst) -> str:
    if i.mod.kind == "root":
        return f"prod-central-logs-{ACCOUNT}"
    return f"{x.name(i, 'assets')}-{x.g.hex(i.mod.addr + '.aws_s3_bucket.assets', 6)}"


def v_bucket_policy(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    b = _bucket_name(x, i)
    return {
        "bucket": b,
        "id": b,
        "policy": _policy(
            ["s3:GetObject", "s3:PutObject"], [f"arn:aws:s3:::{b}/*"], "AllowService"
        ),
    }


def v_bucket_versioning(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    b = _bucket_name(x, i)
    return {
        "bucket": b, "expected_bucket_owner": "", "id": b, "mfa": None,
        "versioning_configuration": [{"mfa_delete": "", "status": "Enabled"}],
    }


def v_iam_role(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    name = "prod-ci-deployer" if i.mod.kind == "root" else x.name(i, i.block.name)
    svc = "ec2.amazonaws.com" if i.mod.kind == "svc" else "vpc-flow-logs.amazonaws.com"
    return _with_tags(i, name, {
        "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "assume_role_policy": _assume(svc),
        "create_date": "2024-03-11T08:15:42Z",
        "description": f"Role for {name}",
        "force_detach_policies": False,
        "id": name,
        "inline_policy": [],
        "managed_policy_arns": [f"arn:aws:iam::{ACCOUNT}:policy/{name}"],
        "max_session_duration": 3600,
        "name": name,
        "name_prefix": "",
        "path": "/",
        "permissions_boundary": "",
        "unique_id": "AROA" + x.g.upper(i.addr, 17),
    })


def v_iam_policy(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    if m.kind == "svc":
        name = x.name(i, "legacy" if i.block.name == "legacy" else "")
        res = [
            f"arn:aws:s3:::{_bucket_name(x, i)}",
            f"arn:aws:s3:::{_bucket_name(x, i)}/*",
            _arn("dynamodb", m.aws_region, f"table/{x.name(i, 'state')}"),
            _arn("secretsmanager", m.aws_region, f"secret:{x.name(i, 'db')}"),
        ]
        actions = [
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "s3:GetObject",
            "s3:ListBucket", "s3:PutObject", "secretsmanager:GetSecretValue",
        ]
    else:
        name = "prod-ci-deployer" if m.kind == "root" else "developers-read-only"
        res = ["*"]
        actions = ["ec2:Describe*", "s3:Get*", "s3:List*", "logs:Get*", "cloudwatch:Get*"]
    return _with_tags(i, name, {
        "arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "attachment_count": 1,
        "description": f"Permissions for {name}",
        "id": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "name": name,
        "name_prefix": "",
        "path": "/",
        "policy": _policy(actions, res, "Main"),
        "policy_id": "ANPA" + x.g.upper(i.addr, 17),
    })


def v_role_attachment(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    name = "prod-ci-deployer" if i.mod.kind == "root" else x.name(i, "svc")
    return {
        "id": f"{name}-{x.g.hex(i.addr, 26)}",
        "policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "role": name,
    }


def v_instance_profile(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    name = x.name(i, "svc")
    return _with_tags(i, name, {
        "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}",
        "create_date": "2024-03-11T08:15:44Z",
        "id": name,
        "name": name,
        "name_prefix": "",
        "path": "/",
        "role": name,
        "unique_id": "AIPA" + x.g.upper(i.addr, 17),
    })


def v_sns(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = "prod-ops" if m.kind == "root" else x.name(i, "alerts")
    arn = _arn("sns", m.aws_region, name)
    return _with_tags(i, name, {
        "application_failure_feedback_role_arn": "",
        "arn": arn,
        "content_based_deduplication": False,
        "delivery_policy": "",
        "display_name": "",
        "fifo_topic": False,
        "id": arn,
        "kms_master_key_id": x.kms_arn("eu-west-1"),
        "name": name,
        "name_prefix": "",
        "owner": ACCOUNT,
        "policy": _policy(["SNS:Publish", "SNS:Subscribe"], [arn], "__default_statement_ID"),
        "signature_version": 0,
        "tracing_config": "",
    })


def v_log_group(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    if m.kind == "root":
        name, days = "/prod/audit", 365
    elif m.kind == "net":
        name, days = f"/vpc/{x.name(i)}/flow-logs", 90
    else:
        name, days = f"/aws/lambda/{x.name(i, str(i.key))}", 30
    return _with_tags(i, name, {
        "arn": _arn("logs", m.aws_region, f"log-group:{name}"),
        "id": name,
        "kms_key_id": "" if m.kind == "net" else x.kms_arn("eu-west-1"),
        "log_group_class": "STANDARD",
        "name": name,
        "name_prefix": "",
        "retention_in_days": days,
        "skip_destroy": False,
    })


def v_ssm(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    if m.kind == "root":
        name = f"/prod/global/{i.key}"
        typ, value, sens = "String", f"value-{x.g.hex(i.addr, 8)}", False
    else:
        name = f"/{x.name(i)}/{i.key}"
        typ, value, sens = "SecureString", x.secret(i, 0), True
    d = _with_tags(i, name, {
        "allowed_pattern": "",
        "arn": _arn("ssm", m.aws_region, f"parameter{name}"),
        "data_type": "text",
        "description": f"Managed parameter {i.key}",
        "id": name,
        "insecure_value": None,
        "key_id": x.kms_arn("eu-west-1") if sens else "",
        "name": name,
        "overwrite": None,
        "tier": "Standard",
        "type": typ,
        "value": value,
        "version": 1 + rng.randrange(9),
    })
    return d


def v_cloudwatch_alarm(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    topic = _arn("sns", m.aws_region, x.name(i, "alerts"))
    if i.block.name == "cpu":
        name = x.name(i, "cpu", str(i.key))
        dims = {"InstanceId": x.instance_id(i, int(i.key))}  # type: ignore[arg-type]
        metric, ns = "CPUUtilization", "AWS/EC2"
        period, stat, thr, evals = 300, "Average", 80, 3
    else:
        name = x.name(i, "lb-5xx")
        dims = {"LoadBalancer": x.lb(i)[1]}
        metric, ns = "HTTPCode_ELB_5XX_Count", "AWS/ApplicationELB"
        period, stat, thr, evals = 60, "Sum", 10, 5
    return _with_tags(i, name, {
        "actions_enabled": True,
        "alarm_actions": [topic],
        "alarm_description": f"{metric} above {thr} for {name}",
        "alarm_name": name,
        "arn": _arn("cloudwatch", m.aws_region, f"alarm:{name}"),
        "comparison_operator": "GreaterThanThreshold",
        "datapoints_to_alarm": 0,
        "dimensions": dims,
        "evaluate_low_sample_count_percentiles": "",
        "evaluation_periods": evals,
        "extended_statistic": "",
        "id": name,
        "insufficient_data_actions": [],
        "metric_name": metric,
        "metric_query": [],
        "namespace": ns,
        "ok_actions": [topic],
        "period": period,
        "statistic": stat,
        "threshold": thr,
        "threshold_metric_id": "",
        "treat_missing_data": "missing",
        "unit": "",
    })


def v_dashboard(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i)
    k = x.svc_mod(i).params["k"]
    widgets = [{
        "height": 6, "type": "metric", "width": 12, "x": 0, "y": 0,
        "properties": {
            "metrics": [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", x.lb(i)[1]]],
            "period": 60, "region": m.aws_region, "stat": "Sum", "title": "Requests",
        },
    }, {
        "height": 6, "type": "metric", "width": 12, "x": 12, "y": 0,
        "properties": {
            "metrics": [
                ["AWS/EC2", "CPUUtilization", "InstanceId", x.instance_id(i, n)]
                for n in range(min(k, 8))
            ],
            "period": 300, "region": m.aws_region, "stat": "Average", "title": "CPU",
        },
    }]
    return {
        "dashboard_arn": f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}",
        "dashboard_body": dj({"widgets": widgets}),
        "dashboard_name": name,
        "id": name,
    }


def v_vpc(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    vid = x.vpc_id(i)
    return _with_tags(i, x.name(i), {
        "arn": _arn("ec2", m.aws_region, f"vpc/{vid}"),
        "assign_generated_ipv6_cidr_block": False,
        "cidr_block": x.vpc_cidr(i),
        "default_network_acl_id": x.g.id("acl", i.addr),
        "default_route_table_id": x.g.id("rtb", i.addr + "/default"),
        "default_security_group_id": x.g.id("sg", i.addr + "/default"),
        "dhcp_options_id": x.g.id("dopt", m.aws_region),
        "enable_dns_hostnames": True,
        "enable_dns_support": True,
        "enable_network_address_usage_metrics": False,
        "id": vid,
        "instance_tenancy": "default",
        "ipv4_ipam_pool_id": None,
        "ipv4_netmask_length": None,
        "ipv6_association_id": "",
        "ipv6_cidr_block": "",
        "ipv6_cidr_block_network_border_group": "",
        "ipv6_ipam_pool_id": "",
        "ipv6_netmask_length": 0,
        "main_route_table_id": x.g.id("rtb", i.addr + "/default"),
        "owner_id": ACCOUNT,
    })


def v_igw(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    gid = x.g.id("igw", i.addr)
    return _with_tags(i, x.name(i), {
        "arn": _arn("ec2", i.mod.aws_region, f"internet-gateway/{gid}"),
        "id": gid, "owner_id": ACCOUNT, "timeouts": None, "vpc_id": x.vpc_id(i),
    })


def v_subnet(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    n = int(i.key)  # type: ignore[arg-type]
    public = i.block.name == "public"
    sid = x.subnets(i, i.block.name)[n]
    third = (200 + n) if public else n * 4
    return _with_tags(i, x.name(i, i.block.name, az(m, n)), {
        "arn": _arn("ec2", m.aws_region, f"subnet/{sid}"),
        "assign_ipv6_address_on_creation": False,
        "availability_zone": az(m, n),
        "availability_zone_id": az_id(m, n),
        "cidr_block": f"10.{m.cidr}.{third}.0/{24 if public else 22}",
        "customer_owned_ipv4_pool": "",
        "enable_dns64": False,
        "enable_lni_at_device_index": 0,
        "enable_resource_name_dns_a_record_on_launch": False,
        "enable_resource_name_dns_aaaa_record_on_launch": False,
        "id": sid,
        "ipv6_cidr_block": "",
        "ipv6_cidr_block_association_id": "",
        "ipv6_native": False,
        "map_customer_owned_ip_on_launch": False,
        "map_public_ip_on_launch": False,
        "outpost_arn": "",
        "owner_id": ACCOUNT,
        "private_dns_hostname_type_on_launch": "ip-name",
        "timeouts": None,
        "vpc_id": x.vpc_id(i),
    }, Tier="public" if public else "private")


def v_eip(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    h = x.g.digest(i.addr, 3)
    ip = f"52.{h[0]}.{h[1]}.{h[2]}"
    private_ip = f"10.{m.cidr}.{200 + int(i.key)}.{h[0] % 250 + 4}"  # type: ignore[arg-type]
    return _with_tags(i, x.name(i, "nat", str(i.key)), {
        "address": None,
        "allocation_id": x.g.id("eipalloc", i.addr),
        "associate_with_private_ip": None,
        "association_id": x.g.id("eipassoc", i.addr),
        "carrier_ip": "",
        "customer_owned_ip": "",
        "customer_owned_ipv4_pool": "",
        "domain": "vpc",
        "id": x.g.id("eipalloc", i.addr),
        "instance": "",
        "network_border_group": m.aws_region,
        "network_interface": x.g.id("eni", i.addr),
        "private_dns": f"ip-{private_ip.replace('.', '-')}.{m.aws_region}.compute.internal",
        "private_ip": private_ip,
        "public_dns": f"ec2-{ip.replace('.', '-')}.{m.aws_region}.compute.amazonaws.com",
        "public_ip": ip,
        "public_ipv4_pool": "amazon",
        "timeouts": None,
    })


def v_nat(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    n = int(i.key)  # type: ignore[arg-type]
    eip = f"{m.addr}.aws_eip.nat[{n}]"
    h = x.g.digest(eip, 3)
    return _with_tags(i, x.name(i, "nat", str(n)), {
        "allocation_id": x.g.id("eipalloc", eip),
        "association_id": x.g.id("eipassoc", eip),
        "connectivity_type": "public",
        "id": x.g.id("nat", i.addr),
        "network_interface_id": x.g.id("eni", eip),
        "private_ip": f"10.{m.cidr}.{200 + n}.{h[0] % 250 + 4}",
        "public_ip": f"52.{h[0]}.{h[1]}.{h[2]}",
        "secondary_allocation_ids": [],
        "secondary_private_ip_address_count": 0,
        "secondary_private_ip_addresses": [],
        "subnet_id": x.subnets(i, "public")[n],
    })


_ROUTE_EMPTY = {
    "carrier_gateway_id": "", "cidr_block": "0.0.0.0/0", "core_network_arn": "",
    "destination_prefix_list_id": "", "egress_only_gateway_id": "", "gateway_id": "",
    "ipv6_cidr_block": "", "local_gateway_id": "", "nat_gateway_id": "",
    "network_interface_id": "", "transit_gateway_id": "", "vpc_endpoint_id": "",
    "vpc_peering_connection_id": "",
}


def v_route_table(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    route = dict(_ROUTE_EMPTY)
    if i.block.name == "public":
        route["gateway_id"] = x.g.id("igw", f"{m.addr}.aws_internet_gateway.main")
        name = x.name(i, "public")
    else:
        route["nat_gateway_id"] = x.g.id("nat", f"{m.addr}.aws_nat_gateway.main[{i.key}]")
        name = x.name(i, "private", az(m, int(i.key)))  # type: ignore[arg-type]
    rid = x.g.id("rtb", i.addr)
    return _with_tags(i, name, {
        "arn": _arn("ec2", m.aws_region, f"route-table/{rid}"),
        "id": rid,
        "owner_id": ACCOUNT,
        "propagating_vgws": [],
        "route": [route],
        "timeouts": None,
        "vpc_id": x.vpc_id(i),
    })


def v_rta(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    n = int(i.key)  # type: ignore[arg-type]
    if i.block.name == "public":
        rt = f"{m.addr}.aws_route_table.public"
    else:
        rt = f"{m.addr}.aws_route_table.private[{n % 3}]"
    return {
        "gateway_id": "",
        "id": x.g.id("rtbassoc", i.addr),
        "route_table_id": x.g.id("rtb", rt),
        "subnet_id": x.subnets(i, i.block.name)[n],
        "timeouts": None,
    }


def _sg_rule(
    port_from: int, port_to: int, proto: str, cidrs: list[str], desc: str,
    sgs: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "cidr_blocks": cidrs, "description": desc, "from_port": port_from, "ipv6_cidr_blocks": [],
        "prefix_list_ids": [], "protocol": proto, "security_groups": sgs or [], "self": False,
        "to_port": port_to,
    }


def v_security_group(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    cidr = x.vpc_cidr(i)
    if m.kind == "net":
        name, sid = x.name(i, "endpoints"), x.g.id("sg", i.addr)
        ingress = [_sg_rule(443, 443, "tcp", [cidr], "HTTPS from the VPC")]
    else:
        name, sid = x.name(i), x.sg_id(i)
        ingress = [
            _sg_rule(8080, 8080, "tcp", [cidr], "App traffic from the VPC"),
            _sg_rule(443, 443, "tcp", ["0.0.0.0/0"], "HTTPS"),
        ]
        if rng.random() < 0.5:
            ingress.append(_sg_rule(5432, 5432, "tcp", [], "Postgres from the app", [sid]))
    return _with_tags(i, name, {
        "arn": _arn("ec2", m.aws_region, f"security-group/{sid}"),
        "description": f"Managed by Terraform: {name}",
        "egress": [_sg_rule(0, 0, "-1", ["0.0.0.0/0"], "")],
        "id": sid,
        "ingress": ingress,
        "name": name,
        "name_prefix": "",
        "owner_id": ACCOUNT,
        "revoke_rules_on_delete": False,
        "timeouts": None,
        "vpc_id": x.vpc_id(i),
    })


def v_vpc_endpoint(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    eid = x.g.id("vpce", i.addr)
    return _with_tags(i, x.name(i, "s3"), {
        "arn": _arn("ec2", m.aws_region, f"vpc-endpoint/{eid}"),
        "auto_accept": None,
        "cidr_blocks": ["3.5.64.0/21", "52.218.0.0/17"],
        "dns_entry": [],
        "dns_options": [],
        "id": eid,
        "ip_address_type": "",
        "network_interface_ids": [],
        "owner_id": ACCOUNT,
        "policy": _policy(["*"], ["*"], ""),
        "prefix_list_id": x.g.id("pl", m.aws_region)[:11],
        "private_dns_enabled": False,
        "requester_managed": False,
        "route_table_ids": [
            x.g.id("rtb", f"{m.addr}.aws_route_table.private[{n}]") for n in range(3)
        ],
        "security_group_ids": [],
        "service_name": f"com.amazonaws.{m.aws_region}.s3",
        "state": "available",
        "subnet_ids": [],
        "vpc_endpoint_type": "Gateway",
        "vpc_id": x.vpc_id(i),
    })


def v_flow_log(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    fid = x.g.id("fl", i.addr)
    lg = f"/vpc/{x.name(i)}/flow-logs"
    return _with_tags(i, x.name(i, "flow"), {
        "arn": _arn("ec2", m.aws_region, f"vpc-flow-log/{fid}"),
        "deliver_cross_account_role": "",
        "destination_options": [],
        "eni_id": None,
        "iam_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{x.name(i, 'flow')}",
        "id": fid,
        "log_destination": _arn("logs", m.aws_region, f"log-group:{lg}"),
        "log_destination_type": "cloud-watch-logs",
        "log_format": (
            "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
            "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
        ),
        "log_group_name": lg,
        "max_aggregation_interval": 600,
        "traffic_type": "ALL",
        "vpc_id": x.vpc_id(i),
    })


def _acl_entry(rule: int, action: str, cidr: str, port_from: int, port_to: int) -> dict[str, Any]:
    return {
        "action": action, "cidr_block": cidr, "from_port": port_from, "icmp_code": 0,
        "icmp_type": 0, "ipv6_cidr_block": "", "protocol": "6", "rule_no": rule, "to_port": port_to,
    }


def v_network_acl(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    aid = x.g.id("acl", i.addr)
    return _with_tags(i, x.name(i), {
        "arn": _arn("ec2", m.aws_region, f"network-acl/{aid}"),
        "egress": [_acl_entry(100, "allow", "0.0.0.0/0", 0, 65535)],
        "id": aid,
        "ingress": [
            _acl_entry(100, "allow", x.vpc_cidr(i), 0, 65535),
            _acl_entry(200, "allow", "0.0.0.0/0", 1024, 65535),
        ],
        "owner_id": ACCOUNT,
        "subnet_ids": sorted(x.subnets(i, "private")),
        "vpc_id": x.vpc_id(i),
    })


def v_network_acl_rule(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    n = int(i.key)  # type: ignore[arg-type]
    return {
        "cidr_block": f"198.51.{n // 256 % 256}.{n % 256}/32",
        "egress": False,
        "from_port": 443,
        "icmp_code": None,
        "icmp_type": None,
        "id": f"nacl-{int(x.g.hex(i.addr, 8), 16)}",
        "ipv6_cidr_block": None,
        "network_acl_id": x.g.id("acl", f"{i.mod.addr}.aws_network_acl.main"),
        "protocol": "tcp",
        "rule_action": "allow",
        "rule_number": 1000 + n,
        "to_port": 443,
    }


_INSTANCE_TYPES = ["t3.medium", "t3.large", "m6i.large", "m6i.xlarge", "c6i.large", "r6i.large"]


def v_instance(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    n = int(i.key)  # type: ignore[arg-type]
    subnets = x.subnets(i, "private")
    sub_n = n % len(subnets)
    iid = x.instance_id(i, n)
    h = x.g.digest(i.addr, 2)
    ip = f"10.{m.cidr}.{(sub_n * 4) + h[0] % 4}.{h[1] % 250 + 4}"
    name = x.name(i, str(n))
    return _with_tags(i, name, {
        "ami": "ami-0" + x.g.hex(f"ami/{m.aws_region}", 16),
        "arn": _arn("ec2", m.aws_region, f"instance/{iid}"),
        "associate_public_ip_address": False,
        "availability_zone": az(m, sub_n),
        "capacity_reservation_specification": [{
            "capacity_reservation_preference": "open", "capacity_reservation_target": [],
        }],
        "cpu_options": [{"amd_sev_snp": "", "core_count": 1, "threads_per_core": 2}],
        "disable_api_termination": False,
        "ebs_optimized": True,
        "iam_instance_profile": x.name(i, "svc"),
        "id": iid,
        "instance_state": "running",
        "instance_type": _INSTANCE_TYPES[rng.randrange(len(_INSTANCE_TYPES))],
        "key_name": "",
        "maintenance_options": [{"auto_recovery": "default"}],
        "metadata_options": [{
            "http_endpoint": "enabled", "http_protocol_ipv6": "disabled",
            "http_put_response_hop_limit": 2, "http_tokens": "required",
            "instance_metadata_tags": "disabled",
        }],
        "monitoring": True,
        "primary_network_interface_id": x.g.id("eni", i.addr),
        "private_dns": f"ip-{ip.replace('.', '-')}.{m.aws_region}.compute.internal",
        "private_dns_name_options": [{
            "enable_resource_name_dns_a_record": False,
            "enable_resource_name_dns_aaaa_record": False,
            "hostname_type": "ip-name",
        }],
        "private_ip": ip,
        "public_ip": "",
        "root_block_device": [{
            "delete_on_termination": True, "device_name": "/dev/xvda", "encrypted": True,
            "iops": 3000, "kms_key_id": x.kms_arn("eu-west-1"), "tags": {}, "throughput": 125,
            "volume_id": x.g.id("vol", i.addr), "volume_size": 20, "volume_type": "gp3",
        }],
        "source_dest_check": True,
        "subnet_id": subnets[sub_n],
        "tenancy": "default",
        "timeouts": None,
        "user_data": x.g.hex(f"user-data/{m.addr}", 40),
        "vpc_security_group_ids": [x.sg_id(i)],
    })


def v_lb(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    arn, suffix, dns = x.lb(i)
    name = x.name(i)[:26]
    subnets = x.subnets(i, "public")
    return _with_tags(i, name, {
        "access_logs": [
            {"bucket": f"prod-central-logs-{ACCOUNT}", "enabled": True, "prefix": name},
        ],
        "arn": arn,
        "arn_suffix": suffix,
        "client_keep_alive": 3600,
        "desync_mitigation_mode": "defensive",
        "dns_name": dns,
        "drop_invalid_header_fields": False,
        "enable_deletion_protection": True,
        "enable_http2": True,
        "id": arn,
        "idle_timeout": 60,
        "internal": False,
        "ip_address_type": "ipv4",
        "load_balancer_type": "application",
        "name": name,
        "security_groups": [x.sg_id(i)],
        "subnet_mapping": [
            {
                "allocation_id": "", "ipv6_address": "", "outpost_id": "",
                "private_ipv4_address": "", "subnet_id": s,
            }
            for s in subnets
        ],
        "subnets": sorted(subnets),
        "vpc_id": x.vpc_id(i),
        "zone_id": "Z32O12XQLNTSW2",
    })


def v_target_group(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i)[:32]
    h = x.g.hex(i.addr, 16)
    arn = _arn("elasticloadbalancing", m.aws_region, f"targetgroup/{name}/{h}")
    return _with_tags(i, name, {
        "arn": arn,
        "arn_suffix": f"targetgroup/{name}/{h}",
        "deregistration_delay": "300",
        "health_check": [{
            "enabled": True, "healthy_threshold": 3, "interval": 30, "matcher": "200",
            "path": "/healthz", "port": "traffic-port", "protocol": "HTTP", "timeout": 5,
            "unhealthy_threshold": 3,
        }],
        "id": arn,
        "ip_address_type": "ipv4",
        "load_balancing_algorithm_type": "round_robin",
        "name": name,
        "port": 8080,
        "protocol": "HTTP",
        "protocol_version": "HTTP1",
        "slow_start": 0,
        "stickiness": [
            {"cookie_duration": 86400, "cookie_name": "", "enabled": False, "type": "lb_cookie"},
        ],
        "target_type": "instance",
        "vpc_id": x.vpc_id(i),
    })


def _tg_arn(x: Ctx, i: Inst) -> str:
    s = x.svc_mod(i)
    name = x.name(i)[:32]
    h = x.g.hex(f"{s.addr}.aws_lb_target_group.svc", 16)
    return _arn("elasticloadbalancing", s.aws_region, f"targetgroup/{name}/{h}")


def v_listener(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    lb_arn = x.lb(i)[0]
    arn = lb_arn.replace(":loadbalancer/", ":listener/") + "/" + x.g.hex(i.addr, 16)
    return _with_tags(i, x.name(i, "https"), {
        "alpn_policy": None,
        "arn": arn,
        "certificate_arn": _arn(
            "acm", m.aws_region, f"certificate/{x.g.uuid(DOMAIN + m.aws_region)}"
        ),
        "default_action": [{
            "authenticate_cognito": [], "authenticate_oidc": [], "fixed_response": [],
            "forward": [], "order": 1, "redirect": [], "target_group_arn": _tg_arn(x, i),
            "type": "forward",
        }],
        "id": arn,
        "load_balancer_arn": lb_arn,
        "mutual_authentication": [],
        "port": 443,
        "protocol": "HTTPS",
        "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "timeouts": None,
    })


def v_tg_attachment(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    tg = _tg_arn(x, i)
    return {
        "availability_zone": None,
        "id": f"{tg}-{x.g.hex(i.addr, 20)}",
        "port": 8080,
        "target_group_arn": tg,
        "target_id": x.instance_id(i, int(i.key)),  # type: ignore[arg-type]
    }


def v_db_subnet_group(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i)
    return _with_tags(i, name, {
        "arn": _arn("rds", m.aws_region, f"subgrp:{name}"),
        "description": "Managed by Terraform",
        "id": name,
        "name": name,
        "name_prefix": "",
        "subnet_ids": sorted(x.subnets(i, "private")),
        "supported_network_types": ["IPV4"],
        "vpc_id": x.vpc_id(i),
    })


_DB_CLASSES = ["db.t4g.medium", "db.r6g.large", "db.r6g.xlarge", "db.m6g.large"]


def _db_address(x: Ctx, i: Inst) -> str:
    s = x.svc_mod(i)
    return f"{x.name(i)}.c{x.g.hex(s.addr + '/rds', 12)}.{s.aws_region}.rds.amazonaws.com"


def v_db_instance(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i)
    addr = _db_address(x, i)
    return _with_tags(i, name, {
        "address": addr,
        "allocated_storage": 100,
        "arn": _arn("rds", m.aws_region, f"db:{name}"),
        "auto_minor_version_upgrade": True,
        "availability_zone": az(m, 0),
        "backup_retention_period": 7,
        "backup_window": "03:00-04:00",
        "ca_cert_identifier": "rds-ca-rsa2048-g1",
        "db_name": "app",
        "db_subnet_group_name": name,
        "deletion_protection": True,
        "endpoint": f"{addr}:5432",
        "engine": "postgres",
        "engine_version": "16.3",
        "id": "db-" + x.g.upper(i.addr, 26),
        "identifier": name,
        "instance_class": _DB_CLASSES[rng.randrange(len(_DB_CLASSES))],
        "kms_key_id": x.kms_arn("eu-west-1"),
        "maintenance_window": "sun:04:30-sun:05:30",
        "multi_az": True,
        "password": x.secret(i, 0),
        "port": 5432,
        "publicly_accessible": False,
        "storage_encrypted": True,
        "storage_type": "gp3",
        "username": "app",
        "vpc_security_group_ids": [x.sg_id(i)],
    })


def v_dynamodb(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i, "state")
    return _with_tags(i, name, {
        "arn": _arn("dynamodb", m.aws_region, f"table/{name}"),
        "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}],
        "billing_mode": "PAY_PER_REQUEST",
        "deletion_protection_enabled": True,
        "global_secondary_index": [],
        "hash_key": "pk",
        "id": name,
        "local_secondary_index": [],
        "name": name,
        "point_in_time_recovery": [{"enabled": True}],
        "range_key": "sk",
        "read_capacity": 0,
        "replica": [],
        "server_side_encryption": [{"enabled": True, "kms_key_arn": x.kms_arn("eu-west-1")}],
        "stream_arn": "",
        "stream_enabled": False,
        "table_class": "STANDARD",
        "timeouts": None,
        "ttl": [{"attribute_name": "expires_at", "enabled": True}],
        "write_capacity": 0,
    })


def v_secret(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i, "db")
    arn = _arn("secretsmanager", m.aws_region, f"secret:{name}-{x.g.hex(i.addr, 6)}")
    return _with_tags(i, name, {
        "arn": arn,
        "description": "Database credentials",
        "force_overwrite_replica_secret": False,
        "id": arn,
        "kms_key_id": x.kms_arn("eu-west-1"),
        "name": name,
        "name_prefix": "",
        "policy": "",
        "recovery_window_in_days": 30,
        "replica": [],
    })


def v_secret_version(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i, "db")
    secret = f"{m.addr}.aws_secretsmanager_secret.db"
    arn = _arn("secretsmanager", m.aws_region, f"secret:{name}-{x.g.hex(secret, 6)}")
    vid = x.g.uuid(i.addr)
    return {
        "arn": arn,
        "id": f"{arn}|{vid}",
        "secret_binary": "",
        "secret_id": arn,
        "secret_string": x.secret(i, 0),
        "version_id": vid,
        "version_stages": ["AWSCURRENT"],
    }


def v_lambda(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    name = x.name(i, str(i.key))
    arn = _arn("lambda", m.aws_region, f"function:{name}")
    sha = x.g.hex(f"code/{i.addr}", 43) + "="
    return _with_tags(i, name, {
        "architectures": ["arm64"],
        "arn": arn,
        "code_sha256": sha,
        "description": f"{i.key} worker for {m.svc}",
        "environment": [{"variables": {
            "API_TOKEN": x.secret(i, 1),
            "LOG_LEVEL": "INFO",
            "QUEUE_URL": f"https://sqs.{m.aws_region}.amazonaws.com/{ACCOUNT}/{name}",
            "SERVICE": m.svc,
        }}],
        "ephemeral_storage": [{"size": 512}],
        "function_name": name,
        "handler": f"{i.key}.handler",
        "id": name,
        "invoke_arn": (
            f"arn:aws:apigateway:{m.aws_region}:lambda:path/2015-03-31/functions/{arn}/invocations"
        ),
        "last_modified": "2025-04-02T11:20:31.000+0000",
        "logging_config": [{
            "application_log_level": "", "log_format": "Text",
            "log_group": f"/aws/lambda/{name}", "system_log_level": "",
        }],
        "memory_size": [128, 256, 512, 1024][rng.randrange(4)],
        "package_type": "Zip",
        "qualified_arn": f"{arn}:$LATEST",
        "reserved_concurrent_executions": -1,
        "role": f"arn:aws:iam::{ACCOUNT}:role/{x.name(i, 'svc')}",
        "runtime": "python3.12",
        "s3_bucket": _bucket_name(x, i),
        "s3_key": f"{i.key}.zip",
        "source_code_size": 10000 + rng.randrange(5_000_000),
        "timeout": [30, 60, 300][rng.randrange(3)],
        "tracing_config": [{"mode": "PassThrough"}],
        "version": "$LATEST",
        "vpc_config": [{
            "ipv6_allowed_for_dual_stack": False,
            "security_group_ids": [x.sg_id(i)],
            "subnet_ids": sorted(x.subnets(i, "private")),
            "vpc_id": x.vpc_id(i),
        }],
    })


def v_route53_record(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    m = i.mod
    fqdn = f"{m.svc}.{m.region}.{DOMAIN}"
    zid = x.zone_id()
    return {
        "alias": [
            {"evaluate_target_health": True, "name": x.lb(i)[2], "zone_id": "Z32O12XQLNTSW2"},
        ],
        "allow_overwrite": None,
        "cidr_routing_policy": [],
        "failover_routing_policy": [],
        "fqdn": fqdn,
        "geolocation_routing_policy": [],
        "geoproximity_routing_policy": [],
        "health_check_id": "",
        "id": f"{zid}_{fqdn}_A",
        "latency_routing_policy": [],
        "multivalue_answer_routing_policy": False,
        "name": fqdn,
        "records": None,
        "set_identifier": "",
        "ttl": 0,
        "type": "A",
        "weighted_routing_policy": [],
        "zone_id": zid,
    }


def v_iam_group(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:iam::{ACCOUNT}:group/people/developers",
        "id": "developers",
        "name": "developers",
        "path": "/people/",
        "unique_id": "AGPA" + x.g.upper(i.addr, 17),
    }


def v_group_policy_attachment(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    return {
        "group": "developers",
        "id": f"developers-{x.g.hex(i.addr, 26)}",
        "policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/developers-read-only",
    }


def v_iam_user(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    return _with_tags(i, str(i.key), {
        "arn": f"arn:aws:iam::{ACCOUNT}:user/people/{i.key}",
        "force_destroy": False,
        "id": str(i.key),
        "name": str(i.key),
        "path": "/people/",
        "permissions_boundary": "",
        "unique_id": "AIDA" + x.g.upper(i.addr, 17),
    }, Email=f"{i.key}@example.com")


def v_access_key(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    return {
        "create_date": "2024-09-01T10:00:00Z",
        "encrypted_secret": None,
        "encrypted_ses_smtp_password_v4": None,
        "id": "AKIA" + x.g.upper(i.addr, 16),
        "key_fingerprint": None,
        "pgp_key": None,
        "secret": x.secret(i, 0),
        "ses_smtp_password_v4": x.secret(i, 1),
        "status": "Active",
        "user": str(i.key),
    }


def v_group_membership(x: Ctx, i: Inst, rng: random.Random) -> dict[str, Any]:
    return {
        "group": "developers",
        "id": "developers",
        "name": "developers",
        "users": list(i.mod.params["users"]),
    }


class TypeInfo:
    __slots__ = ("computed", "force_new", "schema_version", "sensitive", "update_unknown", "values")

    def __init__(
        self,
        values: Callable[[Ctx, Inst, random.Random], dict[str, Any]],
        computed: Iterable[str] = ("id", "arn"),
        force_new: Iterable[str] = ("name",),
        sensitive: Iterable[tuple[str | int, ...]] = (),
        schema_version: int = 0,
        update_unknown: Iterable[str] = (),
    ) -> None:
        self.values = values
        self.computed = list(computed)
        self.force_new = list(force_new)
        self.sensitive = frozenset(tuple(p) for p in sensitive)
        self.schema_version = schema_version
        self.update_unknown = list(update_unknown)


TYPES: dict[str, TypeInfo] = {
    "aws_caller_identity": TypeInfo(v_caller_identity, (), ()),
    "aws_region": TypeInfo(v_region, (), ()),
    "aws_iam_policy_document": TypeInfo(v_policy_document, (), ()),
    "aws_kms_key": TypeInfo(v_kms_key, ("id", "arn", "key_id"), ("customer_master_key_spec",)),
    "aws_kms_alias": TypeInfo(v_kms_alias, ("id", "arn"), ("name",)),
    "aws_route53_zone": TypeInfo(
        v_zone, ("id", "arn", "zone_id", "name_servers", "primary_name_server"), ("name",)
    ),
    "aws_s3_bucket": TypeInfo(
        v_bucket, ("id", "arn", "bucket_domain_name", "bucket_regional_domain_name"), ("bucket",)
    ),
    "aws_s3_bucket_policy": TypeInfo(v_bucket_policy, ("id",), ("bucket",)),
    "aws_s3_bucket_versioning": TypeInfo(v_bucket_versioning, ("id",), ("bucket",)),
    "aws_iam_role": TypeInfo(v_iam_role, ("id", "arn", "unique_id", "create_date"), ("name",)),
    "aws_iam_policy": TypeInfo(
        v_iam_policy, ("id", "arn", "policy_id", "attachment_count"), ("name",),
        update_unknown=("attachment_count",),
    ),
    "aws_iam_role_policy_attachment": TypeInfo(v_role_attachment, ("id",), ("policy_arn",)),
    "aws_iam_instance_profile": TypeInfo(
        v_instance_profile, ("id", "arn", "unique_id", "create_date"), ("name",)
    ),
    "aws_sns_topic": TypeInfo(v_sns, ("id", "arn", "owner", "policy"), ("name",)),
    "aws_cloudwatch_log_group": TypeInfo(v_log_group, ("id", "arn"), ("name",)),
    "aws_ssm_parameter": TypeInfo(
        v_ssm, ("id", "arn", "version"), ("name",), sensitive=[("value",)],
        update_unknown=("version",),
    ),
    "aws_cloudwatch_metric_alarm": TypeInfo(
        v_cloudwatch_alarm, ("id", "arn"), ("alarm_name",), schema_version=1
    ),
    "aws_cloudwatch_dashboard": TypeInfo(v_dashboard, ("id", "dashboard_arn"), ("dashboard_name",)),
    "aws_vpc": TypeInfo(
        v_vpc,
        ("id", "arn", "default_network_acl_id", "default_route_table_id",
         "default_security_group_id", "main_route_table_id", "owner_id", "ipv6_association_id"),
        ("cidr_block",), schema_version=1,
    ),
    "aws_internet_gateway": TypeInfo(v_igw, ("id", "arn", "owner_id"), ("vpc_id",)),
    "aws_subnet": TypeInfo(
        v_subnet, ("id", "arn", "owner_id", "availability_zone_id"),
        ("cidr_block", "availability_zone"), schema_version=1,
    ),
    "aws_eip": TypeInfo(
        v_eip,
        ("id", "allocation_id", "association_id", "public_ip", "public_dns", "private_ip",
         "private_dns", "network_interface"),
        ("domain",),
    ),
    "aws_nat_gateway": TypeInfo(
        v_nat, ("id", "association_id", "network_interface_id", "private_ip", "public_ip"),
        ("subnet_id",),
    ),
    "aws_route_table": TypeInfo(v_route_table, ("id", "arn", "owner_id"), ("vpc_id",)),
    "aws_route_table_association": TypeInfo(v_rta, ("id",), ("subnet_id",)),
    "aws_security_group": TypeInfo(
        v_security_group, ("id", "arn", "owner_id"), ("name", "description"), schema_version=1
    ),
    "aws_vpc_endpoint": TypeInfo(
        v_vpc_endpoint, ("id", "arn", "cidr_blocks", "prefix_list_id", "state", "owner_id"),
        ("service_name",),
    ),
    "aws_flow_log": TypeInfo(v_flow_log, ("id", "arn"), ("log_destination", "traffic_type")),
    "aws_network_acl": TypeInfo(v_network_acl, ("id", "arn", "owner_id"), ("vpc_id",)),
    "aws_network_acl_rule": TypeInfo(v_network_acl_rule, ("id",), ("rule_number", "cidr_block")),
    "aws_instance": TypeInfo(
        v_instance,
        ("id", "arn", "primary_network_interface_id", "private_dns", "private_ip", "public_ip",
         "instance_state", "cpu_options"),
        ("ami", "subnet_id", "user_data"), schema_version=1,
    ),
    "aws_lb": TypeInfo(
        v_lb, ("id", "arn", "arn_suffix", "dns_name", "zone_id"), ("name", "internal")
    ),
    "aws_lb_target_group": TypeInfo(
        v_target_group, ("id", "arn", "arn_suffix"), ("name", "port", "protocol")
    ),
    "aws_lb_listener": TypeInfo(v_listener, ("id", "arn"), ("load_balancer_arn",)),
    "aws_lb_target_group_attachment": TypeInfo(v_tg_attachment, ("id",), ("target_id", "port")),
    "aws_db_subnet_group": TypeInfo(v_db_subnet_group, ("id", "arn"), ("name",)),
    "aws_db_instance": TypeInfo(
        v_db_instance,
        ("id", "arn", "address", "endpoint", "availability_zone", "ca_cert_identifier"),
        ("identifier", "storage_encrypted", "kms_key_id"),
        sensitive=[("password",)], schema_version=2,
    ),
    "aws_dynamodb_table": TypeInfo(
        v_dynamodb, ("id", "arn", "stream_arn"), ("name", "hash_key", "range_key"), schema_version=1
    ),
    "aws_secretsmanager_secret": TypeInfo(v_secret, ("id", "arn"), ("name",)),
    "aws_secretsmanager_secret_version": TypeInfo(
        v_secret_version, ("id", "arn", "version_id", "version_stages"), ("secret_id",),
        sensitive=[("secret_string",), ("secret_binary",)],
    ),
    "aws_lambda_function": TypeInfo(
        v_lambda,
        ("id", "arn", "invoke_arn", "last_modified", "qualified_arn", "version", "code_sha256"),
        ("function_name",), sensitive=[("environment", 0, "variables", "API_TOKEN")],
        update_unknown=("last_modified", "qualified_arn", "version"),
    ),
    "aws_route53_record": TypeInfo(
        v_route53_record, ("id", "fqdn"), ("name", "zone_id"), schema_version=2
    ),
    "aws_iam_group": TypeInfo(v_iam_group, ("id", "arn", "unique_id"), ("name",)),
    "aws_iam_group_policy_attachment": TypeInfo(
        v_group_policy_attachment, ("id",), ("policy_arn",)
    ),
    "aws_iam_user": TypeInfo(v_iam_user, ("id", "arn", "unique_id"), ("name",)),
    "aws_iam_access_key": TypeInfo(
        v_access_key, ("id", "create_date", "secret", "ses_smtp_password_v4"), ("user",),
        sensitive=[("secret",), ("ses_smtp_password_v4",)],
    ),
    "aws_iam_group_membership": TypeInfo(v_group_membership, ("id",), ("name",)),
}


# ---------------------------------------------------------------------------
# Before/after, after_unknown and the *_sensitive shapes.


def bool_shape(
    value: Any, marks: frozenset[tuple[str | int, ...]], path: tuple[str | int, ...] = ()
) -> Any:
    """Terraform's SensitiveAsBool/unknownAsBool: true at marked leaves, false
    elsewhere, with false entries of objects omitted."""
    if marks and path in marks:
        return True
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            s = bool_shape(v, marks, (*path, k)) if marks else _plain_shape(v)
            if s is not False:
                out[k] = s
        return out
    if isinstance(value, list):
        if marks:
            return [bool_shape(v, marks, (*path, n)) for n, v in enumerate(value)]
        return [_plain_shape(v) for v in value]
    return False


def _plain_shape(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            s = _plain_shape(v)
            if s is not False:
                out[k] = s
        return out
    if isinstance(value, list):
        return [_plain_shape(v) for v in value]
    return False


def _bump(key: str, value: Any, tag: str) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        if value.startswith("ami-"):
            return "ami-0" + hashlib.blake2b(f"{value}{tag}".encode(), digest_size=8).hexdigest()
        if "/" in value and value[:1].isdigit():  # cidr
            ip, bits = value.split("/")
            a, b, cc, d = ip.split(".")
            return f"{a}.{b}.{(int(cc) + 1) % 256}.{d}/{bits}"
        if value.startswith("arn:") or value.startswith("subnet-") or value.startswith("vpc-"):
            return value[:-4] + hashlib.blake2b(f"{value}{tag}".encode(), digest_size=2).hexdigest()
        return f"{value}-v2"
    return value


def mutate_update(x: Ctx, i: Inst, after: dict[str, Any], rng: random.Random) -> None:
    """An in-place update: tags plus one or two type-specific attributes."""
    t = i.block.type
    changed = False
    if t == "aws_instance" and rng.random() < 0.5:
        pos = _INSTANCE_TYPES.index(after["instance_type"])
        after["instance_type"] = _INSTANCE_TYPES[(pos + 1) % len(_INSTANCE_TYPES)]
        changed = True
    elif t == "aws_db_instance":
        if rng.random() < 0.4:
            after["password"] = x.secret(i, 0, changed=True)
        else:
            after["allocated_storage"] = after["allocated_storage"] + 50
        changed = True
    elif t == "aws_lambda_function":
        after["memory_size"] = after["memory_size"] * 2
        after["environment"][0]["variables"]["LOG_LEVEL"] = "DEBUG"
        changed = True
    elif t == "aws_security_group":
        after["ingress"].append(_sg_rule(9090, 9090, "tcp", ["10.0.0.0/8"], "Metrics scrape"))
        changed = True
    elif t == "aws_cloudwatch_metric_alarm":
        after["threshold"] = after["threshold"] + 5
        after["evaluation_periods"] = after["evaluation_periods"] + 1
        changed = True
    elif t == "aws_cloudwatch_log_group":
        days = after["retention_in_days"]
        after["retention_in_days"] = 400 if days >= 365 else days * 2
        changed = True
    elif t == "aws_ssm_parameter":
        if after["type"] == "SecureString":
            after["value"] = x.secret(i, 0, changed=True)
        else:
            after["value"] = after["value"] + "-next"
        changed = True
    elif t == "aws_iam_policy":
        doc = json.loads(after["policy"])
        doc["Statement"][0]["Action"] = sorted([*doc["Statement"][0]["Action"], "kms:Decrypt"])
        after["policy"] = dj(doc)
        changed = True
    elif t == "aws_secretsmanager_secret_version":
        after["secret_string"] = x.secret(i, 0, changed=True)
        changed = True
    elif t == "aws_lb_target_group":
        after["health_check"][0]["path"] = "/health/ready"
        after["deregistration_delay"] = "60"
        changed = True
    elif t == "aws_dynamodb_table":
        pitr = after["point_in_time_recovery"][0]
        pitr["enabled"] = not pitr["enabled"]
        changed = True
    if "tags" in after and (not changed or rng.random() < 0.5):
        for key in ("tags", "tags_all"):
            after[key] = dict(after[key])
            after[key]["Version"] = f"2025.05.{1 + rng.randrange(28)}"
        changed = True
    if not changed:  # a type without tags or a specific mutation
        for key in sorted(after):
            v = after[key]
            plain = isinstance(v, (int, str)) and not isinstance(v, bool)
            if plain and key not in TYPES[t].force_new and key != "id":
                after[key] = _bump(key, v, i.addr)
                break


def change_values(x: Ctx, i: Inst) -> tuple[str, str, str, str, str, str | None, str, str]:
    """(before, after, after_unknown, before_sensitive, after_sensitive,
    replace_paths, planned sensitive_values, state sensitive_values) as JSON."""
    info = TYPES[i.block.type]
    rng = x.g.rng(i.addr)
    obj = info.values(x, i, rng)
    if i.drift:  # the refreshed object carries a tag someone added in the console
        for key in ("tags", "tags_all"):
            obj[key] = dict(obj[key], LastEditedBy="console")
    sens = info.sensitive
    action = i.action
    replace_paths = None
    if action == "create":
        after = {k: v for k, v in obj.items() if k not in info.computed}
        au = bool_shape(after, frozenset())
        for k in info.computed:
            au[k] = True
        after_s = dj(after)
        a_sens = dj(bool_shape(after, sens))
        return "null", after_s, dj(au), "false", a_sens, None, a_sens, ""
    before_s = dj(obj)
    b_sens = dj(bool_shape(obj, sens))
    if action == "delete":
        return before_s, "null", "{}", b_sens, "false", None, "", b_sens
    if action == "no-op":
        au_s = dj(bool_shape(obj, frozenset()))
        return before_s, before_s, au_s, b_sens, b_sens, None, b_sens, b_sens
    after = json.loads(before_s)
    if action == "update":
        mutate_update(x, i, after, rng)
        if i.drift:
            for key in ("tags", "tags_all"):
                after[key].pop("LastEditedBy", None)
        au = bool_shape(after, frozenset())
        for k in info.update_unknown:
            if k in after:
                del after[k]
                au[k] = True
    else:  # replace
        paths = []
        if not i.tainted:
            fn = [k for k in info.force_new if k in after][: 1 + (rng.random() < 0.2)]
            for k in fn:
                after[k] = _bump(k, after[k], i.addr)
                paths.append([k])
            replace_paths = dj(paths) if paths else None
        for k in info.computed:
            after.pop(k, None)
        au = bool_shape(after, frozenset())
        for k in info.computed:
            au[k] = True
    a_sens = dj(bool_shape(after, sens))
    return before_s, dj(after), dj(au), b_sens, a_sens, replace_paths, a_sens, b_sens


# ---------------------------------------------------------------------------
# Building the estate.


def delete_reason(i: Inst) -> str:
    return "delete_because_count_index" if i.block.rep == "count" else "delete_because_each_key"


class Estate:
    def __init__(self, n: int | None, seed: int, hub_dependents: int, hub_destroyed: int) -> None:
        self.g = Ids(seed)
        self.seed = seed
        self.rng = random.Random(f"structure/{seed}")
        self.mods: dict[str, Mod] = {}
        self.insts: list[Inst] = []
        self.data: list[Inst] = []
        self.root = self._mod("root", "", None)
        self.apps: list[Mod] = []
        self.hub_dependents = hub_dependents
        self.hub_destroyed = hub_destroyed
        self.hub_vpc: Inst | None = None
        self.region_params: dict[str, Any] = {}
        self.n_target = n
        self._build(n)

    def _mod(self, kind: str, addr: str, parent: Mod | None, **kw: Any) -> Mod:
        m = Mod(kind, addr, parent, **kw)
        self.mods[addr] = m
        return m

    def _add(self, mod: Mod, kinds: Iterable[str] | None = None, limit: int | None = None) -> int:
        """Instances of every block of the module's kind; returns managed count."""
        count = 0
        for block in BLOCKS[mod.kind]:
            if kinds is not None and block.addr not in kinds:
                continue
            for key in block_keys(block, mod):
                if block.mode == "managed" and limit is not None and count >= limit:
                    return count
                inst = Inst(instance_address(mod, block, key), mod, block, key)
                if block.mode == "data":
                    if mod.status != "new":
                        self.data.append(inst)
                    continue
                self.insts.append(inst)
                count += 1
        return count

    # -- components ---------------------------------------------------------

    def _root(self, budget: int) -> int:
        root_managed = [b for b in BLOCKS["root"] if b.mode == "managed" and b.keys is None]
        take = min(budget, len(root_managed))
        names = {b.addr for b in BLOCKS["root"] if b.mode == "data"}
        names |= {b.addr for b in root_managed[:take]}
        self.root.params = {"global": []}
        return self._add(self.root, names)

    def _root_filler(self, count: int) -> int:
        self.root.params = {"global": [f"param_{j:03d}" for j in range(count)]}
        return self._add(self.root, {"aws_ssm_parameter.global"})

    def _iam(self, budget: int) -> int:
        users = max(2, min(60, budget // 400))
        names = USERS + [f"dev{j:03d}" for j in range(max(0, users - len(USERS)))]
        params = {"users": sorted(names[:users])}
        mod = self._mod("iam", "module.iam", self.root, call="iam", params=params)
        return self._add(mod)

    def _app(self, call: str, key: str | None, aws_region: str, cidr_index: int, hub: bool) -> Mod:
        addr = f'module.{call}["{key}"]' if key is not None else f"module.{call}"
        region = key or call
        app = self._mod(
            "app", addr, self.root, call=call, key=key, region=region,
            aws_region=aws_region, cidr=(cidr_index * 16) % 256, hub=hub,
        )
        self.apps.append(app)
        return app

    def _net(self, app: Mod, tiers: int, nacl: int) -> Mod:
        net = self._mod(
            "net", f"{app.addr}.module.net", app, call=app.call, region=app.region,
            aws_region=app.aws_region, cidr=app.cidr, hub=app.hub, app=app,
            params={"tiers": tiers, "nacl": nacl},
        )
        app.cache["net"] = net
        return net

    def _svc(self, app: Mod, name: str, k: int, w: int, p: int, legacy: bool, status: str) -> int:
        common = {
            "call": app.call, "region": app.region, "aws_region": app.aws_region,
            "cidr": app.cidr, "hub": app.hub, "app": app, "svc": name, "status": status,
            "team": TEAMS[int(self.g.hex(name, 4), 16) % len(TEAMS)],
        }
        params = {
            "k": k, "lambdas": sorted(LAMBDAS[:w]), "params": sorted(PARAMS[:p]), "legacy": legacy,
        }
        svc = self._mod("svc", f'{app.addr}.module.svc["{name}"]', app, params=params, **common)
        alarms = self._mod("alarms", f"{svc.addr}.module.alarms", svc, params=params, **common)
        svc.net = alarms.net = app.cache["net"].addr
        return self._add(svc) + self._add(alarms)

    def _pick_shape(self, rng: random.Random) -> tuple[int, int, int]:
        k = 1 + min(int(rng.expovariate(1 / 5.0)), 29)
        w = rng.randrange(0, 4)
        p = rng.randrange(1, 5)
        return k, w, p

    def _regular_app(self, index: int, budget: int) -> int:
        """A module.app instance of `budget` resources (at least net-sized)."""
        key, aws_region = REGIONS[index]
        rng = random.Random(f"app/{self.seed}/{key}")
        cidr_index = index + (1 if self.hub_dependents else 0)
        app = self._app("app", key, aws_region, cidr_index, hub=False)
        tiers = max(1, min(4, budget // 2500 + 1))
        while tiers > 1 and module_size("net", {"tiers": tiers, "nacl": 0}) > budget:
            tiers -= 1
        net_base = module_size("net", {"tiers": tiers, "nacl": 0})
        remaining = budget - net_base
        shapes: list[tuple[str, int, int, int, bool, str]] = []
        j = 0
        while remaining >= svc_size(1, 0, 1, False):
            k, w, p = self._pick_shape(rng)
            status = "keep"
            roll = rng.random()
            size = svc_size(k, w, p, False)
            if roll < 0.032 and size <= self.budget["new"]:
                status = "new"
                self.budget["new"] -= size
            elif 0.032 <= roll < 0.044 and size + 1 <= self.budget["removed"]:
                status = "removed"
            legacy = status != "new" and rng.random() < 0.36 and self.budget["legacy"] >= 1
            if status == "removed":
                self.budget["removed"] -= size + legacy
            if legacy:
                self.budget["legacy"] -= 1
            while svc_size(k, w, p, legacy) > remaining and k > 1:
                k -= 1
            while svc_size(k, w, p, legacy) > remaining and (w > 0 or p > 1 or legacy):
                if legacy:
                    legacy = False
                elif w > 0:
                    w -= 1
                else:
                    p -= 1
            base = SERVICES[j % len(SERVICES)]
            name = base if j < len(SERVICES) else f"{base}-{j // len(SERVICES) + 1}"
            shapes.append((name, k, w, p, legacy, status))
            remaining -= svc_size(k, w, p, legacy)
            j += 1
        net = self._net(app, tiers, remaining)
        total = self._add(net)
        for name, k, w, p, legacy, status in shapes:
            total += self._svc(app, name, k, w, p, legacy, status)
        self.region_params[key] = [s[:4] for s in shapes if s[5] != "removed"]
        return total

    def _hub_app(self) -> int:
        """module.platform: its VPC has exactly `hub_dependents` dependents."""
        rng = random.Random(f"hub/{self.seed}")
        app = self._app("platform", None, "eu-west-1", 0, hub=True)
        tiers = 4
        net_deps = sum(
            len(block_keys(b, Mod("net", "", None, params={"tiers": tiers, "nacl": 0})))
            for b in BLOCKS["net"]
            if b.mode == "managed" and VPC_BLOCK in b.closure
        )
        remaining = self.hub_dependents - net_deps
        if remaining < 0:
            raise SystemExit(f"--hub-dependents must be at least {net_deps}")
        shapes = []
        j = 0
        min_deps = svc_vpc_dependents(1, 0, 1)
        while remaining >= min_deps:
            k, w, p = self._pick_shape(rng)
            while svc_vpc_dependents(k, w, p) > remaining and k > 1:
                k -= 1
            while svc_vpc_dependents(k, w, p) > remaining and (w > 0 or p > 1):
                if w > 0:
                    w -= 1
                else:
                    p -= 1
            base = SERVICES[j % len(SERVICES)]
            name = base if j < len(SERVICES) else f"{base}-{j // len(SERVICES) + 1}"
            shapes.append((name, k, w, p))
            remaining -= svc_vpc_dependents(k, w, p)
            j += 1
        net = self._net(app, tiers, remaining)
        total = self._add(net)
        for name, k, w, p in shapes:
            total += self._svc(app, name, k, w, p, False, "keep")
        self.region_params["platform"] = shapes
        return total

    def _build(self, n: int | None) -> None:
        hub_total = self._hub_app() if self.hub_dependents else 0
        if n is None:
            n = hub_total + max(600, self.hub_dependents // 10)
        if n < hub_total:
            raise SystemExit(f"--resources must be at least {hub_total} for this hub size")
        self.n_target = n
        remaining = n - hub_total
        # Whole services added or removed, and a removed resource block, take at
        # most this many of the creates and deletes; random picks fill the rest.
        self.budget = {
            "new": 0.45 * MIX["create"] * remaining,
            "removed": 0.35 * MIX["delete"] * remaining,
            "legacy": 0.2 * MIX["delete"] * remaining,
        }
        remaining -= self._root(remaining)
        if remaining >= 60:
            remaining -= self._iam(remaining)
        regular = n - hub_total
        regions = 2 if regular < 2000 else 3 if regular < 20000 else 4 if regular < 60000 else 6
        net_min = module_size("net", {"tiers": 1, "nacl": 0})
        regions = min(regions, remaining // (net_min + 30))
        if regions <= 0:
            if remaining:
                self._root_filler(remaining)
        else:
            share = remaining // regions
            for idx in range(regions):
                budget = share if idx < regions - 1 else remaining - share * (regions - 1)
                self._regular_app(idx, budget)
        assert len(self.insts) == n, (len(self.insts), n)
        self._assign_actions()

    # -- actions ------------------------------------------------------------

    def _assign_actions(self) -> None:
        rng = random.Random(f"actions/{self.seed}")
        regular = [i for i in self.insts if not i.hub]
        for i in regular:
            st = i.mod.status
            if st == "new":
                i.action = "create"
            elif st == "removed":
                i.action, i.reason = "delete", "delete_because_no_module"
            elif not i.block.in_config:
                i.action, i.reason = "delete", "delete_because_no_resource_config"
        n = len(regular)
        target = {a: round(share * n) for a, share in MIX.items()}
        have = {a: sum(1 for i in regular if i.action == a) for a in MIX}

        def undecided(pred: Callable[[Inst], bool]) -> list[Inst]:
            return [
                i for i in regular if i.action == "no-op" and i.mod.status == "keep" and pred(i)
            ]

        def take(pool: list[Inst], count: int) -> list[Inst]:
            return rng.sample(pool, max(0, min(count, len(pool))))

        leaves = undecided(lambda i: i.block.dependents == 0)
        for i in take(leaves, target["create"] - have["create"]):
            i.action = "create"
        repeated = undecided(lambda i: i.block.rep is not None)
        for i in take(repeated, target["delete"] - have["delete"]):
            i.action, i.reason = "delete", delete_reason(i)
        for i in take(undecided(lambda i: True), target["replace"] - have["replace"]):
            self._make_replace(i, rng)
        for i in take(undecided(lambda i: True), target["update"] - have["update"]):
            i.action = "update"
        updates = [i for i in regular if i.action == "update" and i.block.type not in TAGLESS]
        for i in take(updates, max(2, min(50, n // 1000))):
            i.drift = True

        if self.hub_dependents:
            hub = [i for i in self.insts if i.hub]
            vpc_id = f"{self.apps[0].addr}.module.net.aws_vpc.main"
            deps = []
            for i in hub:
                if i.addr == vpc_id:
                    self.hub_vpc = i
                elif VPC_BLOCK in i.block.closure:
                    i.hub_dep = True
                    deps.append(i)
            assert len(deps) == self.hub_dependents, (len(deps), self.hub_dependents)
            if self.hub_destroyed > len(deps):
                raise SystemExit("--hub-destroyed cannot exceed --hub-dependents")
            order = random.Random(f"hub-destroyed/{self.seed}").sample(deps, len(deps))
            hub_rng = random.Random(f"hub-replace/{self.seed}")
            for i in order[: self.hub_destroyed]:
                if i.block.rep is not None:
                    i.action, i.reason = "delete", delete_reason(i)
                else:
                    self._make_replace(i, hub_rng, allow_taint=False)
            for i in hub:
                if i.action != "no-op" or i is self.hub_vpc:
                    continue
                if self.g.frac("hub-update/" + i.addr) < MIX["update"]:
                    i.action = "update"

    def _make_replace(self, i: Inst, rng: random.Random, allow_taint: bool = True) -> None:
        i.action = "replace"
        i.cbd = rng.random() < CREATE_BEFORE_DESTROY_SHARE
        if allow_taint and rng.random() < TAINTED_SHARE:
            i.tainted = True
            i.reason = "replace_because_tainted"
        else:
            i.reason = "replace_because_cannot_update"


# ---------------------------------------------------------------------------
# Configuration JSON (small: one entry per module call, not per instance).


def _sorted_map(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in sorted(d)}


def _expr(e: Any) -> Any:
    """Nested blocks are lists of expression maps (keys sorted like any Go map)."""
    if isinstance(e, list):
        return [_sorted_map({k: _expr(v) for k, v in item.items()}) for item in e]
    return e


def config_resources(kind: str, call: str | None) -> list[dict[str, Any]]:
    out = []
    blocks = [b for b in BLOCKS[kind] if b.in_config]
    for mode in ("managed", "data"):
        for b in sorted((b for b in blocks if b.mode == mode), key=lambda b: b.addr):
            res: dict[str, Any] = {
                "address": b.addr, "mode": b.mode, "type": b.type, "name": b.name,
                "provider_config_key": PROVIDER_KEY,
            }
            if b.expr:
                res["expressions"] = _sorted_map({k: _expr(v) for k, v in b.expr.items()})
            res["schema_version"] = TYPES[b.type].schema_version
            if b.rep == "count":
                res["count_expression"] = b.rep_expr
            elif b.rep == "for_each":
                res["for_each_expression"] = b.rep_expr
            if b.depends_on:
                res["depends_on"] = list(b.depends_on)
            out.append(res)
    return out


def _vars(**kw: Any) -> dict[str, Any]:
    return _sorted_map({k: v for k, v in kw.items()})


def config_app_module(call: str) -> dict[str, Any]:
    net = {
        "outputs": _sorted_map({
            "vpc_id": {"expression": r("aws_vpc.main.id", "aws_vpc.main")},
            "vpc_cidr": {"expression": r("aws_vpc.main.cidr_block", "aws_vpc.main")},
            "private_subnet_ids": {"expression": r("aws_subnet.private")},
            "public_subnet_ids": {"expression": r("aws_subnet.public")},
        }),
        "resources": config_resources("net", call),
        "variables": _vars(
            name={"description": "Name prefix"},
            cidr={"description": "VPC CIDR block"},
            azs={"default": ["a", "b", "c"]},
            tiers={"default": 1, "description": "Private subnets per availability zone"},
            region={"description": "AWS region"},
            allowed_cidrs={"default": []},
            tags={"default": {}},
        ),
    }
    alarms = {
        "outputs": {
            "topic_arn": {"expression": r("aws_sns_topic.alerts.arn", "aws_sns_topic.alerts")},
        },
        "resources": config_resources("alarms", call),
        "variables": _vars(
            name={}, instance_ids={}, lb_arn_suffix={}, kms_key_arn={}, tags={"default": {}},
        ),
    }
    svc = {
        "outputs": _sorted_map({
            "lb_dns_name": {"expression": r("aws_lb.svc.dns_name", "aws_lb.svc")},
            "db_address": {"expression": r("aws_db_instance.main.address", "aws_db_instance.main")},
            "instance_ids": {"expression": r("aws_instance.app")},
        }),
        "resources": config_resources("svc", call),
        "module_calls": {
            "alarms": {
                "source": "../alarms",
                "expressions": _sorted_map({
                    "name": r("var.name"),
                    "instance_ids": r("aws_instance.app"),
                    "lb_arn_suffix": r("aws_lb.svc.arn_suffix", "aws_lb.svc"),
                    "kms_key_arn": r("var.kms_key_arn"),
                    "tags": r("var.tags"),
                }),
                "module": alarms,
            },
        },
        "variables": _vars(
            name={}, vpc_id={}, vpc_cidr={}, private_subnet_ids={}, public_subnet_ids={},
            zone_id={}, kms_key_arn={}, log_bucket={}, certificate_arn={}, account_id={},
            ami_id={}, instance_type={"default": "t3.medium"}, instance_count={"default": 2},
            db_instance_class={"default": "db.t4g.medium"},
            db_password={"sensitive": True}, api_token={"sensitive": True},
            lambdas={"default": {}}, parameters={"default": {}}, tags={"default": {}},
        ),
    }
    app = {
        "outputs": _sorted_map({
            "vpc_id": {"expression": r("module.net.vpc_id", "module.net")},
            "endpoints": {"expression": r("module.svc")},
        }),
        "module_calls": {
            "net": {
                "source": "../net",
                "expressions": _sorted_map({
                    "name": r("var.name"),
                    "cidr": r("var.cidr"),
                    "tiers": r("var.tiers"),
                    "region": r("var.region"),
                    "allowed_cidrs": r("var.allowed_cidrs"),
                    "tags": r("var.tags"),
                }),
                "module": net,
            },
            "svc": {
                "source": "../svc",
                "expressions": _sorted_map({
                    "name": r("var.name", "each.key"),
                    "vpc_id": r("module.net.vpc_id", "module.net"),
                    "vpc_cidr": r("module.net.vpc_cidr", "module.net"),
                    "private_subnet_ids": r("module.net.private_subnet_ids", "module.net"),
                    "public_subnet_ids": r("module.net.public_subnet_ids", "module.net"),
                    "zone_id": r("var.zone_id"),
                    "kms_key_arn": r("var.kms_key_arn"),
                    "log_bucket": r("var.log_bucket"),
                    "certificate_arn": r("var.certificate_arn"),
                    "account_id": r("var.account_id"),
                    "ami_id": r("var.ami_id"),
                    "instance_count": r("each.value.instances", "each.value"),
                    "db_password": r("var.db_password"),
                    "api_token": r("var.api_token"),
                    "lambdas": r("each.value.lambdas", "each.value"),
                    "parameters": r("each.value.parameters", "each.value"),
                    "tags": r("var.tags", "each.key"),
                }),
                "for_each_expression": r("var.services"),
                "module": svc,
            },
        },
        "variables": _vars(
            name={}, cidr={}, tiers={"default": 1}, region={}, allowed_cidrs={"default": []},
            services={"description": "Services deployed in this region"},
            zone_id={}, kms_key_arn={}, log_bucket={}, certificate_arn={}, account_id={}, ami_id={},
            db_password={"sensitive": True}, api_token={"sensitive": True}, tags={"default": {}},
        ),
    }
    return app


def _app_call_expressions(each: bool) -> dict[str, Any]:
    return _sorted_map({
        "name": r("each.key") if each else c(f"{ENV}-platform"),
        "cidr": r("each.value.cidr", "each.value") if each else c("10.0.0.0/16"),
        "tiers": r("each.value.tiers", "each.value") if each else c(4),
        "region": r("each.value.region", "each.value") if each else r("var.aws_region"),
        "services": r("each.value.services", "each.value") if each else r("var.platform_services"),
        "zone_id": r("aws_route53_zone.main.zone_id", "aws_route53_zone.main"),
        "kms_key_arn": r("aws_kms_key.main.arn", "aws_kms_key.main"),
        "log_bucket": r("aws_s3_bucket.logs.id", "aws_s3_bucket.logs"),
        "account_id": r(*_POLICY_REFS),
        "certificate_arn": r("var.certificate_arn"),
        "ami_id": r("var.ami_id"),
        "db_password": r("var.db_password"),
        "api_token": r("var.api_token"),
        "tags": r("local.tags"),
    })


def configuration(est: Estate, outputs: dict[str, Any]) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    if any(a.call == "app" for a in est.apps):
        calls["app"] = {
            "source": "./modules/app",
            "expressions": _app_call_expressions(True),
            "for_each_expression": r("var.regions"),
            "module": config_app_module("app"),
        }
    if "module.iam" in est.mods:
        calls["iam"] = {
            "source": "./modules/iam",
            "expressions": {"tags": r("local.tags"), "users": r("var.developers")},
            "module": {
                "resources": config_resources("iam", None),
                "variables": _vars(
                    users={}, read_only_policy={"default": "{}"}, tags={"default": {}},
                ),
            },
        }
    if est.hub_dependents:
        calls["platform"] = {
            "source": "./modules/app",
            "expressions": _app_call_expressions(False),
            "module": config_app_module("platform"),
        }
    root: dict[str, Any] = {
        "outputs": _sorted_map(outputs),
        "resources": config_resources("root", None),
        "module_calls": _sorted_map(calls),
        "variables": _vars(
            aws_region={"default": "eu-west-1"},
            environment={"default": ENV},
            regions={"description": "Regions and the services deployed in each"},
            platform_services={"default": {}},
            developers={"default": []},
            global_parameters={"default": {}},
            certificate_arn={"description": "Wildcard certificate"},
            ami_id={"description": "Base image"},
            db_password={
                "description": "Master password for the service databases", "sensitive": True,
            },
            api_token={"sensitive": True},
        ),
    }
    provider = {
        PROVIDER_KEY: {
            "name": "aws",
            "full_name": PROVIDER,
            "version_constraint": "~> 5.80",
            "expressions": {
                "default_tags": [{"tags": c(DEFAULT_TAGS)}],
                "region": r("var.aws_region"),
            },
        },
    }
    return {"provider_config": provider, "root_module": root}


# ---------------------------------------------------------------------------
# Writing.


def _res_head(i: Inst) -> str:
    b = i.block
    parts = ['{"address":', dj(i.addr)]
    if i.mod.addr:
        parts += [',"module_address":', dj(i.mod.addr)]
    parts += [',"mode":"', b.mode, '","type":"', b.type, '","name":"', b.name, '"']
    if i.key is not None:
        parts += [',"index":', dj(i.key)]
    parts.append(',"provider_name":"' + PROVIDER + '"')
    return "".join(parts)


def _state_head(i: Inst) -> str:
    b = i.block
    parts = [
        '{"address":', dj(i.addr), ',"mode":"', b.mode, '","type":"', b.type,
        '","name":"', b.name, '"',
    ]
    if i.key is not None:
        parts += [',"index":', dj(i.key)]
    version = TYPES[b.type].schema_version
    parts.append(f',"provider_name":"{PROVIDER}","schema_version":{version}')
    return "".join(parts)


class Writer:
    def __init__(self, est: Estate, out_path: str) -> None:
        self.est = est
        self.x = Ctx(est.g)
        self.out_path = out_path
        self.depends_cache: dict[tuple[str, str | None], str] = {}

    def depends_on(self, i: Inst) -> str:
        key = (i.block.bid, i.mod.call)
        if key not in self.depends_cache:
            addrs = sorted(config_address(BLOCK_BY_ID[d], i.mod.call) for d in i.block.closure)
            self.depends_cache[key] = dj(addrs) if addrs else ""
        return self.depends_cache[key]

    def write(self) -> None:
        est = self.est
        insts = sorted(est.insts, key=lambda i: i.addr)
        for n, i in enumerate(insts):
            i.ordinal = n + 1
        tmp = [f"{self.out_path}.part{j}" for j in range(3)]
        drift: list[str] = []
        try:
            with open(tmp[0], "wb") as fc, open(tmp[1], "wb") as fp, open(tmp[2], "wb") as fs:
                first = True
                for i in insts:
                    before, after, au, bs, as_, rp, p_sens, s_sens = change_values(self.x, i)
                    actions = {
                        "no-op": '["no-op"]', "create": '["create"]', "update": '["update"]',
                        "delete": '["delete"]',
                        "replace": '["create","delete"]' if i.cbd else '["delete","create"]',
                    }[i.action]
                    head = _res_head(i)
                    parts = [
                        "" if first else ",", head, ',"change":{"actions":', actions,
                        ',"before":', before, ',"after":', after, ',"after_unknown":', au,
                        ',"before_sensitive":', bs, ',"after_sensitive":', as_,
                    ]
                    if rp is not None:
                        parts += [',"replace_paths":', rp]
                    parts.append("}")
                    if i.reason:
                        parts += [',"action_reason":"', i.reason, '"']
                    parts.append("}")
                    fc.write("".join(parts).encode())
                    first = False
                    sh = _state_head(i)
                    if i.action != "delete":
                        frag = f'{sh},"values":{after},"sensitive_values":{p_sens}}}'.encode()
                        i.p_off = (fp.tell(), len(frag))
                        fp.write(frag)
                    if i.action != "create":
                        frag = self._state_frag(i, sh, before, s_sens).encode()
                        i.s_off = (fs.tell(), len(frag))
                        fs.write(frag)
                    if i.drift:
                        drift.append(self._drift(i, head, before, bs))
                for i in sorted(est.data, key=lambda i: i.addr):
                    info = TYPES[i.block.type]
                    obj = info.values(self.x, i, est.g.rng(i.addr))
                    frag = self._state_frag(i, _state_head(i), dj(obj), "{}").encode()
                    i.s_off = (fs.tell(), len(frag))
                    fs.write(frag)
            self._assemble(insts, tmp, drift)
        finally:
            for t in tmp:
                if os.path.exists(t):
                    os.unlink(t)

    def _state_frag(self, i: Inst, head: str, values: str, sens: str) -> str:
        parts = [head, ',"values":', values, ',"sensitive_values":', sens]
        if i.block.mode == "managed":
            dep = self.depends_on(i)
            if dep:
                parts += [',"depends_on":', dep]
            if i.tainted:
                parts.append(',"tainted":true')
        parts.append("}")
        return "".join(parts)

    def _drift(self, i: Inst, head: str, before: str, bs: str) -> str:
        """Recorded state (before) against the refreshed object (after)."""
        old = json.loads(before)
        for key in ("tags", "tags_all"):
            old[key].pop("LastEditedBy", None)
        au = dj(bool_shape(old, frozenset()))
        return (
            f'{head},"change":{{"actions":["update"],"before":{dj(old)},"after":{before},'
            f'"after_unknown":{au},"before_sensitive":{bs},"after_sensitive":{bs}}}}}'
        )

    def _module_tree(self, insts: list[Inst], section: str) -> dict[str, list[Inst]]:
        by_mod: dict[str, list[Inst]] = {}
        for i in insts:
            if (i.p_off if section == "p" else i.s_off) is not None:
                by_mod.setdefault(i.mod.addr, []).append(i)
        return by_mod

    def _emit_module(self, out: Any, src: int, mod: Mod, by_mod: dict[str, list[Inst]],
                     children: dict[str, list[Mod]], live: dict[str, bool], section: str) -> None:
        res = by_mod.get(mod.addr, [])
        kids = [k for k in children.get(mod.addr, []) if live[k.addr]]
        out.write(b"{")
        sep = False
        if res:
            out.write(b'"resources":[')
            for n, i in enumerate(res):
                off, length = i.p_off if section == "p" else i.s_off  # type: ignore[misc]
                if n:
                    out.write(b",")
                out.write(os.pread(src, length, off))
            out.write(b"]")
            sep = True
        if mod.addr:
            out.write((',' if sep else '').encode() + b'"address":' + dj(mod.addr).encode())
            sep = True
        if kids:
            out.write((',' if sep else '').encode() + b'"child_modules":[')
            for n, k in enumerate(kids):
                if n:
                    out.write(b",")
                self._emit_module(out, src, k, by_mod, children, live, section)
            out.write(b"]")
        out.write(b"}")

    def _tree(self, out: Any, path: str, insts: list[Inst], section: str) -> None:
        est = self.est
        by_mod = self._module_tree(insts, section)
        children: dict[str, list[Mod]] = {}
        for m in est.mods.values():
            if m.parent is not None:
                children.setdefault(m.parent.addr, []).append(m)
        for v in children.values():
            v.sort(key=lambda m: m.addr)
        live: dict[str, bool] = {}

        def mark(m: Mod) -> bool:
            alive = bool(by_mod.get(m.addr))
            for k in children.get(m.addr, []):
                alive = mark(k) or alive
            live[m.addr] = alive
            return alive

        mark(est.root)
        fd = os.open(path, os.O_RDONLY)
        try:
            self._emit_module(out, fd, est.root, by_mod, children, live, section)
        finally:
            os.close(fd)

    def _outputs(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(planned outputs, prior outputs, output_changes, configuration outputs)."""
        est, g = self.est, self.est.g
        vpcs = {
            a.key: g.id("vpc", f"{a.addr}.module.net.aws_vpc.main")
            for a in sorted(est.apps, key=lambda a: a.addr) if a.key is not None
        }
        zone = "Z" + g.upper("aws_route53_zone.main", 20)
        items: list[tuple[str, Any, Any, Any, bool, dict[str, Any]]] = [
            ("db_master_password", "string", "SENSITIVE-BENCH-0", "SENSITIVE-BENCH-0", True,
             {"sensitive": True, "expression": r("var.db_password")}),
            ("log_bucket", "string", LOG_BUCKET, LOG_BUCKET, False,
             {"expression": r("aws_s3_bucket.logs.bucket", "aws_s3_bucket.logs")}),
            ("release", "string", "2025.04.3", "2025.05.1", False,
             {"expression": c("2025.05.1"), "description": "Release tag of this configuration"}),
            ("zone_id", "string", zone, zone, False,
             {"expression": r("aws_route53_zone.main.zone_id", "aws_route53_zone.main")}),
        ]
        if vpcs:
            typ = ["object", {k: "string" for k in sorted(vpcs)}]
            items.append(("vpc_ids", typ, vpcs, vpcs, False, {"expression": r("module.app")}))
        if est.hub_dependents:
            vid = g.id("vpc", f"{est.apps[0].addr}.module.net.aws_vpc.main")
            items.append(("platform_vpc_id", "string", vid, vid, False,
                          {"expression": r("module.platform.vpc_id", "module.platform")}))
        planned, prior, changes, config = {}, {}, {}, {}
        for name, typ, before, after, sens, cfg in sorted(items, key=lambda t: t[0]):
            planned[name] = {"sensitive": sens, "type": typ, "value": after}
            prior[name] = {"sensitive": sens, "value": before, "type": typ}
            changes[name] = {
                "actions": ["no-op"] if before == after else ["update"],
                "before": before, "after": after, "after_unknown": False,
                "before_sensitive": sens, "after_sensitive": sens,
            }
            config[name] = cfg
        return planned, prior, changes, config

    def _variables(self) -> dict[str, Any]:
        est = self.est
        regions = {}
        for a in sorted(est.apps, key=lambda a: a.addr):
            if a.key is None:
                continue
            services = {}
            for name, k, w, p in sorted(est.region_params.get(a.key, [])):
                services[name] = {
                    "instances": k,
                    "lambdas": {
                        n: {"handler": f"{n}.handler", "memory": 256} for n in sorted(LAMBDAS[:w])
                    },
                    "parameters": sorted(PARAMS[:p]),
                }
            net = a.cache["net"]
            regions[a.key] = {
                "cidr": f"10.{a.cidr}.0.0/16", "region": a.aws_region,
                "services": services, "tiers": net.params["tiers"],
            }
        iam = est.mods.get("module.iam")
        variables = {
            "ami_id": {"value": "ami-0" + est.g.hex("ami/eu-west-1", 16)},
            "api_token": {"value": "SENSITIVE-BENCH-1"},
            "aws_region": {"value": "eu-west-1"},
            "certificate_arn": {
                "value": _arn("acm", "eu-west-1", f"certificate/{est.g.uuid(DOMAIN)}"),
            },
            "db_password": {"value": "SENSITIVE-BENCH-0"},
            "developers": {"value": list(iam.params["users"]) if iam else []},
            "environment": {"value": ENV},
            "global_parameters": {"value": {k: "on" for k in est.root.params.get("global", [])}},
            "platform_services": {"value": {
                s[0]: {"instances": s[1]} for s in sorted(est.region_params.get("platform", []))
            }},
            "regions": {"value": regions},
        }
        return variables

    def _assemble(self, insts: list[Inst], tmp: list[str], drift: list[str]) -> None:
        planned_out, prior_out, out_changes, cfg_out = self._outputs()
        relevant = [
            {"resource": i.addr, "attribute": ["tags"]} for i in insts if i.drift
        ]
        with open(self.out_path, "wb") as out:
            w = out.write
            w(b'{"format_version":"' + FORMAT_VERSION.encode() + b'","terraform_version":"'
              + TERRAFORM_VERSION.encode() + b'","variables":' + dj(self._variables()).encode())
            w(b',"planned_values":{"outputs":' + dj_ordered(planned_out).encode())
            w(b',"root_module":')
            self._tree(out, tmp[1], insts, "p")
            w(b"}")
            if drift:
                w(b',"resource_drift":[' + ",".join(drift).encode() + b"]")
            w(b',"resource_changes":[')
            out.flush()
            with open(tmp[0], "rb") as fc:
                while True:
                    chunk = fc.read(1 << 22)
                    if not chunk:
                        break
                    w(chunk)
            w(b"]")
            w(b',"output_changes":' + dj_ordered(out_changes).encode())
            w(b',"prior_state":{"format_version":"' + STATE_FORMAT_VERSION.encode()
              + b'","terraform_version":"' + TERRAFORM_VERSION.encode()
              + b'","values":{"outputs":' + dj_ordered(prior_out).encode() + b',"root_module":')
            self._tree(out, tmp[2], insts + sorted(self.est.data, key=lambda i: i.addr), "s")
            w(b"}}")
            config = go_escape(dj_ordered(configuration(self.est, cfg_out)))
            w(b',"configuration":' + config.encode())
            if relevant:
                w(b',"relevant_attributes":' + dj_ordered(relevant).encode())
            w(b',"timestamp":"' + TIMESTAMP.encode() + b'"')
            w(b',"applyable":true,"complete":true,"errored":false}')


# ---------------------------------------------------------------------------


def _parse_size(text: str) -> int:
    t = text.strip().lower()
    mult = 1
    if t.endswith("k"):
        mult, t = 1000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    return int(float(t) * mult)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resources", "-n", type=_parse_size,
                    help="resource changes in the plan (e.g. 10000 or 10k); "
                    "required unless --hub-dependents")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hub-dependents", type=_parse_size, default=0,
                    help="add module.platform whose VPC (unchanged) has exactly this "
                    "many dependents")
    ap.add_argument("--hub-destroyed", type=int, default=0,
                    help="how many of the hub's dependents are destroyed (deleted or replaced)")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--quiet", "-q", action="store_true")
    args = ap.parse_args(argv)
    if args.resources is None and not args.hub_dependents:
        ap.error("--resources is required (unless --hub-dependents is given)")
    if args.hub_destroyed and not args.hub_dependents:
        ap.error("--hub-destroyed needs --hub-dependents")
    if args.resources is not None and args.resources < 1:
        ap.error("--resources must be positive")
    t0 = time.perf_counter()
    est = Estate(args.resources, args.seed, args.hub_dependents, args.hub_destroyed)
    t1 = time.perf_counter()
    Writer(est, args.output).write()
    t2 = time.perf_counter()
    if not args.quiet:
        counts: dict[str, int] = {}
        for i in est.insts:
            counts[i.action] = counts.get(i.action, 0) + 1
        size = os.path.getsize(args.output)
        order = ("no-op", "update", "create", "delete", "replace")
        mix = ", ".join(f"{a} {counts.get(a, 0)}" for a in order)
        print(
            f"{args.output}: {len(est.insts)} resources ({mix}), {size / 1e6:.1f} MB, "
            f"build {t1 - t0:.1f}s, write {t2 - t1:.1f}s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
