"""`planguard guard log [--verify] [--log PATH]`: where the decision log is,
and whether its hash chain holds (exit 1 when it does not)."""

from __future__ import annotations

import os
from typing import TextIO

from planguard.errors import UsageError
from planguard.guard import log


def main(argv: list[str], out: TextIO) -> int:
    path = None
    verify = False
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--verify":
            verify = True
        elif word == "--log" and i + 1 < len(argv):
            path = argv[i + 1]
            i += 1
        elif word.startswith("--log="):
            path = word.split("=", 1)[1]
        else:
            raise UsageError(f"guard log: unknown argument {word!r} (--verify, --log PATH)")
        i += 1
    path = path or log.location(os.getcwd())
    if not verify:
        out.write(path + "\n")
        return 0
    check = log.verify(path)
    if check.problems:
        for problem in check.problems:
            out.write(f"planguard: {path}: {problem}\n")
        out.write(
            f"planguard: {path}: {len(check.problems)} problem(s) in {check.entries} entries\n"
        )
        return 1
    out.write(
        f"planguard: {path}: {check.entries} entries, the hash chain holds; "
        f"last sha256 {check.last}\n"
    )
    return 0
