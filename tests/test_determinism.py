"""Determinism: the same input gives byte-identical output, whatever PYTHONHASHSEED is.

Reports are diffed in PR comments and compared by the GitHub integration to
decide whether to update its comment; any set or dict ordering that leaks into
an output shows up here as a difference between two processes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import FIXTURES, ROOT

S = "fixtures/secrets"
CASES: dict[str, tuple[str, ...]] = {
    "terraform-sensitive": (f"{S}/tf-sensitive.json",),
    "terraform-modules": ("fixtures/terraform/corpus/show-json/nested-modules/output.json",),
    "terraform-real-count-foreach": ("fixtures/terraform/real/count-foreach/output.json",),
    "blast-radius": ("fixtures/checks/PG401/bad.json",),
    "rename": ("fixtures/checks/PG106/bad.json",),
    "crafted-names": ("fixtures/report/crafted-names.json",),
    "change-set+template": (f"{S}/cfn-secrets.changeset.json", f"{S}/cfn-secrets.template.yaml"),
    "template-pair": (
        "--before",
        f"{S}/cfn-secrets-before.template.yaml",
        "--after",
        f"{S}/cfn-secrets.template.yaml",
    ),
    "several-plans": ("fixtures/checks/PG101/bad.json", "fixtures/checks/PG102/bad.json"),
}
COMMANDS: dict[str, tuple[str, ...]] = {
    "terminal": ("review", "--format", "terminal", "--verbose"),
    "markdown": ("review", "--format", "markdown"),
    "json": ("review", "--format", "json"),
    "sarif": ("review", "--format", "sarif"),
    "summary": ("summary", "--format", "json"),
    "graph-mermaid": ("graph", "--format", "mermaid"),
    "graph-dot": ("graph", "--format", "dot"),
}
SEEDS = ("0", "1", "4242")

# One process per seed runs every case and command, printing each output
# between separators; comparing those transcripts compares every output.
SCRIPT = r"""
import contextlib, io, json, sys
from planguard.cli import main
for argv in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(argv)
    sys.stdout.write(f"\x00{argv} -> {code}\x00{out.getvalue()}")
"""


def _argvs() -> list[list[str]]:
    out = []
    for args in CASES.values():
        files = [a for a in args if not a.startswith("--")]
        for command in COMMANDS.values():
            if command[0] == "review":
                out.append([*command, *args])
            elif not args[0].startswith("--") and (command[0] != "graph" or len(files) == 1):
                out.append([*command, *files])
    return out


def _transcript(seed: str) -> bytes:
    import json

    env = {**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "120", "TZ": "UTC"}
    env.pop("PLANGUARD_ACTOR", None)
    env.pop("GITHUB_ACTOR", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(_argvs())],
        capture_output=True,
        cwd=ROOT,
        env=env,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout


def test_cases_exist() -> None:
    for args in CASES.values():
        for a in args:
            if not a.startswith("--"):
                assert (ROOT / a).is_file(), a
    assert FIXTURES.is_dir()


@pytest.fixture(scope="module")
def transcripts() -> dict[str, bytes]:
    return {seed: _transcript(seed) for seed in SEEDS}


def test_outputs_are_byte_identical_across_hash_seeds(transcripts: dict[str, bytes]) -> None:
    first = transcripts[SEEDS[0]]
    sections = first.split(b"\x00")
    assert len(sections) > 2 * len(_argvs())
    # Every run must have produced a real report, not an error.
    for header in sections[1::2]:
        assert header.endswith((b"-> 0", b"-> 1")), header
    for seed in SEEDS[1:]:
        if transcripts[seed] != first:
            other = transcripts[seed].split(b"\x00")
            diffs = [
                sections[i].decode()
                for i in range(1, min(len(sections), len(other)), 2)
                if sections[i + 1] != other[i + 1]
            ]
            pytest.fail(f"PYTHONHASHSEED={seed} changes: {diffs}")


def test_outputs_are_identical_within_one_process() -> None:
    """Repeated runs in one process (a long-lived action or a test runner) agree too."""
    import contextlib
    import io

    from planguard.cli import main

    for argv in _argvs()[:: max(1, len(_argvs()) // 15)]:
        seen = set()
        for _ in range(2):
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                main(list(argv))
            seen.add(out.getvalue())
        assert len(seen) == 1, argv
