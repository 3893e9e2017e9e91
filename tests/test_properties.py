"""Property tests: for any input, a loader returns Plans or raises planguard's InputError.

No other exception, no hang. Inputs are plan-shaped JSON documents with random,
missing and wrong-typed fields, CloudFormation change sets and templates built the
same way, and raw bytes. Each runs `planguard.load.load` on a real file.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from planguard.config import Config
from planguard.engine import review
from planguard.errors import InputError
from planguard.load import LoadOptions, load
from planguard.registry import builtin_checks

CHECKS = builtin_checks()
LOADED: list[int] = []  # how many generated inputs got through (see the last test)

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# Control characters and lone surrogates are left to the raw-bytes tests: in
# structured documents they would make most examples fail at the first string.
def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=max_size)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text(20),
    st.sampled_from(["", "1.2", "0.1", "99", "create", "delete", "aws_s3_bucket.a", "module.m"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(text(10), inner, max_size=4)
    ),
    max_leaves=20,
)

ADDRESSES = st.one_of(
    st.sampled_from(
        [
            "aws_s3_bucket.a",
            "aws_s3_bucket.b",
            'aws_s3_bucket.c["k"]',
            "aws_s3_bucket.d[0]",
            "module.m.aws_db_instance.x",
            'module.m["a"].aws_db_instance.x',
            "data.aws_iam_policy_document.p",
            "aws_s3_bucket.a.b.c",
            "",
            "module.m",
        ]
    ),
    text(30),
)
ACTIONS = st.one_of(
    st.sampled_from(
        [
            ["create"],
            ["delete"],
            ["update"],
            ["no-op"],
            ["read"],
            ["forget"],
            ["delete", "create"],
            ["create", "delete"],
            ["create", "forget"],
        ]
    ),
    st.lists(text(8), max_size=3),
)


# Per example: corrupt (wrong types, stray keys) or well-typed with fields missing.
CORRUPT = st.shared(st.integers(0, 2).map(lambda n: n == 0), key="corrupt")


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right kind of value, or in a corrupt example sometimes anything JSON."""
    return CORRUPT.flatmap(lambda bad: st.one_of(strategy, json_values) if bad else strategy)


@st.composite
def fields(
    draw: st.DrawFn, spec: dict[str, st.SearchStrategy[Any]], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """An object with each field of `spec` present (right or wrong) or absent; the
    `required` ones are absent only in corrupt examples."""
    out = {}
    corrupt = draw(CORRUPT)
    for key, strategy in spec.items():
        if (key in required and not corrupt) or draw(st.integers(0, 4)) > 0:
            out[key] = draw(maybe(strategy))
    if corrupt and draw(st.booleans()):
        out.update(draw(st.dictionaries(text(8), json_values, max_size=2)))
    return out


def _mask() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        st.dictionaries(st.sampled_from(["a", "b", "password"]), st.booleans(), max_size=3),
    )


change_body = fields(
    {
        "actions": ACTIONS,
        "before": json_values,
        "after": json_values,
        "after_unknown": _mask(),
        "before_sensitive": _mask(),
        "after_sensitive": _mask(),
        "replace_paths": st.lists(st.lists(st.one_of(text(5), st.integers(0, 3)))),
        "importing": st.one_of(st.none(), st.fixed_dictionaries({"id": text(5)})),
    },
    ("actions",),
)
resource_change = fields(
    {
        "address": ADDRESSES,
        "change": change_body,
        "type": text(10),
        "name": text(10),
        "mode": st.sampled_from(["managed", "data"]),
        "index": st.one_of(st.integers(0, 3), text(4)),
        "previous_address": ADDRESSES,
        "deposed": text(8),
        "provider_name": text(10),
        "action_reason": text(10),
    },
    ("address", "change"),
)
state_resource = fields(
    {
        "address": ADDRESSES,
        "mode": st.sampled_from(["managed", "data"]),
        "type": text(10),
        "depends_on": st.lists(ADDRESSES, max_size=3),
    },
    ("address",),
)
module = st.recursive(
    fields({"resources": st.lists(state_resource, max_size=4)}),
    lambda inner: fields(
        {
            "resources": st.lists(state_resource, max_size=3),
            "child_modules": st.lists(inner, max_size=2),
        }
    ),
    max_leaves=4,
)
expression = st.recursive(
    st.one_of(
        st.fixed_dictionaries({"references": st.lists(ADDRESSES, max_size=3)}),
        st.fixed_dictionaries({"constant_value": json_values}),
    ),
    lambda inner: st.dictionaries(text(5), inner, max_size=3),
    max_leaves=5,
)
cfg_resource = fields(
    {
        "address": ADDRESSES,
        "mode": st.sampled_from(["managed", "data"]),
        "expressions": expression,
        "count_expression": expression,
        "for_each_expression": expression,
        "depends_on": st.lists(ADDRESSES, max_size=2),
    },
    ("address",),
)
cfg_module = st.recursive(
    fields({"resources": st.lists(cfg_resource, max_size=3)}),
    lambda inner: fields(
        {
            "resources": st.lists(cfg_resource, max_size=3),
            "module_calls": st.dictionaries(
                st.sampled_from(["m", "n"]),
                fields(
                    {"module": inner, "expressions": expression, "depends_on": st.lists(ADDRESSES)}
                ),
                max_size=2,
            ),
            "outputs": st.dictionaries(
                st.sampled_from(["o", "p"]), fields({"expression": expression}), max_size=2
            ),
        }
    ),
    max_leaves=4,
)
terraform_plans = fields(
    {
        "format_version": st.sampled_from(["1.2", "1.2", "0.1", "1.0", "2.0", ""]),
        "terraform_version": text(6),
        "planned_values": fields({"root_module": module}),
        "resource_changes": st.lists(resource_change, max_size=5),
        "resource_drift": st.lists(resource_change, max_size=2),
        "output_changes": st.dictionaries(
            text(5),
            fields(
                {"actions": ACTIONS, "after_sensitive": _mask(), "before_sensitive": _mask()},
                ("actions",),
            ),
            max_size=2,
        ),
        "prior_state": fields({"values": fields({"root_module": module})}),
        "configuration": fields({"root_module": cfg_module}),
        "errored": st.booleans(),
        "applyable": st.booleans(),
        "complete": st.booleans(),
    },
    ("format_version", "resource_changes"),
)

