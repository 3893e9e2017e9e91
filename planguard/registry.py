"""The ordered list of built-in checks, and loading of user checks by file path.

Registration is explicit: a check runs because it is listed here (or sits in
the user's checks directory), never because something imported it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from planguard.errors import ConfigError
from planguard.findings import CHECK_ID, CheckMeta, Context, Finding, Severity

# Order is the order checks run and are listed in; ids never change meaning.
BUILTIN: tuple[str, ...] = (
    "pg001_plan_integrity",
    "pg002_gate_weakened",
    "pg101_data_destroyed",
    "pg102_data_replaced",
    "pg103_mass_destruction",
    "pg104_downtime_replace",
    "pg105_protection_lowered",
    "pg106_probable_rename",
    "pg201_identity_widening",
    "pg301_network_exposure",
    "pg401_blast_radius",
)

CRASH_CHECK_ID = "PG001"


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    run: Callable[[Context], Iterator[Finding]]
    origin: str  # module name or file path


def _from_module(module: ModuleType, origin: str) -> Check:
    meta = getattr(module, "META", None)
    run = getattr(module, "check", None)
    if not isinstance(meta, CheckMeta) or not callable(run):
        raise ConfigError(origin, "a check module needs a CheckMeta `META` and a `check(ctx)`")
    if not CHECK_ID.match(meta.id):
        raise ConfigError(origin, f"check id {meta.id!r} is not of the form PGnnn")
    return Check(meta, run, origin)


def _checks_package() -> ModuleType:
    """`planguard.checks`: inside an installed wheel, or, when planguard runs
    straight from a source checkout (`python -m planguard` at its root), the
    top-level checks/ directory beside planguard/."""
    try:
        return importlib.import_module("planguard.checks")
    except ModuleNotFoundError as exc:
        if exc.name != "planguard.checks":
            raise
    source = Path(__file__).resolve().parent.parent / "checks"
    spec = importlib.util.spec_from_file_location(
        "planguard.checks", source / "__init__.py", submodule_search_locations=[str(source)]
    )
    if spec is None or spec.loader is None or not source.is_dir():
        raise ModuleNotFoundError("planguard.checks is missing from this installation")
    module = importlib.util.module_from_spec(spec)
    sys.modules["planguard.checks"] = module
    spec.loader.exec_module(module)
    return module


def builtin_checks() -> list[Check]:
    package = _checks_package().__name__
    return [
        _from_module(module, module.__name__)
        for module in (importlib.import_module(f"{package}.{name}") for name in BUILTIN)
    ]


def user_checks(directory: str) -> list[Check]:
    """Checks from `*.py` files in a directory, loaded by path; ids must be PG9xx."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(directory, "checks directory does not exist")
    out = []
    for path in sorted(root.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"planguard_user_checks.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(path, "cannot load as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ConfigError(
                path, f"user check failed to import: {type(exc).__name__}: {exc}"
            ) from None
        check = _from_module(module, str(path))
        if not check.meta.id.startswith("PG9"):
            raise ConfigError(path, f"user check ids use the PG9xx range, not {check.meta.id}")
        out.append(check)
    return out


def all_checks(user_dirs: list[str] | None = None) -> list[Check]:
    checks = builtin_checks()
    for directory in user_dirs or ():
        checks.extend(user_checks(directory))
    seen: dict[str, str] = {}
    for check in checks:
        if check.meta.id in seen:
            raise ConfigError(
                check.origin, f"check id {check.meta.id} is already used by {seen[check.meta.id]}"
            )
        seen[check.meta.id] = check.origin
    return checks


def run_check(ctx: Context, check: Check) -> list[Finding]:
    """One check's findings; a check that crashes becomes a blocking finding."""
    try:
        return list(check.run(ctx))
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return [
            Finding(
                check_id=CRASH_CHECK_ID,
                severity=Severity.CRITICAL,
                title="Plan integrity",
                message=(
                    f"check {check.meta.id} crashed ({type(exc).__name__} at "
                    f"{Path(frame.filename).name}:{frame.lineno}); the review is incomplete"
                ),
                plan=ctx.plan.source,
                unconditional=True,
            )
        ]
