"""The typer commands. They raise planguard errors; planguard.cli turns them
into messages and exit codes."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planguard import __version__
from planguard.errors import UsageError
from planguard.findings import Severity

if TYPE_CHECKING:
    from planguard.config import Config
    from planguard.engine import Request
    from planguard.model import Plan
    from planguard.registry import Check

_SETTINGS = dict(
    name="planguard",
    help="Review infrastructure plans before they merge: what is destroyed or replaced, "
    "what depends on it, and a gate that blocks risky changes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app = typer.Typer(**_SETTINGS)  # type: ignore[arg-type]


def app_for(argv: list[str]) -> typer.Typer:
    """The app as `argv` needs it: only the command it names (typer turns
    every registered command into a click command at each start, ~25 ms for
    all of them), or all of them for `--help` and anything unknown."""
    from typer.main import get_command_name

    name = argv[0] if argv else None
    named = [
        info
        for info in app.registered_commands
        if (info.name or get_command_name(info.callback.__name__ if info.callback else "")) == name
    ]
    if not named:
        return app
    one = typer.Typer(**_SETTINGS)  # type: ignore[arg-type]
    one.registered_callback = app.registered_callback  # a group still: `planguard NAME ...`
    one.registered_commands = named
    return one


class ReviewFormat(StrEnum):
    terminal = "terminal"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"


class SummaryFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class GraphFormat(StrEnum):
    json = "json"
    mermaid = "mermaid"
    dot = "dot"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    pass


PlansArg = Annotated[
    list[str],
    typer.Argument(
        metavar="PLAN...",
        help="Plan JSON files, change sets, templates or cdk.out directories (- for standard "
        "input).",
    ),
]
MaxSize = Annotated[
    int, typer.Option("--max-size", metavar="MIB", help="Largest input file to read, in MiB.")
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]

# The inputs and settings `review` and `ack` share (one engine request each).
Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="PLAN...",
        help="Plan JSON files, change sets, templates or cdk.out directories (- for standard "
        "input).",
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        help="Policy file (default: nearest .planguard.yml or pyproject.toml).",
    ),
]
ChecksDir = Annotated[
    list[str] | None,
    typer.Option("--checks-dir", metavar="DIR", help="Directory of extra checks (PG9xx)."),
]
Before = Annotated[
    list[str] | None,
    typer.Option("--before", metavar="TEMPLATE", help="CloudFormation template before the change."),
]
After = Annotated[
    list[str] | None,
    typer.Option("--after", metavar="TEMPLATE", help="CloudFormation template after the change."),
]
Hcl = Annotated[
    list[str] | None,
    typer.Option(
        "--hcl",
        metavar="DIR",
        help="Predict changes from the .tf sources in this directory (working tree vs --base).",
    ),
]
Base = Annotated[
    str | None,
    typer.Option(
        "--base",
        metavar="REF",
        help="Git ref the --hcl sources are compared with (default: HEAD; in a pull request "
        "the merge base with origin/$GITHUB_BASE_REF).",
    ),
]
SourceDir = Annotated[
    str | None,
    typer.Option(
        "--source-dir", metavar="DIR", help="The .tf sources of the plans (for file:line)."
    ),
]


def _load(paths: list[str], max_size: int) -> list[Plan]:
    """Plans for the commands that show them without a review."""
    from planguard.load import LoadOptions, load
    from planguard.progress import progress

    with progress("Reading plans…"):
        return load(paths, LoadOptions(max_bytes=_bytes(max_size)))


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write: {exc.strerror or exc}") from None


def _config(path: str | None) -> Config:
    from planguard import config

    return config.load(path if path is not None else config.find())


def _checks(cfg: Config, checks_dir: list[str] | None) -> list[Check]:
    from planguard.config import validate_check_settings
    from planguard.registry import all_checks

    checks = all_checks([*cfg.checks_dirs, *(checks_dir or [])])
    validate_check_settings(cfg, {c.meta.id: c.meta.options for c in checks})
    return checks


@app.command()
def review(
    plans: Inputs = None,
    format: Annotated[
        ReviewFormat, typer.Option("--format", "-f", help="Report on stdout.")
    ] = ReviewFormat.terminal,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the report here instead of stdout."
        ),
    ] = None,
    markdown: Annotated[
        str | None,
        typer.Option("--markdown", metavar="FILE", help="Also write the Markdown report here."),
    ] = None,
    json_out: Annotated[
        str | None, typer.Option("--json", metavar="FILE", help="Also write the JSON report here.")
    ] = None,
    sarif: Annotated[
        str | None, typer.Option("--sarif", metavar="FILE", help="Also write SARIF here.")
    ] = None,
    config: ConfigOpt = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            metavar="SEVERITY",
            help="Block at or above this severity (info…critical); `none` is --soft-fail.",
        ),
    ] = None,
    soft_fail: Annotated[
        bool,
        typer.Option(
            "--soft-fail",
            help="Report only: write every report as usual, exit 0 whatever the verdict "
            "(for adopting planguard before it gates).",
        ),
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor", metavar="NAME", help="Who authored the change (default: from CI variables)."
        ),
    ] = None,
    ack: Annotated[
        list[str] | None,
        typer.Option(
            "--ack",
            metavar="FILE",
            help="Acknowledgement file(s) (default: .planguard-ack.json if present).",
        ),
    ] = None,
    checks_dir: ChecksDir = None,
    before: Before = None,
    after: After = None,
    hcl: Hcl = None,
    base: Base = None,
    source_dir: SourceDir = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List everything, not just the top.")
    ] = False,
    color: Annotated[
        bool | None,
        typer.Option("--color/--no-color", help="Colour (default: when stdout is a terminal)."),
    ] = None,
    trusted_ref: Annotated[
        str | None,
        typer.Option(
            "--trusted-ref",
            metavar="REF",
            help="Read the policy, user checks, inline ignores and acknowledgements from this "
            "git ref (e.g. origin/main), not from the working tree: in CI the author of a "
            "change cannot lower its own gate.",
        ),
    ] = None,
    max_size: MaxSize = 1024,
    debug: Debug = False,
) -> int:
    """Review plans and gate: exit 0 pass, 1 blocked, 2 bad input, 3 internal error."""
    from planguard import engine, trust
    from planguard.report import Format, render
    from planguard.speed import parts

    request = _request(
        plans, before, after, hcl, base, source_dir, max_size, config, checks_dir, ack
    )
    report_only = (fail_on or "").strip().lower() == "none"
    soft_fail = soft_fail or report_only
    # The reports rendered below: worker processes make their per-plan parts.
    formats = [
        format.value,
        *(f for f, path in (("markdown", markdown), ("json", json_out)) if path),
    ]
    request = replace(
        request,
        trust=trust.at_ref(trusted_ref) if trusted_ref else request.trust,
        fail_on=None if report_only else _severity(fail_on, "--fail-on"),
        actor=engine.actor(actor),
        parts=parts.for_formats(formats),
    )
    result = engine.run(request)
    if soft_fail:
        result.verdict.notes.append(
            "report only (--soft-fail): this run exits 0 whatever the verdict"
        )
    from planguard.progress import progress

    with progress("Reporting…"):
        from planguard.review import drop_values

        for plan_review in result.plans:
            drop_values(plan_review)  # reports need no values: free the plan bytes first
        use_color = sys.stdout.isatty() and output is None if color is None else color
        text = render(
            result,
            Format(format.value),
            verbose=verbose,
            color=use_color,
            columns=_columns(output),
        )
        extra = [(markdown, Format.MARKDOWN), (json_out, Format.JSON), (sarif, Format.SARIF)]
        rendered = [(path, render(result, fmt)) for path, fmt in extra if path]
    _write(text, output)
    for path, body in rendered:
        _write(body, path)
    from planguard.speed.teardown import keep

    keep(result)
    return 1 if result.verdict.blocked and not soft_fail else 0


def _columns(output: str | None = None) -> int:
    """The terminal report's width: COLUMNS, else the terminal's when stdout is
    one, else the fixed width of piped output."""
    from planguard.report.width import width

    to_tty = (output is None or output == "-") and sys.stdout.isatty()
    return width(os.environ, os.get_terminal_size(sys.stdout.fileno()).columns if to_tty else None)


def _request(
    plans: list[str] | None,
    before: list[str] | None,
    after: list[str] | None,
    hcl: list[str] | None,
    base: str | None,
    source_dir: str | None,
    max_size: int,
    config: str | None,
    checks_dir: list[str] | None,
    ack: list[str] | None,
) -> Request:
    """The engine request of `review` and `ack`, the working tree trusted."""
    from planguard import engine, trust
    from planguard.settings import Named

    return engine.Request(
        plans=tuple(plans or ()),
        before=tuple(before or ()),
        after=tuple(after or ()),
        hcl=tuple(hcl or ()),
        base=base,
        source_dir=source_dir,
        max_bytes=_bytes(max_size),
        named=Named(config, tuple(ack or ()), tuple(checks_dir or ())),
        trust=trust.working_tree(),
    )


def _bytes(max_size: int) -> int:
    if max_size < 1:
        raise UsageError("--max-size: give a size of at least 1 MiB")
    return max_size * 1024 * 1024


def _severity(text: str | None, option: str) -> Severity | None:
    if text is None:
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


@app.command()
def summary(
    plans: PlansArg,
    format: Annotated[SummaryFormat, typer.Option("--format", "-f")] = SummaryFormat.table,
    max_size: MaxSize = 1024,
    debug: Debug = False,
) -> int:
    """Counts by action and the destructive changes, with reasons and downstream counts."""
    from planguard.report import summary as summary_report

    loaded = _load(plans, max_size)
    if format is SummaryFormat.json:
        _write(summary_report.to_json(loaded), None)
    elif format is SummaryFormat.markdown:
        _write(summary_report.to_markdown(loaded), None)
    else:
        columns = _columns() if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
        _write(summary_report.to_table(loaded, color=sys.stdout.isatty(), columns=columns), None)
    return 0


@app.command()
def graph(
    plan: Annotated[
        str, typer.Argument(metavar="PLAN", help="A plan file (- for standard input).")
    ],
    format: Annotated[GraphFormat, typer.Option("--format", "-f")] = GraphFormat.json,
    impacted: Annotated[
        bool,
        typer.Option(
            "--impacted", help="Only destroyed/replaced resources and what depends on them."
        ),
    ] = False,
    max_size: MaxSize = 1024,
    debug: Debug = False,
) -> int:
    """Print the dependency graph (an arrow A → B: B depends on A, so a change to A reaches B)."""
    from planguard.graph import DependencyGraph
    from planguard.report import graph as graph_report
    from planguard.report.visible import printable

    loaded = _load([plan], max_size)
    out = []
    for p in loaded:
        g = DependencyGraph(p)
        only = graph_report.impacted_nodes(g) if impacted else None
        if only is not None and not only:
            # Still a valid (empty) graph on stdout, for whatever reads it.
            note = f"{p.source}: nothing is destroyed or replaced; the impacted graph is empty"
            sys.stderr.write(f"planguard: {printable(note)}\n")
        if format is GraphFormat.json:
            out.append(graph_report.to_json(g, only))
        elif format is GraphFormat.mermaid:
            out.append(graph_report.to_mermaid(g, only))
        else:
            out.append(graph_report.to_dot(g, only))
    _write("".join(out), None)
    return 0


@app.command("checks")
def list_checks(
    checks_dir: ChecksDir = None,
    config: ConfigOpt = None,
) -> int:
    """List every check with its id, severity and title."""
    from planguard.report import checkdocs

    cfg = _config(config)
    _write(checkdocs.table(_checks(cfg, checks_dir), cfg), None)
    return 0


@app.command()
def explain(
    check_id: Annotated[str, typer.Argument(metavar="CHECK", help="A check id, e.g. PG101.")],
    checks_dir: ChecksDir = None,
) -> int:
    """Explain one check: why it matters and how to fix what it finds."""
    from planguard.config import Config
    from planguard.report import checkdocs

    checks = _checks(Config(), checks_dir)
    for check in checks:
        if check.meta.id == check_id.upper():
            _write(checkdocs.explain(check.meta), None)
            return 0
    raise UsageError(f"no check {check_id!r} (see `planguard checks`)")


@app.command()
def ack(
    plans: Inputs = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", metavar="TEXT", help="Why these changes are accepted (required)."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", metavar="NAME", help="Who acknowledges: the second person (required)."
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="Acknowledgement file to write.")
    ] = ".planguard-ack.json",
    config: ConfigOpt = None,
    checks_dir: ChecksDir = None,
    before: Before = None,
    after: After = None,
    hcl: Hcl = None,
    base: Base = None,
    source_dir: SourceDir = None,
    max_size: MaxSize = 1024,
    debug: Debug = False,
) -> int:
    """Write an acknowledgement of exactly what these plans' findings are about: the
    check, the resource and the evidence, so that any widening needs a new one."""
    from planguard import ack as ack_mod
    from planguard import engine

    if not (reason and reason.strip()):
        raise UsageError("ack needs --reason: why these changes are accepted")
    if not (by and by.strip()):
        raise UsageError("ack needs --by: who acknowledges (the second person)")
    request = _request(
        plans, before, after, hcl, base, source_dir, max_size, config, checks_dir, []
    )
    # Acknowledge everything the policy keeps, not what older acks leave.
    result = engine.run(replace(request, use_acks=False))
    kept = result.verdict.kept
    # Integrity failures, and findings about no change, cannot be acknowledged.
    keyed = [(result.plan_keys[f.plan], f) for f in kept if not f.unconditional and f.changes]
    _write(ack_mod.render(keyed, by.strip(), reason.strip()).decode(), output)
    plans_named = len({key for key, _ in keyed})
    note = (
        f"planguard: wrote {output}: {len(keyed)} finding(s) acknowledged in {plans_named} plan(s)"
    )
    refused = len(kept) - len(keyed)
    if refused:
        note += f"; {refused} finding(s) cannot be acknowledged (plan integrity, or no change)"
    sys.stderr.write(note + "\n")
    return 0


@app.command("github")
def github_step(
    plans: Annotated[
        list[str] | None,
        typer.Argument(help="Plan files or globs (default: PLANGUARD_PLANS, one per line)."),
    ] = None,
    max_size: MaxSize = 1024,
    debug: Debug = False,
) -> int:
    """Run as a GitHub Actions step (see action.yml): review, two-person rule, PR comment,
    step summary, annotations and outputs. Settings come from PLANGUARD_* variables."""
    from planguard.github_action import run

    return run(os.environ, plans, max_bytes=max_size * 1024 * 1024)


@app.command()
def apply(
    plan: Annotated[str, typer.Argument(help="A saved plan file (terraform plan -out=FILE).")],
    terraform_args: Annotated[
        list[str] | None,
        typer.Argument(help="Arguments for terraform apply, after `--`.", show_default=False),
    ] = None,
    tofu: Annotated[bool, typer.Option("--tofu", help="Apply with OpenTofu.")] = False,
    debug: Debug = False,
) -> int:
    """Review a saved plan, then apply exactly that plan only if the review passes (or its
    findings are acknowledged). A person at a terminal can override a block by typing the
    plan's SHA-256 prefix; exit 1 when blocked, else terraform's exit code."""
    from planguard.guard import apply as guard_apply

    return guard_apply.run(plan, list(terraform_args or []), tofu=tofu)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def guard(ctx: typer.Context) -> int:
    """The hook for coding agents (Claude Code, Cursor, Gemini CLI, Kiro CLI): reviews a saved
    plan before the agent applies it. `planguard guard --help` for install and the log."""
    from planguard.guard import main

    return main(list(ctx.args))


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="ADDRESS", help="Address to listen on (0.0.0.0 in a container)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8080,
    hmac_key_env: Annotated[
        str,
        typer.Option(
            "--hmac-key-env",
            metavar="NAME",
            help="Environment variable holding the run task's HMAC key (removed from the "
            "environment once read).",
        ),
    ] = "PLANGUARD_HMAC_KEY",
    hmac_key_file: Annotated[
        str | None,
        typer.Option("--hmac-key-file", metavar="FILE", help="Read the HMAC key from this file."),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            metavar="FILE|git+URL@COMMIT[#PATH]",
            help="The policy every review uses (default: the built-in one); never the "
            "workspace's. A git policy is pinned to a full commit id.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", metavar="N", help="Reviews at a time (a process each).")
    ] = 2,
    queue_size: Annotated[
        int,
        typer.Option(
            "--queue-size",
            metavar="N",
            help="Runs that may wait; beyond that requests get 503 and HCP Terraform retries.",
        ),
    ] = 100,
    report_ttl: Annotated[
        str,
        typer.Option(
            "--report-ttl", metavar="DURATION", help="How long a report stays up (30m, 72h, 7d)."
        ),
    ] = "72h",
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            metavar="URL",
            help="The server's address as HCP Terraform users reach it, for the report links "
            "(none: results carry no link).",
        ),
    ] = None,
    debug: Debug = False,
) -> int:
    """The HCP Terraform / Terraform Enterprise run task: review each run's plan and pass or
    fail it (needs the server extra: pip install 'planguard-iac[server]')."""
    from planguard.runtask.serve import ServeOptions, main

    return main(
        ServeOptions(
            host=host,
            port=port,
            hmac_key_env=hmac_key_env,
            hmac_key_file=hmac_key_file,
            policy=policy,
            workers=workers,
            queue_size=queue_size,
            report_ttl=report_ttl,
            public_url=public_url,
        )
    )
