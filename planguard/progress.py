"""A spinner on stderr for work that takes longer than a second (TTY only)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _quiet(message: str) -> None:
    pass


@contextmanager
def progress(message: str, delay: float = 1.0) -> Iterator[Callable[[str], None]]:
    """Show `message` with a spinner if the work is still going after `delay`
    seconds; yields a function that replaces the message (e.g. "2 of 5 done").

    Only on a terminal: CI logs and pipes get nothing. rich is imported only
    when there is a terminal to draw on.
    """
    if not sys.stderr.isatty():
        yield _quiet
        return
    from rich.console import Console

    status = Console(stderr=True).status(message)
    timer = threading.Timer(delay, status.start)
    timer.daemon = True
    timer.start()
    try:
        yield status.update
    finally:
        timer.cancel()
        status.stop()
