"""Predictions from .tf sources: each fixtures/hcl case is a base tree committed to a
throwaway git repository and a head tree in its working tree, run through the
real parser, the real checks and the real gate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.config import Config
from planguard.engine import review
from planguard.errors import InputError
from planguard.load import hcl
from planguard.model import Action, Plan, PlanKind
from planguard.registry import all_checks
from planguard.review import Review

CASES = FIXTURES / "hcl"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def _git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def checkout(case: str, tmp: Path) -> Path:
    """A git repo whose HEAD is `case/base` and whose working tree is `case/head`."""
    root = tmp / case
    shutil.copytree(CASES / case / "base", root)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    for child in root.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(CASES / case / "head", root, dirs_exist_ok=True)
    return root


def predict(case: str, tmp: Path) -> Plan:
    root = checkout(case, tmp)
    plans = hcl.load_trees(".", cwd=str(root))
    assert len(plans) == 1
    return plans[0]


def run_review(plan: Plan) -> Review:
    return review([plan], all_checks(), Config())


def actions(plan: Plan) -> dict[str, str]:
    return {c.address: c.action.value for c in plan.changes}


def ids(result: Review) -> set[str]:
    return {f.check_id for f in result.verdict.kept}


def test_removed_database_is_a_predicted_destroy_with_its_line(tmp_path: Path) -> None:
    plan = predict("remove", tmp_path)
    assert plan.kind is PlanKind.HCL and plan.predicted
    assert actions(plan) == {"aws_db_instance.billing": "delete", "aws_vpc.main": "no-op"}
    change = next(c for c in plan.changes if c.address == "aws_db_instance.billing")
    assert change.reason == "delete_because_no_resource_config"
    assert str(change.location) == "main.tf:5 (at base)"
    assert change.before("engine") == "postgres"
    result = run_review(plan)
    assert result.verdict.blocked
    pg101 = next(f for f in result.verdict.kept if f.check_id == "PG101")
    assert str(pg101.location) == "main.tf:5 (at base)"
    assert any("not a plan" in note for note in plan.notes)


def test_rename_without_moved_is_destroy_and_create(tmp_path: Path) -> None:
    plan = predict("rename", tmp_path)
    assert actions(plan) == {
        "aws_s3_bucket.audit_logs": "create",
        "aws_s3_bucket.logs": "delete",
    }
    result = run_review(plan)
    assert {"PG101", "PG106"} <= ids(result)
    pg106 = next(f for f in result.verdict.kept if f.check_id == "PG106")
    assert "moved" in (pg106.suggestion or pg106.message)
    assert pg106.location is not None and pg106.location.file == "main.tf"


def test_rename_with_moved_is_a_move(tmp_path: Path) -> None:
    plan = predict("rename-moved", tmp_path)
    assert actions(plan) == {"aws_s3_bucket.audit_logs": "no-op"}
    (change,) = plan.changes
    assert change.previous_address == "aws_s3_bucket.logs" and change.moved
    assert plan.counts()["move"] == 1
    result = run_review(plan)
    assert not result.verdict.blocked
    assert not ids(result) & {"PG101", "PG106"}


def test_module_moved_carries_every_resource(tmp_path: Path) -> None:
    plan = predict("module-moved", tmp_path)
    assert actions(plan) == {
        "module.environment.aws_db_instance.main": "no-op",
        "module.environment.aws_security_group.db": "no-op",
    }
    assert {c.previous_address for c in plan.changes} == {
        "module.env.aws_db_instance.main",
        "module.env.aws_security_group.db",
    }
    assert str(plan.resources["module.environment.aws_db_instance.main"].location) == (
        "modules/env/main.tf:1"
    )


def test_lowered_protection_is_pg105(tmp_path: Path) -> None:
    plan = predict("protect", tmp_path)
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert change.before("lifecycle", 0, "prevent_destroy") is True
    assert change.after("lifecycle") is None
    assert change.before("deletion_protection") is True
    assert change.after("deletion_protection") is False
    result = run_review(plan)
    pg105 = [f for f in result.verdict.kept if f.check_id == "PG105"]
    assert pg105, [f.message for f in result.verdict.kept]
    assert "prevent_destroy" in pg105[0].message
    assert "deletion protection" in pg105[0].message
    assert str(pg105[0].location) == "main.tf:1"


def test_removed_module_call_destroys_its_resources(tmp_path: Path) -> None:
    plan = predict("module-removed", tmp_path)
    assert actions(plan) == {
        "aws_sns_topic.alerts": "no-op",
        "module.data.aws_dynamodb_table.this": "delete",
    }
    change = plan.changes[1]
    assert change.reason == "delete_because_no_module"
    assert str(change.location) == "modules/data/main.tf:3 (at base)"
    assert "PG101" in ids(run_review(plan))


def test_removed_block_with_destroy_false_forgets(tmp_path: Path) -> None:
    plan = predict("forget", tmp_path)
    assert actions(plan) == {"aws_s3_bucket.archive": "forget"}
    assert "PG101" not in ids(run_review(plan))


def test_argument_that_forces_replacement(tmp_path: Path) -> None:
    plan = predict("replace", tmp_path)
    by = {c.address: c for c in plan.changes}
    db = by["aws_db_instance.main"]
    assert db.action is Action.REPLACE
    assert db.reason == "replace_because_cannot_update"
    assert db.replace_paths == (("identifier",),)
    assert not db.conditional
    # One side is an expression (var.az): Terraform may or may not replace.
    volume = by["aws_ebs_volume.data"]
    assert volume.action is Action.REPLACE and volume.conditional
    assert volume.replace_paths == (("availability_zone",),)
    assert volume.before("availability_zone") == "${var.az}"
    assert "PG102" in ids(run_review(plan))


def test_inline_ignore_suppresses_with_reason(tmp_path: Path) -> None:
    plan = predict("ignored", tmp_path)
    assert plan.resources["aws_db_instance.scratch"].ignores == (
        ("PG101", "scratch database, recreated nightly"),
    )
    result = run_review(plan)
    assert "PG101" not in ids(result)
    (suppressed,) = [s for s in result.verdict.suppressed if s.finding.check_id == "PG101"]
    assert suppressed.reason == "ignored at source: scratch database, recreated nightly"
    assert not result.verdict.blocked


def test_tag_change_is_an_update_that_passes(tmp_path: Path) -> None:
    plan = predict("tags", tmp_path)
    assert actions(plan) == {"aws_db_instance.billing": "update"}
    assert plan.changes[0].changed_paths() == (("tags", "team"),)
    assert not run_review(plan).verdict.blocked


def test_unparseable_hcl_names_file_and_line(tmp_path: Path) -> None:
    root = checkout("broken", tmp_path)
    with pytest.raises(InputError) as err:
        hcl.load_trees(".", cwd=str(root))
    assert str(err.value).startswith("main.tf:7: cannot parse HCL")


def test_edges_follow_locals_module_inputs_and_outputs(tmp_path: Path) -> None:
    plan = predict("graph", tmp_path)
    edges = {(e.dependent, e.dependency) for e in plan.edges}
    assert ("aws_subnet.a", "aws_vpc.main") in edges  # through local.vpc
    assert ("module.app.aws_instance.web", "aws_subnet.a") in edges  # var.subnet_id
    assert ("aws_route53_record.app", "module.app.aws_instance.web") in edges  # output ip
    assert actions(plan)["aws_vpc.main"] == "replace"
    result = run_review(plan)
    impact = result.plans[0].impacts["aws_vpc.main"]
    assert set(impact.dependents) >= {"aws_subnet.a", "module.app.aws_instance.web"}


def test_parser_reads_every_block_kind() -> None:
    from planguard.load import hcl_parse

    text = (CASES / "rename-moved" / "head" / "main.tf").read_text()
    text += """
