#!/usr/bin/env python3
"""Time planguard against the cost of just parsing the plan, and check the targets.

For each plan shape and size, generate the plan once (cached in benchmarks/out/),
then run, alternating, the floor (`python -c "json.load(...)"` on the plan) and a
planguard review of it, `--repeat` times each, and report the minimum (or, with
`--stat median`, the median) wall time and peak RSS of each. Peak RSS is the
child's own `ru_maxrss`, read from `os.wait4` (see harness.py).

    python benchmarks/run.py                       # both shapes, 1k-100k, hub, many, startup
    python benchmarks/run.py --sizes 1k,10k --repeat 5 --shapes mono
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
import shlex
import sys
import tempfile
from pathlib import Path

import harness
import startup
from harness import Measure, expand, run_child, warm

HERE = Path(__file__).resolve().parent
# The plan shapes: gen_plan.py (an app module per region, configuration that
# stays small) and gen_mono.py (a monorepo: a module per team and service,
# configuration that grows with the plan, many references per resource).
GENERATORS = {"gen": HERE / "gen_plan.py", "mono": HERE / "gen_mono.py"}
OUT_DIR = HERE / "out"

# The review command. "{planguard}" is replaced by the --planguard command (which may
# be several words); "{plan}", "{markdown}" and "{json}" by the plan and two output
# files in a scratch directory. Change the flags here once they are settled.
PLANGUARD_REVIEW = [
    "{planguard}",
    "review",
    "{plan}",
    "--format",
    "markdown",
    "--output",
    "{markdown}",
    "--json",
    "{json}",
]
FLOOR = [sys.executable, "-c", "import json,sys; json.load(open(sys.argv[1]))", "{plan}"]

SIZES = {"1k": 1_000, "10k": 10_000, "50k": 50_000, "100k": 100_000}
HUB_DEPENDENTS = 20_000
HUB_DESTROYED = (5, 500)
SMALL_PLAN = 10
MANY_PLANS = 8  # plans of 10k (seeds 1..8) reviewed in one command

# (size, max planguard/floor time, max planguard/floor peak RSS), for every shape
RATIO_TARGETS = [("10k", 0.25, 0.30), ("50k", 0.15, 0.30)]
SCALING_TARGET = ("100k", "10k", 10.0)  # time(100k) / time(10k) at most
HUB_TARGET = 2.0  # time(D=500) / time(D=5) at most
MANY_TARGET = 0.6  # time(8 plans in one review) / time(8 reviews one by one) at most


def generator_stamp(shape: str = "gen") -> str:
    return hashlib.sha256(GENERATORS[shape].read_bytes()).hexdigest()[:10]


def plan_path(label: str, seed: int, shape: str = "gen") -> Path:
    """Cached plan for these generator arguments; stale versions are removed."""
    stem = f"plan-{label}-s{seed}" if shape == "gen" else f"{shape}-{label}-s{seed}"
    path = OUT_DIR / f"{stem}-{generator_stamp(shape)}.json"
    for old in OUT_DIR.glob(f"{stem}-*.json"):
        if old != path:
            old.unlink()
    return path


def generate(
    label: str, gen_args: list[str], seed: int, log: list[str], shape: str = "gen"
) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = plan_path(label, seed, shape)
    name = label if shape == "gen" else f"{shape} {label}"
    if seed != 1:
        name += f" (seed {seed})"
    if path.exists():
        log.append(f"| {name} | cached | | {path.stat().st_size / 1e6:.1f} |")
        return path
    tmp = path.with_suffix(".tmp")
    cmd = [
        sys.executable, str(GENERATORS[shape]), *gen_args, "--seed", str(seed), "-q",
        "-o", str(tmp),
    ]  # fmt: skip
    r = run_child(cmd)
    if r.status != 0:
        raise SystemExit(f"generating {label} failed: {r.stderr}")
    tmp.rename(path)
    mb = path.stat().st_size / 1e6
    log.append(f"| {name} | {r.seconds:.2f} | {r.max_rss_kib / 1024:.0f} | {mb:.1f} |")
    return path


def review_cmd(plan: Path, planguard: list[str], tmp: str, n: int) -> list[str]:
    return expand(
        PLANGUARD_REVIEW,
        planguard,
        plan=str(plan),
        markdown=str(Path(tmp) / f"review-{n}.md"),
        json=str(Path(tmp) / f"review-{n}.json"),
    )


def measure_pair(plan: Path, planguard: list[str], repeat: int) -> tuple[Measure, Measure]:
    """Floor and planguard on one plan, alternated, `repeat` times each."""
    warm(str(plan))
    floor, review = Measure(), Measure()
    with tempfile.TemporaryDirectory(prefix="planguard-bench-") as tmp:
        run_child(review_cmd(plan, planguard, tmp, -1))  # warm-up, not counted
        for n in range(repeat):
            floor.runs.append(run_child(expand(FLOOR, planguard, plan=str(plan))))
            review.runs.append(run_child(review_cmd(plan, planguard, tmp, n)))
    return floor, review


def measure_review(plan: Path, planguard: list[str], repeat: int) -> Measure:
    warm(str(plan))
    m = Measure()
    with tempfile.TemporaryDirectory(prefix="planguard-bench-") as tmp:
        run_child(review_cmd(plan, planguard, tmp, -1))  # warm-up, not counted
        for n in range(repeat):
            m.runs.append(run_child(review_cmd(plan, planguard, tmp, n)))
    return m


def measure_many(plans: list[Path], planguard: list[str], repeat: int) -> tuple[Measure, Measure]:
    """All `plans` in one review, against the same reviews one by one (their
    times added up), alternated, `repeat` times each."""
    for plan in plans:
        warm(str(plan))
    together, apart = Measure(), Measure()
    with tempfile.TemporaryDirectory(prefix="planguard-bench-") as tmp:
        paths = [str(p) for p in plans]
        md, js = str(Path(tmp) / "many.md"), str(Path(tmp) / "many.json")
        batch = [*planguard, "review", *paths, "--format", "markdown", "-o", md, "--json", js]
        run_child(batch)  # warm-up, not counted
        for _ in range(repeat):
            together.runs.append(run_child(batch))
            runs = [run_child(review_cmd(p, planguard, tmp, n)) for n, p in enumerate(plans)]
            status = next((r.status for r in runs if not r.ok), runs[0].status)
            apart.runs.append(
                harness.Run(sum(r.seconds for r in runs), max(r.max_rss_kib for r in runs), status)
            )
    return together, apart


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def default_planguard() -> str:
    return str(Path(sys.executable).parent / "planguard")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes", default=",".join(SIZES), help="comma-separated, from " + ",".join(SIZES)
    )
    ap.add_argument(
        "--shapes", default=",".join(GENERATORS), help="plan shapes, from " + ",".join(GENERATORS)
    )
    ap.add_argument(
        "--planguard",
        default=default_planguard(),
        help="planguard command (split like a shell would); default: %(default)s",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command")
    ap.add_argument(
        "--stat",
        choices=("min", "median"),
        default="min",
        help="how the runs of one command are summed up (default: %(default)s)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-hub", action="store_true", help="skip the hub (D=5 vs D=500) plans")
    ap.add_argument(
        "--no-many", action="store_true", help=f"skip {MANY_PLANS} plans of 10k in one review"
    )
    ap.add_argument(
        "--no-startup",
        action="store_true",
        help="skip the start-up budgets (--version, small plan, guard, hook)",
    )
    ap.add_argument("--results", help="also write the measurements as JSON to this file")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if any(s not in GENERATORS for s in shapes):
        ap.error(f"unknown shapes; choose from {', '.join(GENERATORS)}")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    harness.STAT["name"] = args.stat
    planguard = shlex.split(args.planguard)
    warning = harness.editable_warning(planguard)
    if warning:
        print(warning, file=sys.stderr)

    gen_log = ["| plan | generate s | generate MiB | file MB |", "|---|---:|---:|---:|"]
    results: dict[str, dict[str, float | str | bool]] = {}
    rows = [
        "| shape | size | file MB | floor s | floor MiB | planguard s | planguard MiB "
        "| time ratio | memory ratio | planguard CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    review_time: dict[tuple[str, str], float] = {}
    pairs: dict[tuple[str, str], tuple[Measure, Measure]] = {}
    for shape in shapes:
        for label in sizes:
            plan = generate(label, ["--resources", str(SIZES[label])], args.seed, gen_log, shape)
            floor, review = measure_pair(plan, planguard, args.repeat)
            pairs[(shape, label)] = (floor, review)
            mb = plan.stat().st_size / 1e6
            lead = f"| {shape} | {label} | {mb:.1f} | {floor.seconds:.2f} | {floor.mib:.0f} | "
            if review.ok:
                review_time[(shape, label)] = review.seconds
                t_ratio = review.seconds / floor.seconds
                m_ratio = review.mib / floor.mib
                rows.append(
                    f"{lead}{review.seconds:.2f} | {review.mib:.0f} | {t_ratio:.2f}× | "
                    f"{m_ratio:.2f}× | {review.cpu:.2f} |"
                )
            else:
                rows.append(f"{lead}error | | | | |")
                print(f"planguard failed on {shape} {label}: {review.error()}", file=sys.stderr)
            results[f"{shape}-{label}"] = {
                "file_mb": mb, "floor_s": floor.seconds, "floor_mib": floor.mib,
                "planguard_ok": review.ok,
                "planguard_s": review.seconds if review.ok else -1.0,
                "planguard_mib": review.mib if review.ok else -1.0,
                "planguard_cpu_s": review.cpu if review.ok else -1.0,
            }  # fmt: skip

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

    many: tuple[Measure, Measure] | None = None
    if not args.no_many:
        plans = [
            generate("10k", ["--resources", str(SIZES["10k"])], seed, gen_log)
            for seed in range(args.seed, args.seed + MANY_PLANS)
        ]
        many = measure_many(plans, planguard, args.repeat)
        results["many"] = {
            "planguard_ok": many[0].ok and many[1].ok,
            "together_s": many[0].seconds if many[0].ok else -1.0,
            "apart_s": many[1].seconds if many[1].ok else -1.0,
            "together_mib": many[0].mib if many[0].ok else -1.0,
        }
        for m in many:
            if not m.ok:
                print(f"planguard failed on {MANY_PLANS} plans: {m.error()}", file=sys.stderr)

    start_rows: list[str] = []
    start_failed = False
    if not args.no_startup:
        plan = generate(f"small{SMALL_PLAN}", ["--resources", str(SMALL_PLAN)], args.seed, gen_log)
        measured = startup.measure(planguard, str(plan), args.repeat)
        start_rows, start_failed = startup.table(measured)
        results["startup"] = {name: m.seconds if m.ok else -1.0 for name, _, m in measured}

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

    for shape in shapes:
        for label, t_max, m_max in RATIO_TARGETS:
            pair = pairs.get((shape, label))
            if pair and not pair[1].ok:
                failed_target(f"{shape} {label} time vs floor", t_max, "×")
                failed_target(f"{shape} {label} memory vs floor", m_max, "×")
                continue
            t_val = pair[1].seconds / pair[0].seconds if pair else None
            m_val = pair[1].mib / pair[0].mib if pair else None
            target(f"{shape} {label} time vs floor", t_val, t_max, "×")
            target(f"{shape} {label} memory vs floor", m_val, m_max, "×")
        big, base, limit = SCALING_TARGET
        value = None
        if (shape, big) in review_time and (shape, base) in review_time:
            value = review_time[(shape, big)] / review_time[(shape, base)]
        broken = any(pairs.get((shape, s)) and not pairs[(shape, s)][1].ok for s in (big, base))
        if value is None and broken:
            failed_target(f"{shape} {big} time / {base} time", limit, "×")
        else:
            target(f"{shape} {big} time / {base} time", value, limit, "×")
    if hub:
        lo, hi = HUB_DESTROYED
        if hub[lo].ok and hub[hi].ok:
            ratio = hub[hi].seconds / hub[lo].seconds
            target(f"hub D={hi} time / D={lo} time", ratio, HUB_TARGET, "×")
        else:
            failed_target(f"hub D={hi} time / D={lo} time", HUB_TARGET, "×")
    else:
        target("hub D=500 time / D=5 time", None, HUB_TARGET, "×")
    name = f"{MANY_PLANS} plans of 10k in one review / one by one"
    if many is None:
        target(name, None, MANY_TARGET, "×")
    elif many[0].ok and many[1].ok:
        target(name, many[0].seconds / many[1].seconds, MANY_TARGET, "×")
    else:
        failed_target(name, MANY_TARGET, "×")
    failed |= start_failed

    print(f"planguard: {' '.join(planguard)}; {args.repeat} runs each, {args.stat}\n")
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
    if many is not None:
        print()
        print(f"| {MANY_PLANS} plans of 10k | planguard s | planguard MiB |")
        print("|---|---:|---:|")
        for label, m in (("in one review", many[0]), ("one by one (sum)", many[1])):
            shown = f"{m.seconds:.2f} | {m.mib:.0f}" if m.ok else "error |"
            print(f"| {label} | {shown} |")
    print()
    print("\n".join(targets))
    if start_rows:
        print()
        print("\n".join(start_rows))
    if args.results:
        Path(args.results).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
