"""The policy file: `.planguard.yml`, or `[tool.planguard]` in pyproject.toml.

Validated key by key; an error names the file and, for YAML, the line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planguard.errors import ConfigError
from planguard.findings import CHECK_ID, Severity

CONFIG_NAMES = (".planguard.yml", ".planguard.yaml")
# Looked for in each directory, nearest first (a pyproject.toml counts when it
# has a [tool.planguard] table).
POLICY_FILES = (*CONFIG_NAMES, "pyproject.toml")
# Checks no setting can touch (see `tunable` in `parse`).
UNTUNABLE = frozenset({"PG001"})


@dataclass(frozen=True)
class Ignore:
    check: str
    address: str  # glob
    reason: str
    expires: dt.date | None = None
    plan: str | None = None  # glob on the plan path


@dataclass(frozen=True)
class Config:
    path: str | None = None
    fail_on: Severity = Severity.HIGH
    max_score: int | None = None
    automation_patterns: tuple[str, ...] = ("*[bot]", "dependabot*", "renovate*")
    automation_fail_on: Severity = Severity.MEDIUM
    severity: dict[str, Severity] = field(default_factory=dict)
    disable: frozenset[str] = frozenset()
    ignores: tuple[Ignore, ...] = ()
    data_bearing_types: dict[str, str] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks_dirs: tuple[str, ...] = ()
    required_approvals: int = 1
    approval_level: Severity = Severity.HIGH
    # Line of each key, by path (("ignore", 0) is the first ignore entry), for
    # messages that point into the file.
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, *path: str | int) -> int | None:
        return _Lines(self.lines).of(*path)


class _Lines:
    """Line numbers of YAML keys, by dotted path, for error messages."""

    def __init__(self, lines: dict[tuple[str | int, ...], int] | None = None) -> None:
        self.lines = lines or {}

    def of(self, *path: Any) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def _yaml_load(path: str, text: str) -> tuple[Any, _Lines]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = _problem(getattr(exc, "problem", None) or str(exc))
        raise ConfigError(
            path, f"invalid YAML: {problem}", mark.line + 1 if mark else None
        ) from None
    lines: dict[tuple[str | int, ...], int] = {}
    loader = yaml.SafeLoader("")
    budget = [10_000]  # nodes; aliases re-expand, so this bounds "billion laughs"

    def build(n: Any, at: tuple[str | int, ...]) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise ConfigError(path, "too many values (alias expansion?)", n.start_mark.line + 1)
        lines.setdefault(at, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                key = build(k, at)
                if not isinstance(key, (str, int)):
                    raise ConfigError(path, "keys must be strings", k.start_mark.line + 1)
                if key in out:
                    raise ConfigError(
                        path, f"duplicate key {shown(key)}".rstrip(), k.start_mark.line + 1
                    )
                out[key] = build(v, (*at, key))
                lines[(*at, key)] = k.start_mark.line + 1
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(v, (*at, i)) for i, v in enumerate(n.value)]
        try:
            return loader.construct_object(n, deep=True)
        except yaml.YAMLError as exc:
            problem = _problem(getattr(exc, "problem", None) or str(exc))
            raise ConfigError(path, f"invalid value: {problem}", n.start_mark.line + 1) from None

    if node is None:
        return {}, _Lines()
    return build(node, ()), _Lines(lines)


# What of the input a message may show: a plain word (a key or a severity as a
# person types them, typos included) or a check id. Anything else — a token, a
# password, a line of the file — is left out: messages reach CI logs.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z_-]{0,31}")
_QUOTE = re.compile("['\"`]")


def shown(value: object) -> str:
    """`value` as a message may show it, or "" when it may not."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and (_PLAIN.fullmatch(value) or CHECK_ID.fullmatch(value)):
        return value
    return ""


def _problem(message: str) -> str:
    """A YAML error's kind of problem: PyYAML quotes the offending tag, character
    or line, so everything from the first quote or line break on is dropped."""
    text = _QUOTE.split(message.split("\n", 1)[0], 1)[0].strip().rstrip(":,").strip()
    return text or "cannot be read"


# The top-level keys, in the order they are validated (the first error in
# this order is the one reported).
_KNOWN = (
    "fail_on",
    "max_score",
    "automation",
    "severity",
    "disable",
    "ignore",
    "data_bearing_types",
    "checks",
    "checks_dir",
    "approvals",
)


