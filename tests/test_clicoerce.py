"""planguard.clicoerce converts plain option values exactly as typer would."""

from __future__ import annotations

import pytest

typer = pytest.importorskip("typer")
core = pytest.importorskip("typer.core")

from planguard import clicoerce  # noqa: E402
from planguard.commands import ReviewFormat, app  # noqa: E402

SAMPLES = [
    None, "x", "", "markdown", "json", "MARKDOWN", "5", 5, 1024, True, False,
    (), ("a",), ("a", "b"), ["a"], ReviewFormat.json, b"x", 3.5,
]  # fmt: skip


def _outcome(runtime, value, param, ctx):
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # the error, as the user would see it
        return ("error", type(exc).__name__, str(exc))
    return ("value", type(result), result)


def test_same_values_and_errors_as_typer() -> None:
    build = core.build_runtime_param
    if getattr(build, "planguard_lazy", False):
        pytest.skip("typer's builder is already wrapped in this process")
    command = typer.main.get_command(app)
    ctx = typer.Context(command)
    checked = 0
    for sub in [command, *command.commands.values()]:
        for param in sub.params:
            descriptor = param.type_descriptor
            real, lazy = build(descriptor), clicoerce._Lazy(build, descriptor)
            for value in SAMPLES:
                assert _outcome(lazy, value, param, ctx) == _outcome(real, value, param, ctx), (
                    sub.name,
                    param.name,
                    value,
                )
                checked += 1
    assert checked > 500


def test_review_runs_without_pydantic(tmp_path) -> None:
    import subprocess
    import sys

    from helpers import ROOT

    code = (
        "import sys\n"
        "from planguard.cli import main\n"
        "rc = main(['review', sys.argv[1], '--format', 'markdown', '-o', sys.argv[2]])\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
        "sys.exit(0 if rc in (0, 1) else rc)\n"
    )
    plan = ROOT / "fixtures" / "scenarios" / "tag-only.json"
    out = tmp_path / "review.md"
    result = subprocess.run(
        [sys.executable, "-c", code, str(plan), str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("<!-- planguard-report -->")
