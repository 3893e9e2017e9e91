"""Exit without tearing down: a one-shot process leaves its memory to the
operating system.

Freeing a big plan object by object, then every module, takes longer than
some reviews: ~0.3 s after the reports of a 50k-resource plan are written.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs `--version` 5 ms
if TYPE_CHECKING:
    from typing import NoReturn

_one_shot = False
_kept: list[object] = []


def one_shot() -> None:
    """This process ends after one command: `keep` starts holding objects, and
    a pause of the collector ends without walking what it made (collector)."""
    global _one_shot
    _one_shot = True


def is_one_shot() -> bool:
    return _one_shot


def keep(*objects: object) -> None:
    """Hold `objects` until a one-shot process exits, so that they are not
    freed one by one when the command returns (in-process callers free them)."""
    if _one_shot:
        _kept.append(objects)


def leave(code: int) -> NoReturn:
    """Flush the standard streams and exit at once; a report that did not
    reach its reader turns a pass into an internal error (3)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 3
    os._exit(code)