def find(start: Path | None = None) -> Path | None:
    """The nearest policy file from `start` upwards (stopping at a git root)."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                raw = read_file(pyproject)
                doc = tomllib.loads(raw.decode("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                # Broken TOML that names planguard is a broken policy: loading
                # it says where, rather than reviewing with no policy at all.
                if b"planguard" in raw:
                    return pyproject
                doc = {}
            except (ConfigError, OSError):
                doc = {}
            if "planguard" in doc.get("tool", {}):
                return pyproject
        if (directory / ".git").exists():
            break
    return None


# A policy or acknowledgement file is small; anything bigger is not one.
SETTINGS_MAX_BYTES = 8 * 1024 * 1024


def read_file(path: str | Path) -> bytes:
    """A settings file's bytes: a regular file (or a link to one) within
    SETTINGS_MAX_BYTES; a device, pipe or bigger file is refused unread."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(path, "not a regular file (a device, pipe, socket or directory)")
        with open(path, "rb") as f:
            data = f.read(SETTINGS_MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, "cannot read: no such file") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > SETTINGS_MAX_BYTES:
        limit = SETTINGS_MAX_BYTES // (1024 * 1024)
        raise ConfigError(path, f"over {limit} MiB: not a settings file")
    return data


def load(path: str | Path | None, today: dt.date | None = None) -> Config:
    if path is None:
        return Config()
    return loads(str(path), read_file(path), base=Path(path).parent)


def is_policy(name: str, data: bytes) -> bool:
    """Whether a file found by name holds a policy (a pyproject.toml may not)."""
    if not name.endswith("pyproject.toml"):
        return True
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return "planguard" in doc.get("tool", {})


