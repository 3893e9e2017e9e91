"""The README's promises stay true: its pasteable workflow is the tested one."""

from __future__ import annotations

from helpers import ROOT


def test_readme_embeds_the_linted_terraform_workflow() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    workflow = (ROOT / "docs/examples/terraform.yml").read_text(encoding="utf-8")
    assert f"```yaml\n{workflow}```" in readme


def test_readme_names_the_ci_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert "pip install '.[test]' && .venv/bin/pytest -q" in readme
    assert 'pytest" -q' in ci
