#!/usr/bin/env python3
"""Time planguard against the cost of just parsing the plan, and check the targets.

For each plan size, generate the plan once (cached in benchmarks/out/), then run,
alternating, the floor (`python -c "json.load(...)"` on the plan) and a planguard
review of it, `--repeat` times each, and report the median wall time and peak RSS
of each. Peak RSS is the child's own `ru_maxrss`, read from `os.wait4`.

    python benchmarks/run.py                       # 1k, 10k, 50k, 100k, hub, startup
    python benchmarks/run.py --sizes 1k,10k --repeat 5
    python benchmarks/run.py --planguard "python -m planguard" --no-hub

Exits 1 when a measured target fails.

Children run with Python's default bytecode caching (PYTHONDONTWRITEBYTECODE is
removed from their environment), as on a developer machine, and each command
runs once untimed first, so that the timed runs do not compile planguard's
sources: a fresh clone would otherwise pay that on every run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATOR = HERE / "gen_plan.py"
OUT_DIR = HERE / "out"

# The review command. "{planguard}" is replaced by the --planguard command (which may
# be several words); "{plan}", "{markdown}" and "{json}" by the plan and two output
# files in a scratch directory. Change the flags here once they are settled.
PLANGUARD_REVIEW = [
    "{planguard}", "review", "{plan}",
    "--format", "markdown", "--output", "{markdown}", "--json", "{json}",
]
PLANGUARD_VERSION = ["{planguard}", "--version"]
FLOOR = [sys.executable, "-c", "import json,sys; json.load(open(sys.argv[1]))", "{plan}"]

SIZES = {"1k": 1_000, "10k": 10_000, "50k": 50_000, "100k": 100_000}
HUB_DEPENDENTS = 20_000
HUB_DESTROYED = (5, 500)
SMALL_PLAN = 10

# (size, max planguard/floor time, max planguard/floor peak RSS)
RATIO_TARGETS = [("10k", 0.40, 0.50), ("50k", 0.25, 0.40)]
SCALING_TARGET = ("100k", "10k", 11.0)  # time(100k) / time(10k) at most
HUB_TARGET = 2.0  # time(D=500) / time(D=5) at most
VERSION_TARGET_S = 0.150
SMALL_TARGET_S = 0.300


@dataclass
class Run:
    seconds: float
    max_rss_kib: int
    status: int
    stderr: str = ""

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
        return statistics.median(r.seconds for r in self.runs)

    @property
    def mib(self) -> float:
        return statistics.median(r.max_rss_kib for r in self.runs) / 1024

    def error(self) -> str:
        bad = next((r for r in self.runs if not r.ok), None)
        if bad is None:
            return ""
        tail = bad.stderr.strip().splitlines()[-3:]
        return f"exit {bad.status}: " + " | ".join(tail)


# A child's ru_maxrss starts at its parent's high-water mark (Linux carries it over
# fork and exec), so the command is started from a small `python -S` launcher rather
# than from this process: like /usr/bin/time, the launcher spawns it, waits with
# wait4 and reports the wall time, the command's own peak RSS and its exit status.
LAUNCHER = """\
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
try:
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)  # the launcher's: CHILD_ENV
except OSError as e:
    sys.stderr.write(f"{cmd[0]}: {e}\\n")
    result = "0 0 127"
else:
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    result = f"{elapsed!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}"
with open(out, "w") as f:
    f.write(result)
"""


# Python's defaults for the children: bytecode is cached (see the docstring).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_child(cmd: list[str]) -> Run:
    """Run cmd with stdout discarded: wall time, peak RSS (KiB on Linux) and status."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as result:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        launcher = [sys.executable, "-S", "-c", LAUNCHER, result.name, *cmd]
        pid = os.posix_spawn(sys.executable, launcher, CHILD_ENV, file_actions=actions)
        _, status, _ = os.wait4(pid, 0)
        err.seek(0)
        stderr = err.read()[-4000:].decode(errors="replace")
        fields = result.read().split()
    if os.waitstatus_to_exitcode(status) != 0 or len(fields) != 3:
        return Run(0.0, 0, 125, f"launcher failed: {stderr}")
    return Run(float(fields[0]), int(fields[1]), int(fields[2]), stderr)


def expand(template: list[str], planguard: list[str], **values: str) -> list[str]:
    out: list[str] = []
    for part in template:
        if part == "{planguard}":
            out += planguard
        else:
            out.append(part.format(**values))
    return out


