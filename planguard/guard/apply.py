"""`planguard apply PLANFILE [-- terraform args]`: review a saved plan, then
apply exactly that plan, only when the review passes.

It passes when nothing blocks, or when every blocking finding is
acknowledged (`planguard ack`: bound to each finding's fingerprint, so an
acknowledgement of one plan's findings never covers another's). Otherwise
it prints the report and exits 1, unless a person at a terminal overrides
the block by typing the first 12 characters of the plan file's SHA-256: the
confirmation is read from /dev/tty, and only when standard input is a
terminal too, so an agent's non-interactive shell cannot give it, and it
names one plan's exact bytes.

The plan applied is a private copy of the file reviewed, hashed again: a
plan file replaced after the review is not applied. Every decision is in
the decision log (planguard.guard.log).
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
import tempfile
from typing import TextIO

from planguard import engine
from planguard.errors import InputError, UsageError
from planguard.guard import log, planreview

CONFIRM_CHARS = 12
TTY = "/dev/tty"


def run(
    plan: str,
    tool_args: list[str],
    *,
    tofu: bool = False,
    out: TextIO | None = None,
    stdin: TextIO | None = None,
    tty: str = TTY,
) -> int:
    """Review `plan` and apply it with `terraform apply [tool_args] PLAN`; the
    exit code (terraform's once it runs; 1 when the plan is blocked)."""
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    path = os.path.abspath(plan)
    if not os.path.isfile(path):
        raise InputError(plan, "no such plan file (make one with `terraform plan -out=FILE`)")
    exe = _tool(tofu)
    cwd = os.getcwd()
    outcome = planreview.review(path, cwd, plan, actor=engine.actor())
    approved = outcome.approved
    verdict = "allow"
    if not outcome.passed:
        from planguard.report import Format, render

        out.write(render(outcome.review, Format.TERMINAL, color=_isatty(out)))
        out.write(f"\nPlan file {plan}: SHA-256 {outcome.digest}\n")
        if not confirm(outcome.digest, stdin, tty):
            _log(cwd, plan, outcome, "deny", None)
            out.write(
                "planguard: not applied. Fix the findings and plan again, have a second person "
                f"acknowledge them (planguard ack {plan} …), or override at a terminal.\n"
            )
            out.flush()
            return 1
        approved = f"{_user()} (typed confirmation at a terminal)"
        verdict = "override"
    else:
        out.write(outcome.headline + "\n")
    out.flush()
    with tempfile.TemporaryDirectory(prefix="planguard-apply-") as private:
        copy = os.path.join(private, os.path.basename(path))
        shutil.copyfile(path, copy)
        if planreview.digest(copy) != outcome.digest:
            _log(cwd, plan, outcome, "deny", approved)
            raise InputError(plan, "the plan file changed after it was reviewed; not applied")
        _log(cwd, plan, outcome, verdict, approved)
        return subprocess.run([exe, "apply", *tool_args, copy], cwd=cwd, check=False).returncode


def _tool(tofu: bool) -> str:
    names = ("tofu",) if tofu else ("terraform", "tofu")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise UsageError(f"{' or '.join(names)} is not on PATH")


def confirm(digest: str, stdin: TextIO, tty: str = TTY) -> bool:
    """Whether a person at a terminal types the plan's first characters: both
    standard input and the controlling terminal must be terminals."""
    if not _isatty(stdin):
        return False
    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    try:
        if not os.isatty(fd):
            return False
        prompt = (
            f"To apply this blocked plan anyway, type the first {CONFIRM_CHARS} characters "
            "of its SHA-256 (anything else cancels): "
        )
        os.write(fd, prompt.encode())
        line = b""
        while not line.endswith(b"\n") and len(line) < 1024:
            chunk = os.read(fd, 1024)  # a terminal gives a line at a time
            if not chunk:
                break
            line += chunk
    finally:
        os.close(fd)
    typed = line.decode(errors="replace").strip().lower()
    return len(typed) == CONFIRM_CHARS and digest.startswith(typed)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "unknown user"


def _log(
    cwd: str, plan: str, outcome: planreview.Outcome, verdict: str, approved: str | None
) -> None:
    log.append(
        log.location(cwd),
        {
            "kind": "apply",
            "host": None,
            "cwd": cwd,
            "command": f"planguard apply {plan}",
            "verdict": verdict,
            "headline": outcome.headline,
            "plan": os.path.abspath(plan),
            "plan_sha256": outcome.digest,
            "approved_by": approved,
        },
    )
