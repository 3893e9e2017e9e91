"""The built-in checks ship inside the wheel (a non-editable install must find them)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import ROOT
from planguard.registry import BUILTIN, builtin_checks


def test_wheel_contains_every_builtin_check_and_data(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("planguard_iac-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in BUILTIN:
        assert f"planguard/checks/{name}.py" in names
    assert "planguard/data/data_bearing.json" in names
    assert not any(n.startswith("checks/") for n in names), "checks must not be a top-level package"


def test_installed_package_finds_every_builtin_check() -> None:
    ids = [c.meta.id for c in builtin_checks()]
    assert len(ids) == len(BUILTIN)
    assert ids == sorted(ids)
