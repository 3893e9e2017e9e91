"""`planguard guard`: read the host's payload, decide, log, answer.

Nothing that goes wrong here may read as "allow": a host treats a crashed
hook (any exit but 2) as a warning and runs the tool. Every failure is a
deny in the host's own protocol, or exit 2 with the reason on stderr when
the host cannot be told.
"""

from __future__ import annotations

import os

from planguard.guard import hosts
from planguard.guard.verdict import ALLOW, DENY, NOTHING, Decision, deny, nothing_to_see

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

# A payload carries a file's text for a write tool; more than this is not one.
MAX_PAYLOAD = 64 * 1024 * 1024


def run(host: str | None, stdin: BinaryIO, stdout: TextIO, stderr: TextIO) -> int:
    call: hosts.Call | None = None
    try:
        data = stdin.read(MAX_PAYLOAD + 1)
        if len(data) > MAX_PAYLOAD:
            raise hosts.PayloadError("the hook payload is over 64 MiB", host)
        call = hosts.read(data, host)
        decision = _decide(call)
    except hosts.PayloadError as exc:
        host = host or exc.host
        decision = deny(f"planguard: denied: {exc}; a payload planguard cannot read is denied.")
    except Exception as exc:  # fail closed: a crash never allows
        host = call.host if call is not None else host
        decision = deny(
            f"planguard: denied: internal error ({type(exc).__name__}); the command was not "
            "checked. Re-run it, and report this if it persists."
        )
    if call is not None:
        host = call.host
    if decision.noted:
        decision = _logged(decision, call, host)
    if host is None:
        stderr.write(decision.agent + "\n")
        return 2
    out, err, code = hosts.answer(host, decision)
    stdout.write(out)
    stderr.write(err)
    return code


def _decide(call: hosts.Call) -> Decision:
    """The decision; at a glance, without the shell parser, when no rule can apply."""
    if call.kind == "other" or (call.kind == "shell" and nothing_to_see(call.command, call.cwd)):
        return NOTHING
    from planguard.guard.decide import decide

    return decide(call)


def _logged(decision: Decision, call: hosts.Call | None, host: str | None) -> Decision:
    """Log the decision; one that allows an infrastructure change and cannot
    be logged is denied (the log is its record)."""
    from planguard.guard import log, mask

    cwd = call.cwd if call is not None else os.getcwd()
    if call is None:
        command = None
    elif call.kind == "write":
        command = " ".join(f"{call.tool} {w.path}" for w in call.writes)
    else:
        command = mask.command(call.command)
    fields = {
        "kind": "guard",
        "host": host,
        "cwd": cwd,
        "command": command,
        "verdict": decision.verdict,
        "headline": decision.headline,
        "plan": decision.plan,
        "plan_sha256": decision.digest,
        "approved_by": decision.approved,
    }
    path = log.location(cwd)
    try:
        log.append(path, fields)
    except OSError as exc:
        if decision.verdict != ALLOW:
            return decision
        why = exc.strerror or type(exc).__name__
        return Decision(
            DENY,
            f"planguard: denied: the decision could not be logged in {path} ({why})",
        )
    return decision
