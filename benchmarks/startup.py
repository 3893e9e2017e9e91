#!/usr/bin/env python3
"""Start-up budgets: what a command costs when the plan is small or absent.

    python benchmarks/startup.py [--planguard CMD] [--repeat N]

- `planguard --version`;
- `planguard review` of a 10-resource plan (gen_plan.py), Markdown and JSON
  reports written;
- `planguard guard --host claude` answering a command that is not an
  infrastructure change (fixtures/guard/claude/harmless.json on standard input):
  the agent hook's fast path, paid before every shell command;
- the pre-commit hook's command, `planguard review --hcl .`, in a git
  repository of 20 Terraform files whose working tree changes two of them
  against HEAD (what the `planguard-hcl` hook runs; pre-commit's own start-up
  is not counted).

Each runs once untimed first (warm: bytecode, the template cache, the file
cache), then `--repeat` times; the minimum is kept (see harness.STAT). run.py
calls `measure` for its own table.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import CHILD_ENV, Measure, editable_warning, run_child

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAYLOAD = ROOT / "fixtures" / "guard" / "claude" / "harmless.json"

# (name, limit in seconds)
VERSION = ("planguard --version", 0.100)
SMALL = ("review of a 10-resource plan", 0.200)
GUARD = ("guard fast path (not an infrastructure change)", 0.050)
HOOK = ("pre-commit hook, 20-file Terraform repository (warm)", 0.300)

TF_FILES = [
    "network", "security", "iam", "kms", "logging", "dns", "storage", "database", "cache",
    "queue", "compute", "loadbalancer", "monitoring", "secrets", "cdn",
]  # fmt: skip


def _tf_file(n: int, name: str) -> str:
    """One resource file: a bucket, a queue, a key, a role and a database that
    refer to each other and to the shared VPC."""
    return f"""\
resource "aws_kms_key" "{name}" {{
  description         = "{name} data"
  enable_key_rotation = true
}}

resource "aws_s3_bucket" "{name}" {{
  bucket = "acme-{name}-{n:02d}"
  tags   = local.tags
}}

resource "aws_sqs_queue" "{name}" {{
  name              = "{name}-events"
  kms_master_key_id = aws_kms_key.{name}.arn
  tags              = local.tags
}}

resource "aws_iam_role" "{name}" {{
  name               = "{name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}}

resource "aws_security_group" "{name}" {{
  name   = "{name}"
  vpc_id = aws_vpc.main.id
}}

resource "aws_db_instance" "{name}" {{
  identifier             = "{name}-db"
  engine                 = "postgres"
  instance_class         = "db.t4g.medium"
  allocated_storage      = 20
  kms_key_id             = aws_kms_key.{name}.arn
  vpc_security_group_ids = [aws_security_group.{name}.id]
  deletion_protection    = true
  skip_final_snapshot    = false
}}
"""


COMMON = {
    "main.tf": """\
resource "aws_vpc" "main" {
  cidr_block = "10.20.0.0/16"
  tags       = local.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
  }
}
""",
    "variables.tf": 'variable "environment" {\n  default = "prod"\n}\n',
    "locals.tf": 'locals {\n  tags = { environment = var.environment, team = "platform" }\n}\n',
    "outputs.tf": 'output "vpc_id" {\n  value = aws_vpc.main.id\n}\n',
    "versions.tf": 'terraform {\n  required_version = ">= 1.5"\n}\n',
}


def make_repository(path: Path) -> None:
    """20 .tf files committed; the working tree renames a queue (a replacement)
    and turns off a database's deletion protection."""
    files = dict(COMMON)
    for n, name in enumerate(TF_FILES):
        files[f"{name}.tf"] = _tf_file(n, name)
    assert len(files) == 20
    for name, text in files.items():
        (path / name).write_text(text)
    env = {
        **CHILD_ENV, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }  # fmt: skip
    for cmd in (["init", "-q", "."], ["add", "."], ["commit", "-qm", "infrastructure"]):
        subprocess.run(["git", *cmd], cwd=path, env=env, check=True)
    queue = path / "queue.tf"
    queue.write_text(queue.read_text().replace('"queue-events"', '"queue-events-v2"'))
    db = path / "database.tf"
    db.write_text(
        db.read_text().replace("deletion_protection    = true", "deletion_protection    = false")
    )


def measure(planguard: list[str], small_plan: str, repeat: int) -> list[tuple[str, float, Measure]]:
    """(name, limit in seconds, measurement) of each start-up budget."""
    out = []
    with tempfile.TemporaryDirectory(prefix="planguard-startup-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        make_repository(repo)
        env = {**CHILD_ENV, "PLANGUARD_GUARD_LOG": str(Path(tmp) / "guard.log")}
        md, js = str(Path(tmp) / "r.md"), str(Path(tmp) / "r.json")
        review = [*planguard, "review", small_plan, "--format", "markdown", "-o", md, "--json", js]
        cases = [
            (VERSION, [*planguard, "--version"], {}),
            (SMALL, review, {}),
            (GUARD, [*planguard, "guard", "--host", "claude"], {"stdin": str(PAYLOAD)}),
            (HOOK, [*planguard, "review", "--hcl", "."], {"cwd": str(repo)}),
        ]
        for (name, limit), cmd, where in cases:
            run_child(cmd, env=env, **where)  # warm-up, not counted
            m = Measure()
            for _ in range(max(repeat, 5)):
                m.runs.append(run_child(cmd, env=env, **where))
            out.append((name, limit, m))
    return out


def table(results: list[tuple[str, float, Measure]]) -> tuple[list[str], bool]:
    """Markdown rows of the targets, and whether any measured one failed."""
    rows = ["| target | measured | limit | result |", "|---|---:|---:|---|"]
    failed = False
    for name, limit, m in results:
        if not m.ok:
            print(f"planguard failed ({name}): {m.error()}", file=sys.stderr)
            rows.append(f"| {name} | error | ≤ {limit * 1000:g} ms | FAIL |")
            failed = True
            continue
        ok = m.seconds <= limit
        failed |= not ok
        verdict = "PASS" if ok else "FAIL"
        rows.append(f"| {name} | {m.seconds * 1000:.0f} ms | ≤ {limit * 1000:g} ms | {verdict} |")
    return rows, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--planguard", default=str(Path(sys.executable).parent / "planguard"))
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args(argv)
    warning = editable_warning(shlex.split(args.planguard))
    if warning:
        print(warning, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="planguard-small-") as tmp:
        plan = str(Path(tmp) / "small10.json")
        gen = [sys.executable, str(HERE / "gen_plan.py"), "--resources", "10", "-q", "-o", plan]
        subprocess.run(gen, check=True)
        rows, failed = table(measure(shlex.split(args.planguard), plan, args.repeat))
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
