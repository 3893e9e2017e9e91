"""planguard's exceptions: one base class per layer, turned into messages and
exit codes in one place (planguard.cli)."""

from __future__ import annotations


class PlanguardError(Exception):
    """Base of every error planguard raises on purpose."""

    exit_code = 3


class InputError(PlanguardError):
    """An input file cannot be read as what it claims to be (exit 2)."""

    exit_code = 2

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        # Raised in review worker processes and re-raised in the parent.
        return type(self), (self.path, self.problem)


class ConfigError(PlanguardError):
    """The configuration or an acknowledgement file is invalid (exit 2)."""

    exit_code = 2

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str, int | None]]:
        return type(self), (self.path, self.problem, self.line)


class UsageError(PlanguardError):
    """The command line asks for something that cannot be done (exit 2)."""

    exit_code = 2
