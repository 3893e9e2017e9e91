"""Talking to the Actions runner: workflow commands, step outputs, step summary.

Everything planguard writes here may contain names from a plan (resource
addresses, file names), which a pull request author controls, so every value is
escaped or fenced: a crafted name must not become a workflow command.
https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

# The step summary is cut by the runner at 1 MiB; stay well under it.
SUMMARY_LIMIT = 900_000


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line, e.g. `::error file=a.tf,line=3::text`."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}\n"


def fenced(text: str) -> str:
    """Log text with workflow commands switched off around it (a random token
    ends the fence, so the text cannot)."""
    token = secrets.token_hex(16)
    body = text if text.endswith("\n") else text + "\n"
    return f"::stop-commands::{token}\n{body}::{token}::\n"


def write_outputs(path: str | None, values: Mapping[str, str], log: TextIO) -> None:
    """Step outputs in $GITHUB_OUTPUT's heredoc form, with a random delimiter."""
    if not path:
        return
    lines = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(lines))
    except OSError as exc:
        log.write(command("warning", f"planguard: cannot write step outputs: {exc}"))


def write_summary(path: str | None, markdown: str, log: TextIO) -> None:
    """Append to $GITHUB_STEP_SUMMARY (several planguard steps may share a job)."""
    if not path:
        return
    if len(markdown) > SUMMARY_LIMIT:
        markdown = markdown[:SUMMARY_LIMIT] + "\n\n… (cut: the full report is the JSON report)\n"
    try:
        with Path(path).open("a", encoding="utf-8") as fh:
            fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as exc:
        log.write(command("warning", f"planguard: cannot write the step summary: {exc}"))
