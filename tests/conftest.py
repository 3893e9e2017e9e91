from __future__ import annotations

import os

import pytest

CI_ACTOR_VARIABLES = (
    "PLANGUARD_ACTOR",
    "GITHUB_ACTOR",
    "GITLAB_USER_LOGIN",
    "BUILD_REQUESTEDFOREMAIL",
    "CIRCLE_USERNAME",
)


@pytest.fixture(scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("cache-home"))


@pytest.fixture(autouse=True)
def _stable_env(monkeypatch: pytest.MonkeyPatch, _cache_home: str) -> None:
    # What planguard keeps between runs (parsed .tf files, compiled templates)
    # goes to a directory of the test session, never the user's own cache;
    # subprocesses inherit it.
    monkeypatch.setenv("XDG_CACHE_HOME", _cache_home)
    monkeypatch.delenv("PLANGUARD_CACHE_DIR", raising=False)
    # Reviews read the actor from CI variables; tests decide it explicitly.
    for name in CI_ACTOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Terminal reports follow COLUMNS, which readline puts in the process's C
    # environment (not os.environ): children get the width of piped output.
    monkeypatch.delenv("COLUMNS", raising=False)
    os.unsetenv("COLUMNS")
