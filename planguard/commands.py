"""The typer commands. They raise planguard errors; planguard.cli turns them
into messages and exit codes."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from planguard import __version__
from planguard.errors import UsageError

app = typer.Typer(
    name="planguard",
    help="Review infrastructure plans before they merge: what is destroyed or replaced, "
    "what depends on it, and a gate that blocks risky changes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class ReviewFormat(StrEnum):
    terminal = "terminal"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"


class SummaryFormat(StrEnum):
    table = "table"
    json = "json"


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
    typer.Argument(help="Plan JSON files, change sets, templates or cdk.out directories."),
]
MaxSize = Annotated[int, typer.Option("--max-size", help="Largest input file to read, in MiB.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]


def _load(
    paths: list[str], max_size: int, before: list[str] | None = None, after: list[str] | None = None
):
    from planguard.load import LoadOptions, load
    from planguard.progress import progress

    with progress("Reading plans…"):
        return load(
            paths,
            LoadOptions(max_bytes=max_size * 1024 * 1024, before=before or [], after=after or []),
        )


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write: {exc.strerror or exc}") from None


def _config(path: str | None):
    from planguard import config

    return config.load(path if path is not None else config.find())


def _actor(actor: str | None) -> str | None:
    if actor:
        return actor
    for name in (
        "PLANGUARD_ACTOR",
        "GITHUB_ACTOR",
        "GITLAB_USER_LOGIN",
        "BUILD_REQUESTEDFOREMAIL",
        "CIRCLE_USERNAME",
    ):
        if os.environ.get(name):
            return os.environ[name]
    return None


def _checks(cfg, checks_dir: list[str] | None):
    from planguard.config import validate_check_settings
    from planguard.registry import all_checks

    checks = all_checks([*cfg.checks_dirs, *(checks_dir or [])])
    validate_check_settings(cfg, {c.meta.id: c.meta.options for c in checks})
    return checks


@app.command()
def review(
    plans: PlansArg = None,
    format: Annotated[
        ReviewFormat, typer.Option("--format", "-f", help="Report on stdout.")
    ] = ReviewFormat.terminal,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the report here instead of stdout.")
    ] = None,
    markdown: Annotated[
        str | None, typer.Option("--markdown", help="Also write the Markdown report here.")
    ] = None,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the JSON report here.")
    ] = None,
    sarif: Annotated[str | None, typer.Option("--sarif", help="Also write SARIF here.")] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            help="Policy file (default: nearest .planguard.yml or pyproject.toml).",
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option("--fail-on", help="Block at or above this severity (info…critical)."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Who authored the change (default: from CI variables)."),
    ] = None,
    ack: Annotated[
        list[str] | None,
        typer.Option(
            "--ack", help="Acknowledgement file(s) (default: .planguard-ack.json if present)."
        ),
    ] = None,
    checks_dir: Annotated[
        list[str] | None, typer.Option("--checks-dir", help="Directory of extra checks (PG9xx).")
    ] = None,
    before: Annotated[
        list[str] | None,
        typer.Option("--before", help="CloudFormation template before the change."),
    ] = None,
    after: Annotated[
        list[str] | None, typer.Option("--after", help="CloudFormation template after the change.")
    ] = None,
    hcl: Annotated[
        list[str] | None,
        typer.Option(
            "--hcl",
            help="Predict changes from the .tf sources in this directory (working tree vs --base).",
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Git ref the --hcl sources are compared with (default: HEAD; in a pull request "
            "the merge base with origin/$GITHUB_BASE_REF).",
        ),
    ] = None,
    source_dir: Annotated[
        str | None,
        typer.Option("--source-dir", help="The .tf sources of the plans (for file:line)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List everything, not just the top.")
    ] = False,
    color: Annotated[
        bool | None,
        typer.Option("--color/--no-color", help="Colour (default: when stdout is a terminal)."),
    ] = None,
    max_size: MaxSize = 1024,
    debug: Debug = False,
) -> int:
    """Review plans and gate: exit 0 pass, 1 blocked, 2 bad input, 3 internal error."""
    from planguard import ack as ack_mod
    from planguard.findings import Severity
    from planguard.report import Format, render
    from planguard.review import review as run_review

    if not plans and not (before or after or hcl):
        raise UsageError("review needs at least one plan file (or --before/--after, or --hcl)")
    cfg = _config(config)
    threshold = None
    if fail_on is not None:
        try:
            threshold = Severity.parse(fail_on)
        except ValueError as exc:
            raise UsageError(f"--fail-on: {exc}") from None
    checks = _checks(cfg, checks_dir)
    from planguard.progress import progress

    # Several big plan files: loaded and reviewed side by side, one process each.
    reviewed = None
    if plans and len(plans) > 1 and not (before or after or hcl or base):
        from planguard.review import review_files

        with progress("Reviewing plans…") as say:
            reviewed = review_files(
                plans,
                checks,
                cfg,
                max_bytes=max_size * 1024 * 1024,
                source_dir=source_dir,
                done=lambda n, total: say(f"Reviewing plans… {n} of {total} done"),
            )
    side = None
    if reviewed is None and plans and not (before or after or hcl or base):
        side = _aside(plans, checks, cfg, max_size, source_dir)
    try:
        if reviewed is not None:
            loaded = [r.plan for r in reviewed]
        else:
            loaded = _load(plans or [], max_size, before, after)
            from planguard.load import sources_wanted

            if sources_wanted(loaded, hcl or [], base, source_dir):
                from planguard.load import hcl as hcl_load

                loaded = hcl_load.for_review(loaded, hcl or [], base=base, source_dir=source_dir)
        acks = ack_mod.load_all(ack)
        with progress("Reviewing…"):
            result = run_review(
                loaded,
                checks,
                cfg,
                actor=_actor(actor),
                acks=acks,
                fail_on=threshold,
                reviewed=reviewed,
                aside=side,
            )
        with progress("Reporting…"):
            from planguard.review import drop_values

            for plan_review in result.plans:
                drop_values(plan_review)  # reports need no values: free the plan bytes first
            use_color = sys.stdout.isatty() and output is None if color is None else color
            text = render(result, Format(format.value), verbose=verbose, color=use_color)
            extra = [(markdown, Format.MARKDOWN), (json_out, Format.JSON), (sarif, Format.SARIF)]
            rendered = [(path, render(result, fmt)) for path, fmt in extra if path]
        _write(text, output)
        for path, body in rendered:
            _write(body, path)
    finally:
        if side is not None:
            side.close()  # normally long gone by now; else told to stop
    from planguard.cli import keep

    keep(loaded, result)
    return 1 if result.verdict.blocked else 0


def _aside(plans: list[str], checks, cfg, max_size: int, source_dir: str | None):
    """The value-reading checks, started in another process before the load."""
    from planguard import aside
    from planguard.load import LoadOptions

    options = LoadOptions(max_bytes=max_size * 1024 * 1024)
    return aside.start(aside.Job(plans, options, checks, cfg, source_dir))


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
    else:
        _write(summary_report.to_table(loaded, color=sys.stdout.isatty()), None)
    return 0


@app.command()
def graph(
    plan: Annotated[str, typer.Argument(help="A plan file.")],
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
    """Print the dependency graph (edges point from a resource to what it depends on)."""
    from planguard.graph import DependencyGraph
    from planguard.report import graph as graph_report

    loaded = _load([plan], max_size)
    out = []
    for p in loaded:
        g = DependencyGraph(p)
        only = graph_report.impacted_nodes(g) if impacted else None
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
    checks_dir: Annotated[list[str] | None, typer.Option("--checks-dir")] = None,
    config: Annotated[str | None, typer.Option("--config", "-c")] = None,
) -> int:
    """List every check with its id, severity and title."""
    from planguard.report import checkdocs

    cfg = _config(config)
    _write(checkdocs.table(_checks(cfg, checks_dir), cfg), None)
    return 0


@app.command()
def explain(
    check_id: Annotated[str, typer.Argument(help="A check id, e.g. PG101.")],
    checks_dir: Annotated[list[str] | None, typer.Option("--checks-dir")] = None,
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
    plans: PlansArg,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Acknowledgement file to write.")
    ] = ".planguard-ack.json",
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why these changes are accepted.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who acknowledges (default: from CI variables).")
    ] = None,
    config: Annotated[str | None, typer.Option("--config", "-c")] = None,
    checks_dir: Annotated[list[str] | None, typer.Option("--checks-dir")] = None,
    max_size: MaxSize = 1024,
    debug: Debug = False,
) -> int:
    """Write an acknowledgement of exactly the changes these plans' findings are about."""
    from planguard import ack as ack_mod
    from planguard.review import review as run_review

    cfg = _config(config)
    checks = _checks(cfg, checks_dir)
    result = run_review(_load(plans, max_size), checks, cfg)
    body = ack_mod.render(result.verdict.kept, by or _actor(None), reason)
    _write(body.decode(), output)
    count = sum(len(f.changes) for f in result.verdict.kept)
    sys.stderr.write(f"planguard: wrote {output} ({count} change(s) acknowledged)\n")
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
