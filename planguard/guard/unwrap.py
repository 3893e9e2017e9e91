"""From simple commands to the programs they run.

`sudo -u ops env -C infra terraform apply tfplan` runs terraform in `infra`;
`bash -c '…'`, `eval …`, `ssh host '…'` and `watch '…'` run a command line
of their own. Each simple command gives one or more `Run`s: the program's
words, the directory it runs in, and whether more arguments come from
elsewhere (`xargs`). A wrapper this module does not know is still seen
through: every later word that names a program the guard cares about, or a
shell given `-c`, starts a `Run` of its own, so `aws-vault exec prod --
terraform destroy` is read as `terraform destroy`.
"""

from __future__ import annotations

import os

from planguard.guard import shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "ash", "mksh", "busybox", "fish"})
# Programs whose words the guard reads (infra.py, protect.py).
WATCHED = frozenset(
    {"terraform", "tofu", "terragrunt", "aws", "cdk", "aws-cdk", "sam", "planguard"}
)

# Wrappers that run the rest of their words as a command: options that take
# a value (as the next word), and those that change directory.
_WRAPPERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "sudo": (
        frozenset(
            [
                "-u",
                "-g",
                "-C",
                "-D",
                "-h",
                "-p",
                "-r",
                "-t",
                "-U",
                "-T",
                "--user",
                "--group",
                "--close-from",
                "--chdir",
                "--host",
                "--prompt",
                "--role",
                "--type",
                "--other-user",
                "--command-timeout",
            ]
        ),
        frozenset({"-D", "--chdir"}),
    ),
    "doas": (frozenset({"-u", "-C"}), frozenset()),
    "env": (frozenset({"-u", "-C", "--unset", "--chdir"}), frozenset({"-C", "--chdir"})),
    "nice": (frozenset({"-n", "--adjustment"}), frozenset()),
    "ionice": (frozenset({"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}), frozenset()),
    "nohup": (frozenset(), frozenset()),
    "time": (frozenset({"-f", "-o", "--format", "--output"}), frozenset()),
    "command": (frozenset(), frozenset()),
    "builtin": (frozenset(), frozenset()),
    "exec": (frozenset({"-a"}), frozenset()),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), frozenset()),
    "timeout": (frozenset({"-k", "-s", "--kill-after", "--signal"}), frozenset()),
    "chronic": (frozenset(), frozenset()),
    "unbuffer": (frozenset(), frozenset()),
    "caffeinate": (frozenset({"-t", "-w"}), frozenset()),
}
# Runners whose remaining words are one command line (joined with spaces).
_LINE_RUNNERS = frozenset({"eval", "watch", "ssh"})
_SSH_VALUES = frozenset(
    [
        "-b",
        "-c",
        "-D",
        "-E",
        "-e",
        "-F",
        "-I",
        "-i",
        "-J",
        "-L",
        "-l",
        "-m",
        "-O",
        "-o",
        "-p",
        "-Q",
        "-R",
        "-S",
        "-W",
        "-w",
    ]
)
_XARGS_VALUES = frozenset(
    ["-a", "-d", "-E", "-e", "-I", "-i", "-L", "-l", "-n", "-P", "-s", "--arg-file", "--delimiter"]
)


class Run:
    """One program run: its words, where it runs (None: unknown), whether it
    gets more arguments than these (`xargs`), and the files its command's
    redirections write, each with the directory it is relative to."""

    __slots__ = ("argv", "cwd", "more_args", "writes")

    def __init__(
        self,
        argv: list[str],
        cwd: str | None,
        more_args: bool = False,
        writes: tuple[tuple[str, str | None], ...] = (),
    ) -> None:
        self.argv = argv
        self.cwd = cwd
        self.more_args = more_args
        self.writes = writes

    def __repr__(self) -> str:
        return f"Run({self.argv!r}, cwd={self.cwd!r})"

    @property
    def name(self) -> str:
        return program(self.argv[0]) if self.argv else ""


