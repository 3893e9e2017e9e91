"""The terminal report: a verdict line, counts, destructive changes, findings.

Fits one screen for a typical plan; `--verbose` lists everything.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.table import Table
from rich.text import Text

from planguard.facts import COUNT_WORD, DestructiveRow
from planguard.findings import Severity
from planguard.report import visible
from planguard.report.common import counts_row, destructive_rows, lead_fixes, proceed
from planguard.report.markdown_text import plural
from planguard.report.visible import elide
from planguard.report.width import WIDTH
from planguard.review import PlanReview, Review

if TYPE_CHECKING:
    from planguard.policy import Suppressed


def escape(text: str) -> str:
    """Plain text for the terminal: no markup, and no control characters
    (a crafted address must not move the cursor or recolour the screen)."""
    return _markup_escape(printable(text))


def printable(text: str) -> str:
    """No escape sequences, and no character a person cannot see, on a terminal."""
    return visible.printable(elide(text))


STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
COUNT_KEYS = ("create", "update", "replace", "delete", "forget", "move", "import", "read", "noop")
ALWAYS_COUNTED = ("create", "update", "replace", "delete")
TOP_ROWS = 15
_MAX_WIDTH = {"why": 28, "data": 12, "protection": 18}
TOP_FINDINGS = 20


def render(
    review: Review, *, verbose: bool = False, color: bool = False, columns: int = WIDTH
) -> str:
    """The report as text; `color` adds ANSI styles, `verbose` lifts the row limits."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=columns,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    v = review.verdict
    _print_verdict(console, review)
    _print_fixes(console, review)
    _print_counts(console, review)
    for pr in review.plans:
        _print_destructive(console, pr, verbose)
    if v.kept:
        _print_findings(console, review, verbose, several=len(review.plans) > 1)
    if v.suppressed:
        _print_suppressed(console, v.suppressed, verbose)
    if v.blocked:
        console.print()
        console.print(Text(printable(proceed(review))))
    return out.getvalue()


def _print_verdict(console: Console, review: Review) -> None:
    """The coloured verdict line, the gate's settings, and the plans' notes."""
    v = review.verdict
    if v.blocked:
        head = Text(
            f"BLOCKED — {v.level_name} risk (score {v.score}/100)", style="bold white on red"
        )
    elif v.kept:
        head = Text(
            f"PASS — {v.level_name} risk (score {v.score}/100)", style="bold black on yellow"
        )
    else:
        head = Text(f"PASS — no findings (score {v.score}/100)", style="bold black on green")
    console.print(Text("planguard: ") + head)
    who = f" · actor {v.actor} (automation policy)" if v.automated else ""
    console.print(
        f"fail-on: {v.fail_on.value}{escape(who)} · {plural(len(v.kept), 'finding')}, "
        f"{len(v.suppressed)} suppressed",
        style="dim",
    )
    if review.predicted:
        console.print(
            "These changes are predictions from sources, not a plan computed against real state.",
            style="italic",
        )
    for note in v.notes:
        console.print(f"note: {escape(note)}", style="yellow")


def _print_fixes(console: Console, review: Review) -> None:
    """The likely cause and its fix first, when a finding's suggestion would
    undo destroys (see report.common.lead_fixes)."""
    for fix in lead_fixes(review):
        f = fix.finding
        console.print()
        head = Text("Likely cause and fix: ", style="bold")
        head.append(printable(f"{f.message} ({f.check_id})"))
        console.print(head)
        console.print(
            f"  adding this keeps {fix.undone} of the {plural(fix.total, 'resource')} "
            "the plan would destroy or replace:",
            style="dim",
        )
        for line in (f.suggestion or "").splitlines():
            console.print(Text(f"    {printable(line)}", style="green"))


def _print_counts(console: Console, review: Review) -> None:
    """One row of change counts per plan; a column only when some plan has it
    (create, update, replace and destroy always)."""
    rows = [counts_row(pr) for pr in review.plans]
    keys = [k for k in COUNT_KEYS if k in ALWAYS_COUNTED or any(c[k] for c in rows)]
    counts = Table(title=None, box=None, pad_edge=False, header_style="bold")
    longest = max(len(pr.plan.source) for pr in review.plans)
    counts.add_column("plan", overflow="fold", min_width=min(longest, 30))
    for key in keys:
        counts.add_column(COUNT_WORD[key], justify="right")
    for pr, c in zip(review.plans, rows, strict=True):
        counts.add_row(escape(pr.plan.source), *(str(c[k]) for k in keys))
    console.print()
    console.print(counts)


