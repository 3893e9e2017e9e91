"""Acknowledgements bind what a finding is about, not only its name.

An acknowledgement of a plan must not cover a later plan that widens the same
finding on the same address: more ports open, a wider IAM statement, more
protections lowered, one more resource destroyed (that one with PG103's own
tests, tests/checks/test_pg103_mass_destruction.py). The plans are fixture
files (fixtures/acks/, built by its build.py) read by the real loader and
reviewed by the real pipeline.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard import ack, load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.errors import ConfigError
from planguard.findings import Finding

ACKS = FIXTURES / "acks"
CHECKS = FIXTURES / "checks"


def findings(path: Path) -> list[Finding]:
    result = review(load.load([str(path)]), registry.all_checks(), Config())
    return [f for r in result.plans for f in r.findings]


def keyed(path: Path, key: str = "infra/plan.json") -> list[tuple[str, Finding]]:
    return [(key, f) for f in findings(path)]


def acknowledge(path: Path, key: str = "infra/plan.json") -> ack.Acks:
    return ack.loads(ack.render(keyed(path, key), "alice", "accepted on purpose"), "ack.json")


def covered(acks: ack.Acks, path: Path, key: str = "infra/plan.json") -> list[bool]:
    return [acks.covers(f, k) for k, f in keyed(path, key)]


# -- widening needs a new acknowledgement ------------------------------------


@pytest.mark.parametrize(
    ("acked", "widened"),
    [
        ("pg301-web-8080", "pg301-web-wider"),  # 8080, then 22, 3389 and 0-65535 too
        ("pg201-deploy-s3", "pg201-deploy-admin"),  # s3:* on a bucket, then * on *
        ("pg201-deploy-s3", "pg201-deploy-s3-passrole"),  # the same statement, wider
        ("pg105-db-protection-off", "pg105-db-all-off"),  # then backups 0, no final snapshot
    ],
)
def test_a_widened_finding_is_not_covered(acked: str, widened: str) -> None:
    acks = acknowledge(ACKS / f"{acked}.json")
    assert covered(acks, ACKS / f"{acked}.json") == [True]
    [(key, wider)] = keyed(ACKS / f"{widened}.json")
    [(_, narrower)] = keyed(ACKS / f"{acked}.json")
    # The same check on the same address: only the evidence differs.
    assert (wider.check_id, wider.address) == (narrower.check_id, narrower.address)
    assert not acks.covers(wider, key)
    # The entry now matches nothing, and a review can say so.
    [(plan, entry)] = acks.unused([(key, wider)])
    assert (plan, entry.check, entry.address) == (key, narrower.check_id, narrower.address)
    assert acks.unused([(key, narrower)]) == []


@pytest.mark.parametrize(
    ("acked", "widened"),
    [
        ("pg301-web-8080", "pg301-web-wider"),
        ("pg201-deploy-s3", "pg201-deploy-admin"),
        ("pg105-db-protection-off", "pg105-db-all-off"),
    ],
)
def test_the_gate_holds_when_the_plan_is_widened(tmp_path: Path, acked: str, widened: str) -> None:
    """Through review and policy: the acknowledged plan passes, the same file
    rewritten with the wider plan is blocked again."""
    plan = tmp_path / "plan.json"
    shutil.copy(ACKS / f"{acked}.json", plan)
    first = review(load.load([str(plan)]), registry.all_checks(), Config())
    assert first.verdict.blocked
    body = ack.render([(f.plan, f) for f in first.verdict.kept], "bob", "agreed in review")
    acks = ack.loads(body, "ack.json")
    again = review(load.load([str(plan)]), registry.all_checks(), Config(), acks=acks)
    assert not again.verdict.blocked
    assert [s.reason for s in again.verdict.suppressed] == ["acknowledged in ack.json"]

    shutil.copy(ACKS / f"{widened}.json", plan)
    wider = review(load.load([str(plan)]), registry.all_checks(), Config(), acks=acks)
    assert wider.verdict.blocked
    assert not wider.verdict.suppressed


def test_the_acknowledged_plan_is_covered_however_it_is_marked() -> None:
    """The fingerprint is of the values decided on, not of their marks: an
    acknowledgement of a plan still covers it when values become sensitive."""
    for check in ("PG105", "PG201", "PG301"):
        acks = acknowledge(CHECKS / check / "bad.json")
        marked = [(k, f) for k, f in keyed(CHECKS / check / "bad-sensitive.json")]
        assert [f for _, f in marked if f.check_id == check]
        assert all(acks.covers(f, k) for k, f in marked if f.check_id == check)


def test_a_finding_is_covered_only_in_its_own_plan() -> None:
    acks = acknowledge(ACKS / "pg301-web-8080.json", key="infra/plan.json")
    assert covered(acks, ACKS / "pg301-web-8080.json", key="./infra/plan.json") == [True]
    assert covered(acks, ACKS / "pg301-web-8080.json", key="other/plan.json") == [False]


def test_integrity_failures_are_never_covered() -> None:
    [(key, integrity)] = [(k, f) for k, f in keyed(CHECKS / "PG001" / "bad.json")]
    assert integrity.unconditional
    # Not even by an entry written by hand with its very fingerprint.
    entry = ack.AckEntry(integrity.check_id, integrity.address, integrity.fingerprint, ())
    acks = ack.Acks("hand.json", {key: frozenset({entry})})
    assert not acks.covers(integrity, key)
    body = ack.render([(key, integrity)], "alice", "reason")
    assert json.loads(body)["plans"] == {}


# -- the file ------------------------------------------------------------------


def test_the_file_is_readable_and_binds_fingerprints() -> None:
    found = keyed(CHECKS / "PG105" / "bad.json") + keyed(CHECKS / "PG101" / "bad.json", "b.json")
    body = ack.render(found, " alice ", "retiring billing\n")
    doc = json.loads(body)
    assert doc["planguard_ack"] == 2
    assert (doc["by"], doc["reason"]) == ("alice", "retiring billing")
    assert sorted(doc["plans"]) == ["b.json", "infra/plan.json"]
    entries = doc["plans"]["infra/plan.json"]["accepted"]
    assert [(e["check"], e["address"]) for e in entries] == [
        ("PG105", "aws_db_instance.billing"),
        ("PG105", "aws_s3_bucket_versioning.assets"),
    ]
    assert entries[0]["changes"] == [["aws_db_instance.billing", "update"]]
    by_address = {f.address: f for _, f in found if f.check_id == "PG105"}
    assert entries[0]["fingerprint"] == by_address["aws_db_instance.billing"].fingerprint
    # One line per finding: a reviewer of the diff sees each check and address.
    lines = body.decode().splitlines()
    assert sum('"check":"PG105"' in line for line in lines) == 2
    # The evidence is bound, never written.
    for _, f in found:
        assert f.evidence
        for evidence in f.evidence:
            assert evidence not in body.decode()


def test_render_is_deterministic_and_order_free() -> None:
    found = keyed(CHECKS / "PG201" / "bad.json") + keyed(CHECKS / "PG301" / "bad.json")
    first = ack.render(found, "alice", "why")
    assert ack.render(list(reversed(found)), "alice", "why") == first
    assert ack.render(found + found, "alice", "why") == first


@pytest.mark.parametrize(("by", "reason"), [("", "why"), ("alice", ""), ("  ", "why")])
def test_render_refuses_an_anonymous_or_unexplained_acknowledgement(by: str, reason: str) -> None:
    with pytest.raises(ValueError, match=r"by.*reason"):
        ack.render(keyed(ACKS / "pg301-web-8080.json"), by, reason)


def test_version_1_is_refused_with_the_way_out() -> None:
    old = {
        "planguard_ack": 1,
        "by": "alice",
        "reason": "r",
        "plans": {
            "plan.json": {"accepted": [{"address": "aws_db_instance.a", "action": "delete"}]}
        },
    }
    with pytest.raises(ConfigError) as caught:
        ack.loads(json.dumps(old).encode(), "old.json")
    message = str(caught.value)
    assert "old.json" in message and "planguard ack" in message and "version 1" in message
    assert "\n" not in message


GOOD_ENTRY = {
    "check": "PG301",
    "address": "aws_security_group.web",
    "fingerprint": "0" * 32,
    "changes": [["aws_security_group.web", "update"]],
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"planguard_ack": 3}, "unsupported acknowledgement version 3"),
        ({"by": ""}, "needs `by` and `reason`"),
        ({"reason": " "}, "needs `by` and `reason`"),
        ({"by": None}, "not a planguard acknowledgement file"),
        ({"extra": 1}, "not a planguard acknowledgement file"),
        ({"plans": {"p": {"accepted": [{**GOOD_ENTRY, "check": "X1"}]}}}, "not a check id"),
        (
            {"plans": {"p": {"accepted": [{**GOOD_ENTRY, "fingerprint": "abc"}]}}},
            "not a fingerprint",
        ),
        ({"plans": {"p": {"accepted": [{**GOOD_ENTRY, "action": "x"}]}}}, "not a planguard"),
    ],
)
def test_bad_files_are_refused(change: dict, problem: str) -> None:
    doc = {"planguard_ack": 2, "by": "a", "reason": "r", "plans": {"p": {"accepted": [GOOD_ENTRY]}}}
    assert ack.loads(json.dumps(doc).encode(), "f.json").entries == 1
    doc.update(change)
    with pytest.raises(ConfigError, match=problem):
        ack.loads(json.dumps(doc).encode(), "f.json")


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'"x"', b"\xff\xfe"])
def test_not_json_is_refused(data: bytes) -> None:
    with pytest.raises(ConfigError, match="not a planguard acknowledgement file"):
        ack.loads(data, "f.json")


def test_files_merge_plan_by_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_bytes(ack.render(keyed(ACKS / "pg301-web-8080.json"), "alice", "ports"))
    b.write_bytes(ack.render(keyed(ACKS / "pg105-db-protection-off.json"), "carol", "db"))
    merged = ack.merge([ack.load(str(a)), ack.load(str(b))])
    assert merged.path == f"{a}, {b}"
    assert merged.entries == 2
    assert [s.by for s in merged.signatures] == ["alice", "carol"]
    assert covered(merged, ACKS / "pg301-web-8080.json") == [True]
    assert covered(merged, ACKS / "pg105-db-protection-off.json") == [True]


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read: no such file"):
        ack.load(str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="not a regular file"):
        ack.load("/dev/zero")


def test_evidence_is_filled_by_every_builtin_check() -> None:
    """Every built-in finding carries what it decided on, so no
    acknowledgement of one binds a name only."""
    seen = set()
    for path in sorted(CHECKS.glob("PG*/bad.json")):
        for f in findings(path):
            assert f.evidence, (f.check_id, f.address)
            seen.add(f.check_id)
    assert {"PG101", "PG102", "PG103", "PG104", "PG105", "PG106", "PG201", "PG301"} <= seen
    assert "PG401" in seen and "PG001" in seen