LOGICAL = st.sampled_from(["Bucket", "Db", "Queue", "Role", "Bad-Id", ""])
CFN_TYPES = st.sampled_from(
    [
        "AWS::S3::Bucket",
        "AWS::RDS::DBInstance",
        "AWS::SQS::Queue",
        "AWS::IAM::Role",
        "AWS::CloudFormation::Stack",
        "Custom::Thing",
        "",
    ]
)
intrinsic = st.one_of(
    st.fixed_dictionaries({"Ref": st.one_of(LOGICAL, json_values)}),
    st.fixed_dictionaries({"Fn::GetAtt": st.one_of(st.lists(LOGICAL, max_size=3), text(8))}),
    st.fixed_dictionaries({"Fn::Sub": st.one_of(text(15), st.lists(json_values, max_size=2))}),
    st.fixed_dictionaries({"Fn::If": st.lists(json_values, max_size=3)}),
    st.fixed_dictionaries({"Fn::ImportValue": json_values}),
    st.just("{{resolve:secretsmanager:x}}"),
)
properties = st.dictionaries(
    st.sampled_from(["BucketName", "Engine", "MasterUserPassword", "Tags", "DBInstanceIdentifier"]),
    st.one_of(json_values, intrinsic),
    max_size=4,
)
cfn_resource = fields(
    {
        "Type": CFN_TYPES,
        "Properties": properties,
        "DependsOn": st.one_of(LOGICAL, st.lists(LOGICAL, max_size=2)),
        "DeletionPolicy": st.sampled_from(["Delete", "Retain", "Snapshot", "Bogus"]),
        "UpdateReplacePolicy": st.sampled_from(["Delete", "Retain", "Snapshot"]),
        "Condition": text(5),
    },
    ("Type",),
)
cfn_templates = fields(
    {
        "AWSTemplateFormatVersion": st.just("2010-09-09"),
        "Parameters": st.dictionaries(
            st.sampled_from(["P", "Q"]),
            fields({"Type": st.just("String"), "NoEcho": st.booleans(), "Default": json_values}),
            max_size=2,
        ),
        "Resources": st.dictionaries(LOGICAL, cfn_resource, min_size=1, max_size=4),
        "Outputs": st.dictionaries(
            st.sampled_from(["O"]),
            fields(
                {
                    "Value": st.one_of(intrinsic, json_values),
                    "Export": fields({"Name": json_values}),
                }
            ),
            max_size=1,
        ),
        "Conditions": st.dictionaries(text(4), json_values, max_size=2),
        "Transform": text(10),
    },
    ("Resources",),
)
detail = fields(
    {
        "Target": fields(
            {
                "Attribute": st.sampled_from(["Properties", "Metadata", "Tags"]),
                "Name": text(8),
                "RequiresRecreation": st.sampled_from(["Never", "Conditionally", "Always", "X"]),
            }
        ),
        "Evaluation": st.sampled_from(["Static", "Dynamic"]),
        "ChangeSource": st.sampled_from(
            ["DirectModification", "ParameterReference", "ResourceReference"]
        ),
        "CausingEntity": text(8),
    }
)
context = st.one_of(
    st.builds(lambda p: json.dumps({"Properties": p}), properties),
    text(10),
    properties,
)
cfn_change_sets = fields(
    {
        "ChangeSetName": text(6),
        "StackName": st.sampled_from(["app", "data", ""]),
        "ChangeSetId": text(6),
        "Parameters": st.lists(
            fields(
                {"ParameterKey": text(4), "ParameterValue": text(6)},
                ("ParameterKey",),
            ),
            max_size=2,
        ),
        "Changes": st.lists(
            fields(
                {
                    "Type": st.just("Resource"),
                    "ResourceChange": fields(
                        {
                            "Action": st.sampled_from(
                                ["Add", "Modify", "Remove", "Import", "Dynamic", "X"]
                            ),
                            "LogicalResourceId": LOGICAL,
                            "ResourceType": CFN_TYPES,
                            "PhysicalResourceId": text(6),
                            "Replacement": st.sampled_from(["True", "False", "Conditional", "X"]),
                            "Scope": st.lists(st.sampled_from(["Properties", "Tags"]), max_size=2),
                            "Details": st.lists(detail, max_size=2),
                            "PolicyAction": st.sampled_from(["Delete", "Retain", "Snapshot"]),
                            "BeforeContext": context,
                            "AfterContext": context,
                        },
                        ("Action", "LogicalResourceId"),
                    ),
                },
                ("ResourceChange",),
            ),
            max_size=4,
        ),
    },
    ("Changes", "ChangeSetName", "StackName"),
)


