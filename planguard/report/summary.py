"""`planguard summary`: counts by action and the destructive changes."""

from __future__ import annotations

import io
from typing import Any

import msgspec

from planguard.catalog import Catalog
from planguard.facts import action_label, reason_text
from planguard.graph import DependencyGraph
from planguard.model import COUNT_KEYS, Plan


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


def to_table(plans: list[Plan], color: bool = False) -> str:
    from rich.console import Console
    from rich.table import Table

    # Control characters in user text printed as escapes, as in the review report.
    from planguard.report.terminal import escape

    out = io.StringIO()
    console = Console(
        file=out,
        width=120,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    catalog = Catalog.load()
    for plan in plans:
        counts = plan.counts()
        table = Table(title=f"{escape(plan.source)}", title_justify="left", header_style="bold")
        for key in COUNT_KEYS:
            table.add_column("destroy" if key == "delete" else key, justify="right")
        table.add_row(*(str(counts[k]) for k in COUNT_KEYS))
        console.print(table)
        rows = _destructive(plan)
        by_addr = {c.address: c for c in plan.destructive}
        if rows:
            dt = Table(title="Destroyed or replaced", title_justify="left", header_style="bold")
            for name in ("resource", "action", "why", "data", "downstream"):
                dt.add_column(name, justify="right" if name == "downstream" else "left")
            for row in rows:
                change = by_addr[row["address"]]
                dt.add_row(
                    escape(row["address"]),
                    action_label(change),
                    escape(reason_text(change) or "—"),
                    catalog.data_kind(change.type) or "—",
                    str(row["downstream"]),
                )
            console.print(dt)
        else:
            console.print("Nothing is destroyed or replaced.")
        for note in plan.notes:
            console.print(f"note: {escape(note)}")
        console.print()
    return out.getvalue()
