#!/usr/bin/env python3
"""Generate a Terraform plan shaped like a monorepo's: deep modules, many references.

The second plan shape of the benchmark, written independently of gen_plan.py.
gen_plan.py calls one app module per region, so its configuration is a few
hundred resource blocks whatever the plan's size. Real monorepos call a module
per team and per service, nest them three or four deep, and pass values down
through variables at every level: the configuration grows with the plan (about
three blocks for every four resource instances) and every block refers to
several others, mostly through `var.*` chains and module outputs.

    root: shared data sources, the DNS zone and certificate
      module.network_<region>          VPC, subnets (count), NAT, routes, endpoints
      module.security                  KMS keys, shared IAM roles, the log bucket
      module.<domain>                  ECS cluster, load balancer, listener, alerts topic
        module.svc_<name>              (some with for_each = shards) security group and rules,
                                       IAM role and policy, task definition, ECS service,
                                       target group, listener rule, autoscaling, SQS queues,
                                       S3 bucket and its settings, SSM parameters (for_each)
          module.db                    (most services) subnet group, security group,
                                       parameter group, aws_db_instance and replicas (count),
                                       secret and version, log groups (for_each), DNS record
            module.alarms              metric alarms (for_each), composite alarm, dashboard
          module.alarms                the same, for the service

Every module variable is passed by the caller from its own variables or a
sibling's outputs (`vpc_id = var.vpc_id`, `client_sg_id = aws_security_group.this.id`,
`subnet_ids = module.network_eu.private_subnet_ids` at the top), so a reference
is resolved through up to four levels of variables and outputs.

    python benchmarks/gen_mono.py --resources 10k -o mono-10k.json

Same arguments, same bytes (whatever PYTHONHASHSEED is): structure comes from
seeded `random.Random` streams, ids and per-resource values from a keyed BLAKE2
hash of the address, and nothing iterates a hashed set. The resource changes
and the two module trees are written one resource at a time through scratch
files next to the output, so memory stays modest at 100k.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = "1.2"
TERRAFORM_VERSION = "1.11.4"
STATE_FORMAT_VERSION = "1.0"
PROVIDER = "registry.terraform.io/hashicorp/aws"
ACCOUNT = "210987654321"
TIMESTAMP = "2025-06-02T14:05:00Z"
SECRET = "SENSITIVE-BENCH-"

# Of the resource changes, exact to rounding (the same mix as gen_plan.py).
MIX = {"create": 0.08, "update": 0.15, "delete": 0.04, "replace": 0.03}
REGIONS = ["eu_west_1", "us_east_1", "ap_southeast_2", "eu_central_1", "us_west_2", "sa_east_1"]
WORDS = [
    "payments",
    "identity",
    "catalog",
    "search",
    "orders",
    "billing",
    "shipping",
    "pricing",
    "ledger",
    "notify",
    "profile",
    "reviews",
    "loyalty",
    "fraud",
    "media",
    "inbox",
    "reports",
    "ads",
    "checkout",
    "tax",
]
SERVICES = [
    "api",
    "worker",
    "gateway",
    "sync",
    "export",
    "import",
    "scheduler",
    "indexer",
    "webhook",
    "audit",
    "cache",
    "stream",
    "admin",
    "batch",
    "events",
    "graph",
    "mailer",
    "render",
]
SHARDS = ["blue", "green"]
ALARM_METRICS = [
    "cpu",
    "memory",
    "errors",
    "latency",
    "throttles",
    "queue_depth",
    "disk",
    "connections",
]
PARAMS = ["db_url", "feature_flags", "log_level", "api_key", "signing_key", "endpoint"]
DEFAULT_TAGS = {"ManagedBy": "terraform", "Repository": "platform-monorepo"}

_SORTED = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
dj = _SORTED.encode  # maps: Go and cty marshal object keys sorted


def go_escape(text: str) -> str:
    """Go's encoding/json escapes <, > and &."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Ids:
    """Every id and per-resource random stream: a keyed hash of a text."""

    def __init__(self, seed: int) -> None:
        self.key = f"planguard-mono/{seed}".encode()

    def hex(self, text: str, n: int = 17) -> str:
        d = hashlib.blake2b(text.encode(), digest_size=(n + 1) // 2, key=self.key)
        return d.hexdigest()[:n]

    def rng(self, text: str) -> random.Random:
        d = hashlib.blake2b(text.encode(), digest_size=8, key=self.key).digest()
        return random.Random(int.from_bytes(d, "big"))


# ---------------------------------------------------------------------------
# Configuration: references as Terraform lists them, blocks, module templates.


class Ref:
    """An expression's references, given as the traversals the source reads
    (`aws_iam_role.task.arn`, `aws_subnet.private[count.index].id`)."""

    def __init__(self, *traversals: str) -> None:
        self.traversals = traversals

    def json(self) -> dict[str, Any]:
        out: list[str] = []
        for t in self.traversals:
            out.extend(listed(t))
        return {"references": out}


def listed(traversal: str) -> list[str]:
    """What Terraform writes in `references` for one traversal: the traversal and
    its resource or module call; a computed index ends the traversal and is
    listed after it."""
    for index in ("[count.index]", "[each.key]"):
        if index in traversal:
            return [traversal.split(index)[0], index[1:-1]]
    head = traversal.split(".")
    if head[0] in ("var", "local", "each", "count"):
        return [".".join(head[:2])]
    if head[0] == "module":
        return [traversal, ".".join(head[:2])] if len(head) > 2 else [traversal]
    n = 3 if head[0] == "data" else 2
    base = ".".join(head[:n])
    if "[" in base:  # a literal index: `aws_subnet.a[0].id`, `aws_subnet.a[0]`, `aws_subnet.a`
        bare = base.split("[")[0]
        return [traversal, base, bare] if traversal != base else [base, bare]
    return [traversal, base] if traversal != base else [base]


def const(value: Any) -> dict[str, Any]:
    return {"constant_value": value}


def expr_json(value: Any) -> Any:
    if isinstance(value, Ref):
        return value.json()
    if isinstance(value, dict) and "constant_value" not in value:
        return {k: expr_json(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [expr_json(v) for v in value]
    return value


def traversals(value: Any) -> Iterator[str]:
    if isinstance(value, Ref):
        yield from value.traversals
    elif isinstance(value, dict) and "constant_value" not in value:
        for v in value.values():
            yield from traversals(v)
    elif isinstance(value, list):
        for v in value:
            yield from traversals(v)


@dataclass
class Block:
    """A resource block in a module: its expressions and how it iterates."""

    type: str
    name: str
    exprs: dict[str, Any]
    count: int | None = None
    count_expr: Any = None
    each: list[str] | None = None
    each_expr: Any = None
    mode: str = "managed"

    @property
    def local(self) -> str:
        return (
            f"data.{self.type}.{self.name}" if self.mode == "data" else f"{self.type}.{self.name}"
        )

    def instance_keys(self) -> list[int | str | None]:
        if self.count is not None:
            return list(range(self.count))
        if self.each is not None:
            return list(self.each)
        return [None]


@dataclass
class Call:
    """A module call: its template's blocks, inputs, outputs and child calls."""

    name: str
    source: str
    inputs: dict[str, Any]
    blocks: list[Block]
    outputs: dict[str, Any]
    calls: list[Call] = field(default_factory=list)
    each: list[str] | None = None
    each_expr: Any = None
    # "new": every instance created; "gone": removed from the configuration.
    state: str = "kept"


def tagged(**exprs: Any) -> dict[str, Any]:
    return {"tags": Ref("var.tags"), **exprs}


def network(cidr: int) -> list[Block]:
    az = Ref("var.az_count")
    return [
        Block(
            "aws_vpc",
            "this",
            tagged(cidr_block=const(f"10.{cidr}.0.0/16"), enable_dns_hostnames=const(True)),
        ),
        Block(
            "aws_subnet",
            "private",
            tagged(
                vpc_id=Ref("aws_vpc.this.id"),
                availability_zone=Ref("data.aws_availability_zones.all.names"),
                cidr_block=Ref("aws_vpc.this.cidr_block"),
            ),
            count=3,
            count_expr=az,
        ),
        Block(
            "aws_subnet",
            "public",
            tagged(vpc_id=Ref("aws_vpc.this.id"), cidr_block=Ref("aws_vpc.this.cidr_block")),
            count=3,
            count_expr=az,
        ),
        Block("aws_internet_gateway", "this", tagged(vpc_id=Ref("aws_vpc.this.id"))),
        Block("aws_eip", "nat", tagged(domain=const("vpc")), count=3, count_expr=az),
        Block(
            "aws_nat_gateway",
            "this",
            tagged(
                allocation_id=Ref("aws_eip.nat[count.index].id"),
                subnet_id=Ref("aws_subnet.public[count.index].id"),
            ),
            count=3,
            count_expr=az,
        ),
        Block(
            "aws_route_table",
            "private",
            tagged(vpc_id=Ref("aws_vpc.this.id")),
            count=3,
            count_expr=az,
        ),
        Block(
            "aws_route",
            "private_nat",
            {
                "route_table_id": Ref("aws_route_table.private[count.index].id"),
                "nat_gateway_id": Ref("aws_nat_gateway.this[count.index].id"),
                "destination_cidr_block": const("0.0.0.0/0"),
            },
            count=3,
            count_expr=az,
        ),
        Block(
            "aws_route_table_association",
            "private",
            {
                "subnet_id": Ref("aws_subnet.private[count.index].id"),
                "route_table_id": Ref("aws_route_table.private[count.index].id"),
            },
            count=3,
            count_expr=az,
        ),
        Block("aws_route_table", "public", tagged(vpc_id=Ref("aws_vpc.this.id"))),
        Block(
            "aws_route",
            "public_igw",
            {
                "route_table_id": Ref("aws_route_table.public.id"),
                "gateway_id": Ref("aws_internet_gateway.this.id"),
                "destination_cidr_block": const("0.0.0.0/0"),
            },
        ),
        Block(
            "aws_route_table_association",
            "public",
            {
                "subnet_id": Ref("aws_subnet.public[count.index].id"),
                "route_table_id": Ref("aws_route_table.public.id"),
            },
            count=3,
            count_expr=az,
        ),
        Block(
            "aws_security_group",
            "shared",
            tagged(
                vpc_id=Ref("aws_vpc.this.id"),
                description=const("Shared by every service in the VPC"),
            ),
        ),
        Block(
            "aws_vpc_endpoint",
            "s3",
            tagged(
                vpc_id=Ref("aws_vpc.this.id"),
                service_name=Ref("data.aws_region.current.name"),
                route_table_ids=Ref("aws_route_table.private"),
            ),
        ),
        Block(
            "aws_cloudwatch_log_group",
            "flow",
            tagged(kms_key_id=Ref("var.kms_key_arn"), retention_in_days=const(90)),
        ),
        Block(
            "aws_flow_log",
            "this",
            tagged(
                vpc_id=Ref("aws_vpc.this.id"),
                log_destination=Ref("aws_cloudwatch_log_group.flow.arn"),
                iam_role_arn=Ref("var.flow_role_arn"),
            ),
        ),
    ]


NETWORK_OUTPUTS = {
    "vpc_id": Ref("aws_vpc.this.id"),
    "private_subnet_ids": Ref("aws_subnet.private"),
    "public_subnet_ids": Ref("aws_subnet.public"),
    "shared_sg_id": Ref("aws_security_group.shared.id"),
}


def security() -> list[Block]:
    policy = Ref("data.aws_iam_policy_document.assume_ecs.json")
    return [
        Block(
            "aws_kms_key",
            "platform",
            tagged(
                enable_key_rotation=const(True),
                policy=Ref("data.aws_caller_identity.current.account_id"),
            ),
        ),
        Block(
            "aws_kms_alias",
            "platform",
            {"target_key_id": Ref("aws_kms_key.platform.key_id"), "name": const("alias/platform")},
        ),
        Block("aws_kms_key", "logs", tagged(enable_key_rotation=const(True))),
        Block("aws_iam_role", "ecs_execution", tagged(assume_role_policy=policy)),
        Block(
            "aws_iam_role_policy_attachment",
            "ecs_execution",
            {
                "role": Ref("aws_iam_role.ecs_execution.name"),
                "policy_arn": const("arn:aws:iam::aws:policy/AmazonECSTaskExecutionRolePolicy"),
            },
        ),
        Block("aws_iam_role", "rds_monitoring", tagged(assume_role_policy=policy)),
        Block(
            "aws_iam_role_policy_attachment",
            "rds_monitoring",
            {
                "role": Ref("aws_iam_role.rds_monitoring.name"),
                "policy_arn": const("arn:aws:iam::aws:policy/AmazonRDSEnhancedMonitoringRole"),
            },
        ),
        Block("aws_iam_role", "flow_logs", tagged(assume_role_policy=policy)),
        Block("aws_s3_bucket", "logs", tagged(bucket=const(f"platform-logs-{ACCOUNT}"))),
        Block(
            "aws_s3_bucket_server_side_encryption_configuration",
            "logs",
            {
                "bucket": Ref("aws_s3_bucket.logs.id"),
                "rule": [{"kms_master_key_id": Ref("aws_kms_key.logs.arn")}],
            },
        ),
        Block(
            "aws_s3_bucket_public_access_block",
            "logs",
            {"bucket": Ref("aws_s3_bucket.logs.id"), "block_public_acls": const(True)},
        ),
        Block(
            "aws_iam_policy_document",
            "assume_ecs",
            {"statement": [{"actions": const(["sts:AssumeRole"])}]},
            mode="data",
        ),
    ]


SECURITY_OUTPUTS = {
    "kms_key_arn": Ref("aws_kms_key.platform.arn"),
    "logs_key_arn": Ref("aws_kms_key.logs.arn"),
    "execution_role_arn": Ref("aws_iam_role.ecs_execution.arn"),
    "monitoring_role_arn": Ref("aws_iam_role.rds_monitoring.arn"),
    "flow_role_arn": Ref("aws_iam_role.flow_logs.arn"),
    "log_bucket": Ref("aws_s3_bucket.logs.bucket"),
}


def domain() -> list[Block]:
    return [
        Block(
            "aws_ecs_cluster",
            "this",
            tagged(
                name=Ref("var.name"),
                setting=[{"name": const("containerInsights"), "value": const("enabled")}],
            ),
        ),
        Block(
            "aws_cloudwatch_log_group",
            "cluster",
            tagged(kms_key_id=Ref("var.kms_key_arn"), name=Ref("var.name")),
        ),
        Block(
            "aws_sns_topic",
            "alerts",
            tagged(kms_master_key_id=Ref("var.kms_key_arn"), name=Ref("var.name")),
        ),
        Block(
            "aws_sns_topic_policy",
            "alerts",
            {
                "arn": Ref("aws_sns_topic.alerts.arn"),
                "policy": Ref("aws_sns_topic.alerts.arn", "data.aws_caller_identity.current.id"),
            },
        ),
        Block("aws_security_group", "lb", tagged(vpc_id=Ref("var.vpc_id"), name=Ref("var.name"))),
        Block(
            "aws_vpc_security_group_ingress_rule",
            "lb_https",
            {
                "security_group_id": Ref("aws_security_group.lb.id"),
                "cidr_ipv4": const("0.0.0.0/0"),
                "from_port": const(443),
            },
        ),
        Block(
            "aws_vpc_security_group_egress_rule",
            "lb_all",
            {
                "security_group_id": Ref("aws_security_group.lb.id"),
                "referenced_security_group_id": Ref("var.shared_sg_id"),
            },
        ),
        Block(
            "aws_lb",
            "this",
            tagged(
                subnets=Ref("var.public_subnet_ids"),
                security_groups=Ref("aws_security_group.lb.id", "var.shared_sg_id"),
                access_logs=[{"bucket": Ref("var.log_bucket"), "prefix": Ref("var.name")}],
            ),
        ),
        Block(
            "aws_acm_certificate",
            "this",
            tagged(domain_name=Ref("var.name", "var.zone_name"), validation_method=const("DNS")),
        ),
        Block(
            "aws_route53_record",
            "validation",
            {
                "zone_id": Ref("var.zone_id"),
                "records": Ref("aws_acm_certificate.this.domain_validation_options"),
            },
        ),
        Block(
            "aws_acm_certificate_validation",
            "this",
            {
                "certificate_arn": Ref("aws_acm_certificate.this.arn"),
                "validation_record_fqdns": Ref("aws_route53_record.validation.fqdn"),
            },
        ),
        Block(
            "aws_lb_listener",
            "https",
            {
                "load_balancer_arn": Ref("aws_lb.this.arn"),
                "certificate_arn": Ref("aws_acm_certificate_validation.this.certificate_arn"),
                "port": const(443),
            },
        ),
        Block(
            "aws_lb_listener",
            "http",
            {"load_balancer_arn": Ref("aws_lb.this.arn"), "port": const(80)},
        ),
        Block(
            "aws_route53_record",
            "lb",
            {
                "zone_id": Ref("var.zone_id"),
                "name": Ref("var.name"),
                "alias": [
                    {"name": Ref("aws_lb.this.dns_name"), "zone_id": Ref("aws_lb.this.zone_id")}
                ],
            },
        ),
        Block("aws_s3_bucket", "artifacts", tagged(bucket=Ref("var.name"))),
        Block(
            "aws_s3_bucket_versioning", "artifacts", {"bucket": Ref("aws_s3_bucket.artifacts.id")}
        ),
        Block(
            "aws_s3_bucket_server_side_encryption_configuration",
            "artifacts",
            {
                "bucket": Ref("aws_s3_bucket.artifacts.id"),
                "rule": [{"kms_master_key_id": Ref("var.kms_key_arn")}],
            },
        ),
        Block(
            "aws_s3_bucket_public_access_block",
            "artifacts",
            {"bucket": Ref("aws_s3_bucket.artifacts.id")},
        ),
        Block(
            "aws_ecr_repository",
            "this",
            tagged(
                name=Ref("var.name"), encryption_configuration=[{"kms_key": Ref("var.kms_key_arn")}]
            ),
        ),
        Block(
            "aws_ecr_lifecycle_policy", "this", {"repository": Ref("aws_ecr_repository.this.name")}
        ),
        Block("aws_wafv2_web_acl", "this", tagged(name=Ref("var.name"), scope=const("REGIONAL"))),
        Block(
            "aws_wafv2_web_acl_association",
            "this",
            {
                "resource_arn": Ref("aws_lb.this.arn"),
                "web_acl_arn": Ref("aws_wafv2_web_acl.this.arn"),
            },
        ),
    ]


DOMAIN_OUTPUTS = {
    "cluster_arn": Ref("aws_ecs_cluster.this.arn"),
    "listener_arn": Ref("aws_lb_listener.https.arn"),
    "topic_arn": Ref("aws_sns_topic.alerts.arn"),
}


def service(params: list[str], has_db: bool) -> list[Block]:
    each = Ref("var.parameters")
    db = ("module.db.endpoint", "module.db.secret_arn") if has_db else ()
    return [
        Block("aws_security_group", "this", tagged(vpc_id=Ref("var.vpc_id"), name=Ref("var.name"))),
        Block(
            "aws_vpc_security_group_ingress_rule",
            "from_lb",
            {
                "security_group_id": Ref("aws_security_group.this.id"),
                "referenced_security_group_id": Ref("var.lb_sg_id"),
                "from_port": const(8080),
            },
        ),
        Block(
            "aws_vpc_security_group_ingress_rule",
            "from_shared",
            {
                "security_group_id": Ref("aws_security_group.this.id"),
                "referenced_security_group_id": Ref("var.shared_sg_id"),
            },
        ),
        Block(
            "aws_vpc_security_group_egress_rule",
            "all",
            {
                "security_group_id": Ref("aws_security_group.this.id"),
                "cidr_ipv4": const("0.0.0.0/0"),
            },
        ),
        Block(
            "aws_iam_role",
            "task",
            tagged(name=Ref("var.name"), assume_role_policy=Ref("var.assume_policy")),
        ),
        Block(
            "aws_iam_role_policy",
            "task",
            {
                "role": Ref("aws_iam_role.task.id"),
                "policy": Ref(
                    "var.kms_key_arn", "aws_sqs_queue.this.arn", "aws_s3_bucket.this.arn", *db[1:]
                ),
            },
        ),
        Block(
            "aws_iam_role_policy_attachment",
            "xray",
            {
                "role": Ref("aws_iam_role.task.name"),
                "policy_arn": const("arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"),
            },
        ),
        Block(
            "aws_cloudwatch_log_group",
            "this",
            tagged(
                name=Ref("var.name"), kms_key_id=Ref("var.kms_key_arn"), retention_in_days=const(30)
            ),
        ),
        Block(
            "aws_ecs_task_definition",
            "this",
            tagged(
                family=Ref("var.name"),
                execution_role_arn=Ref("var.execution_role_arn"),
                task_role_arn=Ref("aws_iam_role.task.arn"),
                container_definitions=Ref(
                    "var.image",
                    "aws_cloudwatch_log_group.this.name",
                    "aws_sqs_queue.this.url",
                    *db[:1],
                ),
            ),
        ),
        Block(
            "aws_lb_target_group",
            "this",
            tagged(vpc_id=Ref("var.vpc_id"), name=Ref("var.name"), port=const(8080)),
        ),
        Block(
            "aws_lb_listener_rule",
            "this",
            tagged(
                listener_arn=Ref("var.listener_arn"),
                action=[{"target_group_arn": Ref("aws_lb_target_group.this.arn")}],
                condition=[{"host_header": [{"values": Ref("var.name")}]}],
            ),
        ),
        Block(
            "aws_ecs_service",
            "this",
            tagged(
                name=Ref("var.name"),
                cluster=Ref("var.cluster_arn"),
                task_definition=Ref("aws_ecs_task_definition.this.arn"),
                network_configuration=[
                    {
                        "subnets": Ref("var.subnet_ids"),
                        "security_groups": Ref("aws_security_group.this.id"),
                    }
                ],
                load_balancer=[{"target_group_arn": Ref("aws_lb_target_group.this.arn")}],
            ),
        ),
        Block(
            "aws_appautoscaling_target",
            "this",
            {
                "resource_id": Ref("var.cluster_name", "aws_ecs_service.this.name"),
                "max_capacity": const(12),
            },
        ),
        Block(
            "aws_appautoscaling_policy",
            "cpu",
            {
                "resource_id": Ref("aws_appautoscaling_target.this.resource_id"),
                "scalable_dimension": Ref("aws_appautoscaling_target.this.scalable_dimension"),
            },
        ),
        Block(
            "aws_appautoscaling_policy",
            "memory",
            {
                "resource_id": Ref("aws_appautoscaling_target.this.resource_id"),
                "scalable_dimension": Ref("aws_appautoscaling_target.this.scalable_dimension"),
            },
        ),
        Block(
            "aws_sqs_queue",
            "dlq",
            tagged(name=Ref("var.name"), kms_master_key_id=Ref("var.kms_key_arn")),
        ),
        Block(
            "aws_sqs_queue",
            "this",
            tagged(
                name=Ref("var.name"),
                kms_master_key_id=Ref("var.kms_key_arn"),
                redrive_policy=Ref("aws_sqs_queue.dlq.arn"),
            ),
        ),
        Block(
            "aws_sqs_queue_policy",
            "this",
            {
                "queue_url": Ref("aws_sqs_queue.this.id"),
                "policy": Ref("aws_sqs_queue.this.arn", "var.topic_arn"),
            },
        ),
        Block(
            "aws_sns_topic_subscription",
            "this",
            {
                "topic_arn": Ref("var.topic_arn"),
                "endpoint": Ref("aws_sqs_queue.this.arn"),
                "protocol": const("sqs"),
            },
        ),
        Block("aws_s3_bucket", "this", tagged(bucket=Ref("var.name"))),
        Block("aws_s3_bucket_versioning", "this", {"bucket": Ref("aws_s3_bucket.this.id")}),
        Block(
            "aws_s3_bucket_server_side_encryption_configuration",
            "this",
            {
                "bucket": Ref("aws_s3_bucket.this.id"),
                "rule": [{"kms_master_key_id": Ref("var.kms_key_arn")}],
            },
        ),
        Block(
            "aws_s3_bucket_public_access_block", "this", {"bucket": Ref("aws_s3_bucket.this.id")}
        ),
        Block(
            "aws_s3_bucket_policy",
            "this",
            {
                "bucket": Ref("aws_s3_bucket.this.id"),
                "policy": Ref("aws_s3_bucket.this.arn", "aws_iam_role.task.arn"),
            },
        ),
        Block(
            "aws_s3_bucket_lifecycle_configuration",
            "this",
            {"bucket": Ref("aws_s3_bucket.this.id")},
        ),
        Block(
            "aws_s3_bucket_logging",
            "this",
            {
                "bucket": Ref("aws_s3_bucket.this.id"),
                "target_bucket": Ref("var.log_bucket"),
                "target_prefix": Ref("var.name"),
            },
        ),
        Block(
            "aws_ssm_parameter",
            "config",
            tagged(
                name=Ref("var.name", "each.key"),
                value=Ref("each.value"),
                key_id=Ref("var.kms_key_arn"),
            ),
            each=params,
            each_expr=each,
        ),
        Block(
            "aws_service_discovery_service",
            "this",
            tagged(name=Ref("var.name"), dns_config=[{"namespace_id": Ref("var.namespace_id")}]),
        ),
        Block(
            "aws_route53_record",
            "this",
            {
                "zone_id": Ref("var.zone_id"),
                "name": Ref("var.name"),
                "alias": [{"name": Ref("var.lb_dns_name"), "zone_id": Ref("var.lb_zone_id")}],
            },
        ),
    ]


SERVICE_OUTPUTS = {
    "security_group_id": Ref("aws_security_group.this.id"),
    "queue_arn": Ref("aws_sqs_queue.this.arn"),
    "role_arn": Ref("aws_iam_role.task.arn"),
}


def database(replicas: int) -> list[Block]:
    logs = ["postgresql", "upgrade"]
    return [
        Block(
            "aws_db_subnet_group",
            "this",
            tagged(name=Ref("var.name"), subnet_ids=Ref("var.subnet_ids")),
        ),
        Block("aws_security_group", "db", tagged(vpc_id=Ref("var.vpc_id"), name=Ref("var.name"))),
        Block(
            "aws_vpc_security_group_ingress_rule",
            "clients",
            {
                "security_group_id": Ref("aws_security_group.db.id"),
                "referenced_security_group_id": Ref("var.client_sg_id"),
                "from_port": const(5432),
            },
        ),
        Block(
            "aws_db_parameter_group",
            "this",
            tagged(name=Ref("var.name"), family=const("postgres16")),
        ),
        Block(
            "aws_db_instance",
            "this",
            tagged(
                identifier=Ref("var.name"),
                db_subnet_group_name=Ref("aws_db_subnet_group.this.name"),
                vpc_security_group_ids=Ref("aws_security_group.db.id"),
                parameter_group_name=Ref("aws_db_parameter_group.this.name"),
                kms_key_id=Ref("var.kms_key_arn"),
                monitoring_role_arn=Ref("var.monitoring_role_arn"),
                password=Ref("var.master_password"),
            ),
        ),
        Block(
            "aws_db_instance",
            "replica",
            tagged(
                replicate_source_db=Ref("aws_db_instance.this.identifier"),
                kms_key_id=Ref("var.kms_key_arn"),
            ),
            count=replicas,
            count_expr=Ref("var.replicas"),
        ),
        Block(
            "aws_secretsmanager_secret",
            "this",
            tagged(name=Ref("var.name"), kms_key_id=Ref("var.kms_key_arn")),
        ),
        Block(
            "aws_secretsmanager_secret_version",
            "this",
            {
                "secret_id": Ref("aws_secretsmanager_secret.this.id"),
                "secret_string": Ref("aws_db_instance.this.address", "var.master_password"),
            },
        ),
        Block(
            "aws_cloudwatch_log_group",
            "db",
            tagged(name=Ref("var.name", "each.key"), kms_key_id=Ref("var.kms_key_arn")),
            each=logs,
            each_expr=const(logs),
        ),
        Block(
            "aws_route53_record",
            "db",
            {"zone_id": Ref("var.zone_id"), "records": Ref("aws_db_instance.this.address")},
        ),
    ]


DATABASE_OUTPUTS = {
    "endpoint": Ref("aws_db_instance.this.endpoint"),
    "secret_arn": Ref("aws_secretsmanager_secret.this.arn"),
    "instance_id": Ref("aws_db_instance.this.identifier"),
}


def alarms(name: str, metrics: list[str], dimension: str) -> list[Block]:
    """Alarms on the module's main resource, one per metric (for_each)."""
    alarm = f"aws_cloudwatch_metric_alarm.{name}"
    return [
        Block(
            "aws_cloudwatch_metric_alarm",
            name,
            tagged(
                alarm_name=Ref("var.name", "each.key"),
                threshold=Ref("each.value"),
                dimensions=Ref(dimension),
                alarm_actions=Ref("var.topic_arn"),
            ),
            each=metrics,
            each_expr=Ref("var.alarm_thresholds"),
        ),
        Block(
            "aws_cloudwatch_composite_alarm",
            name,
            tagged(
                alarm_name=Ref("var.name"),
                alarm_rule=Ref(alarm),
                alarm_actions=Ref("var.topic_arn"),
            ),
        ),
        Block(
            "aws_cloudwatch_dashboard",
            name,
            {"dashboard_name": Ref("var.name"), "dashboard_body": Ref(dimension, alarm)},
        ),
    ]


def thresholds(rng: random.Random, metrics: list[str]) -> dict[str, Any]:
    return const({m: rng.randint(50, 95) for m in metrics})


class Estate:
    """The whole configuration: root blocks and the tree of module calls."""

    def __init__(self, resources: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids = Ids(seed)
        regions = REGIONS[: max(2, min(len(REGIONS), resources // 25_000 + 1))]
        self.root_blocks = [
            Block("aws_caller_identity", "current", {}, mode="data"),
            Block("aws_region", "current", {}, mode="data"),
            Block("aws_availability_zones", "all", {}, mode="data"),
            Block(
                "aws_route53_zone",
                "main",
                {"name": const("prod.example.net"), "tags": Ref("local.tags")},
            ),
            Block(
                "aws_service_discovery_private_dns_namespace",
                "internal",
                {
                    "vpc": Ref(f"module.network_{regions[0]}.vpc_id"),
                    "name": const("internal.example.net"),
                },
            ),
        ]
        self.calls: list[Call] = []
        for n, region in enumerate(regions):
            blocks = network(n + 10)
            blocks += [
                Block("aws_region", "current", {}, mode="data"),
                Block("aws_availability_zones", "all", {}, mode="data"),
            ]
            self.calls.append(
                Call(
                    f"network_{region}",
                    "./modules/network",
                    {
                        "az_count": const(3),
                        "kms_key_arn": Ref("module.security.logs_key_arn"),
                        "flow_role_arn": Ref("module.security.flow_role_arn"),
                        "tags": Ref("local.tags"),
                    },
                    blocks,
                    NETWORK_OUTPUTS,
                )
            )
        sec_blocks = [*security(), Block("aws_caller_identity", "current", {}, mode="data")]
        self.calls.append(
            Call(
                "security",
                "./modules/security",
                {"tags": Ref("local.tags")},
                sec_blocks,
                SECURITY_OUTPUTS,
            )
        )
        base = sum(len(_keys_all(b)) for c in self.calls for b in c.blocks)
        base += sum(len(_keys_all(b)) for b in self.root_blocks)
        total = base
        d = 0
        while total < resources:
            word = WORDS[d % len(WORDS)] + ("" if d < len(WORDS) else str(d // len(WORDS) + 1))
            call = self._domain(word, regions[d % len(regions)], resources - total)
            total += _instances(call)
            self.calls.append(call)
            d += 1
        self.calls.sort(key=lambda c: c.name)
        # Whole services added (every instance created) and removed from the
        # configuration (every instance deleted, delete_because_no_module).
        services = [s for c in self.calls for s in c.calls]
        self.rng.shuffle(services)
        for state, share in (("new", 0.045), ("gone", 0.02)):
            moved = 0
            while services and moved + _instances(services[-1]) <= share * total:
                call = services.pop()
                call.state = state
                moved += _instances(call)

    def _domain(self, name: str, region: str, room: int) -> Call:
        rng = self.rng
        net = f"module.network_{region}"
        inputs = {
            "name": const(name),
            "vpc_id": Ref(f"{net}.vpc_id"),
            "subnet_ids": Ref(f"{net}.private_subnet_ids"),
            "public_subnet_ids": Ref(f"{net}.public_subnet_ids"),
            "shared_sg_id": Ref(f"{net}.shared_sg_id"),
            "kms_key_arn": Ref("module.security.kms_key_arn"),
            "execution_role_arn": Ref("module.security.execution_role_arn"),
            "monitoring_role_arn": Ref("module.security.monitoring_role_arn"),
            "log_bucket": Ref("module.security.log_bucket"),
            "zone_id": Ref("aws_route53_zone.main.zone_id"),
            "zone_name": Ref("aws_route53_zone.main.name"),
            "namespace_id": Ref("aws_service_discovery_private_dns_namespace.internal.id"),
            "master_password": Ref("var.db_password"),
            "tags": Ref("local.tags"),
        }
        dom = Call(
            name,
            "./modules/domain",
            inputs,
            [*domain(), Block("aws_caller_identity", "current", {}, mode="data")],
            DOMAIN_OUTPUTS,
        )
        used = _instances(dom)
        for svc in rng.sample(SERVICES, rng.randint(7, 12)):
            if used >= room:
                break
            call = self._service(f"svc_{svc}", rng)
            dom.calls.append(call)
            used += _instances(call)
        dom.calls.sort(key=lambda c: c.name)
        return dom

    def _service(self, name: str, rng: random.Random) -> Call:
        params = sorted(rng.sample(PARAMS, rng.randint(2, 6)))
        has_db = rng.random() < 0.7
        inputs: dict[str, Any] = {
            "name": const(name),
            "vpc_id": Ref("var.vpc_id"),
            "subnet_ids": Ref("var.subnet_ids"),
            "shared_sg_id": Ref("var.shared_sg_id"),
            "lb_sg_id": Ref("aws_security_group.lb.id"),
            "kms_key_arn": Ref("var.kms_key_arn"),
            "execution_role_arn": Ref("var.execution_role_arn"),
            "assume_policy": Ref("data.aws_caller_identity.current.account_id"),
            "cluster_arn": Ref("aws_ecs_cluster.this.arn"),
            "cluster_name": Ref("aws_ecs_cluster.this.name"),
            "listener_arn": Ref("aws_lb_listener.https.arn"),
            "lb_dns_name": Ref("aws_lb.this.dns_name"),
            "lb_zone_id": Ref("aws_lb.this.zone_id"),
            "topic_arn": Ref("aws_sns_topic.alerts.arn"),
            "log_bucket": Ref("var.log_bucket"),
            "zone_id": Ref("var.zone_id"),
            "namespace_id": Ref("var.namespace_id"),
            "image": Ref("aws_ecr_repository.this.repository_url"),
            "parameters": const({p: f"/{name}/{p}" for p in params}),
            "tags": Ref("var.tags"),
            "monitoring_role_arn": Ref("var.monitoring_role_arn"),
            "master_password": Ref("var.master_password"),
        }
        metrics = sorted(rng.sample(ALARM_METRICS, rng.randint(3, 6)))
        inputs["alarm_thresholds"] = thresholds(rng, metrics)
        blocks = service(params, has_db) + alarms("service", metrics, "aws_ecs_service.this.name")
        svc = Call(name, "./modules/service", inputs, blocks, SERVICE_OUTPUTS)
        if has_db:
            db_inputs = {
                "name": Ref("var.name"),
                "vpc_id": Ref("var.vpc_id"),
                "subnet_ids": Ref("var.subnet_ids"),
                "client_sg_id": Ref("aws_security_group.this.id"),
                "kms_key_arn": Ref("var.kms_key_arn"),
                "monitoring_role_arn": Ref("var.monitoring_role_arn"),
                "master_password": Ref("var.master_password"),
                "zone_id": Ref("var.zone_id"),
                "replicas": const(rng.choice([0, 1, 1, 2])),
                "topic_arn": Ref("var.topic_arn"),
                "tags": Ref("var.tags"),
            }
            metrics = sorted(rng.sample(ALARM_METRICS, rng.randint(3, 5)))
            db_inputs["alarm_thresholds"] = thresholds(rng, metrics)
            replicas = db_inputs["replicas"]["constant_value"]
            blocks = database(replicas) + alarms("db", metrics, "aws_db_instance.this.identifier")
            db = Call("db", "./modules/database", db_inputs, blocks, DATABASE_OUTPUTS)
            svc.calls.append(db)
        svc.calls.sort(key=lambda c: c.name)
        if rng.random() < 0.15:
            svc.each, svc.each_expr = list(SHARDS), const({shard: {} for shard in SHARDS})
        return svc


def _keys_all(block: Block) -> list[int | str | None]:
    return block.instance_keys() if block.mode == "managed" else []


def _instances(call: Call) -> int:
    own = sum(len(_keys_all(b)) for b in call.blocks)
    own += sum(_instances(c) for c in call.calls)
    return own * (len(call.each) if call.each else 1)


# ---------------------------------------------------------------------------
# Resolution (for prior-state depends_on) and instances.


@dataclass
class Scope:
    """A module call in the configuration tree (not an instance)."""

    path: tuple[str, ...]
    call: Call | None
    parent: Scope | None
    children: dict[str, Scope] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return "".join(f"module.{p}." for p in self.path)

    def blocks(self, est: Estate) -> list[Block]:
        return self.call.blocks if self.call else est.root_blocks


class Resolver:
    """Which resource blocks (config addresses) a reference made in a module means,
    and each block's transitive dependencies, as Terraform writes them in state."""

    def __init__(self, est: Estate) -> None:
        self.est = est
        self.root = Scope((), None, None)
        self._add(self.root, est.calls)
        self.memo: dict[tuple[tuple[str, ...], str], list[str]] = {}
        self.closure: dict[str, list[str]] = {}

    def _add(self, scope: Scope, calls: list[Call]) -> None:
        for call in calls:
            child = Scope((*scope.path, call.name), call, scope)
            scope.children[call.name] = child
            self._add(child, call.calls)

    def refs(self, scope: Scope, traversal: str) -> list[str]:
        key = (scope.path, traversal)
        if key not in self.memo:
            self.memo[key] = sorted(set(self._refs(scope, traversal)))
        return self.memo[key]

    def _refs(self, scope: Scope, traversal: str) -> list[str]:
        name = traversal.split("[")[0]
        head = name.split(".")
        if head[0] in ("local", "each", "count"):
            return []
        if head[0] == "var":
            call = scope.call
            if call is None or scope.parent is None or head[1] not in call.inputs:
                return []
            return [r for t in traversals(call.inputs[head[1]]) for r in self.refs(scope.parent, t)]
        if head[0] == "module":
            child = scope.children[head[1]]
            return [
                r
                for t in traversals(child.call.outputs[head[2]])  # type: ignore[union-attr]
                for r in self.refs(child, t)
            ]
        n = 3 if head[0] == "data" else 2
        return [scope.prefix + ".".join(head[:n])]

    def depends_on(self, scope: Scope, block: Block) -> list[str]:
        address = scope.prefix + block.local
        if address not in self.closure:
            direct: set[str] = set()
            for value in (block.exprs, block.count_expr, block.each_expr):
                for t in traversals(value):
                    direct.update(self.refs(scope, t))
            direct.discard(address)
            out = set(direct)
            for dep in direct:
                out.update(self.closure.get(dep, ()))
            self.closure[address] = sorted(out)
        return self.closure[address]


@dataclass
class Inst:
    """One resource instance: where it is, and what the plan does to it."""

    address: str
    module: str  # module instance address ("" at the root)
    block: Block
    key: int | str | None
    scope: Scope
    action: str = "no-op"
    reason: str | None = None
    cbd: bool = False  # a replace ordered create-before-destroy
    tainted: bool = False
    replace_path: str | None = None
    drift: bool = False  # a tag added outside Terraform, which the update removes
    p_off: tuple[int, int] | None = None
    s_off: tuple[int, int] | None = None


def key_text(key: int | str | None) -> str:
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f'["{key}"]'


class Instances:
    """Every resource instance of the estate, in address order, with its action."""

    def __init__(self, est: Estate, resolver: Resolver) -> None:
        self.est = est
        self.all: list[Inst] = []
        self.data: list[Inst] = []
        # Module instance address -> (parent module instance address, scope).
        self.modules: dict[str, tuple[str | None, Scope]] = {"": (None, resolver.root)}
        self._walk(resolver.root, "", "kept")
        self.all.sort(key=lambda i: i.address)
        self.data.sort(key=lambda i: i.address)
        self._actions(random.Random(est.rng.random()))

    def _walk(self, scope: Scope, module: str, state: str) -> None:
        prefix = module + "." if module else ""
        for block in scope.blocks(self.est):
            for key in block.instance_keys():
                inst = Inst(prefix + block.local + key_text(key), module, block, key, scope)
                if block.mode == "data":
                    if state != "new":
                        self.data.append(inst)
                    continue
                if state == "new":
                    inst.action = "create"
                elif state == "gone":
                    inst.action, inst.reason = "delete", "delete_because_no_module"
                self.all.append(inst)
        for name in sorted(scope.children):
            child = scope.children[name]
            call = child.call
            assert call is not None
            sub = state if state != "kept" else call.state
            for key in call.each or [None]:
                addr = f"{prefix}module.{name}{key_text(key)}"
                self.modules[addr] = (module, child)
                self._walk(child, addr, sub)

    def _actions(self, rng: random.Random) -> None:
        n = len(self.all)
        want = {a: round(share * n) for a, share in MIX.items()}
        have = {a: sum(1 for i in self.all if i.action == a) for a in MIX}
        # Instances of count/for_each blocks other than the first: a key added
        # (create) or removed (delete) from the collection.
        keyed = [
            i
            for i in self.all
            if i.action == "no-op"
            and i.key not in (None, 0)
            and i.key != (i.block.each or [None])[0]
        ]
        rng.shuffle(keyed)
        for action in ("create", "delete"):
            while have[action] < want[action] and keyed:
                i = keyed.pop()
                i.action = action
                if action == "delete":
                    i.reason = (
                        "delete_because_count_index"
                        if isinstance(i.key, int)
                        else "delete_because_each_key"
                    )
                have[action] += 1
        rest = [i for i in self.all if i.action == "no-op"]
        rng.shuffle(rest)
        for action in ("replace", "update", "create", "delete"):
            while have[action] < want[action] and rest:
                i = rest.pop()
                i.action = action
                if action == "replace":
                    i.cbd = rng.random() < 0.15
                    if rng.random() < 0.05:
                        i.tainted, i.reason = True, "replace_because_tainted"
                    else:
                        i.reason = "replace_because_cannot_update"
                        i.replace_path = FORCE_NEW.get(i.block.type, "name")
                elif action == "delete":
                    i.reason = "delete_because_no_resource_config"
                have[action] += 1
        updated = [i for i in self.all if i.action == "update" and has_tags(i.block.type)]
        for i in rng.sample(updated, min(len(updated), max(2, min(50, n // 1000)))):
            i.drift = True


# ---------------------------------------------------------------------------
# Values.

FORCE_NEW = {
    "aws_vpc": "cidr_block",
    "aws_subnet": "cidr_block",
    "aws_db_instance": "identifier",
    "aws_s3_bucket": "bucket",
    "aws_sqs_queue": "name",
    "aws_ecs_cluster": "name",
    "aws_kms_alias": "name",
    "aws_iam_role": "name",
    "aws_security_group": "name",
    "aws_ecr_repository": "name",
    "aws_lb": "name",
    "aws_lb_target_group": "name",
}
ARN = {
    "aws_vpc": "ec2",
    "aws_subnet": "ec2",
    "aws_security_group": "ec2",
    "aws_iam_role": "iam",
    "aws_kms_key": "kms",
    "aws_s3_bucket": "s3",
    "aws_sqs_queue": "sqs",
    "aws_sns_topic": "sns",
    "aws_db_instance": "rds",
    "aws_ecs_cluster": "ecs",
    "aws_ecs_service": "ecs",
    "aws_lb": "elasticloadbalancing",
    "aws_lb_target_group": "elasticloadbalancing",
    "aws_lb_listener": "elasticloadbalancing",
    "aws_cloudwatch_log_group": "logs",
    "aws_secretsmanager_secret": "secretsmanager",
    "aws_ecr_repository": "ecr",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_ssm_parameter": "ssm",
    "aws_acm_certificate": "acm",
    "aws_wafv2_web_acl": "wafv2",
}
UNTAGGED = (
    "aws_route",
    "_association",
    "_attachment",
    "_rule",
    "_policy",
    "_version",
    "aws_s3_bucket_",
    "aws_route53_record",
    "aws_appautoscaling",
    "aws_kms_alias",
    "aws_acm_certificate_validation",
    "aws_sns_topic_subscription",
    "aws_ecr_lifecycle_policy",
    "aws_cloudwatch_dashboard",
)


def has_tags(type_: str) -> bool:
    return not any(u in type_ for u in UNTAGGED)


# Attributes every provider schema has a few of, mostly left at their
# defaults: a plan lists every attribute of a resource, set or not.
SCHEMA_POOL: list[tuple[str, Any]] = [
    ("description", ""),
    ("timeouts", None),
    ("force_destroy", False),
    ("name_prefix", ""),
    ("owner_id", ACCOUNT),
    ("skip_destroy", False),
    ("status", "ACTIVE"),
    ("revision", 0),
    ("created_date", "2024-11-05T10:12:44Z"),
    ("last_modified", "2025-03-18T08:01:19Z"),
    ("kms_key_id", None),
    ("delete_protection", False),
    ("retention_period", 7),
    ("version", "1"),
    ("path", "/"),
    ("ipv6_cidr_block", None),
    ("permissions_boundary", None),
    ("max_session_duration", 3600),
    ("delay_seconds", 0),
    ("fifo", False),
    ("apply_immediately", None),
    ("preferred_window", "sun:03:00-sun:04:00"),
    ("log_format", None),
    ("insufficient_data_actions", []),
    ("ok_actions", []),
    ("launch_type", "FARGATE"),
    ("platform_version", "LATEST"),
    ("ip_address_type", "ipv4"),
]


def schema_extras(type_: str, ids: Ids) -> list[tuple[str, Any]]:
    """The pool attributes a resource type has: two thirds of the pool, by type."""
    return [(a, v) for a, v in SCHEMA_POOL if int(ids.hex(type_ + "/" + a, 2), 16) % 3]


class Values:
    """An instance's attribute values, from a keyed hash of its address."""

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.secrets = 0
        self.extras: dict[str, list[tuple[str, Any]]] = {}

    def of(self, i: Inst) -> tuple[dict[str, Any], dict[str, Any]]:
        """(values, sensitive_values) before the change."""
        ids, rng = self.ids, self.ids.rng(i.address)
        region = REGIONS[rng.randrange(len(REGIONS))].replace("_", "-")
        name = i.address.replace("module.", "").replace('"', "").replace("[", "-")
        name = name.replace("]", "").replace(".", "-")[-60:]
        v: dict[str, Any] = {"id": f"{i.block.type[4:8]}-{ids.hex(i.address)}"}
        service = ARN.get(i.block.type)
        if service:
            v["arn"] = f"arn:aws:{service}:{region}:{ACCOUNT}:{i.block.type[4:]}/{name}"
        v["name"] = name
        for attr, value in sorted(i.block.exprs.items()):
            if attr in ("tags", "name"):
                continue
            v[attr] = self._value(attr, value, i.address, rng)
        for attr, default in self._extras(i.block.type):
            v.setdefault(attr, default)
        sensitive: dict[str, Any] = {}
        if i.block.type == "aws_db_instance":
            v["password"] = self._secret()
            v["deletion_protection"] = rng.random() < 0.8
            v["allocated_storage"] = rng.choice([20, 50, 100, 200])
            v["instance_class"] = rng.choice(["db.t4g.medium", "db.r6g.large", "db.m6g.xlarge"])
            sensitive["password"] = True
        if i.block.type == "aws_secretsmanager_secret_version":
            v["secret_string"] = self._secret()
            sensitive["secret_string"] = True
        if i.block.type == "aws_ssm_parameter":
            secure = i.key in ("api_key", "signing_key")
            v["type"] = "SecureString" if secure else "String"
            v["value"] = self._secret() if secure else f"/{name}/value"
            if secure:
                sensitive["value"] = True
        if has_tags(i.block.type):
            team = name.split("-")[0]
            tags = {
                "Name": name,
                "Team": team,
                "Environment": "prod",
                "CostCenter": f"cc-{ids.hex(team, 4)}",
                "Service": name.split("-")[1:2][0] if "-" in name else team,
            }
            v["tags"] = tags
            v["tags_all"] = {**tags, **DEFAULT_TAGS}
            sensitive["tags"] = {}
            sensitive["tags_all"] = {}
        return v, sensitive

    def _extras(self, type_: str) -> list[tuple[str, Any]]:
        found = self.extras.get(type_)
        if found is None:
            found = self.extras[type_] = schema_extras(type_, self.ids)
        return found

    def _secret(self) -> str:
        self.secrets += 1
        return f"{SECRET}{self.secrets}"

    def _value(self, attr: str, expr: Any, address: str, rng: random.Random) -> Any:
        if isinstance(expr, dict) and "constant_value" in expr:
            return expr["constant_value"]
        if isinstance(expr, list):
            return [
                {k: self._value(k, e, address, rng) for k, e in sorted(item.items())}
                for item in expr
            ]
        if attr in ("policy", "container_definitions", "redrive_policy", "dashboard_body"):
            doc = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["sqs:SendMessage", "kms:Decrypt"],
                        "Resource": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{self.ids.hex(address, 10)}",
                    }
                ],
            }
            return json.dumps(doc, separators=(",", ":"), sort_keys=True)
        if attr.endswith("arn"):
            return f"arn:aws:iam::{ACCOUNT}:role/{self.ids.hex(address + attr, 12)}"
        if attr.endswith("s"):
            return [f"{attr[:6]}-{self.ids.hex(address + attr + str(n))}" for n in range(2)]
        return f"{attr[:8]}-{self.ids.hex(address + attr, 12)}"


def bool_shape(value: Any) -> Any:
    """after_unknown-like shape of a value with nothing unknown: objects keep
    only their nested objects and lists, lists are element-wise."""
    if isinstance(value, dict):
        return {k: bool_shape(v) for k, v in value.items() if isinstance(v, (dict, list))}
    if isinstance(value, list):
        return [bool_shape(v) if isinstance(v, (dict, list)) else False for v in value]
    return False


# ---------------------------------------------------------------------------
# Writing.


class Writer:
    def __init__(self, est: Estate, out_path: str) -> None:
        self.est = est
        self.resolver = Resolver(est)
        self.insts = Instances(est, self.resolver)
        self.values = Values(est.ids)
        self.out_path = out_path
        self.drift: list[str] = []

    def write(self) -> None:
        tmp = [f"{self.out_path}.part{j}" for j in range(3)]
        try:
            with open(tmp[0], "wb") as fc, open(tmp[1], "wb") as fp, open(tmp[2], "wb") as fs:
                for n, i in enumerate(self.insts.all):
                    self._one(i, fc, fp, fs, n == 0)
                for i in self.insts.data:
                    values, sens = self.values.of(i)
                    frag = self._state(i, dj(values), dj(sens)).encode()
                    i.s_off = (fs.tell(), len(frag))
                    fs.write(frag)
            self._assemble(tmp)
        finally:
            for t in tmp:
                if os.path.exists(t):
                    os.unlink(t)

    def _one(self, i: Inst, fc: Any, fp: Any, fs: Any, first: bool) -> None:
        before, sens = self.values.of(i)
        recorded = json.loads(json.dumps(before))
        if i.drift:
            for key in ("tags", "tags_all"):
                before[key]["LastEditedBy"] = "console"
        after = json.loads(json.dumps(recorded))
        unknown: dict[str, Any] = bool_shape(after)
        if i.action == "update":
            rng = self.est.ids.rng("update/" + i.address)
            if "tags" in after:
                after["tags"]["Release"] = after["tags_all"]["Release"] = (
                    f"2025.{rng.randint(1, 12)}"
                )
            else:
                after["name"] = after["name"] + "-v2"
        if i.action in ("create", "replace"):
            for attr in ("id", "arn"):
                after.pop(attr, None)
                unknown[attr] = True
            if i.replace_path:
                after[i.replace_path] = _renamed(after.get(i.replace_path))
        b_sens, a_sens = dj(sens), dj(sens)
        b_text, a_text = dj(before), dj(after)
        actions = {
            "no-op": '["no-op"]',
            "create": '["create"]',
            "update": '["update"]',
            "delete": '["delete"]',
            "replace": '["create","delete"]' if i.cbd else '["delete","create"]',
        }[i.action]
        if i.action == "create":
            b_text, b_sens = "null", "false"
        if i.action == "delete":
            a_text, a_sens, unknown = "null", "false", {}
        parts = [
            "" if first else ",",
            self._head(i),
            ',"change":{"actions":',
            actions,
            ',"before":',
            b_text,
            ',"after":',
            a_text,
            ',"after_unknown":',
            dj(unknown),
            ',"before_sensitive":',
            b_sens,
            ',"after_sensitive":',
            a_sens,
        ]
        if i.replace_path:
            parts += [',"replace_paths":[["', i.replace_path, '"]]']
        parts.append("}")
        if i.reason:
            parts += [',"action_reason":"', i.reason, '"']
        parts.append("}")
        fc.write("".join(parts).encode())
        if i.drift:
            self.drift.append(
                f'{self._head(i)},"change":{{"actions":["update"],"before":{dj(recorded)},'
                f'"after":{dj(before)},"after_unknown":{dj(bool_shape(before))},'
                f'"before_sensitive":{b_sens},"after_sensitive":{b_sens}}}}}'
            )
        if i.action != "delete":
            known = {k: v for k, v in after.items()}
            frag = self._planned(i, dj(known), a_sens).encode()
            i.p_off = (fp.tell(), len(frag))
            fp.write(frag)
        if i.action != "create":
            frag = self._state(i, dj(before), b_sens).encode()
            i.s_off = (fs.tell(), len(frag))
            fs.write(frag)

    def _head(self, i: Inst) -> str:
        b = i.block
        parts = ['{"address":', json.dumps(i.address)]
        if i.module:
            parts += [',"module_address":', json.dumps(i.module)]
        parts += [',"mode":"', b.mode, '","type":"', b.type, '","name":"', b.name, '"']
        if i.key is not None:
            parts += [',"index":', json.dumps(i.key)]
        parts.append(f',"provider_name":"{PROVIDER}"')
        return "".join(parts)

    def _resource_head(self, i: Inst) -> str:
        b = i.block
        parts = [
            '{"address":',
            json.dumps(i.address),
            ',"mode":"',
            b.mode,
            '","type":"',
            b.type,
            '","name":"',
            b.name,
            '"',
        ]
        if i.key is not None:
            parts += [',"index":', json.dumps(i.key)]
        parts.append(f',"provider_name":"{PROVIDER}","schema_version":0')
        return "".join(parts)

    def _planned(self, i: Inst, values: str, sens: str) -> str:
        return f'{self._resource_head(i)},"values":{values},"sensitive_values":{sens}}}'

    def _state(self, i: Inst, values: str, sens: str) -> str:
        parts = [self._resource_head(i), ',"values":', values, ',"sensitive_values":', sens]
        if i.block.mode == "managed":
            deps = self.resolver.depends_on(i.scope, i.block)
            if deps:
                parts += [',"depends_on":', json.dumps(deps, separators=(",", ":"))]
            if i.tainted:
                parts.append(',"tainted":true')
        parts.append("}")
        return "".join(parts)

    def _tree(self, out: Any, path: str, section: str) -> None:
        insts = self.insts.all + self.insts.data
        by_mod: dict[str, list[Inst]] = {}
        for i in insts:
            if (i.p_off if section == "p" else i.s_off) is not None:
                by_mod.setdefault(i.module, []).append(i)
        children: dict[str, list[str]] = {}
        for addr, (parent, _) in self.insts.modules.items():
            if parent is not None:
                children.setdefault(parent, []).append(addr)
        live: dict[str, bool] = {}

        def mark(m: str) -> bool:
            alive = bool(by_mod.get(m))
            for k in children.get(m, []):
                alive = mark(k) or alive
            live[m] = alive
            return alive

        mark("")
        fd = os.open(path, os.O_RDONLY)
        try:
            self._module(out, fd, "", by_mod, children, live, section)
        finally:
            os.close(fd)

    def _module(
        self,
        out: Any,
        src: int,
        mod: str,
        by_mod: dict[str, list[Inst]],
        children: dict[str, list[str]],
        live: dict[str, bool],
        section: str,
    ) -> None:
        res = sorted(by_mod.get(mod, []), key=lambda i: i.address)
        kids = sorted(k for k in children.get(mod, []) if live[k])
        fields: list[bytes] = []
        if res:
            parts = []
            for i in res:
                off, length = i.p_off if section == "p" else i.s_off  # type: ignore[misc]
                parts.append(os.pread(src, length, off))
            fields.append(b'"resources":[' + b",".join(parts) + b"]")
        if mod:
            fields.append(b'"address":' + json.dumps(mod).encode())
        out.write(b"{" + b",".join(fields))
        if kids:
            out.write((b"," if fields else b"") + b'"child_modules":[')
            for n, k in enumerate(kids):
                if n:
                    out.write(b",")
                self._module(out, src, k, by_mod, children, live, section)
            out.write(b"]")
        out.write(b"}")

    def _configuration(self) -> dict[str, Any]:
        root: dict[str, Any] = {
            "resources": [self._cfg_block(b, ()) for b in self.est.root_blocks],
            "module_calls": {
                c.name: self._cfg_call(c, (c.name,)) for c in self.est.calls if c.state != "gone"
            },
            "variables": {"db_password": {"sensitive": True}, "environment": {"default": "prod"}},
        }
        provider = {
            "aws": {
                "name": "aws",
                "full_name": PROVIDER,
                "version_constraint": "~> 5.70",
                "expressions": {"region": {"constant_value": "eu-west-1"}},
            }
        }
        return {"provider_config": provider, "root_module": root}

    def _cfg_block(self, b: Block, path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": b.local,
            "mode": b.mode,
            "type": b.type,
            "name": b.name,
            "provider_config_key": "aws",
            "expressions": expr_json(b.exprs),
            "schema_version": 0,
        }
        if b.count_expr is not None:
            out["count_expression"] = expr_json(b.count_expr)
        if b.each_expr is not None:
            out["for_each_expression"] = expr_json(b.each_expr)
        return out

    def _cfg_call(self, call: Call, path: tuple[str, ...]) -> dict[str, Any]:
        module: dict[str, Any] = {
            "outputs": {k: {"expression": expr_json(v)} for k, v in sorted(call.outputs.items())},
            "resources": [self._cfg_block(b, path) for b in call.blocks],
        }
        kids = {c.name: self._cfg_call(c, (*path, c.name)) for c in call.calls if c.state != "gone"}
        if kids:
            module["module_calls"] = kids
        module["variables"] = {name: {} for name in sorted(call.inputs)}
        out: dict[str, Any] = {"source": call.source, "expressions": expr_json(call.inputs)}
        if call.each_expr is not None:
            out["for_each_expression"] = expr_json(call.each_expr)
        out["module"] = module
        return out

    def _assemble(self, tmp: list[str]) -> None:
        with open(self.out_path, "wb") as out:
            w = out.write
            w(
                b'{"format_version":"'
                + FORMAT_VERSION.encode()
                + b'","terraform_version":"'
                + TERRAFORM_VERSION.encode()
                + b'","variables":'
                + b'{"db_password":{"value":"'
                + SECRET.encode()
                + b'0"},'
                + b'"environment":{"value":"prod"}}'
            )
            w(b',"planned_values":{"root_module":')
            self._tree(out, tmp[1], "p")
            w(b"}")
            w(b',"resource_drift":[' + ",".join(self.drift).encode() + b"]")
            w(b',"resource_changes":[')
            out.flush()
            with open(tmp[0], "rb") as fc:
                while chunk := fc.read(1 << 22):
                    w(chunk)
            w(b"]")
            w(b',"output_changes":{}')
            w(
                b',"prior_state":{"format_version":"'
                + STATE_FORMAT_VERSION.encode()
                + b'","terraform_version":"'
                + TERRAFORM_VERSION.encode()
                + b'","values":{"root_module":'
            )
            self._tree(out, tmp[2], "s")
            w(b"}}")
            w(b',"configuration":' + go_escape(dj_ordered(self._configuration())).encode())
            relevant = [
                {"resource": i.address, "attribute": ["tags"]} for i in self.insts.all if i.drift
            ]
            w(b',"relevant_attributes":' + dj_ordered(relevant).encode())
            w(b',"timestamp":"' + TIMESTAMP.encode() + b'"')
            w(b',"applyable":true,"complete":true,"errored":false}')


dj_ordered = json.JSONEncoder(separators=(",", ":")).encode


def _renamed(value: Any) -> Any:
    if isinstance(value, str):
        return value + "-2"
    return value


# ---------------------------------------------------------------------------


def _parse_size(text: str) -> int:
    t = text.strip().lower()
    mult = 1000 if t.endswith("k") else 1
    return int(float(t.rstrip("k")) * mult)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--resources",
        "-n",
        type=_parse_size,
        required=True,
        help="resource changes in the plan, about (e.g. 10000 or 10k)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--quiet", "-q", action="store_true")
    args = ap.parse_args(argv)
    if args.resources < 1:
        ap.error("--resources must be positive")
    t0 = time.perf_counter()
    est = Estate(args.resources, args.seed)
    writer = Writer(est, args.output)
    writer.write()
    if not args.quiet:
        counts: dict[str, int] = {}
        for i in writer.insts.all:
            counts[i.action] = counts.get(i.action, 0) + 1
        blocks, calls, lists = _config_size(writer._configuration()["root_module"])
        mix = ", ".join(f"{a} {counts.get(a, 0)}" for a in ("no-op", *MIX))
        print(
            f"{args.output}: {len(writer.insts.all)} resources ({mix}); configuration: "
            f"{blocks} resource blocks, {calls} module calls, {lists} reference lists; "
            f"{os.path.getsize(args.output) / 1e6:.1f} MB in {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
    return 0


def _config_size(module: dict[str, Any]) -> tuple[int, int, int]:
    """(resource blocks, module calls, reference lists) of a configuration module."""

    def lists(value: Any) -> int:
        if isinstance(value, dict):
            return ("references" in value) + sum(lists(v) for v in value.values())
        if isinstance(value, list):
            return sum(lists(v) for v in value)
        return 0

    blocks = len(module.get("resources", []))
    calls = 0
    refs = lists(module.get("resources", [])) + lists(module.get("outputs", {}))
    for call in module.get("module_calls", {}).values():
        b, c, r = _config_size(call["module"])
        blocks, calls = blocks + b, calls + c + 1
        refs += r + lists(call.get("expressions", {})) + lists(call.get("for_each_expression"))
    return blocks, calls, refs


if __name__ == "__main__":
    sys.exit(main())
