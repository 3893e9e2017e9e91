"""How long `planguard guard` takes, as a whole process, to answer a command
that is not an infrastructure change: the hook runs before every shell
command an agent issues, so this is what every command pays.

    python benchmarks/guard_fast_path.py [--runs N] [--target MS]

Runs `python -m planguard guard --host claude` N times with the recorded
Claude Code payload of a harmless command (fixtures/guard/claude/harmless.json)
on standard input, and the same as the installed `planguard` script runs it,
interleaved with the interpreter doing nothing (`python -c pass`, the floor no
Python hook goes below), and prints the medians (wall-clock and CPU) and what
each adds to the floor. Exits 1 when the `-m` median is over the target
(50 ms): measure on an idle machine. An editable install (`pip install -e`)
imports pathlib and more at every start, which the floor then includes; for
the figure an installed package gives, run it with a plain interpreter:
`PYTHONPATH=. python3 benchmarks/guard_fast_path.py`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "import sys; from planguard.cli import run; sys.exit(run())"
PAYLOAD = ROOT / "fixtures" / "guard" / "claude" / "harmless.json"


def timed(argv: list[str], payload: bytes, env: dict[str, str]) -> tuple[float, float]:
    """(wall-clock ms, CPU ms) of one run. CPU time (user + system) hardly
    moves with the machine's load; wall-clock time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, input=payload, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or done.stdout or done.stderr:
        raise SystemExit(f"unexpected answer from {argv}: {done.returncode} {done.stderr[:200]!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed * 1000, cpu * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--target", type=float, default=50.0, help="milliseconds")
    args = parser.parse_args()
    payload = PAYLOAD.read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "PLANGUARD_GUARD_LOG": str(Path(scratch) / "guard.log")}
        # Bytecode as an installed package has it (pip compiles on install),
        # kept out of the source tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        guard = [sys.executable, "-m", "planguard", "guard", "--host", "claude"]
        # What the installed `planguard` script runs: no runpy (`-m` imports
        # importlib.util, contextlib and collections to find the module).
        script = [sys.executable, "-c", SCRIPT, "guard", "--host", "claude"]
        floor = [sys.executable, "-c", "pass"]
        for _ in range(3):  # warm the file cache and the bytecode
            timed(guard, payload, env)
            timed(script, payload, env)
        runs: dict[str, list[tuple[float, float]]] = {"floor": [], "guard": [], "script": []}
        for _ in range(args.runs):
            runs["floor"].append(timed(floor, b"", env))
            runs["guard"].append(timed(guard, payload, env))
            runs["script"].append(timed(script, payload, env))
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    rows = [
        ("python -c pass (floor)", "floor"),
        ("python -m planguard guard --host claude", "guard"),
        ("the same as the `planguard` script", "script"),
    ]
    print(f"{'harmless command, median of ' + str(args.runs):44} wall-clock       CPU")
    for label, key in rows:
        own = f"(+{wall[key] - wall['floor']:.1f} / +{cpu[key] - cpu['floor']:.1f})"
        extra = "" if key == "floor" else f"  {own}"
        print(f"{label:44} {wall[key]:7.1f} ms {cpu[key]:7.1f} ms{extra}")
    median = wall["guard"]
    print(
        f"{args.runs} runs each, interleaved; {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.2f}; target {args.target:.0f} ms"
    )
    return 0 if median <= args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