def _print_destructive(console: Console, pr: PlanReview, verbose: bool) -> None:
    """The table of what one plan destroys or replaces (nothing when it destroys nothing)."""
    rows = destructive_rows(pr)
    if not rows:
        return
    shown = rows if verbose else rows[:TOP_ROWS]
    title = f"Destroyed or replaced in {escape(pr.plan.source)}"
    widest = min(40, max(len(r.change.address) for r in shown))
    # What decides a review first (what, how, how much depends on it); on a
    # terminal too narrow for the explanations' columns they go under the address.
    wide = console.width >= widest + _EXPLAINED_WIDTH
    table = _destructive_table(title, shown, widest if wide else None)
    console.print()
    console.print(table)
    if len(rows) > len(shown):
        console.print(f"… {len(rows) - len(shown)} more (--verbose lists all)", style="dim")


# The columns besides the address at their widest, with padding.
_EXPLAINED_WIDTH = 22 + 10 + 12 + 18 + 28 + 6 * 2


def _destructive_table(title: str, shown: list[DestructiveRow], widest: int | None) -> Table:
    """All columns when `widest` (the address column's width) is given; else
    address, action and downstream, the explanations on a line of their own."""
    table = Table(
        title=title, title_justify="left", header_style="bold", expand=False, box=box.SIMPLE_HEAD
    )
    # Addresses are what a reviewer acts on: wrap them, never cut them.
    table.add_column("resource", overflow="fold", min_width=widest)
    table.add_column("action", no_wrap=True)
    table.add_column("downstream", justify="right", no_wrap=True)
    explained = ("data", "protection", "why")
    if widest is not None:
        for name in explained:
            table.add_column(name, overflow="ellipsis", max_width=_MAX_WIDTH.get(name))
    for row in shown:
        notes = (row.data_kind or "—", row.protection or "—", row.reason or "—")
        action = Text(row.action, style="red" if row.action.startswith("destroy") else "yellow")
        if widest is not None:
            table.add_row(
                escape(row.change.address), action, str(row.downstream), *map(escape, notes)
            )
            continue
        cell = Text(printable(row.change.address))
        said = [
            f"{name}: {note}" for name, note in zip(explained, notes, strict=True) if note != "—"
        ]
        if said:
            cell.append("\n  " + printable(" · ".join(said)), style="dim")
        table.add_row(cell, action, str(row.downstream))
    return table


def _print_findings(console: Console, review: Review, verbose: bool, several: bool = False) -> None:
    """The findings that count, one row each, wrapped under their own text;
    details and suggestions for the serious ones. With several plans each
    finding says which plan it is in."""
    console.print()
    console.print("Findings", style="bold")
    kept = review.verdict.kept
    listed = kept if verbose else kept[:TOP_FINDINGS]
    led = {fix.finding for fix in lead_fixes(review)}
    grid = Table.grid(padding=(0, 1), pad_edge=False)
    grid.add_column(no_wrap=True, min_width=10)  # "  CRITICAL"
    grid.add_column(no_wrap=True)  # check id
    grid.add_column(overflow="fold", ratio=1)
    for f in listed:
        line = Text(f"{f.title}: ")
        line.append(printable(f.message))
        where = [str(f.location)] if f.location else []
        if several and f.plan and not (f.location and f.location.file == f.plan):
            where.insert(0, f.plan)
        if where:
            line.append(f"  [{printable(' · '.join(where))}]", style="dim")
        grid.add_row(
            Text(f"  {f.severity.value.upper()}", style=STYLE[f.severity]),
            Text(f.check_id, style="bold"),
            line,
        )
        if verbose or f.severity.rank >= Severity.HIGH.rank:
            for detail in f.details[: None if verbose else 3]:
                grid.add_row("", "", Text(printable(detail), style="dim"))
            if f.suggestion and f not in led:  # shown first, as the likely fix
                grid.add_row("", "", Text("suggested:", style="bold"))
                for text in f.suggestion.splitlines():
                    grid.add_row("", "", Text(f"  {printable(text)}", style="green"))
    console.print(grid)
    if len(kept) > len(listed):
        console.print(f"  … {len(kept) - len(listed)} more (--verbose lists all)", style="dim")


def _print_suppressed(console: Console, suppressed: list[Suppressed], verbose: bool) -> None:
    """Findings an ignore or acknowledgement set aside, with the reason given."""
    console.print()
    console.print("Suppressed", style="bold")
    for s in suppressed if verbose else suppressed[:TOP_FINDINGS]:
        console.print(
            Text(
                printable(
                    f"  {s.finding.check_id} {s.finding.address or s.finding.plan}: {s.reason}"
                ),
                style="dim",
            )
        )
