"""`planguard summary`: counts by action and the destructive changes."""

from __future__ import annotations

import io
from typing import Any

import msgspec

from planguard.catalog import Catalog
from planguard.facts import COUNT_WORD, action_label, reason_text
from planguard.graph import DependencyGraph
from planguard.model import COUNT_KEYS, Plan

# The order every table a person reads shows counts in.
SHOWN = (
    "create",
    "update",
    "replace",
    "delete",
    "forget",
    "move",
    "import",
    "read",
    "noop",
    "drift",
)


def _destructive(plan: Plan) -> list[dict[str, Any]]:
    graph = DependencyGraph(plan)
    impacts = {i.address: i for i in graph.impact()}
    out = []
    for c in sorted(plan.destructive, key=lambda c: (c.address, c.deposed or "")):
        impact = impacts.get(c.address)
        out.append(
            {
                "address": c.address,
                "action": c.action.value,
                "order": c.order.value if c.order else None,
                "reason": c.reason,
                "replace_paths": [list(p) for p in c.replace_paths],
                "downstream": len(impact.dependents) if impact else 0,
            }
        )
    return out


def to_json(plans: list[Plan]) -> str:
    totals = dict.fromkeys(COUNT_KEYS, 0)
    per_plan = []
    destructive: list[dict[str, Any]] = []
    for plan in plans:
        counts = plan.counts()
        for key in COUNT_KEYS:
            totals[key] += counts[key]
        rows = _destructive(plan)
        per_plan.append({"source": plan.source, "counts": counts, "destructive": rows})
        destructive.extend({**row, "plan": plan.source} if len(plans) > 1 else row for row in rows)
    doc = {"counts": totals, "destructive": destructive}
    if len(plans) > 1:
        doc["plans"] = per_plan
    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode() + "\n"


def to_markdown(plans: list[Plan]) -> str:
    """The counts and the destroyed or replaced resources as Markdown tables,
    user text inert (planguard.report.markdown_text)."""
    from planguard.report.markdown_text import md_code, md_escape

    keys = [k for k in SHOWN if k != "drift"]
    lines = [
        "| plan | " + " | ".join(COUNT_WORD[k] for k in keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for plan in plans:
        counts = plan.counts()
        lines.append(
            f"| {md_code(plan.source)} | " + " | ".join(str(counts[k]) for k in keys) + " |"
        )
    for plan in plans:
        rows = _destructive(plan)
        by_addr = {c.address: c for c in plan.destructive}
        lines += ["", f"**Destroyed or replaced in {md_code(plan.source)}**", ""]
        if not rows:
            lines.append("Nothing is destroyed or replaced.")
            continue
        lines += ["| resource | action | downstream | why |", "|---|---|---:|---|"]
        for row in rows:
            change = by_addr[row["address"]]
            why = reason_text(change)
            lines.append(
                f"| {md_code(row['address'])} | {action_label(change)} | {row['downstream']} "
                f"| {md_escape(why) if why else '—'} |"
            )
    return "\n".join(lines) + "\n"


def to_table(plans: list[Plan], color: bool = False, columns: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table

    # Control characters in user text printed as escapes, as in the review report.
    from planguard.report.terminal import escape

    out = io.StringIO()
    console = Console(
        file=out,
        width=columns,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    catalog = Catalog.load()
    for plan in plans:
        counts = plan.counts()
        table = Table(title=f"{escape(plan.source)}", title_justify="left", header_style="bold")
        for key in SHOWN:
            table.add_column(COUNT_WORD[key], justify="right")
        table.add_row(*(str(counts[k]) for k in SHOWN))
        console.print(table)
        rows = _destructive(plan)
        by_addr = {c.address: c for c in plan.destructive}
        if rows:
            dt = Table(title="Destroyed or replaced", title_justify="left", header_style="bold")
            widest = min(40, max(len(r["address"]) for r in rows))
            dt.add_column("resource", overflow="fold", min_width=min(widest, columns // 3))
            dt.add_column("action")
            dt.add_column("downstream", justify="right")
            dt.add_column("data")
            dt.add_column("why")
            for row in rows:
                change = by_addr[row["address"]]
                dt.add_row(
                    escape(row["address"]),
                    action_label(change),
                    str(row["downstream"]),
                    catalog.data_kind(change.type) or "—",
                    escape(reason_text(change) or "—"),
                )
            console.print(dt)
        else:
            console.print("Nothing is destroyed or replaced.")
        for note in plan.notes:
            console.print(f"note: {escape(note)}")
        console.print()
    return out.getvalue()