def program(word: str) -> str:
    """The program a word names: `/usr/bin/terraform`, `\\terraform` and
    `terraform.exe` are `terraform`; `tofu1.8` is `tofu`."""
    name = os.path.basename(word.lstrip("\\")).lower()
    if name.endswith(".exe") or name.endswith(".cmd"):
        name = name[:-4]
    for base in ("terraform", "tofu"):
        if name.startswith(base) and name[len(base) :].lstrip("-_.").replace(".", "").isdigit():
            return base
    return name


def runs(commands: list[shell.Simple], depth: int = 0) -> Iterator[Run]:
    """Every program the commands run, wrappers and nested shells opened.
    A command of redirections alone (`> file`) is a run without words."""
    for command in commands:
        writes = tuple((target, command.cwd) for target in command.written)
        if writes:
            yield Run([], command.cwd, writes=writes)
        if command.argv:
            yield from _runs(command.argv, command.cwd, depth)


def _runs(argv: list[str], cwd: str | None, depth: int) -> Iterator[Run]:
    argv, cwd, more = _unwrapped(argv, cwd)
    if not argv:
        return
    name = program(argv[0])
    if name in SHELLS:
        script = _shell_script(argv)
        if script is not None:
            yield from runs(shell.parse(script, cwd, depth + 1), depth + 1)
        return
    if name in _LINE_RUNNERS:
        line, where = _line(name, argv, cwd)
        if line:
            yield from runs(shell.parse(line, where, depth + 1), depth + 1)
        return
    yield Run(argv, cwd, more)
    if name in WATCHED:
        return
    # A wrapper not known by name: look for the programs that matter in its words.
    for i in range(1, len(argv)):
        inner = program(argv[i])
        if inner in WATCHED or (inner in SHELLS and _shell_script(argv[i:]) is not None):
            yield from _runs(argv[i:], cwd, depth)
            return


def _unwrapped(argv: list[str], cwd: str | None) -> tuple[list[str], str | None, bool]:
    """The command under the known wrappers, and where it runs."""
    more = False
    while argv:
        name = program(argv[0])
        if name == "xargs":
            argv = _skip_options(argv[1:], _XARGS_VALUES)
            more = True
            continue
        spec = _WRAPPERS.get(name)
        if spec is None:
            break
        values, chdirs = spec
        if name in ("command", "builtin") and any(a in ("-v", "-V") for a in argv[1:2]):
            return [], cwd, more  # `command -v x` only looks x up
        i = 1
        while i < len(argv):
            word = argv[i]
            if word == "--":
                i += 1
                break
            if name == "env" and shell._ASSIGNMENT.match(word):
                i += 1
                continue
            if not word.startswith("-") or word == "-":
                break
            option, eq, value = word.partition("=")
            if option in values and not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            elif option[:2] in chdirs and len(option) > 2 and not option.startswith("--"):
                value, option = option[2:], option[:2]  # -Cdir
            if option in chdirs:
                cwd = shell.resolve(cwd, value)
            if name == "env" and option in ("-S", "--split-string"):
                return [], cwd, more  # a command line of its own: not read
            i += 1
        if name == "timeout" and i < len(argv):
            i += 1  # the duration
        argv = argv[i:]
    return argv, cwd, more


def _skip_options(words: list[str], values: frozenset[str]) -> list[str]:
    i = 0
    while i < len(words) and words[i].startswith("-"):
        if words[i] == "--":
            return words[i + 1 :]
        if words[i] in values:
            i += 1
        i += 1
    return words[i:]


def _shell_script(argv: list[str]) -> str | None:
    """The script of `sh -c SCRIPT` (also `bash -lc`, `bash -e -c`), or None."""
    reading = False
    for word in argv[1:]:
        if reading:
            return word
        if word == "--" or not word.startswith(("-", "+")):
            return None
        if not word.startswith("--") and "c" in word[1:]:
            reading = True
    return None


def _line(name: str, argv: list[str], cwd: str | None) -> tuple[str, str | None]:
    """The command line an `eval`, `watch` or `ssh` runs, and where."""
    if name == "eval":
        return " ".join(argv[1:]), cwd
    if name == "watch":
        rest = _skip_options(argv[1:], frozenset({"-n", "-d", "--interval", "-q"}))
        return " ".join(rest), cwd
    rest = _skip_options(argv[1:], _SSH_VALUES)
    return " ".join(rest[1:]), None  # after the host; runs elsewhere
