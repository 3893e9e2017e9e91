"""Predicted replacement agrees with CloudFormation's rules, property by property.

Each row is what the AWS resource reference says under "Update requires"
(Replacement / Some interruptions / No interruption), which the resource
provider schemas encode as createOnlyProperties (Replacement: True),
conditionalCreateOnlyProperties (Conditional) or neither (no replacement).
Each row runs a real template pair through the loader.
"""

from __future__ import annotations

import pytest

from planguard.load.cfn_predict import create_only
from planguard.load.cloudformation import load_template_text, predict_templates
from planguard.model import Action

TRUE, COND, FALSE = "True", "Conditional", "False"

TABLE = [
    # type, property, before, after, expected replacement
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier", "orders-db", "orders-db-v2", TRUE),
    ("AWS::RDS::DBInstance", "DBName", "orders", "sales", TRUE),
    ("AWS::RDS::DBInstance", "StorageEncrypted", "false", "true", TRUE),
    ("AWS::RDS::DBInstance", "KmsKeyId", "alias/a", "alias/b", TRUE),
    ("AWS::RDS::DBInstance", "MasterUsername", "admin", "root", TRUE),
    ("AWS::RDS::DBInstance", "Engine", "postgres", "mysql", COND),
    ("AWS::RDS::DBInstance", "AvailabilityZone", "us-east-1a", "us-east-1b", COND),
    ("AWS::RDS::DBInstance", "AllocatedStorage", "'20'", "'50'", FALSE),
    ("AWS::RDS::DBInstance", "DBInstanceClass", "db.t3.small", "db.t3.large", FALSE),
    ("AWS::RDS::DBInstance", "DeletionProtection", "true", "false", FALSE),
    ("AWS::S3::Bucket", "BucketName", "logs-a", "logs-b", TRUE),
    (
        "AWS::S3::Bucket",
        "VersioningConfiguration",
        "{Status: Enabled}",
        "{Status: Suspended}",
        FALSE,
    ),
    ("AWS::SNS::Topic", "TopicName", "alerts", "alarms", TRUE),
    ("AWS::SNS::Topic", "FifoTopic", "false", "true", TRUE),
    ("AWS::SNS::Topic", "DisplayName", "Alerts", "Alarms", FALSE),
    ("AWS::EC2::VPC", "CidrBlock", "10.0.0.0/16", "10.1.0.0/16", TRUE),
    ("AWS::EC2::VPC", "InstanceTenancy", "default", "dedicated", COND),
    ("AWS::EC2::VPC", "EnableDnsSupport", "true", "false", FALSE),
    ("AWS::EC2::Subnet", "VpcId", "vpc-0a", "vpc-0b", TRUE),
    ("AWS::EC2::Subnet", "CidrBlock", "10.0.1.0/24", "10.0.2.0/24", TRUE),
    ("AWS::EC2::Subnet", "AvailabilityZone", "us-east-1a", "us-east-1b", TRUE),
    ("AWS::EC2::Subnet", "Ipv6CidrBlock", "2600:1f18::/64", "2600:1f19::/64", COND),
    ("AWS::EC2::Subnet", "MapPublicIpOnLaunch", "false", "true", FALSE),
    ("AWS::DynamoDB::Table", "TableName", "orders", "orders-v2", TRUE),
    (
        "AWS::DynamoDB::Table",
        "KeySchema",
        "[{AttributeName: id, KeyType: HASH}]",
        "[{AttributeName: pk, KeyType: HASH}]",
        COND,
    ),
    ("AWS::DynamoDB::Table", "BillingMode", "PROVISIONED", "PAY_PER_REQUEST", FALSE),
    ("AWS::SQS::Queue", "QueueName", "jobs", "tasks", TRUE),
    ("AWS::SQS::Queue", "FifoQueue", "false", "true", TRUE),
    ("AWS::SQS::Queue", "VisibilityTimeout", "30", "60", FALSE),
    ("AWS::Lambda::Function", "FunctionName", "handler", "handler-v2", TRUE),
    ("AWS::Lambda::Function", "MemorySize", "128", "256", FALSE),
    ("AWS::Lambda::Function", "Runtime", "python3.11", "python3.12", FALSE),
    ("AWS::IAM::Role", "RoleName", "app", "app-v2", TRUE),
    ("AWS::IAM::Role", "Path", "/", "/service/", TRUE),
    ("AWS::IAM::Role", "MaxSessionDuration", "3600", "7200", FALSE),
    ("AWS::EC2::SecurityGroup", "GroupName", "web", "www", TRUE),
    ("AWS::EC2::SecurityGroup", "GroupDescription", "web", "www", TRUE),
    (
        "AWS::EC2::SecurityGroup",
        "SecurityGroupIngress",
        "[{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/8}]",
        "[{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}]",
        FALSE,
    ),
    ("AWS::Logs::LogGroup", "LogGroupName", "/app/a", "/app/b", TRUE),
    ("AWS::Logs::LogGroup", "RetentionInDays", "30", "90", FALSE),
    ("AWS::KMS::Alias", "AliasName", "alias/a", "alias/b", TRUE),
    ("AWS::KMS::Alias", "TargetKeyId", "key-a", "key-b", FALSE),
    ("AWS::ECR::Repository", "RepositoryName", "app", "app-v2", TRUE),
    ("AWS::ECR::Repository", "ImageTagMutability", "MUTABLE", "IMMUTABLE", FALSE),
    ("AWS::EC2::Instance", "ImageId", "ami-0a", "ami-0b", TRUE),
    ("AWS::EC2::Instance", "SubnetId", "subnet-0a", "subnet-0b", TRUE),
    ("AWS::EC2::Instance", "InstanceType", "t3.small", "t3.large", COND),
    ("AWS::Kinesis::Stream", "Name", "events", "events-v2", TRUE),
    ("AWS::Kinesis::Stream", "ShardCount", "1", "2", FALSE),
    ("AWS::SecretsManager::Secret", "Name", "app/db", "app/database", TRUE),
    ("AWS::SecretsManager::Secret", "Description", "db", "database", FALSE),
    ("AWS::EFS::FileSystem", "Encrypted", "false", "true", TRUE),
    ("AWS::EFS::FileSystem", "PerformanceMode", "generalPurpose", "maxIO", TRUE),
    ("AWS::CloudWatch::Alarm", "AlarmName", "cpu", "cpu-high", TRUE),
    ("AWS::CloudWatch::Alarm", "Threshold", "80", "90", FALSE),
    ("AWS::Events::Rule", "Name", "nightly", "hourly", TRUE),
    ("AWS::Events::Rule", "ScheduleExpression", "rate(1 day)", "rate(1 hour)", FALSE),
]


