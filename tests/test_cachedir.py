"""Where planguard keeps what it reuses between runs (planguard.speed.cachedir),
for the parse cache and the compiled report templates alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planguard.report import markdown_env
from planguard.speed import cachedir


def test_the_user_cache_home_by_default_and_planguard_cache_dir_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    assert cachedir.root() == str(tmp_path / "home" / "planguard")
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(tmp_path / "mine"))
    assert cachedir.root() == str(tmp_path / "mine")
    assert cachedir.subdir("templates") == str(tmp_path / "mine" / "templates")
    assert (tmp_path / "mine" / "templates").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("env", [{"PLANGUARD_NO_CACHE": "1"}, {"CI": "true"}])
def test_no_cache_when_turned_off_or_in_ci(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cachedir.subdir("templates") is None
    assert not (tmp_path / "planguard").exists()


def test_ci_uses_a_cache_only_where_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(tmp_path / "ci-cache"))
    assert cachedir.subdir("hcl") == str(tmp_path / "ci-cache" / "hcl")


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX ownership")
def test_a_directory_others_can_write_is_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(tmp_path))
    shared = tmp_path / "templates"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # group and world writable: anyone could plant compiled code
    assert cachedir.subdir("templates") is None


def test_compiled_templates_follow_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(tmp_path))
    cache = markdown_env._bytecode_cache()
    assert cache is not None and Path(cache.directory) == tmp_path / "templates"
    monkeypatch.setenv("PLANGUARD_NO_CACHE", "1")
    assert markdown_env._bytecode_cache() is None
    monkeypatch.delenv("PLANGUARD_NO_CACHE")
    (tmp_path / "templates").chmod(0o777)
    assert markdown_env._bytecode_cache() is None
