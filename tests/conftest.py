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


@pytest.fixture(autouse=True)
def _stable_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Reviews read the actor from CI variables; tests decide it explicitly.
    for name in CI_ACTOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Terminal reports follow COLUMNS, which readline puts in the process's C
    # environment (not os.environ): children get the width of piped output.
    monkeypatch.delenv("COLUMNS", raising=False)
    os.unsetenv("COLUMNS")
