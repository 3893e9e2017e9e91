"""The command line: the single place where errors become messages and exit codes.

Exit codes: 0 pass, 1 blocked, 2 bad input or usage, 3 internal error.
"""

from __future__ import annotations

import gc
import os
import sys

from planguard import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs `--version` 5 ms
if TYPE_CHECKING:
    from typing import NoReturn

EXIT_PASS, EXIT_BLOCKED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

def one_line(text: str) -> str:
    """Messages go to logs and terminals: no newlines or control characters."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def fail(message: str, code: int) -> int:
    sys.stderr.write(f"planguard: error: {one_line(message)}\n")
    return code


# Set by `run`: what a command built may be left for the process's exit.
_one_shot = False
_kept: list[object] = []


def keep(*objects: object) -> None:
    """Hold `objects` until a one-shot process exits, so that they are not
    freed one by one when the command returns (in-process callers free them)."""
    if _one_shot:
        _kept.append(objects)


def run() -> NoReturn:
    """The `planguard` command: `main`, then out without tearing down.

    Freeing a big plan object by object, and then every module, takes longer
    than some reviews (a third of a second for 50k resources): a one-shot
    process leaves its memory to the operating system.
    """
    global _one_shot
    _one_shot = True
    code = EXIT_INTERNAL
    try:
        code = main()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                code = code or EXIT_INTERNAL  # a report that did not reach its reader
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["--version"], ["-V"]):
        # Answered before anything heavy is imported: hooks call this often.
        sys.stdout.write(f"planguard {__version__}\n")
        return EXIT_PASS
    # A command allocates millions of small objects and frees them by
    # reference counting; it makes next to no garbage cycles, so the cyclic
    # collector would only walk live objects again and again (a tenth of a
    # 50k-resource review). Off for the command, as it was after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: list[str]) -> int:
    debug = "--debug" in argv or os.environ.get("PLANGUARD_DEBUG") == "1"
    import typer

    try:
        from click import ClickException
    except ModuleNotFoundError:  # newer typer releases vendor click
        from typer._click.exceptions import ClickException

    from planguard.commands import app
    from planguard.errors import PlanguardError

    try:
        result = app(args=argv, prog_name="planguard", standalone_mode=False)
    except PlanguardError as exc:
        return fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        return exc.exit_code
    except ClickException as exc:
        exc.show()
        return EXIT_INPUT
    except typer.Abort:
        return fail("interrupted", EXIT_INTERNAL)
    except MemoryError:
        return fail("out of memory (the review is incomplete)", EXIT_INTERNAL)
    except Exception as exc:  # fail closed: a crash never passes the gate
        if debug:
            import traceback

            # Where it happened, not what it said: an exception's text can quote a
            # value from the plan, and --debug output ends up in CI logs.
            sys.stderr.write("Traceback (most recent call last):\n")
            sys.stderr.write("".join(traceback.format_tb(exc.__traceback__)))
            sys.stderr.write(f"{type(exc).__module__}.{type(exc).__qualname__}\n")
        where = ""
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            where = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
        return fail(
            f"internal error ({type(exc).__name__}{where}); the review did not complete. "
            "Re-run with --debug and report it.",
            EXIT_INTERNAL,
        )
    return int(result or 0)
