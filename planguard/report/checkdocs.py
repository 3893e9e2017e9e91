"""`planguard checks` and `planguard explain`."""

from __future__ import annotations

import textwrap

from planguard.config import Config
from planguard.findings import CheckMeta
from planguard.registry import Check


def table(checks: list[Check], config: Config) -> str:
    lines = [f"{'id':6} {'severity':9} {'state':9} title"]
    for check in checks:
        m = check.meta
        severity = config.severity.get(m.id, m.severity).value
        state = "disabled" if m.id in config.disable else "on"
        lines.append(f"{m.id:6} {severity:9} {state:9} {m.title}")
    return "\n".join(lines) + "\n"


def explain(meta: CheckMeta) -> str:
    def wrap(text: str) -> str:
        return textwrap.fill(text, 88, initial_indent="  ", subsequent_indent="  ")

    parts = [
        f"{meta.id} {meta.title} (severity: {meta.severity.value})",
        "",
        "Why it matters:",
        wrap(meta.rationale),
        "",
        "How to fix:",
        wrap(meta.remediation),
    ]
    if meta.options:
        parts += ["", "Options (in .planguard.yml under checks." + meta.id + "):"]
        parts += [f"  {k}: {v!r}" for k, v in sorted(meta.options.items())]
    return "\n".join(parts) + "\n"
