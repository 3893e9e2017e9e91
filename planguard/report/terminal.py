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

from planguard.findings import Finding, Severity
from planguard.report.common import counts_row, destructive_rows, proceed
from planguard.report.visible import elide, show_hidden
from planguard.review import PlanReview, Review

if TYPE_CHECKING:
    from planguard.policy import Suppressed


def escape(text: str) -> str:
    """Plain text for the terminal: no markup, and no control characters
    (a crafted address must not move the cursor or recolour the screen)."""
    return _markup_escape(printable(text))


def printable(text: str) -> str:
    """No escape sequences, and no character a person cannot see, on a terminal."""
    text = show_hidden(elide(text))
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
COUNT_KEYS = ("create", "update", "replace", "delete", "forget", "move", "import", "read", "noop")
TOP_ROWS = 15
_MAX_WIDTH = {"why": 28, "data": 12, "protection": 18}
TOP_FINDINGS = 20
WIDTH = 150


def render(review: Review, *, verbose: bool = False, color: bool = False) -> str:
    """The report as text; `color` adds ANSI styles, `verbose` lifts the row limits."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=WIDTH,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    v = review.verdict
    _print_verdict(console, review)
    _print_counts(console, review)
    for pr in review.plans:
        _print_destructive(console, pr, verbose)
    if v.kept:
        _print_findings(console, v.kept, verbose)
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
        f"fail-on: {v.fail_on.value}{escape(who)} · {len(v.kept)} findings, "
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


def _print_counts(console: Console, review: Review) -> None:
    """One row of change counts per plan."""
    counts = Table(title=None, box=None, pad_edge=False, header_style="bold")
    counts.add_column("plan", overflow="fold")
    for key in COUNT_KEYS:
        counts.add_column("destroy" if key == "delete" else key, justify="right")
    for pr in review.plans:
        c = counts_row(pr)
        counts.add_row(escape(pr.plan.source), *(str(c[k]) for k in COUNT_KEYS))
    console.print()
    console.print(counts)


def _print_destructive(console: Console, pr: PlanReview, verbose: bool) -> None:
    """The table of what one plan destroys or replaces (nothing when it destroys nothing)."""
    rows = destructive_rows(pr)
    if not rows:
        return
    shown = rows if verbose else rows[:TOP_ROWS]
    table = Table(
        title=f"Destroyed or replaced in {escape(pr.plan.source)}",
        title_justify="left",
        header_style="bold",
        expand=False,
        box=box.SIMPLE_HEAD,
    )
    widest = min(40, max(len(r.change.address) for r in shown))
    for name in ("resource", "action", "why", "data", "protection", "downstream"):
        # Addresses are what a reviewer acts on: wrap them, never cut them.
        table.add_column(
            name,
            justify="right" if name == "downstream" else "left",
            overflow="fold" if name == "resource" else "ellipsis",
            min_width=widest if name == "resource" else None,
            max_width=_MAX_WIDTH.get(name),
        )
    for row in shown:
        table.add_row(
            escape(row.change.address),
            Text(row.action, style="red" if row.action.startswith("destroy") else "yellow"),
            escape(row.reason or "—"),
            escape(row.data_kind or "—"),
            escape(row.protection or "—"),
            str(row.downstream),
        )
    console.print()
    console.print(table)
    if len(rows) > len(shown):
        console.print(f"… {len(rows) - len(shown)} more (--verbose lists all)", style="dim")


def _print_findings(console: Console, kept: list[Finding], verbose: bool) -> None:
    """The findings that count, one line each; details and suggestions for the serious ones."""
    console.print()
    console.print("Findings", style="bold")
    listed = kept if verbose else kept[:TOP_FINDINGS]
    for f in listed:
        line = Text("  ")
        line.append(f"{f.severity.value.upper():8}", style=STYLE[f.severity])
        line.append(f" {f.check_id} ", style="bold")
        line.append(f"{f.title}: ")
        line.append(printable(f.message))
        if f.location:
            line.append(f"  [{printable(str(f.location))}]", style="dim")
        console.print(line)
        if verbose or f.severity.rank >= Severity.HIGH.rank:
            for detail in f.details[: None if verbose else 3]:
                console.print(Text(f"      {printable(detail)}", style="dim"))
            if f.suggestion:
                console.print(Text("      suggested:", style="bold"))
                for text in f.suggestion.splitlines():
                    console.print(Text(f"        {printable(text)}", style="green"))
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