def _review(paths: list[str], options: LoadOptions | None = None) -> None:
    """Load, and review what loads: only InputError may escape, and no check may crash."""
    try:
        plans = load(paths, options)
        result = review(plans, CHECKS, Config())
    except InputError as exc:
        if paths:
            assert any(p in str(exc) for p in paths) or exc.path, str(exc)
        return
    crashed = [f.message for f in result.verdict.kept if "crashed" in f.message]
    assert not crashed
    LOADED.append(len(plans))


def _load_file(data: bytes, suffix: str = ".json") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        _review([str(path)])


@SETTINGS
@given(terraform_plans)
@example(  # an empty reference string once crashed reference resolution (exit 3)
    {
        "format_version": "1.2",
        "resource_changes": [],
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_s3_bucket.a", "for_each_expression": {"references": [""]}}
                ]
            }
        },
    }
)
def test_terraform_loader(doc: dict[str, Any]) -> None:
    _load_file(json.dumps(doc).encode())


@SETTINGS
@given(cfn_templates)
def test_cloudformation_template_loader_json(doc: dict[str, Any]) -> None:
    _load_file(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))


@settings(SETTINGS, max_examples=100)
@given(cfn_templates)
def test_cloudformation_template_loader_yaml(doc: dict[str, Any]) -> None:
    import yaml

    _load_file(yaml.safe_dump(doc, sort_keys=False).encode(), suffix=".yaml")


@SETTINGS
@given(cfn_change_sets)
def test_cloudformation_change_set_loader(doc: dict[str, Any]) -> None:
    _load_file(json.dumps(doc).encode())


@settings(SETTINGS, max_examples=100)
@given(cfn_change_sets, cfn_templates)
def test_change_set_with_template(change_set: dict[str, Any], template: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cs, tpl = Path(tmp) / "cs.json", Path(tmp) / "t.json"
        cs.write_text(json.dumps(change_set), encoding="utf-8")
        tpl.write_text(json.dumps(template), encoding="utf-8")
        _review([str(cs), str(tpl)])


@settings(SETTINGS, max_examples=100)
@given(cfn_templates, cfn_templates)
def test_template_pair(before: dict[str, Any], after: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        b, a = Path(tmp) / "before.json", Path(tmp) / "after.json"
        b.write_text(json.dumps(before), encoding="utf-8")
        a.write_text(json.dumps(after), encoding="utf-8")
        _review([], LoadOptions(before=[str(b)], after=[str(a)]))


@SETTINGS
@given(st.binary(max_size=2000))
def test_raw_bytes(data: bytes) -> None:
    _load_file(data)


PREFIXES = [
    b"",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"{",
    b'{"format_version": "1.2", ',
    b"Resources:\n",
    b"PK\x03\x04",
]


@SETTINGS
@given(st.sampled_from(PREFIXES), st.binary(max_size=500))
def test_bytes_after_a_plausible_start(prefix: bytes, rest: bytes) -> None:
    _load_file(prefix + rest)


@SETTINGS
@given(st.text(max_size=400))
def test_yaml_looking_text(text: str) -> None:
    _load_file(("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n" + text).encode(), ".yaml")


def test_generated_inputs_were_not_all_refused() -> None:
    """The strategies are worth something only if many examples load and get reviewed."""
    if LOADED:  # run alone, this test has nothing to count
        assert len(LOADED) >= 100, len(LOADED)