def test_table_is_large_and_mixed():
    assert len(TABLE) >= 30
    kinds = {row[-1] for row in TABLE}
    assert kinds == {TRUE, COND, FALSE}
    assert sum(row[-1] == FALSE for row in TABLE) >= 10


def _template(rtype: str, prop: str, value: str) -> bytes:
    return (
        f"Resources:\n  Subject:\n    Type: {rtype}\n    Properties:\n      {prop}: {value}\n"
    ).encode()


@pytest.mark.parametrize(("rtype", "prop", "old", "new", "expected"), TABLE)
def test_bundled_schema_says_the_same(rtype, prop, old, new, expected):
    rules = create_only(rtype)
    assert rules is not None, rtype
    always, conditional = ({s[0] for s in group} for group in rules)
    got = TRUE if prop in always else COND if prop in conditional else FALSE
    assert got == expected


@pytest.mark.parametrize(("rtype", "prop", "old", "new", "expected"), TABLE)
def test_predicted_replacement(rtype, prop, old, new, expected):
    before = load_template_text("before.yaml", _template(rtype, prop, old))
    after = load_template_text("after.yaml", _template(rtype, prop, new))
    (change,) = predict_templates([(before, after)]).changes
    if expected == FALSE:
        assert change.action is Action.UPDATE
        assert change.replace_paths == ()
        return
    assert change.action is Action.REPLACE
    assert change.conditional is (expected == COND)
    assert change.replace_paths == (("Properties", prop),)
    recreation = "Always" if expected == TRUE else "Conditionally"
    assert change.reason == (f"Replacement: {expected}; RequiresRecreation: {recreation} ({prop})")


def test_unchanged_pair_is_no_op():
    text = _template("AWS::RDS::DBInstance", "DBInstanceIdentifier", "orders-db")
    same = predict_templates(
        [
            (load_template_text("a.yaml", text), load_template_text("b.yaml", text)),
        ]
    )
    assert [c.action for c in same.changes] == [Action.NOOP]


def test_type_without_schema_is_a_possible_replacement():
    before = load_template_text("a.yaml", _template("AWS::Serverless::Function", "Handler", "a"))
    after = load_template_text("b.yaml", _template("AWS::Serverless::Function", "Handler", "b"))
    (change,) = predict_templates([(before, after)]).changes
    assert change.action is Action.REPLACE and change.conditional
    assert "no resource schema" in change.reason
