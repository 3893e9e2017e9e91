#!/usr/bin/env python3
"""Check a plan written by gen_plan.py: shape, action mix, dependencies, sensitivity.

    python benchmarks/verify_plan.py plan.json [--hub]

Exits non-zero and lists the problems when a check fails. Works on any
`terraform show -json` plan, but the mix and hub checks assume gen_plan.py's.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from typing import Any

TOP_KEYS = [
    "format_version",
    "terraform_version",
    "variables",
    "planned_values",
    "resource_drift",
    "resource_changes",
    "output_changes",
    "prior_state",
    "configuration",
    "relevant_attributes",
    "timestamp",
    "applyable",
    "complete",
    "errored",
]
MIX = {"no-op": 0.70, "update": 0.15, "create": 0.08, "delete": 0.04, "replace": 0.03}
STEP = re.compile(r'module\.([A-Za-z0-9_-]+)(?:\[(\d+|"[^"]*")\])?\.')
SECRET = "SENSITIVE-BENCH-"


def split(address: str) -> tuple[tuple[tuple[str, str | None], ...], str]:
    """(module steps with keys, resource part without its own key)."""
    steps = []
    pos = 0
    while True:
        m = STEP.match(address, pos)
        if not m:
            break
        steps.append((m.group(1), m.group(2)))
        pos = m.end()
    rest = address[pos:]
    if rest.endswith("]"):
        rest = rest[: rest.index("[")]
    return tuple(steps), rest


def config_address(address: str) -> str:
    steps, rest = split(address)
    return "".join(f"module.{n}." for n, _ in steps) + rest


def same_scope(a: tuple, b: tuple) -> bool:
    for (an, ak), (bn, bk) in zip(a, b, strict=False):
        if an != bn:
            return True
        if ak != bk:
            return False
    return True


def walk(module: dict[str, Any]) -> list[dict[str, Any]]:
    out = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        out += walk(child)
    return out


def secrets(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, str):
        return [path] if value.startswith(SECRET) else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in secrets(v, (*path, k))]
    if isinstance(value, list):
        return [p for n, v in enumerate(value) for p in secrets(v, (*path, n))]
    return []


def marked(shape: Any, path: tuple) -> bool:
    for step in path:
        if shape is True:
            return True
        if isinstance(shape, dict):
            shape = shape.get(step, False)
        elif isinstance(shape, list) and isinstance(step, int) and step < len(shape):
            shape = shape[step]
        else:
            return False
    return shape is True


def config_checks(module: dict[str, Any], path: str, problems: list[str]) -> int:
    """References in a module's config point at things declared in that module."""
    names = {r["address"] for r in module.get("resources", [])}
    calls = module.get("module_calls", {})
    variables = set(module.get("variables", {}))
    count = 0

    def refs(expr: Any) -> list[str]:
        if isinstance(expr, list):
            return [x for e in expr for x in refs(e)]
        if isinstance(expr, dict):
            if "references" in expr:
                return list(expr["references"])
            return [x for k, v in expr.items() if k != "constant_value" for x in refs(v)]
        return []

    def check(ref: str, where: str) -> None:
        nonlocal count
        count += 1
        parts = ref.split(".")
        head = parts[0]
        if head in ("count", "each", "local", "path", "self"):
            return
        if head == "var":
            if parts[1] not in variables:
                problems.append(f"{where}: unknown variable {ref}")
            return
        if head == "module":
            if parts[1] not in calls:
                problems.append(f"{where}: unknown module call {ref}")
            elif len(parts) > 2 and parts[2] not in calls[parts[1]]["module"].get("outputs", {}):
                problems.append(f"{where}: unknown module output {ref}")
            return
        addr = ".".join(parts[:3]) if head == "data" else ".".join(parts[:2])
        if addr not in names:
            problems.append(f"{where}: reference to undeclared {ref}")

    for res in module.get("resources", []):
        where = f"{path}{res['address']}"
        for key in ("expressions", "count_expression", "for_each_expression"):
            for ref in refs(res.get(key, {})):
                check(ref, where)
        for dep in res.get("depends_on", []):
            check(dep, where)
    for name, out in module.get("outputs", {}).items():
        for ref in refs(out.get("expression", {})):
            check(ref, f"{path}output.{name}")
    for name, call in calls.items():
        for key in ("expressions", "count_expression", "for_each_expression"):
            for ref in refs(call.get(key, {})):
                check(ref, f"{path}module.{name}")
        count += config_checks(call["module"], f"{path}module.{name}.", problems)
    return count


