"""A review worker process: `python -m planguard.runtask.child`.

The server never reviews in its own process. Each of its workers keeps one
of these: the event loop stays free to answer HCP Terraform at once, a review
that hangs is killed at its time limit, one that crashes takes nothing else
down, and planguard's fork for big plans (planguard.value_checks) happens in
a single-threaded process. The process lives on between reviews, so the
imports and the check registry (about half a second) are paid once, not per
run.

The protocol: one JSON object a line. On standard input
`{"dir": ..., "plan": ..., "policy": ..., "max_bytes": ...}`: review the
plan file `plan` in the private directory `dir` (the process works in that
directory, so nothing beside the plan is read) under the policy file
`policy`. On the original standard output, one `Result` a line. Anything
else the review might print goes to standard error.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sys
import tempfile
from typing import Any

import msgspec

from planguard.runtask.results import Status, failure


class Job(msgspec.Struct, frozen=True):
    dir: str
    plan: str
    # The server's policy file; None: planguard's built-in defaults.
    policy: str | None
    max_bytes: int


class Result(msgspec.Struct, frozen=True):
    status: Status
    message: str
    markdown: str = ""
    outcomes: list[dict[str, Any]] = msgspec.field(default_factory=list)
    findings: int = 0
    # Set when the plan could not be reviewed (status is then failed).
    error: str | None = None


def review(job: Job) -> Result:
    """Review one plan file with the one engine, under the server's policy only."""
    from planguard import engine
    from planguard.report import Format, render
    from planguard.review import drop_values
    from planguard.runtask import results
    from planguard.settings import Named
    from planguard.trust import Repo, Trust

    os.chdir(job.dir)
    request = engine.Request(
        plans=(job.plan,),
        max_bytes=job.max_bytes,
        # The server's policy, never anything from the workspace: the plan
        # comes alone into an empty directory, outside any repository.
        named=Named(config=job.policy or _defaults()),
        trust=Trust(tree=None, repo=Repo(None)),
        # Acknowledgements and pull-request approvals have no place in a run task.
        use_acks=False,
        required_approvals=0,
    )
    result = engine.run(request)
    for plan_review in result.plans:
        drop_values(plan_review)
    return Result(
        status=results.status(result),
        message=results.message(result),
        markdown=render(result, Format.MARKDOWN),
        outcomes=results.outcomes(result),
        findings=len(result.verdict.kept),
    )


@functools.cache
def _defaults() -> str:
    """An empty policy file: the built-in defaults, named explicitly so that no
    policy file is looked for around the working directory."""
    directory = tempfile.mkdtemp(prefix="planguard-defaults-")
    atexit.register(shutil.rmtree, directory, True)
    path = os.path.join(directory, "planguard-defaults.yml")
    with open(path, "w", encoding="utf-8"):
        pass
    return path


def answer(job: Job) -> Result:
    """`review`, with every failure turned into a failed result of one line."""
    from planguard.errors import InputError, PlanguardError

    try:
        return review(job)
    except InputError as exc:
        # The problem alone: the path is the server's temporary file.
        why = exc.problem
    except PlanguardError as exc:
        why = str(exc)
    except Exception as exc:  # a crash fails the run, it never passes it
        why = f"internal error ({type(exc).__name__}); the review did not complete"
    message = failure(why)["data"]["attributes"]["message"]
    return Result(status="failed", message=message, error=why)


def main() -> int:
    # The protocol gets its own copy of standard output; fd 1 and sys.stdout
    # become standard error, so a stray print cannot break a line.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    # Paid before the first job, not during it.
    import planguard.engine
    import planguard.registry
    import planguard.report.markdown

    planguard.registry.all_checks([])
    decode = msgspec.json.Decoder(Job).decode
    encode = msgspec.json.Encoder().encode
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            job = decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return 2
        out.write(encode(answer(job)) + b"\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
