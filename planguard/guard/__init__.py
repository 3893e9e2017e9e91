"""`planguard guard`: a coding agent's pre-tool hook, and `planguard apply`.

The hook runs before every shell command an agent issues, so this package
answers a command that is not an infrastructure change with the standard
library alone: the review (typer, rich, networkx, the loaders) is imported
only for a saved plan to review. planguard.cli hands `planguard guard …`
here before anything else is imported.

    planguard guard [--host claude|cursor|gemini|kiro]     the hook (payload on stdin)
    planguard guard install --host HOST [--uninstall]    add it to the host's settings
    planguard guard log [--verify]                       the decision log
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

USAGE = """\
usage: planguard guard [--host claude|cursor|gemini|kiro]
         the hook: reads the host's tool-call payload on stdin, answers in its protocol
       planguard guard install --host HOST [--uninstall] [--dir DIR] [--agent NAME]
                               [--command CMD]
         add the hook to the host's project settings (or remove it)
       planguard guard log [--verify] [--log PATH]
         where the decision log is; --verify checks its hash chain
"""


def main(
    argv: list[str],
    stdin: BinaryIO | bytes | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`planguard guard ARGV…`; the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if argv[:1] in (["install"], ["log"]):
        return _command(argv, out, err)
    if argv in (["--help"], ["-h"]):
        out.write(USAGE)
        return 0
    host = _host(argv)
    if host is None or host == "?":
        # A hook that is wrongly configured must still not pass: exit 2 blocks.
        err.write(f"planguard: error: {_usage_error(argv)} (see planguard guard --help)\n")
        return 2
    from planguard.guard import hook

    if isinstance(stdin, bytes):
        import io

        stdin = io.BytesIO(stdin)
    return hook.run(host or None, stdin or sys.stdin.buffer, out, err)


def _host(argv: list[str]) -> str | None:
    """The host given (`""`: detect it), "?" for an unknown one, None for
    other arguments."""
    from planguard.guard.hosts import HOSTS

    if not argv:
        return ""
    if len(argv) == 2 and argv[0] == "--host":
        value = argv[1]
    elif len(argv) == 1 and argv[0].startswith("--host="):
        value = argv[0].split("=", 1)[1]
    else:
        return None
    return value if value in HOSTS else "?"


def _usage_error(argv: list[str]) -> str:
    if _host(argv) == "?":
        return "--host: one of claude, cursor, gemini, kiro"
    return "planguard guard takes --host HOST (or install, log)"


def _command(argv: list[str], out: TextIO, err: TextIO) -> int:
    """`install` and `log`: errors become one line and an exit code here,
    as planguard.cli does for the other commands."""
    from planguard.errors import PlanguardError

    try:
        if argv[0] == "install":
            from planguard.guard import install

            return install.main(argv[1:], out)
        from planguard.guard import logcmd

        return logcmd.main(argv[1:], out)
    except PlanguardError as exc:
        from planguard.report.visible import escape_controls

        err.write(f"planguard: error: {escape_controls(str(exc))}\n")
        return exc.exit_code
