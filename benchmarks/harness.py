"""Running a command as a measured child process: wall time, peak RSS, status.

Shared by run.py and startup.py. A child's ru_maxrss starts at its parent's
high-water mark (Linux carries it over fork and exec), so every command is
started from a small `python -S` launcher rather than from the measuring
process: like /usr/bin/time, the launcher spawns it (in a working directory
and with standard input from a file, when asked), waits with wait4 and reports
the wall time, the command's own peak RSS and its exit status.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# How runs of one command are summed up: "min" (the default) is the run least
# disturbed by anything else the machine did, "median" the typical one.
STAT = {"name": "min"}


@dataclass
class Run:
    seconds: float
    max_rss_kib: int
    status: int
    stderr: str = ""
    # User and system CPU time of the command and the processes it waited for:
    # less moved by other work on the machine than the wall time.
    cpu: float = 0.0

    @property
    def ok(self) -> bool:
        # planguard review exits 1 when the gate blocks (the generated plans
        # destroy data stores, so it does): a completed review either way.
        return self.status in (0, 1)


@dataclass
class Measure:
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.ok for r in self.runs)

    @property
    def seconds(self) -> float:
        return _stat([r.seconds for r in self.runs])

    @property
    def cpu(self) -> float:
        return _stat([r.cpu for r in self.runs])

    @property
    def mib(self) -> float:
        return _stat([float(r.max_rss_kib) for r in self.runs]) / 1024

    def error(self) -> str:
        bad = next((r for r in self.runs if not r.ok), None)
        if bad is None:
            return ""
        tail = bad.stderr.strip().splitlines()[-3:]
        return f"exit {bad.status}: " + " | ".join(tail)


def _stat(values: list[float]) -> float:
    return min(values) if STAT["name"] == "min" else statistics.median(values)


LAUNCHER = """\
import os, sys, time
out, cwd, stdin, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if cwd != "-":
    os.chdir(cwd)
actions = [] if stdin == "-" else [(os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0)]
start = time.perf_counter()
try:
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
except OSError as e:
    sys.stderr.write(f"{cmd[0]}: {e}\\n")
    result = "0 0 127 0"
else:
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    result = f"{elapsed!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu!r}"
with open(out, "w") as f:
    f.write(result)
"""

# Python's defaults for the children: bytecode is cached, as on a developer's
# machine (an installed package has it compiled).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_child(
    cmd: list[str],
    *,
    cwd: str | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """Run cmd with stdout discarded: wall time, peak RSS (KiB on Linux) and status."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as result:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        launcher = [
            sys.executable, "-S", "-c", LAUNCHER, result.name, cwd or "-", stdin or "-", *cmd,
        ]  # fmt: skip
        pid = os.posix_spawn(sys.executable, launcher, env or CHILD_ENV, file_actions=actions)
        _, status, _ = os.wait4(pid, 0)
        err.seek(0)
        stderr = err.read()[-4000:].decode(errors="replace")
        fields = result.read().split()
    if os.waitstatus_to_exitcode(status) != 0 or len(fields) != 4:
        return Run(0.0, 0, 125, f"launcher failed: {stderr}")
    return Run(float(fields[0]), int(fields[1]), int(fields[2]), stderr, float(fields[3]))


def expand(template: list[str], planguard: list[str], **values: str) -> list[str]:
    out: list[str] = []
    for part in template:
        if part == "{planguard}":
            out += planguard
        else:
            out.append(part.format(**values))
    return out


def warm(path: str) -> None:
    """Read the file once so every timed run starts with it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


# Run by planguard's interpreter: True when the planguard it imports is not the
# installed copy in its site-packages (an editable install, or a source tree).
_EDITABLE = (
    "import sysconfig, planguard\n"
    "lib = sysconfig.get_paths()['purelib']\n"
    "print(not planguard.__file__.startswith(lib))\n"
)


def editable_warning(planguard: list[str]) -> str | None:
    """A warning when `planguard` is an editable install: its import hook costs
    every start ~20 ms that an installed copy (what users run) does not pay."""
    script = Path(planguard[0])
    python = None
    if len(planguard) > 1 and "python" in script.name:
        python = str(script)
    elif script.is_file():
        first = script.read_bytes()[:200].split(b"\n", 1)[0]
        if first.startswith(b"#!"):
            python = first[2:].decode(errors="replace").strip().split()[0]
    if python is None:
        return None
    try:
        out = subprocess.run(
            [python, "-I", "-c", _EDITABLE], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.stdout.strip() != "True":
        return None
    return (
        "note: this planguard is an editable install; its import hook adds ~20 ms to every "
        "start that users do not pay. Measure an installed copy: python -m venv /tmp/pgb && "
        "/tmp/pgb/bin/pip install . && /tmp/pgb/bin/python benchmarks/run.py"
    )
