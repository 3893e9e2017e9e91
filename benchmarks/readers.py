#!/usr/bin/env python3
"""Time the JSON readers planguard could use, each in a fresh process, on one plan.

    python benchmarks/readers.py benchmarks/out/plan-10k-*.json [--repeat 3]

Each reader runs as `python -c ...` (median wall time and the child's peak RSS
over --repeat runs, alternating readers): the stdlib `json.load`, `orjson`,
msgspec without a type (plain dicts and lists), and msgspec decoding into
planguard's own typed structs (what `planguard review` does: only the fields
the model needs, attribute values kept as msgspec.Raw). orjson is optional
(`pip install orjson`); it is skipped when missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import run_child

READERS = {
    "json.load": "import json,sys; json.load(open(sys.argv[1]))",
    "orjson.loads": "import orjson,sys; orjson.loads(open(sys.argv[1],'rb').read())",
    "msgspec (untyped)": "import msgspec,sys; msgspec.json.decode(open(sys.argv[1],'rb').read())",
    "msgspec (planguard structs)": (
        "import sys,gc; gc.disable(); from planguard.load import terraform as t; "
        "t._decoder.decode(open(sys.argv[1],'rb').read())"
    ),
    "planguard load (decode + model)": (
        "import sys; from planguard.load import load; load([sys.argv[1]])"
    ),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("plan")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in READERS}
    for _ in range(args.repeat):
        for name, code in READERS.items():
            r = run_child([sys.executable, "-c", code, args.plan])
            if r.ok:
                runs[name].append((r.seconds, r.max_rss_kib))
            elif "No module named" in r.stderr:
                runs[name] = []
    mb = Path(args.plan).stat().st_size / 1e6
    print(f"{Path(args.plan).name} ({mb:.1f} MB), {args.repeat} runs each, medians\n")
    print("| reader | seconds | peak MiB |")
    print("|---|---:|---:|")
    for name, got in runs.items():
        if not got:
            print(f"| {name} | not installed | |")
            continue
        secs = statistics.median(s for s, _ in got)
        mib = statistics.median(k for _, k in got) / 1024
        print(f"| {name} | {secs:.2f} | {mib:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