def verify(path: str, hub: bool, tolerance: float) -> list[str]:
    problems: list[str] = []
    with open(path, "rb") as f:
        plan = json.load(f)
    keys = list(plan)
    if keys != TOP_KEYS:
        problems.append(f"top-level keys {keys}")
    if plan["format_version"] != "1.2" or plan["terraform_version"] != "1.11.4":
        problems.append("format/terraform version")

    rcs = plan["resource_changes"]
    addrs = [rc["address"] for rc in rcs]
    if len(set(addrs)) != len(addrs):
        problems.append("duplicate resource_changes addresses")
    if addrs != sorted(addrs):
        problems.append("resource_changes not sorted by address")
    actions = Counter(
        "replace" if len(rc["change"]["actions"]) == 2 else rc["change"]["actions"][0] for rc in rcs
    )
    orders = Counter(
        tuple(rc["change"]["actions"]) for rc in rcs if len(rc["change"]["actions"]) == 2
    )
    reasons = Counter(rc.get("action_reason") for rc in rcs)
    n = len(rcs)
    print(f"{path}: {n} resource changes")
    for action, share in MIX.items():
        got = actions.get(action, 0) / n
        print(f"  {action:8} {actions.get(action, 0):7} {got:6.1%} (target {share:.0%})")
        if not hub and abs(got - share) > tolerance:
            problems.append(f"{action} share {got:.1%} is off the {share:.0%} target")
    print(f"  replace orders {dict(orders)}")
    print(f"  reasons {dict(sorted((k or '-', v) for k, v in reasons.items()))}")

    for rc in rcs:
        ch = rc["change"]
        a = ch["actions"]
        steps, _ = split(rc["address"])
        mod = "".join(f"module.{s}{'' if k is None else '[' + k + ']'}." for s, k in steps)[:-1]
        if rc.get("module_address", "") != mod:
            problems.append(f"{rc['address']}: module_address {rc.get('module_address')!r}")
        if len(a) == 2:
            if "action_reason" not in rc:
                problems.append(f"{rc['address']}: replace without action_reason")
            if "replace_paths" not in ch and rc.get("action_reason") != "replace_because_tainted":
                problems.append(f"{rc['address']}: replace without replace_paths")
        if a == ["create"] and (ch["before"] is not None or ch["before_sensitive"] is not False):
            problems.append(f"{rc['address']}: create with a before value")
        if a == ["delete"] and (ch["after"] is not None or ch["after_sensitive"] is not False):
            problems.append(f"{rc['address']}: delete with an after value")
        for side in ("before", "after"):
            for p in secrets(ch[side]):
                if not marked(ch[f"{side}_sensitive"], p):
                    problems.append(f"{rc['address']}: {side} secret at {p} not marked sensitive")
        if a == ["no-op"] and ch["before"] != ch["after"]:
            problems.append(f"{rc['address']}: no-op with differing values")

    planned = {r["address"]: r for r in walk(plan["planned_values"]["root_module"])}
    prior_all = walk(plan["prior_state"]["values"]["root_module"])
    prior = {r["address"]: r for r in prior_all if r["mode"] == "managed"}
    want_planned = {rc["address"] for rc in rcs if rc["change"]["actions"] != ["delete"]}
    want_prior = {rc["address"] for rc in rcs if rc["change"]["actions"] != ["create"]}
    if set(planned) != want_planned:
        problems.append(
            f"planned_values differ from non-delete changes ({len(planned)} vs {len(want_planned)})"
        )
    if set(prior) != want_prior:
        problems.append(
            f"prior_state differs from non-create changes ({len(prior)} vs {len(want_prior)})"
        )
    for r in [*planned.values(), *prior_all]:
        for p in secrets(r["values"]):
            if not marked(r["sensitive_values"], p):
                problems.append(f"{r['address']}: secret at {p} not in sensitive_values")

    # depends_on: every entry is a configuration address with an instance in scope.
    by_config: dict[str, list[tuple]] = {}
    for r in prior_all:
        steps, _ = split(r["address"])
        by_config.setdefault(config_address(r["address"]), []).append(steps)
    deps_total = 0
    dependents: Counter[str] = Counter()
    for r in prior_all:
        steps, _ = split(r["address"])
        for dep in r.get("depends_on", []):
            deps_total += 1
            cands = by_config.get(dep)
            if not cands:
                problems.append(f"{r['address']}: depends_on {dep} matches nothing in prior_state")
            elif not any(same_scope(steps, c) for c in cands):
                problems.append(f"{r['address']}: depends_on {dep} has no instance in scope")
            dependents[dep] += 1
    print(f"  prior_state: {len(prior_all)} objects, {deps_total} depends_on entries")
    top = dependents.most_common(4)
    print("  most depended on: " + ", ".join(f"{a} ({c})" for a, c in top))

    refs = config_checks(plan["configuration"]["root_module"], "", problems)
    print(f"  configuration: {refs} references checked")
    for i, drift in enumerate(plan.get("resource_drift", [])):
        if drift["address"] not in prior:
            problems.append(f"resource_drift[{i}] {drift['address']} not in prior_state")
        elif drift["change"]["after"] != prior[drift["address"]]["values"]:
            problems.append(f"resource_drift[{i}] after differs from prior_state")

    if hub:
        vpc = "module.platform.module.net.aws_vpc.main"
        vpc_rc = next((rc for rc in rcs if rc["address"] == vpc), None)
        if vpc_rc is None or vpc_rc["change"]["actions"] != ["no-op"]:
            problems.append("hub VPC missing or changed")
        under = [r["address"] for r in prior_all if vpc in r.get("depends_on", [])]
        by_addr = {rc["address"]: rc for rc in rcs}
        destroyed = [a for a in under if "delete" in by_addr[a]["change"]["actions"]]
        print(f"  hub {vpc}: {len(under)} dependents, {len(destroyed)} destroyed")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("plan")
    ap.add_argument("--hub", action="store_true", help="report the module.platform hub")
    ap.add_argument("--tolerance", type=float, default=0.005, help="allowed action share error")
    args = ap.parse_args(argv)
    problems = verify(args.plan, args.hub, args.tolerance)
    for p in problems[:50]:
        print("PROBLEM:", p)
    if len(problems) > 50:
        print(f"... and {len(problems) - 50} more")
    print("OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
