"""CloudFormation change sets, templates and cdk.out through the real loaders."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from planguard.errors import InputError
from planguard.graph import DependencyGraph
from planguard.load import LoadOptions, load
from planguard.load.cloudformation import load_template_text, predict_templates
from planguard.model import Action, PlanKind
from planguard.values import SENSITIVE, UNKNOWN

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "cloudformation"
CS = ROOT / "changesets"
CORPUS = ROOT / "localstack"


def _load(*paths: Path | str, **options: list[str]):
    plans = load([str(p) for p in paths], LoadOptions(**options))
    assert len(plans) == 1
    return plans[0]


def _by_address(plan):
    return {c.address: c for c in plan.changes}


# -- the corpus of recorded change sets ---------------------------------------------


def _corpus(kind: str) -> list[str]:
    with open(ROOT / "MANIFEST.tsv", encoding="utf-8") as fh:
        return sorted(
            row["local_file"] for row in csv.DictReader(fh, delimiter="\t") if row["format"] == kind
        )


def test_manifest_lists_every_corpus_file():
    listed = {Path(p).name for p in _corpus("cfn-changeset") + _corpus("cfn-template")}
    assert listed == {p.name for p in CORPUS.iterdir()}
    assert len(_corpus("cfn-changeset")) == 119


# The raw ResourceChange says what CloudFormation will do; counts must follow it.
_EXPECTED_KEY = {
    ("Add", None): "create",
    ("Add", "True"): "create",
    ("Remove", None): "delete",
    ("Modify", "False"): "update",
    ("Modify", "True"): "replace",
}


@pytest.mark.parametrize("name", _corpus("cfn-changeset"))
def test_every_corpus_change_set_loads_with_right_counts(name):
    raw = json.loads((ROOT / name).read_text())
    plan = _load(ROOT / name)
    assert plan.kind is PlanKind.CFN_CHANGE_SET
    assert plan.tool == "cloudformation"
    want = Counter(
        _EXPECTED_KEY[(c["ResourceChange"]["Action"], c["ResourceChange"].get("Replacement"))]
        for c in raw["Changes"]
    )
    counts = plan.counts()
    for key in ("create", "update", "delete", "replace"):
        assert counts[key] == want.get(key, 0), key
    assert len(plan.changes) == len(raw["Changes"])


def test_corpus_change_set_totals():
    totals: Counter[str] = Counter()
    for name in _corpus("cfn-changeset"):
        for key, n in _load(ROOT / name).counts().items():
            totals[key] += n
    assert (totals["create"], totals["update"], totals["replace"], totals["delete"]) == (
        78,
        51,
        14,
        5,
    )


@pytest.mark.parametrize("name", _corpus("cfn-template"))
def test_every_corpus_template_loads(name):
    plan = _load(ROOT / name)
    assert plan.kind is PlanKind.CFN_TEMPLATES
    assert plan.changes and all(c.action is Action.NOOP for c in plan.changes)
    assert all(c.location and c.location.line for c in plan.changes)


def test_recorded_replacement_with_dependent():
    plan = _load(
        CORPUS
        / (
            "test_change_set_ref__TestChangeSetRef-test_immutable_property_update_causes_resource_"
            "replacement__describe-change-set-2-prop-values.json"
        )
    )
    topic1, topic2 = plan.changes
    assert topic1.action is Action.REPLACE
    assert topic1.replace_paths == (("Properties", "TopicName"),)
    assert topic1.reason == "Replacement: True; RequiresRecreation: Always (TopicName)"
    assert topic1.update_replace_policy == "Delete"  # PolicyAction ReplaceAndDelete
    assert topic2.action is Action.UPDATE
    assert topic2.after("Properties", "DisplayName") == UNKNOWN
    assert [(e.dependent, e.dependency, e.via) for e in plan.edges] == [("Topic2", "Topic1", "ref")]


# -- mapping table ----------------------------------------------------------------

MAPPING = [
    # fixture, logical id, action, conditional, importing
    ("rds-replace/changeset.json", "Database", Action.REPLACE, False, False),
    ("rds-replace/changeset.json", "EndpointParam", Action.UPDATE, False, False),
    ("conditional/changeset.json", "Vpc", Action.REPLACE, True, False),
    ("conditional/changeset.json", "Worker", Action.REPLACE, True, False),
    ("conditional/changeset.json", "WorkerAlarm", Action.CREATE, False, False),
    ("conditional/changeset.json", "WorkerRole", Action.UPDATE, False, False),
    ("bucket-removed/changeset.json", "UploadsBucket", Action.DELETE, False, False),
    ("import/changeset.json", "OrdersTable", Action.NOOP, False, True),
    ("dynamic/changeset.json", "QueueBlue", Action.REPLACE, True, False),
    ("dynamic/changeset.json", "QueueGreen", Action.UPDATE, False, False),
]


@pytest.mark.parametrize(("fixture", "lid", "action", "conditional", "importing"), MAPPING)
def test_change_set_mapping(fixture, lid, action, conditional, importing):
    change = _by_address(_load(CS / fixture))[lid]
    assert change.action is action
    assert change.conditional is conditional
    assert change.importing is importing


def test_rds_replacement_reason_and_policies_with_template():
    plan = _load(CS / "rds-replace/changeset.json", CS / "rds-replace/template.yaml")
    changes = _by_address(plan)
    db = changes["Database"]
    assert db.reason == "Replacement: True; RequiresRecreation: Always (DBInstanceIdentifier)"
    assert db.replace_paths == (("Properties", "DBInstanceIdentifier"),)
    assert db.type == "AWS::RDS::DBInstance"
    assert (db.deletion_policy, db.update_replace_policy) == ("Snapshot", "Snapshot")
    assert str(db.location).endswith("rds-replace/template.yaml:14")
    assert changes["DbSubnetGroup"].action is Action.NOOP  # unchanged, from the template
    assert DependencyGraph(plan).dependents("Database") == ["EndpointParam"]
    # BeforeContext arrives as a JSON string, as the AWS API sends it.
    assert db.before("Properties", "DBInstanceIdentifier") == "orders-db"
    assert db.after("Properties", "DBInstanceIdentifier") == "orders-db-v2"


def test_conditional_replacement_paths():
    changes = _by_address(_load(CS / "conditional/changeset.json"))
    worker = changes["Worker"]
    assert worker.replace_paths == (("Properties", "InstanceType"),)
    assert worker.reason == (
        "Replacement: Conditional; RequiresRecreation: Conditionally (InstanceType)"
    )


def test_removed_buckets_carry_deletion_policy():
    changes = _by_address(_load(CS / "bucket-removed/changeset.json"))
    assert changes["UploadsBucket"].deletion_policy == "Delete"
    assert changes["ArchiveBucket"].deletion_policy == "Retain"
    assert all(c.type == "AWS::S3::Bucket" for c in changes.values())


def test_import_with_template_keeps_retain():
    change = _by_address(_load(CS / "import/changeset.json", CS / "import/template.yaml"))[
        "OrdersTable"
    ]
    assert change.importing and change.reason == "Import"
    assert (change.deletion_policy, change.update_replace_policy) == ("Retain", "Retain")


def test_dynamic_is_a_possible_replacement():
    blue = _by_address(_load(CS / "dynamic/changeset.json"))["QueueBlue"]
    assert blue.reason.startswith("Action: Dynamic")


# -- graph ------------------------------------------------------------------------


def test_vpc_replacement_graph_across_stacks():
    plan = _load(
        CS / "vpc-replace/changeset.json",
        CS / "vpc-replace/network.yaml",
        CS / "vpc-replace/app.yaml",
    )
    edges = {(e.dependent, e.dependency, e.via) for e in plan.edges}
    assert edges == {
        ("network/SubnetA", "network/Vpc", "ref"),
        ("network/WebSg", "network/Vpc", "getatt"),
        ("network/RouteTable", "network/Vpc", "ref"),
        ("network/Endpoint", "network/Vpc", "ref"),
        ("network/Endpoint", "network/RouteTable", "condition"),
        ("network/FlowLogGroup", "network/Vpc", "sub"),
        ("network/FlowLog", "network/Vpc", "ref"),
        ("network/FlowLog", "network/FlowLogRole", "getatt"),
        ("network/FlowLog", "network/FlowLogGroup", "depends_on"),
        ("app/AppSg", "network/Vpc", "import"),
        ("app/Server", "network/SubnetA", "import"),
        ("app/Server", "app/AppSg", "ref"),
    }
    graph = DependencyGraph(plan)
    assert "app/Server" in graph.dependents("network/Vpc")
    assert graph.impact_path("network/Vpc", "app/Server") in (
        ["network/Vpc", "network/SubnetA", "app/Server"],
        ["network/Vpc", "app/AppSg", "app/Server"],
    )
    counts = plan.counts()
    assert (counts["replace"], counts["noop"]) == (7, 3)


def test_nested_change_sets_join_under_parent():
    plan = _load(
        CS / "nested/child-changeset.json",
        CS / "nested/parent-changeset.json",
        CS / "nested/storage.yaml",
        CS / "nested/parent.yaml",
    )
    changes = _by_address(plan)
    assert set(changes) == {
        "Storage",
        "Queue",
        "Consumer",
        "Storage/DataBucket",
        "Storage/DataBucketPolicy",
    }
    bucket = changes["Storage/DataBucket"]
    assert bucket.action is Action.REPLACE
    assert bucket.module == "Storage"
    assert bucket.update_replace_policy == "Retain"
    assert str(bucket.location).endswith("nested/storage.yaml:4")
    assert {(e.dependent, e.dependency, e.via) for e in plan.edges} == {
        ("Consumer", "Storage", "getatt"),
        ("Storage/DataBucketPolicy", "Storage/DataBucket", "ref"),
    }


def test_nested_change_set_without_parent_stands_alone():
    plan = _load(CS / "nested/child-changeset.json")
    assert [c.address for c in plan.changes] == ["DataBucket"]
    assert any("without its parent" in n for n in plan.notes)


def test_cdk_out_is_a_set_of_templates():
    plan = _load(ROOT / "cdk.out")
    assert plan.kind is PlanKind.CFN_TEMPLATES and not plan.predicted
    assert {(e.dependent, e.dependency, e.via) for e in plan.edges} == {
        ("NetworkStack/VpcPublicSubnet1Subnet5C2D37C4", "NetworkStack/Vpc8378EB38", "ref"),
        ("AppStack/AppSecurityGroup1A2B3C4D", "NetworkStack/Vpc8378EB38", "import"),
    }


def test_cdk_out_refuses_symlink_loops_and_escapes(tmp_path):
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "loop").symlink_to(out)
    (out / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "Stage": {
                        "type": "cdk:cloud-assembly",
                        "properties": {"directoryName": "loop"},
                    },
                }
            }
        )
    )
    with pytest.raises(InputError, match="loop"):
        load([str(out)])
    secret = tmp_path / "outside.template.json"
    secret.write_text('{"Resources": {}}')
    (out / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "S": {
                        "type": "aws:cloudformation:stack",
                        "properties": {"templateFile": "../outside.template.json"},
                    },
                }
            }
        )
    )
    with pytest.raises(InputError, match="outside"):
        load([str(out)])


# -- predicted change sets from template pairs ---------------------------------------

PAIRS = ROOT / "pairs"


def test_template_pair_prediction():
    plan = _load(
        before=[str(PAIRS / "orders-before.yaml")], after=[str(PAIRS / "orders-after.yaml")]
    )
    assert plan.predicted and plan.kind is PlanKind.CFN_TEMPLATES
    assert any("predicted" in n for n in plan.notes)
    changes = _by_address(plan)
    actions = {a: c.action for a, c in changes.items()}
    assert actions == {
        "Database": Action.REPLACE,
        "EndpointParam": Action.UPDATE,  # GetAtt of a replaced resource: value changes
        "DbAlarm": Action.UPDATE,  # Dimensions (updatable) refers to the replaced Database
        "AccessLogsBucket": Action.CREATE,  # a changed logical id is remove + add
        "LogsBucket": Action.DELETE,
        "Cache": Action.REPLACE,  # type changed
        "ApiKeyParam": Action.UPDATE,
    }
    db = changes["Database"]
    assert db.reason == "Replacement: True; RequiresRecreation: Always (DBInstanceIdentifier)"
    assert db.replace_paths == (("Properties", "DBInstanceIdentifier"),)
    # Policies are carried, and lowered ones are visible on both sides for PG105.
    assert (db.deletion_policy, db.update_replace_policy) == ("Delete", "Snapshot")
    assert (db.before("DeletionPolicy"), db.after("DeletionPolicy")) == ("Retain", "Delete")
    assert "Type changed (AWS::SQS::Queue → AWS::SNS::Topic)" in changes["Cache"].reason
    assert changes["DbAlarm"].reason == "Replacement: False; caused by Database (ResourceReference)"
    assert str(changes["LogsBucket"].location).endswith("orders-before.yaml:38")
    assert {(o.name, o.action.value, o.sensitive) for o in plan.outputs} == {
        ("Password", "create", True),
    }


def test_prediction_agrees_with_recorded_change_set():
    """The pair behind a change set localstack recorded from AWS predicts the same."""
    predicted = _load(
        before=[str(PAIRS / "topics-before.yaml")], after=[str(PAIRS / "topics-after.yaml")]
    )
    recorded = _load(
        CORPUS
        / (
            "test_change_set_ref__TestChangeSetRef-test_immutable_property_update_causes_resource_"
            "replacement__describe-change-set-2-prop-values.json"
        )
    )
    shape = [(c.address, c.action, c.replace_paths) for c in recorded.changes]
    assert [(c.address, c.action, c.replace_paths) for c in predicted.changes] == shape


def test_replacement_propagates_down_references():
    plan = _load(before=[str(PAIRS / "vpc-before.yaml")], after=[str(PAIRS / "vpc-after.yaml")])
    changes = _by_address(plan)
    assert changes["Vpc"].action is Action.REPLACE and not changes["Vpc"].conditional
    assert changes["Subnet"].action is Action.REPLACE and not changes["Subnet"].conditional
    # GetAtt of a replaced VPC may or may not change: a possible replacement.
    assert changes["Sg"].action is Action.REPLACE and changes["Sg"].conditional
    assert changes["Note"].action is Action.UPDATE


def test_after_alone_is_a_new_stack_and_before_alone_a_deleted_one():
    new = _load(after=[str(PAIRS / "topics-after.yaml")])
    assert {c.action for c in new.changes} == {Action.CREATE}
    gone = _load(before=[str(PAIRS / "topics-before.yaml")])
    assert {c.action for c in gone.changes} == {Action.DELETE}


def test_git_ref_form_with_template_text():
    before = load_template_text("main:orders.yaml", (PAIRS / "orders-before.yaml").read_bytes())
    after = load_template_text("orders.yaml", (PAIRS / "orders-after.yaml").read_bytes())
    plan = predict_templates([(before, after)])
    assert plan.predicted
    assert plan.source == "main:orders.yaml → orders.yaml"
    assert _by_address(plan)["Database"].action is Action.REPLACE


def test_before_after_counts_must_match():
    with pytest.raises(InputError, match="pair by position"):
        load(
            [],
            LoadOptions(
                before=[str(PAIRS / "topics-before.yaml")] * 2,
                after=[str(PAIRS / "topics-after.yaml")],
            ),
        )


# -- secrets ----------------------------------------------------------------------

SECRETS = (
    "correct-horse-battery",
    "old-secret-value-1",
    "new-secret-value-2",
    "{{resolve:",
    "ssm-secure",
)


def _all_reads(plan) -> str:
    out = []
    for c in plan.changes:
        if c.attributes is not None:
            out.append(json.dumps([c.attributes.side("before"), c.attributes.side("after")]))
    return "\n".join(out)


def test_noecho_values_never_read_back_from_change_set():
    plan = _load(CS / "noecho/changeset.json")
    db = plan.changes[0]
    assert db.before("Properties", "MasterUserPassword") == SENSITIVE
    assert db.after("Properties", "MasterUserPassword") == SENSITIVE
    assert db.after("Properties", "Tags", 0, "Value") == SENSITIVE
    assert db.after("Properties", "Engine") == "postgres"
    text = _all_reads(plan)
    assert not any(s in text for s in SECRETS)


def test_noecho_reference_masked_through_template():
    plan = _load(CS / "rds-replace/changeset.json", CS / "rds-replace/template.yaml")
    db = _by_address(plan)["Database"]
    assert db.before("Properties", "MasterUserPassword") == SENSITIVE
    assert "correct-horse-battery" not in _all_reads(plan)


def test_template_secrets_masked_in_predictions():
    plan = _load(
        before=[str(PAIRS / "orders-before.yaml")], after=[str(PAIRS / "orders-after.yaml")]
    )
    changes = _by_address(plan)
    assert changes["Database"].after("Properties", "MasterUserPassword") == SENSITIVE
    # A dynamic reference in the middle of a string is masked too.
    assert changes["ApiKeyParam"].after("Properties", "Value") == SENSITIVE
    assert "ssm-secure" not in _all_reads(plan)


# -- bad inputs -------------------------------------------------------------------

BAD = sorted(p.name for p in (ROOT / "bad").iterdir())


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_an_input_error(name):
    with pytest.raises(InputError) as info:
        load([str(ROOT / "bad" / name)])
    assert info.value.path.endswith(name)


def test_bad_inputs_cover_the_cases():
    assert len(BAD) >= 15


def test_template_that_does_not_fit_change_set():
    with pytest.raises(InputError, match="does not match change set"):
        load([str(CS / "rds-replace/changeset.json"), str(PAIRS / "topics-after.yaml")])


def test_unreadable_and_odd_files(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Description: caf\xe9\n")
    with pytest.raises(InputError, match="UTF-8"):
        load([str(bad)])
    with pytest.raises(InputError, match="no such file"):
        load([], LoadOptions(after=[str(tmp_path / "missing.yaml")]))
    with pytest.raises(InputError):
        load_template_text("x.yaml", b"Resources: [1, 2]\n")
    with pytest.raises(InputError):
        load_template_text("x.yaml", b"AWSTemplateFormatVersion: '2010-09-09'\n")
    deep = b"Resources:\n  B:\n    Type: T\n    Properties:\n      P: " + b"[" * 5000 + b"]" * 5000
    with pytest.raises(InputError):
        load_template_text("deep.yaml", deep)


def test_cloudformation_not_imported_for_terraform_only():
    """cfn-lint costs most of a second to import; Terraform runs must not pay it."""
    import subprocess
    import sys

    code = (
        "import sys; from planguard.load import load; "
        "print(any(m.startswith('cfnlint') for m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent.parent)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"
