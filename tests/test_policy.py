"""Policy and gate: acknowledgements bound to the plan, ignores, actors, score."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import FIXTURES, ROOT
from planguard import config as config_mod
from planguard.config import Config
from planguard.engine import review
from planguard.errors import ConfigError
from planguard.findings import Finding, Severity
from planguard.load import load
from planguard.policy import score
from planguard.registry import all_checks

DELETE = FIXTURES / "terraform/corpus/show-json/basic-delete/output.json"
# basic-delete destroys a test_instance; declaring the type data-bearing makes it PG101.
DATA_CONFIG = "data_bearing_types:\n  test_instance: database\n"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planguard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(DELETE, tmp_path / "plan.json")
    (tmp_path / ".planguard.yml").write_text(DATA_CONFIG)
    return tmp_path


def test_ack_passes_the_plan_and_one_more_destroy_blocks_again(workdir: Path) -> None:
    assert cli("review", "plan.json", cwd=workdir).returncode == 1
    ack = cli("ack", "plan.json", "--reason", "decommissioning", "--by", "alice", cwd=workdir)
    assert ack.returncode == 0, ack.stderr
    doc = json.loads((workdir / ".planguard-ack.json").read_text())
    [entry] = doc["plans"]["plan.json"]["accepted"]
    assert entry["check"] == "PG101" and entry["address"] == "test_instance.test-delete"
    assert entry["changes"] == [["test_instance.test-delete", "delete"]]
    assert len(entry["fingerprint"]) == 32
    passed = cli("review", "plan.json", "--format", "json", cwd=workdir)
    assert passed.returncode == 0, passed.stdout
    report = json.loads(passed.stdout)
    [pg101] = [f for f in report["findings"] if f["id"] == "PG101"]
    assert pg101["suppressed"] is True
    assert pg101["reason"] == "acknowledged in .planguard-ack.json"

    plan = json.loads((workdir / "plan.json").read_text())
    extra = json.loads(json.dumps(plan["resource_changes"][-1]))
    extra["address"] = extra["name"] = "test-delete-too"
    extra["address"] = "test_instance.test-delete-too"
    assert extra["change"]["actions"] == ["delete"]
    plan["resource_changes"].append(extra)
    (workdir / "plan.json").write_text(json.dumps(plan))
    blocked = cli("review", "plan.json", "--format", "json", cwd=workdir)
    assert blocked.returncode == 1
    kept = [f for f in json.loads(blocked.stdout)["findings"] if not f["suppressed"]]
    assert [f["address"] for f in kept if f["id"] == "PG101"] == ["test_instance.test-delete-too"]


def _review(cfg_text: str, today: dt.date | None = None, actor: str | None = None):
    cfg = config_mod.parse("cfg", _yaml(cfg_text))
    plans = load([str(DELETE)])
    return review(plans, all_checks(cfg.checks_dirs), cfg, actor=actor, today=today)


def _yaml(text: str):
    import yaml

    return yaml.safe_load(text)


def test_ignore_with_reason_suppresses_until_it_expires() -> None:
    rule = (
        DATA_CONFIG + "ignore:\n  - check: PG101\n    address: test_instance.*\n"
        "    reason: retired host\n    expires: 2030-01-31\n"
    )
    before = _review(rule, today=dt.date(2030, 1, 31)).verdict
    assert not before.blocked
    assert [s.reason for s in before.suppressed if s.finding.check_id == "PG101"] == [
        "ignored in config: retired host (until 2030-01-31)"
    ]
    after = _review(rule, today=dt.date(2030, 2, 1)).verdict
    assert after.blocked
    assert "ignore of PG101 for test_instance.* expired on 2030-01-31" in after.notes


def test_severity_remap_and_disable() -> None:
    remapped = _review(DATA_CONFIG + "severity:\n  PG101: medium\n").verdict
    assert not remapped.blocked
    assert remapped.level is Severity.MEDIUM
    disabled = _review(DATA_CONFIG + "disable: [PG101]\n").verdict
    assert all(f.check_id != "PG101" for f in disabled.kept)


def test_automation_gets_a_stricter_threshold() -> None:
    cfg = DATA_CONFIG + "severity:\n  PG101: medium\nautomation:\n  fail_on: medium\n"
    human = _review(cfg, actor="alice").verdict
    bot = _review(cfg, actor="deploy-agent[bot]").verdict
    assert not human.blocked
    assert bot.blocked and bot.automated and bot.fail_on is Severity.MEDIUM


def test_max_score_blocks() -> None:
    v = _review(DATA_CONFIG + "severity:\n  PG101: low\nmax_score: 5\n").verdict
    assert v.blocked
    assert any("over max_score 5" in n for n in v.notes)


def test_crashing_check_blocks_and_cannot_be_ignored(tmp_path: Path) -> None:
    (tmp_path / "pg901_broken.py").write_text(
        "from planguard.findings import CheckMeta, Severity\n"
        "META = CheckMeta(id='PG901', slug='broken', title='Broken', severity=Severity.LOW,\n"
        "                 rationale='r', remediation='r')\n"
        "def check(ctx):\n"
        "    raise RuntimeError('boom')\n"
    )
    # No setting may touch PG001: a policy that tries is refused outright.
    for attempt in (
        "ignore:\n  - check: PG001\n    reason: try to hide it\n",
        "severity:\n  PG001: info\n",
        "disable: [PG001]\n",
    ):
        with pytest.raises(ConfigError, match=r"PG001 \(plan integrity\) cannot be disabled"):
            _review(f"checks_dir: {tmp_path}\n{attempt}")
    # Nor may a Config built in code: the crash is kept and blocks.
    v = review(
        load([str(FIXTURES / "checks/PG101/good.json")]),
        all_checks([str(tmp_path)]),
        Config(disable=frozenset({"PG001"}), severity={"PG001": Severity.INFO}),
    ).verdict
    assert v.blocked
    [crash] = [f for f in v.kept if f.check_id == "PG001"]
    assert crash.severity is Severity.CRITICAL
    assert "PG901 crashed (RuntimeError" in crash.message


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("fail_on: high\nfial_on: low\n", 2, "fial_on: unknown key"),
        ("fail_on: severe\n", 1, "unknown severity 'severe'"),
        ("ignore:\n  - check: PG101\n", 2, "an ignore needs a reason"),
        ("ignore:\n  - check: PG101\n    reason: x\n    expires: someday\n", 4, "must be a date"),
        ("severity:\n  PG1: high\n", 2, "not a check id"),
        ("max_score: 101\n", 1, "from 0 to 100"),
        (
            "a: &a [1,2,3]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
            None,
            "alias",
        ),
        ("fail_on: [unclosed\n", 2, "invalid YAML"),
    ],
)
def test_config_errors_name_the_line(
    tmp_path: Path, text: str, line: int | None, problem: str
) -> None:
    path = tmp_path / ".planguard.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        config_mod.load(path)
    assert problem in str(err.value)
    if line is not None:
        assert err.value.line == line, str(err.value)


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.planguard]\nfail_on = "critical"\n')
    (tmp_path / ".git").mkdir()
    found = config_mod.find(tmp_path)
    assert found == tmp_path / "pyproject.toml"
    assert config_mod.load(found).fail_on is Severity.CRITICAL


def _finding(sev: Severity) -> Finding:
    return Finding(check_id="PG999", severity=sev, title="t", message="m", plan="p")


severities = st.lists(st.sampled_from(list(Severity)), max_size=30)


@given(severities, st.sampled_from(list(Severity)))
def test_score_is_monotone(found: list[Severity], extra: Severity) -> None:
    base = score([_finding(s) for s in found])
    assert 0 <= base <= 100
    assert score([_finding(s) for s in [*found, extra]]) >= base
    for i, s in enumerate(found):
        worse = max(list(Severity), key=lambda x: x.rank)
        raised = [*found[:i], worse, *found[i + 1 :]]
        assert score([_finding(x) for x in raised]) >= base
        del s


def test_score_examples() -> None:
    assert score([]) == 0
    assert score([_finding(Severity.CRITICAL)]) == 90
    assert score([_finding(Severity.HIGH)]) == 70
    assert score([_finding(Severity.CRITICAL)] * 5) == 98
    assert ROOT.exists()


@pytest.mark.parametrize(
    "expires",
    ["2030-01-01 00:00:00", "2030-01-01T10:00:00Z", "2030-01-01"],
)
def test_an_expiry_with_a_time_is_its_day(expires: str) -> None:
    """A YAML timestamp expiry was a TypeError (exit 3) when compared with today."""
    cfg = config_mod.loads(
        ".planguard.yml",
        f"ignore:\n  - check: PG101\n    reason: r\n    expires: {expires}\n".encode(),
    )
    assert cfg.ignores[0].expires == dt.date(2030, 1, 1)
    assert not _review(
        f"{DATA_CONFIG}ignore:\n  - check: PG101\n    reason: r\n    expires: {expires}\n",
        today=dt.date(2029, 12, 31),
    ).verdict.blocked


def test_a_toml_datetime_expiry_is_its_day(tmp_path: Path) -> None:
    p = tmp_path / "pyproject.toml"
    p.write_text(
        "[tool.planguard]\n"
        "[[tool.planguard.ignore]]\ncheck = 'PG101'\nreason = 'r'\nexpires = 2030-01-01T00:00:00\n"
    )
    assert config_mod.load(p).ignores[0].expires == dt.date(2030, 1, 1)


@pytest.mark.parametrize(
    ("option", "kind"),
    [("max_destroyed: lots", "a number"), ("max_percent: [1]", "a number")],
)
def test_a_check_option_of_the_wrong_kind_is_a_config_error(
    tmp_path: Path, option: str, kind: str
) -> None:
    """It was 'check PG103 crashed' (a blocking PG001) instead of the file and line."""
    (tmp_path / "plan.json").write_bytes(DELETE.read_bytes())
    (tmp_path / ".planguard.yml").write_text(f"fail_on: high\nchecks:\n  PG103:\n    {option}\n")
    out = cli("review", "plan.json", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    name = option.split(":")[0]
    assert f".planguard.yml:4: checks.PG103.{name}: must be {kind}" in out.stderr
