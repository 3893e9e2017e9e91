#!/usr/bin/env python3
"""The verdict and the findings of `planguard review` on every check fixture.

    python benchmarks/verdicts.py [--root CHECKOUT] [--fixtures CHECKOUT] [-o table.tsv]
    python benchmarks/verdicts.py --diff before.tsv after.tsv

For each plan under fixtures/checks/ (and each CloudFormation template pair
there, `NAME-before.yaml` with `NAME-after.yaml`), one line: the fixture, the
exit code of `planguard review` (0 pass, 1 blocked, 2 bad input) and the
findings as `ID:severity`, sorted. `--root` runs the planguard of another
checkout (a `git worktree` of an earlier commit), on that checkout's fixtures
or, with `--fixtures`, on those of another (the earlier code on today's
fixtures); `--diff` compares two tables. Each review runs in a fresh process
from an empty directory, so no policy file of the checkout applies: the
default gate.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Imports planguard, and its checks, from the checkout given as argv[1] rather
# than from wherever the environment installed it, then runs the CLI.
_BOOT = """
import importlib.util, sys
root = sys.argv[1]
sys.path.insert(0, root)
spec = importlib.util.spec_from_file_location(
    "planguard.checks", root + "/checks/__init__.py", submodule_search_locations=[root + "/checks"]
)
module = importlib.util.module_from_spec(spec)
sys.modules["planguard.checks"] = module
spec.loader.exec_module(module)
import planguard
assert planguard.__file__.startswith(root), planguard.__file__
from planguard.cli import main
sys.exit(main(sys.argv[2:]))
"""


def cases(root: Path) -> list[tuple[str, list[str]]]:
    """(name, review arguments) for every check fixture, in name order."""
    fixtures = root / "fixtures" / "checks"
    out = [(str(p.relative_to(fixtures)), [str(p)]) for p in sorted(fixtures.glob("PG*/**/*.json"))]
    for before in sorted(fixtures.glob("**/*-before.yaml")):
        after = before.with_name(before.name.replace("-before", "-after"))
        name = f"{before.relative_to(fixtures)}".replace("-before.yaml", " (template pair)")
        out.append((name, ["--before", str(before), "--after", str(after)]))
    return out


def review(root: Path, args: list[str], cwd: str) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _BOOT, str(root), "review", "--format", "json", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    if proc.returncode not in (0, 1):
        return proc.returncode, []
    doc = json.loads(proc.stdout)
    found = sorted(
        f"{f['id']}:{f['severity']}" + ("(suppressed)" if f["suppressed"] else "")
        for f in doc["findings"]
    )
    return proc.returncode, found


def table(root: Path, fixtures: Path) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as cwd:
        for name, args in cases(fixtures):
            code, found = review(root, args, cwd)
            lines.append(f"{name}\t{code}\t{' '.join(found) or '-'}")
    return lines


def diff(before: Path, after: Path) -> list[str]:
    def rows(path: Path) -> dict[str, tuple[str, str]]:
        out = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            name, code, found = line.split("\t")
            out[name] = (code, found)
        return out

    old, new = rows(before), rows(after)
    lines = ["| fixture | exit before | exit after | findings before | findings after |"]
    lines.append("|---|---:|---:|---|---|")
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name, ("absent", "")), new.get(name, ("absent", ""))
        if a != b:
            lines.append(f"| {name} | {a[0]} | {b[0]} | {a[1]} | {b[1]} |")
    same = sum(1 for name in old.keys() & new.keys() if old[name] == new[name])
    lines.append(f"\n{same} fixtures unchanged, {len(lines) - 2} changed or new.")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=HERE.parent)
    ap.add_argument("--fixtures", type=Path, help="checkout whose fixtures to review")
    ap.add_argument("-o", "--output", type=Path)
    ap.add_argument("--diff", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args()
    if args.diff:
        lines = diff(*args.diff)
    else:
        lines = table(args.root.resolve(), (args.fixtures or args.root).resolve())
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