import {
  to = aws_s3_bucket.imported
  id = "imported"
}

removed {
  from = aws_s3_bucket.old
}

resource "aws_instance" "web" {
  ami = "ami-1"
  depends_on = [aws_s3_bucket.audit_logs]

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags]
    replace_triggered_by  = [aws_s3_bucket.audit_logs.id]
  }
}
"""

    class One:
        def tf_files(self, directory: str) -> list[str]:
            return ["main.tf"]

        def read(self, path: str) -> bytes:
            return text.encode()

        def describe(self) -> str:
            return "test"

    config = hcl_parse.read(One(), ".")
    assert [(m.from_, m.to, m.line) for m in config.moved] == [
        ("aws_s3_bucket.logs", "aws_s3_bucket.audit_logs", 8)
    ]
    assert [(i.to, i.line) for i in config.imports] == [("aws_s3_bucket.imported", 13)]
    assert [(r.from_, r.destroy) for r in config.removed] == [("aws_s3_bucket.old", True)]
    web = config.resources()["aws_instance.web"]
    assert web.line == 22
    assert web.depends_on == ["aws_s3_bucket.audit_logs"]
    assert web.lifecycle.create_before_destroy is True
    assert web.lifecycle.ignore_changes == ("tags",)
    assert web.lifecycle.replace_triggered_by == ("aws_s3_bucket.audit_logs.id",)


def test_references_skip_literal_text() -> None:
    from planguard.load.hcl_parse import references

    refs = references('arn:${aws_s3_bucket.b.arn}/x.y ${format("a.b", var.v)}')
    assert refs == ["aws_s3_bucket.b.arn", "var.v"]
    assert references("${aws_subnet.x[count.index].id}") == ["aws_subnet.x.id"]
    assert references('${aws_subnet.x["a"].id}') == ['aws_subnet.x["a"].id']


def test_cli_review_hcl(tmp_path: Path) -> None:
    root = checkout("remove", tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GIT_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "planguard", "review", "--hcl", ".", "--base", "HEAD", "-f", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"]["predicted"] is True
    assert doc["plans"][0]["kind"] == "terraform-sources"
    f = next(f for f in doc["findings"] if f["id"] == "PG101")
    assert f["location"] == {"file": "main.tf", "line": 5, "at_base": True}


def test_default_base_is_merge_base_in_a_pull_request(tmp_path: Path) -> None:
    from planguard import gitutil

    root = checkout("tags", tmp_path)
    _git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    head = gitutil.resolve(str(root), "HEAD")
    assert gitutil.default_base(str(root), {"GITHUB_BASE_REF": "main"}) == head
    assert gitutil.default_base(str(root), {}) == "HEAD"


def test_base_without_hcl_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "planguard", "review", "--base", "HEAD", "x.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2


def test_plan_locations_from_sources_next_to_it() -> None:
    from planguard.load import load

    case = FIXTURES / "terraform" / "real" / "moved"
    (plan,) = load([str(case / "output.json")])
    plan = hcl.for_review([plan], [])[0]
    located = {a: str(r.location) for a, r in plan.resources.items() if r.location}
    assert located["terraform_data.consumer"].endswith("fixtures/terraform/real/moved/main.tf:29")
    change = next(c for c in plan.changes if c.address == "terraform_data.jobs_queue")
    assert change.location is not None and change.location.line == 20


def test_plan_json_run_does_not_import_hcl2(tmp_path: Path) -> None:
    plan = FIXTURES / "terraform" / "real" / "moved" / "output.json"
    copy = tmp_path / "plan.json"
    copy.write_bytes(plan.read_bytes())
    code = (
        "import sys; from planguard.cli import main; "
        f"main(['review', {str(copy)!r}, '-f', 'json']); "
        "sys.exit(3 if 'hcl2' in sys.modules else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_removed_resource_is_placed_at_the_base(tmp_path: Path) -> None:
    """Its line is the base's: every format says so, as `file:line (at base)`."""
    from planguard.config import Config
    from planguard.engine import review
    from planguard.registry import all_checks
    from planguard.report import Format, render

    plan = predict("remove", tmp_path)
    gone = [c for c in plan.changes if c.action is Action.DELETE]
    assert gone and all(c.location is not None and c.location.at_base for c in gone)
    kept = [c for c in plan.changes if c.action is not Action.DELETE and c.location]
    assert all(not c.location.at_base for c in kept if c.location)
    result = review([plan], all_checks(), Config())
    finding = next(f for f in result.verdict.kept if f.location and f.location.at_base)
    assert str(finding.location).endswith(" (at base)")
    assert f"{finding.location}" in render(result, Format.TERMINAL, columns=200)
    assert "(at base)" in render(result, Format.MARKDOWN)
    doc = json.loads(render(result, Format.JSON))
    assert any(f["location"] and f["location"].get("at_base") for f in doc["findings"])