def warm(path: Path) -> None:
    """Read the file once so every timed run starts with it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def generator_stamp() -> str:
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:10]


def plan_path(label: str, seed: int) -> Path:
    """Cached plan for these generator arguments; stale versions are removed."""
    stem = f"plan-{label}-s{seed}"
    path = OUT_DIR / f"{stem}-{generator_stamp()}.json"
    for old in OUT_DIR.glob(f"{stem}-*.json"):
        if old != path:
            old.unlink()
    return path


def generate(label: str, gen_args: list[str], seed: int, log: list[str]) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = plan_path(label, seed)
    if path.exists():
        log.append(f"| {label} | cached | | {path.stat().st_size / 1e6:.1f} |")
        return path
    tmp = path.with_suffix(".tmp")
    cmd = [sys.executable, str(GENERATOR), *gen_args, "--seed", str(seed), "-q", "-o", str(tmp)]
    r = run_child(cmd)
    if not r.ok:
        raise SystemExit(f"generating {label} failed: {r.stderr}")
    tmp.rename(path)
    mb = path.stat().st_size / 1e6
    log.append(f"| {label} | {r.seconds:.2f} | {r.max_rss_kib / 1024:.0f} | {mb:.1f} |")
    return path


def review_cmd(plan: Path, planguard: list[str], tmp: str, n: int) -> list[str]:
    return expand(
        PLANGUARD_REVIEW, planguard, plan=str(plan),
        markdown=str(Path(tmp) / f"review-{n}.md"), json=str(Path(tmp) / f"review-{n}.json"),
    )


def measure_pair(plan: Path, planguard: list[str], repeat: int) -> tuple[Measure, Measure]:
    """Floor and planguard on one plan, alternated, `repeat` times each."""
    warm(plan)
    floor, review = Measure(), Measure()
    with tempfile.TemporaryDirectory(prefix="planguard-bench-") as tmp:
        run_child(review_cmd(plan, planguard, tmp, -1))  # warm-up, not counted
        for n in range(repeat):
            floor.runs.append(run_child(expand(FLOOR, planguard, plan=str(plan))))
            review.runs.append(run_child(review_cmd(plan, planguard, tmp, n)))
    return floor, review


def measure_review(plan: Path, planguard: list[str], repeat: int) -> Measure:
    warm(plan)
    m = Measure()
    with tempfile.TemporaryDirectory(prefix="planguard-bench-") as tmp:
        run_child(review_cmd(plan, planguard, tmp, -1))  # warm-up, not counted
        for n in range(repeat):
            m.runs.append(run_child(review_cmd(plan, planguard, tmp, n)))
    return m


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def default_planguard() -> str:
    return str(Path(sys.executable).parent / "planguard")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(SIZES),
                    help="comma-separated, from " + ",".join(SIZES))
    ap.add_argument("--planguard", default=default_planguard(),
                    help="planguard command (split like a shell would); default: %(default)s")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command (median is kept)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-hub", action="store_true", help="skip the hub (D=5 vs D=500) plans")
    ap.add_argument("--no-startup", action="store_true",
                    help="skip --version and the 10-resource plan")
    ap.add_argument("--results", help="also write the measurements as JSON to this file")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    planguard = shlex.split(args.planguard)

    gen_log = ["| plan | generate s | generate MiB | file MB |", "|---|---:|---:|---:|"]
    results: dict[str, dict[str, float | str | bool]] = {}
    rows = [
        "| size | file MB | floor s | floor MiB | planguard s | planguard MiB | time ratio "
        "| memory ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    review_time: dict[str, float] = {}
    pairs: dict[str, tuple[Measure, Measure]] = {}
    for label in sizes:
        plan = generate(label, ["--resources", str(SIZES[label])], args.seed, gen_log)
        floor, review = measure_pair(plan, planguard, args.repeat)
        pairs[label] = (floor, review)
        mb = plan.stat().st_size / 1e6
        if review.ok:
            review_time[label] = review.seconds
            t_ratio = review.seconds / floor.seconds
            m_ratio = review.mib / floor.mib
            rows.append(
                f"| {label} | {mb:.1f} | {floor.seconds:.2f} | {floor.mib:.0f} | "
                f"{review.seconds:.2f} | {review.mib:.0f} | {t_ratio:.2f}× | {m_ratio:.2f}× |"
            )
        else:
            rows.append(
                f"| {label} | {mb:.1f} | {floor.seconds:.2f} | {floor.mib:.0f} | error | | | |"
            )
            print(f"planguard failed on {label}: {review.error()}", file=sys.stderr)
        results[label] = {
            "file_mb": mb, "floor_s": floor.seconds, "floor_mib": floor.mib,
            "planguard_ok": review.ok,
            "planguard_s": review.seconds if review.ok else -1.0,
            "planguard_mib": review.mib if review.ok else -1.0,
        }

    hub: dict[int, Measure] = {}
    if not args.no_hub:
        for d in HUB_DESTROYED:
            label = f"hub{HUB_DEPENDENTS // 1000}k-d{d}"
            gen_args = ["--hub-dependents", str(HUB_DEPENDENTS), "--hub-destroyed", str(d)]
            plan = generate(label, gen_args, args.seed, gen_log)
            hub[d] = measure_review(plan, planguard, args.repeat)
            results[label] = {
                "planguard_ok": hub[d].ok,
                "planguard_s": hub[d].seconds if hub[d].ok else -1.0,
                "planguard_mib": hub[d].mib if hub[d].ok else -1.0,
            }
            if not hub[d].ok:
                print(f"planguard failed on {label}: {hub[d].error()}", file=sys.stderr)

    version = small = None
    if not args.no_startup:
        version = Measure()
        run_child(expand(PLANGUARD_VERSION, planguard))  # warm-up, not counted
        for _ in range(max(args.repeat, 5)):
            version.runs.append(run_child(expand(PLANGUARD_VERSION, planguard)))
        plan = generate(f"small{SMALL_PLAN}", ["--resources", str(SMALL_PLAN)], args.seed, gen_log)
        small = measure_review(plan, planguard, max(args.repeat, 5))
        results["startup"] = {
            "version_s": version.seconds if version.ok else -1.0,
            "small_review_s": small.seconds if small.ok else -1.0,
        }

    targets = ["| target | measured | limit | result |", "|---|---:|---:|---|"]
    failed = False

    def target(name: str, value: float | None, limit: float, unit: str) -> None:
        nonlocal failed
        ok = None if value is None else value <= limit
        failed |= ok is False
        shown = "—" if value is None else f"{value:.3g}{unit}"
        targets.append(f"| {name} | {shown} | ≤ {limit:g}{unit} | {verdict(ok)} |")

    def failed_target(name: str, limit: float, unit: str) -> None:
        nonlocal failed
        failed = True
        targets.append(f"| {name} | error | ≤ {limit:g}{unit} | FAIL |")

    for label, t_max, m_max in RATIO_TARGETS:
        pair = pairs.get(label)
        if pair and not pair[1].ok:
            failed_target(f"{label} time vs floor", t_max, "×")
            failed_target(f"{label} memory vs floor", m_max, "×")
            continue
        t_val = pair[1].seconds / pair[0].seconds if pair else None
        m_val = pair[1].mib / pair[0].mib if pair else None
        target(f"{label} time vs floor", t_val, t_max, "×")
        target(f"{label} memory vs floor", m_val, m_max, "×")
    big, base, limit = SCALING_TARGET
    value = None
    if big in review_time and base in review_time:
        value = review_time[big] / review_time[base]
    if value is None and any(pairs.get(s) and not pairs[s][1].ok for s in (big, base)):
        failed_target(f"{big} time / {base} time", limit, "×")
    else:
        target(f"{big} time / {base} time", value, limit, "×")
    if hub:
        lo, hi = HUB_DESTROYED
        if hub[lo].ok and hub[hi].ok:
            ratio = hub[hi].seconds / hub[lo].seconds
            target(f"hub D={hi} time / D={lo} time", ratio, HUB_TARGET, "×")
        else:
            failed_target(f"hub D={hi} time / D={lo} time", HUB_TARGET, "×")
    else:
        target("hub D=500 time / D=5 time", None, HUB_TARGET, "×")
    for name, m, limit_s in (
        ("planguard --version", version, VERSION_TARGET_S),
        (f"review of a {SMALL_PLAN}-resource plan", small, SMALL_TARGET_S),
    ):
        if m is not None and not m.ok:
            print(f"planguard failed ({name}): {m.error()}", file=sys.stderr)
            failed_target(name, limit_s * 1000, " ms")
        else:
            target(name, None if m is None else m.seconds * 1000, limit_s * 1000, " ms")

    print(f"planguard: {' '.join(planguard)}; {args.repeat} runs each, medians\n")
    print("\n".join(gen_log))
    print()
    print("\n".join(rows))
    if hub:
        print()
        print(f"| hub plan ({HUB_DEPENDENTS} dependents) | planguard s | planguard MiB |")
        print("|---|---:|---:|")
        for d, m in hub.items():
            shown = f"{m.seconds:.2f} | {m.mib:.0f}" if m.ok else "error |"
            print(f"| D={d} destroyed | {shown} |")
    print()
    print("\n".join(targets))
    if args.results:
        Path(args.results).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
