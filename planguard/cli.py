"""The command line: the single place where errors become messages and exit codes.

Exit codes: 0 pass, 1 blocked, 2 bad input or usage, 3 internal error.
"""

from __future__ import annotations

import os
import sys

from planguard import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs `--version` 5 ms
if TYPE_CHECKING:
    from typing import NoReturn

EXIT_PASS, EXIT_BLOCKED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # as a shell reports SIGINT


def one_line(text: str) -> str:
    """Messages go to logs and terminals: no newlines, control or invisible characters."""
    from planguard.report.visible import printable

    return printable(text)


def fail(message: str, code: int) -> int:
    sys.stderr.write(f"planguard: error: {one_line(message)}\n")
    return code


def run() -> NoReturn:
    """The `planguard` command: `main`, then out without tearing down
    (planguard.speed.teardown)."""
    from planguard.speed import teardown

    teardown.one_shot()
    code = EXIT_INTERNAL
    try:
        code = main()
    finally:
        teardown.leave(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["--version"], ["-V"]):
        # Answered before anything heavy is imported: hooks call this often.
        sys.stdout.write(f"planguard {__version__}\n")
        return EXIT_PASS
    if argv[:1] == ["guard"]:
        # An agent's hook, run before each of its commands: answered without
        # typer or the review unless there is a plan to review.
        from planguard.guard import main as guard

        return guard(argv[1:])
    from planguard.speed import collector

    with collector.paused():
        return _main(argv)


def _main(argv: list[str]) -> int:
    debug = "--debug" in argv or os.environ.get("PLANGUARD_DEBUG") == "1"
    import typer

    try:
        # The click typer raises from: newer typer releases vendor it as
        # typer._click, and a click installed beside them (uvicorn's, say) is
        # another module, whose exceptions typer never raises.
        from typer._click.exceptions import ClickException
    except ModuleNotFoundError:  # older typer releases depend on click itself
        from click import ClickException  # type: ignore[assignment, unused-ignore]

    from planguard.commands import app_for
    from planguard.errors import PlanguardError

    try:
        result = app_for(argv)(args=argv, prog_name="planguard", standalone_mode=False)
    except PlanguardError as exc:
        return fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        return exc.exit_code
    except ClickException as exc:
        # One line, like every other message: the command's --help has the rest.
        return fail(f"{exc.format_message()} (see planguard --help)", EXIT_INPUT)
    except (typer.Abort, KeyboardInterrupt):
        # Ctrl-C, or a check that raised it: either way the review did not complete.
        return fail("interrupted; the review did not complete", EXIT_INTERRUPTED)
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
    if result == EXIT_INTERRUPTED:
        # typer turns a KeyboardInterrupt (Ctrl-C, or a check raising it) into
        # this result before it reaches us; no command returns it otherwise.
        return fail("interrupted; the review did not complete", EXIT_INTERRUPTED)
    return int(result or 0)
