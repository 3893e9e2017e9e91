"""How wide the terminal report is: known before rich is imported, so that a
review writing Markdown or JSON never imports it."""

from __future__ import annotations

from collections.abc import Mapping

# Piped output is as wide as before, so logs and snapshots do not depend on
# the terminal it was run from; a terminal (or COLUMNS) sets the width, down to 80.
WIDTH = 150
MIN_WIDTH = 80


def width(env: Mapping[str, str], tty_columns: int | None) -> int:
    """The report's width: COLUMNS, else the terminal's, else WIDTH; never below 80."""
    text = env.get("COLUMNS", "")
    columns = int(text) if text.isdigit() else tty_columns
    return max(MIN_WIDTH, columns) if columns else WIDTH
