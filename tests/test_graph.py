"""The dependency graph on real and scenario plans: exact edges, impact and paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.errors import InputError
from planguard.graph import DependencyGraph
from planguard.load import load


def graph(*parts: str) -> DependencyGraph:
    [plan] = load([str(FIXTURES.joinpath(*parts))])
    return DependencyGraph(plan)


def edges(g: DependencyGraph) -> set[tuple[str, str, str]]:
    return {(a, b, g.via(a, b)) for a in g.nodes for b in g.dependencies(a)}


def test_replace_orders_edges_follow_main_tf() -> None:
    # main.tf: migrations refers to database; dns_record refers to load_balancer
    # and has depends_on = [terraform_data.database].
    g = graph("terraform/real/replace-orders/output.json")
    assert edges(g) == {
        ("terraform_data.migrations", "terraform_data.database", "reference"),
        ("terraform_data.dns_record", "terraform_data.load_balancer", "reference"),
        ("terraform_data.dns_record", "terraform_data.database", "depends_on"),
    }
    impact = {i.address: i.dependents for i in g.impact()}
    assert impact == {
        "terraform_data.database": ("terraform_data.dns_record", "terraform_data.migrations"),
        "terraform_data.load_balancer": ("terraform_data.dns_record",),
        "terraform_data.migrations": (),
    }


def test_module_instance_references_stay_in_their_instance() -> None:
    # router = module.shard["eu"].queue_id: only the "eu" instance's queue, not
    # the "us" one being destroyed, and not the module's other resources.
    g = graph("terraform/real/no-module/output.json")
    assert g.dependencies("terraform_data.router") == ['module.shard["eu"].terraform_data.queue']
    assert g.dependencies('module.shard["us"].terraform_data.topic') == [
        'module.shard["us"].terraform_data.queue'
    ]
    assert g.dependents('module.shard["us"].terraform_data.queue') == [
        'module.shard["us"].terraform_data.topic'
    ]


def test_module_depends_on_links_every_resource_in_the_module() -> None:
    g = graph("terraform/corpus/show-json/provider-aliasing-default/output.json")
    assert edges(g) == {
        (
            "module.child.module.with_requirement.test_instance.test",
            "module.child.module.no_requirements.test_instance.test",
            "module",
        )
    }


def test_nested_module_connections_from_checkov_corpus() -> None:
    g = graph(
        "terraform/corpus-more/checkov/"
        "tests__terraform__runner__resources__plan_nested_child_modules_with_connections__tfplan.json"
    )
    sub = "module.s3_module.module.s3_submodule."
    assert (
        f"{sub}aws_s3_bucket_public_access_block.submodule_bucket",
        f"{sub}aws_s3_bucket.submodule_bucket",
        "reference",
    ) in edges(g)
    assert g.dependencies("aws_s3_bucket_public_access_block.root") == ["aws_s3_bucket.root_bucket"]


VPC_PATHS = {
    "aws_subnet.a": ["aws_vpc.main", "aws_subnet.a"],
    "aws_subnet.b": ["aws_vpc.main", "aws_subnet.b"],
    "aws_route_table.private": ["aws_vpc.main", "aws_route_table.private"],
    "aws_instance.app_a": ["aws_vpc.main", "aws_subnet.a", "aws_instance.app_a"],
    "aws_instance.app_b": ["aws_vpc.main", "aws_subnet.b", "aws_instance.app_b"],
    "aws_db_subnet_group.main": ["aws_vpc.main", "aws_subnet.a", "aws_db_subnet_group.main"],
    "aws_db_instance.main": [
        "aws_vpc.main",
        "aws_subnet.a",
        "aws_db_subnet_group.main",
        "aws_db_instance.main",
    ],
}


def test_vpc_deletion_impact_is_exactly_its_dependents_with_paths() -> None:
    g = graph("scenarios/vpc-delete.json")
    [vpc] = [i for i in g.impact() if i.address == "aws_vpc.main"]
    assert set(vpc.dependents) == set(VPC_PATHS)
    for member, path in VPC_PATHS.items():
        got = vpc.path(member)
        assert got[0] == "aws_vpc.main" and got[-1] == member
        assert len(got) == len(path), (member, got)
        assert got == path or member.startswith("aws_db_")  # via subnet a or b, equally short
    # Prior-state depends_on is transitive; only direct dependencies become edges.
    assert g.dependencies("aws_instance.app_a") == ["aws_iam_role.app", "aws_subnet.a"]


def test_nested_modules_three_levels() -> None:
    g = graph("scenarios/nested-modules.json")
    vpc = "module.platform.module.network.aws_vpc.this"
    subnets = [n for n in g.nodes if n.startswith("module.platform.module.network.module.subnets.")]
    assert len(subnets) == 2
    for subnet in subnets:
        assert vpc in g.dependencies(subnet)
        assert subnet in g.dependents(vpc)


def test_cycle_is_reported_and_refused(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "terraform/real/replace-orders/output.json").read_text())
    for res in doc["prior_state"]["values"]["root_module"]["resources"]:
        if res["address"] == "terraform_data.database":
            res["depends_on"] = ["terraform_data.migrations"]
    doc["configuration"]["root_module"]["resources"] = [
        r
        for r in doc["configuration"]["root_module"]["resources"]
        if r["address"] != "terraform_data.database"
    ]
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(doc))
    [plan] = load([str(path)])
    g = DependencyGraph(plan)
    assert g.cycles() == [["terraform_data.database", "terraform_data.migrations"]]
    from planguard.config import Config
    from planguard.engine import review
    from planguard.registry import all_checks

    with pytest.raises(InputError, match="dependency cycle"):
        review([plan], all_checks(), Config())
