"""Refresh the whole-report snapshots in tests/snapshots/.

    python tests/update_snapshots.py           # rewrite every snapshot
    python tests/update_snapshots.py --check   # only report stale ones (exit 1), with a diff

Run it from anywhere (it works from the repository root) after a deliberate
change to a report format, a check or a fixture; read `git diff tests/snapshots`
and commit the snapshots together with the change that explains them.
tests/test_report_markdown.py and tests/test_report_json.py compare against
them byte for byte.

Each case runs the real loader on real files, every built-in check and the
policy, then renders Markdown (.md), JSON (.json) and the terminal report
(.txt). Every fixtures/scenarios/*.json becomes a case of its own.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "snapshots"
# Ignore expiry and anything else dated compares against this, not the clock.
TODAY = dt.date(2025, 1, 15)


@dataclass(frozen=True)
class Case:
    name: str
    plans: tuple[str, ...]  # relative to the repository root, as a user would type them
    actor: str | None = None
    ignores: tuple[tuple[str, str, str], ...] = ()  # (check, address glob, reason)
    formats: tuple[str, ...] = field(default=("md", "json", "txt"))


CASES = (
    Case("requires-replace", ("fixtures/terraform/corpus/show-json/requires-replace/output.json",)),
    Case("count-foreach", ("fixtures/terraform/real/count-foreach/output.json",)),
    Case(
        "replace-orders",
        ("fixtures/terraform/real/replace-orders/output.json",),
        actor="renovate[bot]",
    ),
    Case("moved", ("fixtures/terraform/real/moved/output.json",), actor="alice"),
    Case(
        "crafted-names",
        ("fixtures/report/crafted-names.json",),
        actor="@octocat",
        ignores=(("PG101", 'aws_s3_bucket.x["a|b"]', "emptied by the <migration> job @ops | ok"),),
    ),
    Case("rename", ("fixtures/checks/PG106/bad.json",)),
    Case("plan-error", ("fixtures/terraform/corpus/show-json/plan-error/output.json",)),
    Case(
        "two-plans",
        (
            "fixtures/terraform/real/deposed/output.json",
            "fixtures/terraform/real/forget/output.json",
        ),
    ),
)


def cases() -> list[Case]:
    scenarios = sorted((ROOT / "fixtures" / "scenarios").glob("*.json"))
    extra = [Case(f"scenario-{p.stem}", (p.relative_to(ROOT).as_posix(),)) for p in scenarios]
    return [*CASES, *extra]


@contextmanager
def at_root() -> Iterator[None]:
    # Plan sources are the paths as given; relative ones keep snapshots portable.
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(here)


def build(case: Case):
    """The Review of one case (run from the repository root)."""
    from planguard.config import Config, Ignore
    from planguard.engine import review
    from planguard.load import load
    from planguard.registry import all_checks

    config = Config(ignores=tuple(Ignore(c, a, r) for c, a, r in case.ignores))
    with at_root():
        plans = load(list(case.plans))
        return review(plans, all_checks(), config, actor=case.actor, today=TODAY)


def render(case: Case) -> dict[str, str]:
    """Snapshot file name → rendered text."""
    from planguard.report import Format
    from planguard.report import render as render_report

    result = build(case)
    fmt = {"md": Format.MARKDOWN, "json": Format.JSON, "txt": Format.TERMINAL}
    return {f"{case.name}.{ext}": render_report(result, fmt[ext]) for ext in case.formats}


def diff(expected: str, actual: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"tests/snapshots/{name} (stored)",
            f"tests/snapshots/{name} (rendered)",
        )
    )


def main(argv: list[str]) -> int:
    check = "--check" in argv
    SNAPSHOTS.mkdir(exist_ok=True)
    stale = 0
    wanted: set[str] = set()
    for case in cases():
        for name, text in render(case).items():
            wanted.add(name)
            path = SNAPSHOTS / name
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            if old == text:
                continue
            stale += 1
            if check:
                sys.stdout.write(diff(old, text, name))
            else:
                # newline="" keeps the bytes exactly as rendered on every OS.
                path.write_text(text, encoding="utf-8", newline="")
                print(f"updated tests/snapshots/{name}")
    for path in sorted(SNAPSHOTS.iterdir()):
        if path.name not in wanted:
            stale += 1
            if check:
                print(f"unused snapshot tests/snapshots/{path.name}")
            else:
                path.unlink()
                print(f"removed tests/snapshots/{path.name}")
    if check:
        return 1 if stale else 0
    print(f"{len(wanted)} snapshots, {stale} changed")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
