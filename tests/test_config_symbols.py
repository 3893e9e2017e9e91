"""References resolved as impact asks give what resolving every one gives.

A plan's configuration references are resolved one resource at a time, for
the resources impact walks to (planguard.load.tfedges); which resources may
refer to a given one, and whether the configuration can form a cycle, are
read off the symbols the references name (planguard.load.tfsymbols). For
every Terraform plan among the fixtures and a small plan of each benchmark
shape, those answers must agree with resolving every reference up front,
and a configuration whose vars and outputs refer to each other in a circle
(where the order of resolving matters) must be read as before.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import FIXTURES, ROOT
from planguard.config import Config
from planguard.engine import review
from planguard.errors import InputError
from planguard.load import load, terraform
from planguard.load.tfedges import TerraformEdges
from planguard.load.tfrefs import ConfigIndex
from planguard.load.tfsymbols import SymbolGraph, acyclic
from planguard.registry import all_checks

CYCLES = FIXTURES / "terraform" / "config-cycles"


def _plans() -> list[Path]:
    out = []
    for path in sorted(FIXTURES.rglob("*.json")):
        head = path.read_bytes()[:4096]
        if b'"configuration"' in path.read_bytes() and (
            b'"format_version"' in head or b'"resource_changes"' in head
        ):
            out.append(path)
    return out


PLANS = _plans()


def _config(path: Path) -> Any:
    doc = terraform._decoder.decode(path.read_bytes())
    if doc.configuration is None:
        return None
    return terraform._Trees._read(str(path), terraform._config_tree, doc.configuration, "$")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A 1,000-resource plan of each benchmark shape."""
    out = tmp_path_factory.mktemp("bench")
    plans = []
    for shape in ("gen_plan", "gen_mono"):
        path = out / f"{shape}.json"
        script = ROOT / "benchmarks" / f"{shape}.py"
        subprocess.run(
            [sys.executable, str(script), "--resources", "1000", "-q", "-o", str(path)],
            check=True,
        )
        plans.append(path)
    return plans


def _agrees(path: Path) -> bool:
    try:
        config = _config(path)
        every = ConfigIndex(config).resource_targets() if config is not None else None
        [plan] = load([str(path)])
    except (InputError, ValueError):
        return False  # bad input, refused by the load (test_reliability)
    if every is None:
        return False
    symbols = SymbolGraph(ConfigIndex(config))
    users: dict[str, set[str]] = {}
    for source, targets in every.items():
        for target, *_ in targets:
            users.setdefault(target, set()).add(source)
    for target, sources in users.items():
        assert sources <= symbols.users(target), (path, target)
    if symbols.settled:
        one_by_one = ConfigIndex(config)
        for cfg in reversed(list(every)):  # the opposite order
            assert one_by_one.targets_of(cfg) == every[cfg], (path, cfg)
    # Whether the configuration can form a cycle, as before: every reference
    # resolved, with what prior state adds.
    edges = plan.edges
    assert isinstance(edges, TerraformEdges)
    graph = [(cfg, {t for t, *_ in targets}) for cfg, targets in every.items()]
    assert edges.acyclic() == acyclic(graph + edges._state_graph()), path
    return True


def test_fixture_plans_agree() -> None:
    read = [path for path in PLANS if _agrees(path)]
    assert len(read) > 150
    assert CYCLES / "var-output-circle.json" in read


def test_benchmark_shapes_agree(generated: list[Path]) -> None:
    assert all(_agrees(path) for path in generated)


def test_a_var_output_circle_is_read_in_one_order() -> None:
    """Resolving through a circle gives less the later it is entered: asked
    one by one, the audit would lose the seed it reads through the circle."""
    path = CYCLES / "var-output-circle.json"
    config = _config(path)
    every = ConfigIndex(config).resource_targets()
    assert [t[0] for t in every["terraform_data.audit"]] == ["terraform_data.seed"]
    reversed_order = ConfigIndex(config)
    asked = {cfg: reversed_order.targets_of(cfg) for cfg in reversed(list(every))}
    assert asked["terraform_data.audit"] == []  # why one order is kept
    assert not SymbolGraph(ConfigIndex(config)).settled

    [plan] = load([str(path)])
    edges = plan.edges
    assert isinstance(edges, TerraformEdges)
    assert edges.dependencies("terraform_data.audit") == [("terraform_data.seed", "reference")]
    assert edges.acyclic()  # the symbols go round, the resources do not
    result = review([plan], all_checks(), Config())
    assert result.plans[0].plan is plan


def test_a_reference_cycle_in_the_configuration_is_refused() -> None:
    path = CYCLES / "reference-cycle.json"
    assert not SymbolGraph(ConfigIndex(_config(path))).acyclic([])
    [plan] = load([str(path)])
    with pytest.raises(InputError, match="dependency cycle"):
        review([plan], all_checks(), Config())


def test_base_plan_is_reviewed() -> None:
    [plan] = load([str(CYCLES / "base" / "output.json")])
    edges = plan.edges
    assert isinstance(edges, TerraformEdges)
    assert edges.acyclic()
    assert sorted(a for a, _ in edges.dependents("module.net.terraform_data.vpc")) == [
        "module.net.terraform_data.subnet"
    ]
