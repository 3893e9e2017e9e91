"""Several plan files reviewed side by side give the same review as one by one."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard import engine
from planguard import review as review_mod
from planguard.config import Config
from planguard.errors import InputError
from planguard.load import load
from planguard.registry import all_checks
from planguard.report import Format, render
from planguard.speed import fork

PLANS = [
    str(FIXTURES / "scenarios" / "vpc-delete.json"),
    str(FIXTURES / "scenarios" / "nested-modules.json"),
    str(FIXTURES / "scenarios" / "iam-widening.json"),
]


@pytest.fixture
def pool_for_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    if not fork.available():
        pytest.skip("process pool needs fork")
    monkeypatch.setattr(review_mod, "PARALLEL_MIN_BYTES", 0)


@pytest.mark.usefixtures("pool_for_small_files")
def test_pool_gives_the_same_reports_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checks, config = all_checks(), Config()
    reviewed = review_mod.review_files(PLANS, checks, config, max_bytes=1 << 30, jobs=2)
    assert reviewed is not None
    assert [r.plan.source for r in reviewed] == PLANS
    pools: list[int] = []
    review_files = review_mod.review_files
    monkeypatch.setattr(
        review_mod, "review_files", lambda *a, **kw: pools.append(1) or review_files(*a, **kw)
    )
    monkeypatch.chdir(tmp_path)  # no policy file: the defaults, as `config`
    pooled = engine.run(engine.Request(plans=tuple(PLANS)))
    assert pools == [1]
    serial = engine.review(load(PLANS), checks, config)
    for fmt in (Format.MARKDOWN, Format.JSON, Format.TERMINAL, Format.SARIF):
        assert render(pooled, fmt) == render(serial, fmt), fmt


@pytest.mark.usefixtures("pool_for_small_files")
def test_pool_raises_the_first_bad_file_in_order(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": "1.2", "resource_changes": 3}')
    with pytest.raises(InputError) as caught:
        review_mod.review_files(
            [PLANS[0], str(bad), PLANS[1]], all_checks(), Config(), max_bytes=1 << 30, jobs=2
        )
    assert caught.value.path == str(bad)


def test_single_or_non_terraform_inputs_take_the_ordinary_path() -> None:
    assert review_mod.review_files(PLANS[:1], all_checks(), Config(), max_bytes=1 << 30) is None
