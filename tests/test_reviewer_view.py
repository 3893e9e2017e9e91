"""What a person sees, as they run it: the width of their terminal, report-only
mode, the lead fix, the same words in every format, help that says what to type."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from helpers import ROOT

PLANGUARD = [sys.executable, "-m", "planguard"]
INCIDENT = "fixtures/scenarios/incident-env-recreated.json"
IAM = "fixtures/scenarios/iam-widening.json"
SG = "fixtures/scenarios/sg-swap-cascade.json"


def run(*args: str, columns: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run(
        [*PLANGUARD, *args], capture_output=True, text=True, cwd=ROOT, env=env, check=False
    )


def widest(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines())


@pytest.mark.parametrize("columns", ["80", "100", "132"])
def test_terminal_report_fits_the_terminal(columns: str) -> None:
    out = run("review", INCIDENT, IAM, SG, "--verbose", columns=columns)
    assert out.returncode == 1, out.stderr
    assert widest(out.stdout) <= int(columns)
    # Nothing decisive is cut: every destroyed address and its downstream count is there.
    assert "module.env.aws_vpc.main" in out.stdout
    assert re.search(r"module\.env\.aws_vpc\.main\s+destroy\s+10\b", out.stdout)


def test_terminal_never_narrower_than_80_and_piped_output_is_fixed() -> None:
    narrow = run("review", INCIDENT, columns="20")
    assert widest(narrow.stdout) <= 80
    assert widest(narrow.stdout) > 40
    piped = run("review", INCIDENT)
    assert 80 < widest(piped.stdout) <= 150
    assert run("review", INCIDENT).stdout == piped.stdout


def test_findings_wrap_under_their_own_text_and_name_their_plan() -> None:
    out = run("review", INCIDENT, IAM, columns="80").stdout
    start = out.index("\nFindings\n") + len("\nFindings\n")
    findings = out[start : out.index("\n\n", start)]
    lines = findings.splitlines()
    # A wrapped finding continues under its text, not at the left margin.
    continued = [
        ln
        for ln in lines
        if ln.strip() and not re.match(r"\s+(CRITICAL|HIGH|MEDIUM|LOW|INFO)\b", ln)
    ]
    assert continued and all(ln.startswith(" " * 10) for ln in continued)
    assert "fixtures/scenarios/iam-widening.json" in findings
    assert "fixtures/scenarios/incident-env-recreated.json" in findings


def test_the_comment_and_the_terminal_lead_with_the_fix() -> None:
    md = run("review", INCIDENT, "--format", "markdown").stdout
    fix = md.index("**Likely cause and fix:**")
    assert fix < md.index("To proceed")
    assert fix < md.index("**Destroyed or replaced**")
    assert "keeps 13 of the 13 resources the plan would destroy or replace" in md
    assert "moved {\n  from = module.env\n  to   = module.environment\n}" in md
    assert "To proceed: add the block above and plan again" in md
    # The block is shown once, at the top, not again under the finding.
    assert md.count("from = module.env\n") == 1

    text = run("review", INCIDENT).stdout
    assert text.index("Likely cause and fix:") < text.index("Destroyed or replaced in")
    assert "from = module.env" in text


def test_a_plan_with_nothing_to_fix_does_not_lead_with_a_fix() -> None:
    md = run("review", SG, "--format", "markdown").stdout
    assert "Likely cause and fix" not in md


def test_destroyed_table_puts_the_decisive_columns_first() -> None:
    md = run("review", INCIDENT, "--format", "markdown").stdout
    assert "| resource | action | downstream | data | protection | why |" in md
    # One plan: the count table needs no plan column.
    assert re.search(r"^\| create \| update \| replace \| destroy \|", md, re.M)


def test_soft_fail_reports_as_usual_and_exits_0(tmp_path) -> None:
    blocked = run("review", INCIDENT, "--json", str(tmp_path / "a.json"))
    assert blocked.returncode == 1
    for flags in (["--soft-fail"], ["--fail-on", "none"], ["--fail-on", "NONE"]):
        out = run("review", INCIDENT, *flags, "--json", str(tmp_path / "b.json"))
        assert out.returncode == 0, out.stderr
        assert "BLOCKED" in out.stdout  # the verdict is what it is
        assert "report only (--soft-fail)" in out.stdout
        doc = json.loads((tmp_path / "b.json").read_text())
        assert doc["verdict"]["blocked"] is True
    bad = run("review", INCIDENT, "--fail-on", "nothing")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_summary_as_markdown() -> None:
    out = run("summary", SG, "--format", "markdown")
    assert out.returncode == 0, out.stderr
    assert "| create | update | replace | destroy |" in out.stdout
    assert "| <code>aws\\_security\\_group.app</code> | replace (destroy first) | 5 |" in out.stdout


# The words for actions, as people read them in each format.
WORDS = {"create", "update", "replace", "destroy", "forget", "move", "import", "read", "unchanged"}
WORDS |= {"drift"}  # resource_drift entries, counted beside the plan's own changes
NOT_WORDS = {"delete", "noop", "no-op", "moved", "imported"}


def test_one_vocabulary_in_every_format_a_person_reads() -> None:
    terminal = run("review", INCIDENT, "--verbose").stdout
    md = run("review", INCIDENT, "--format", "markdown").stdout
    summary = run("summary", INCIDENT).stdout
    summary_md = run("summary", INCIDENT, "--format", "markdown").stdout
    headers = [
        re.search(r"^plan\s+(.+)$", terminal, re.M),
        re.search(r"^\| (create .+) \|$", md, re.M),
        re.search(r"┃ (create .+) ┃", summary),
        re.search(r"^\| plan \| (.+) \|$", summary_md, re.M),
    ]
    for found in headers:
        assert found, "no count table"
        words = set(re.split(r"[\s|┃]+", found.group(1))) - {""}
        assert words <= WORDS, words
        assert not words & NOT_WORDS
    assert "1 findings" not in terminal and "1 findings" not in md


def test_help_says_what_each_option_takes() -> None:
    for command in ("review", "summary", "graph", "checks", "explain", "ack"):
        out = run(command, "--help", columns="120")
        assert out.returncode == 0
        assert "<str>" not in out.stdout, command
    for command in ("checks", "explain", "ack"):
        text = run(command, "--help", columns="120").stdout
        assert "Directory of extra checks" in text, command


def piped(*args: str, data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*PLANGUARD, *args], input=data, capture_output=True, cwd=ROOT, check=False
    )


def test_standard_input_for_every_command(tmp_path) -> None:
    plan = (ROOT / INCIDENT).read_bytes()
    review = piped("review", "-", data=plan)
    assert review.returncode == 1 and b"BLOCKED" in review.stdout
    assert piped("review", "-", "--format", "json", data=plan).returncode == 1
    summary = piped("summary", "-", "--format", "json", data=plan)
    assert summary.returncode == 0 and json.loads(summary.stdout)["counts"]["delete"] == 13
    graph = piped("graph", "-", "--format", "dot", data=plan)
    assert graph.returncode == 0 and b"module.env.aws_vpc.main" in graph.stdout
    out = tmp_path / "ack.json"
    ack = piped("ack", "-", "--by", "bob", "--reason", "planned", "-o", str(out), data=plan)
    assert ack.returncode == 0, ack.stderr
    assert json.loads(out.read_text())["plans"]["-"]["accepted"]


@pytest.mark.parametrize(
    ("args", "data", "message"),
    [
        (["review", "-"], b"", b"-: empty file"),
        (["review", "-", "-"], b"{}", b"-: standard input given more than once"),
        (["review", "-", "--max-size", "1"], b" " * (1024 * 1024 + 1), b"over the 1 MiB limit"),
        (["summary", "-"], b"PK\x03\x04binary", b"binary plan on standard input"),
    ],
)
def test_standard_input_fails_closed(args: list[str], data: bytes, message: bytes) -> None:
    out = piped(*args, data=data)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_sources_and_plan_text_given_as_a_plan_say_what_to_do(tmp_path) -> None:
    text = tmp_path / "plan.txt"
    text.write_text(
        "Terraform used the selected providers to generate the following execution\n"
        "plan. Resource actions are indicated with the following symbols:\n"
        "  - destroy\n\nPlan: 0 to add, 0 to change, 1 to destroy.\n"
    )
    out = run("review", str(text))
    assert out.returncode == 2
    assert "terraform show -json tfplan" in out.stderr and "SEKRET" not in out.stderr
    source = tmp_path / "main.tf"
    source.write_text((ROOT / "fixtures/hcl/remove/head/main.tf").read_text())
    out = run("review", str(source))
    assert out.returncode == 2 and "--hcl DIR" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