def loads(path: str, data: bytes, base: Path | None = None) -> Config:
    """The policy in `data`, read from `path` (a name for messages); `base` is
    the directory `checks_dir` is relative to."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text (bad byte at offset {exc.start})") from None
    name = Path(path).name
    if name == "pyproject.toml" or name.endswith(".toml"):
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib says where in its message; the line goes where every
            # config error puts it (file:line), the column stays in the text.
            found = re.search(r" \(at line (\d+), column (\d+)\)$", str(exc))
            problem = str(exc)[: found.start()] if found else str(exc)
            line = int(found.group(1)) if found else None
            column = f" (column {found.group(2)})" if found else ""
            raise ConfigError(path, f"invalid TOML: {problem}{column}", line) from None
        raw = doc.get("tool", {}).get("planguard", {}) if name == "pyproject.toml" else doc
        lines = _toml_lines(text, name == "pyproject.toml")
    else:
        raw, lines = _yaml_load(path, text)
    return parse(path, raw, lines, base=base if base is not None else Path(path).parent)


_TOML_TABLE = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(?:#.*)?$")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_\"'.-]+?)\s*=")


def _toml_lines(text: str, in_pyproject: bool) -> _Lines:
    """Lines of the policy's keys in TOML (tomllib keeps none): each key's line
    within its table, good enough to point a reader at the place."""
    prefix: tuple[str, ...] = ("tool", "planguard") if in_pyproject else ()
    table: tuple[str | int, ...] | None = () if not prefix else None
    lines: dict[tuple[str | int, ...], int] = {}
    arrays: dict[tuple[str | int, ...], int] = {}  # [[x]] headers seen so far, by name
    for number, line in enumerate(text.splitlines(), 1):
        header = _TOML_TABLE.match(line)
        if header:
            parts = tuple(p.strip().strip("\"'") for p in header.group(1).split("."))
            table = parts[len(prefix) :] if parts[: len(prefix)] == prefix else None
            if table and line.lstrip().startswith("[["):  # an array of tables: its index
                arrays[table] = arrays.get(table, -1) + 1
                lines.setdefault(table, number)
                table = (*table, arrays[table])
            if table:
                lines.setdefault(table, number)
            continue
        key = _TOML_KEY.match(line)
        if key and table is not None:
            parts = tuple(p.strip().strip("\"'") for p in key.group(1).split("."))
            lines.setdefault((*table, *parts), number)
    return _Lines(lines)


def parse(path: str, raw: Any, lines: _Lines | None = None, base: Path | None = None) -> Config:
    """Validate the policy document `raw` read from `path`, key by key; an error
    names the file and, where known, the line. `base`: what checks_dir is
    relative to."""
    return _Parser(path, lines or _Lines(), base or Path()).config(raw)


_Where = str | int


class _Parser:
    """One policy document's validation: one method per top-level key."""

    def __init__(self, path: str, lines: _Lines, base: Path) -> None:
        self.path, self.lines, self.base = path, lines, base

    def config(self, raw: Any) -> Config:
        raw = self.mapping(raw) if raw is not None else {}
        unknown = sorted(set(raw) - set(_KNOWN), key=str)
        if unknown:
            raise self.fail(f"unknown key (known: {', '.join(sorted(_KNOWN))})", unknown[0])
        kw: dict[str, Any] = {"path": self.path, "lines": self.lines.lines}
        for key in _KNOWN:
            if key in raw:
                kw.update(getattr(self, f"_{key}")(raw[key]))
        return Config(**kw)

    # -- the keys ------------------------------------------------------------------

    def _fail_on(self, value: Any) -> dict[str, Any]:
        return {"fail_on": self.severity(value, "fail_on")}

    def _max_score(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            raise self.fail("must be a whole number from 0 to 100", "max_score")
        return {"max_score": value}

    def _automation(self, value: Any) -> dict[str, Any]:
        auto = self.known_keys(value, ("patterns", "fail_on"), "automation")
        out: dict[str, Any] = {}
        if "patterns" in auto:
            out["automation_patterns"] = tuple(
                self.strings(auto["patterns"], "automation", "patterns")
            )
        if "fail_on" in auto:
            out["automation_fail_on"] = self.severity(auto["fail_on"], "automation", "fail_on")
        return out

    def _severity(self, value: Any) -> dict[str, Any]:
        remaps = self.mapping(value, "severity")
        return {
            "severity": {
                self.tunable(k, "severity", k): self.severity(v, "severity", k)
                for k, v in remaps.items()
            }
        }

    def _disable(self, value: Any) -> dict[str, Any]:
        ids = self.strings(value, "disable")
        return {"disable": frozenset(self.tunable(v, "disable", i) for i, v in enumerate(ids))}

    def _ignore(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, list):
            raise self.fail("must be a list", "ignore")
        return {"ignores": tuple(self.ignore(item, i) for i, item in enumerate(value))}

    def _data_bearing_types(self, value: Any) -> dict[str, Any]:
        if isinstance(value, list):
            value = {t: "data store" for t in self.strings(value, "data_bearing_types")}
        value = self.mapping(value, "data_bearing_types")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise self.fail("must map resource types to a kind of data", "data_bearing_types")
        return {"data_bearing_types": dict(value)}

    def _checks(self, value: Any) -> dict[str, Any]:
        return {
            "checks": {
                self.check_id(k, "checks", k): dict(self.mapping(v, "checks", k))
                for k, v in self.mapping(value, "checks").items()
            }
        }

    def _checks_dir(self, value: Any) -> dict[str, Any]:
        dirs = [value] if isinstance(value, str) else self.strings(value, "checks_dir")
        return {"checks_dirs": tuple(str(self.base / d) for d in dirs)}

    def _approvals(self, value: Any) -> dict[str, Any]:
        approvals = self.known_keys(value, ("required", "level"), "approvals")
        out: dict[str, Any] = {}
        if "required" in approvals:
            required = approvals["required"]
            if not isinstance(required, int) or isinstance(required, bool) or required < 0:
                raise self.fail("must be a whole number ≥ 0", "approvals", "required")
            out["required_approvals"] = required
        if "level" in approvals:
            out["approval_level"] = self.severity(approvals["level"], "approvals", "level")
        return out

    def ignore(self, item: Any, i: int) -> Ignore:
        known = ("check", "address", "reason", "expires", "plan")
        item = self.known_keys(item, known, "ignore", i)
        if not isinstance(item.get("reason"), str) or not item["reason"].strip():
            raise self.fail("an ignore needs a reason", "ignore", i)
        address = item.get("address", "*")
        if not isinstance(address, str):
            raise self.fail("must be a string (glob)", "ignore", i, "address")
        expires = item.get("expires")
        if isinstance(expires, dt.datetime):  # YAML and TOML timestamps: their day
            expires = expires.date()
        if expires is not None and not isinstance(expires, dt.date):
            try:
                expires = dt.date.fromisoformat(str(expires))
            except ValueError:
                raise self.fail("must be a date (YYYY-MM-DD)", "ignore", i, "expires") from None
        plan = item.get("plan")
        if plan is not None and not isinstance(plan, str):
            raise self.fail("must be a string (glob)", "ignore", i, "plan")
        check = self.tunable(item.get("check"), "ignore", i, "check")
        return Ignore(check, address, item["reason"].strip(), expires, plan)

    # -- the value kinds -----------------------------------------------------------

    def fail(self, problem: str, *at: _Where) -> ConfigError:
        # The path is made of keys from the file: each one shown only if plain.
        where = ".".join(shown(a) or "…" for a in at)
        if not where.strip(".…"):
            where = ""
        text = f"{where}: {problem}" if where else problem
        return ConfigError(self.path, text, self.lines.of(*at))

    def severity(self, value: Any, *at: _Where) -> Severity:
        if not isinstance(value, str):
            raise self.fail("must be a severity (info, low, medium, high, critical)", *at)
        try:
            return Severity.parse(value)
        except ValueError:
            names = ", ".join(s.value for s in Severity)
            typed = f" {shown(value)!r}" if shown(value) else ""
            raise self.fail(f"unknown severity{typed} (one of {names})", *at) from None

    def check_id(self, value: Any, *at: _Where) -> str:
        if not isinstance(value, str) or not CHECK_ID.match(value):
            raise self.fail("not a check id (PGnnn)", *at)
        return value

    def tunable(self, value: Any, *at: _Where) -> str:
        # An errored or incomplete plan, or a crashed check, means the review
        # saw part of the change: no setting may hide that.
        checked = self.check_id(value, *at)
        if checked in UNTUNABLE:
            raise self.fail(
                f"{checked} (plan integrity) cannot be disabled, remapped or ignored", *at
            )
        return checked

    def mapping(self, value: Any, *at: _Where) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.fail("must be a mapping", *at)
        return value

    def known_keys(self, value: Any, known: tuple[str, ...], *at: _Where) -> dict[Any, Any]:
        found = self.mapping(value, *at)
        for key in sorted(set(found) - set(known), key=str):
            raise self.fail(f"unknown key (known: {', '.join(known)})", *at, key)
        return found

    def strings(self, value: Any, *at: _Where) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("must be a list of strings", *at)
        return value


def validate_check_settings(config: Config, known: dict[str, dict[str, Any]]) -> None:
    """Every check id the policy names is a check that exists (built-in or a
    user check loaded from checks_dir): a typo such as `disable: [PG310]`
    would otherwise tune nothing, silently. Check options must name one of the
    check's options and be of the kind of its default."""
    where = config.path or "config"
    named: list[tuple[str, tuple[str | int, ...]]] = [
        *((c, ("severity", c)) for c in config.severity),
        *((c, ("disable", c)) for c in sorted(config.disable)),
        *((ig.check, ("ignore", i, "check")) for i, ig in enumerate(config.ignores)),
        *((c, ("checks", c)) for c in config.checks),
    ]
    for check_id, at_path in named:
        if check_id not in known:
            line = (
                _line_naming(config, "disable", check_id)
                if at_path[0] == "disable"
                else config.line_of(*at_path)
            )
            raise ConfigError(
                where, f"{at_path[0]}: no check {check_id} (see planguard checks)", line
            )
    for check_id, settings in config.checks.items():
        for key, value in settings.items():
            at = f"checks.{check_id}.{shown(key) or '…'}"
            if key not in known[check_id]:
                options = ", ".join(sorted(known[check_id])) or "none"
                line = config.line_of("checks", check_id, key)
                raise ConfigError(where, f"{at}: unknown option (options: {options})", line)
            expected = _kind(known[check_id][key])
            if expected is not None and _kind(value) != expected:
                raise ConfigError(
                    where, f"{at}: must be {expected}", config.line_of("checks", check_id, key)
                )


def _line_naming(config: Config, key: str, check_id: str) -> int | None:
    """The line under `key` that names `check_id` (a list item has no key of
    its own to be found by), else the line of `key`."""
    if config.path and Path(config.path).is_file():
        start = config.line_of(key) or 1
        text = read_file(config.path).decode("utf-8", "replace").splitlines()
        for number, line in enumerate(text[start - 1 :], start):
            if re.search(rf"\b{check_id}\b", line):
                return number
    return config.line_of(key)


def _kind(value: Any) -> str | None:
    """The kind of an option's value, as a message names it (None: any)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return None
