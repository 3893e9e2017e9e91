#!/usr/bin/env python3
"""Predicted CloudFormation replacements against what AWS recorded.

    python benchmarks/cfn_agreement.py [--tsv]

For every change set in fixtures/cloudformation/localstack/ (recorded against
AWS by localstack's tests) whose template pair is known — the pairs in
fixtures/cloudformation/agreement/, listed in its PAIRS.tsv — the pair is
reviewed as planguard reviews `--before`/`--after` (no AWS), and each logical id
the change set names is compared: the predicted replacement (True, Conditional,
False) with the change set's `Replacement` field, and the predicted action
with its `Action`.

A row is one (change set, logical id). The agreement rate is over the rows
whose Action is Modify (the rows with a Replacement field): the prediction is
exactly what AWS said. The other outcomes: `conditional` (planguard says it may
be replaced and AWS decided: planguard does not know, and says so), `missed`
(AWS replaces, planguard says no replacement: the unsafe error) and
`false alarm` (planguard says it is replaced, AWS does not).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CFN = ROOT / "fixtures" / "cloudformation"
PAIRS = CFN / "agreement" / "PAIRS.tsv"


@dataclass(frozen=True)
class Row:
    pair: str
    change_set: str
    logical_id: str
    recorded_action: str  # Add, Modify, Remove, or "-" (not in the change set)
    recorded: str  # Replacement: True, False, Conditional; "-" for Add/Remove
    predicted_action: str  # create, update, replace, delete, no-op
    predicted: str  # True, Conditional, False; "-" for create/delete

    @property
    def same_action(self) -> bool:
        """The predicted action is the recorded one (absent from the change set: no-op)."""
        want = {"Add": ("create",), "Remove": ("delete",), "-": ("no-op",)}.get(
            self.recorded_action, ("update", "replace")
        )
        return self.predicted_action in want

    @property
    def outcome(self) -> str:
        if self.recorded_action == "-":
            return "extra" if self.predicted_action != "no-op" else "agree"
        if self.predicted_action == "refused":
            return "refused"
        if self.recorded_action != "Modify":
            want = {"Add": "create", "Remove": "delete"}.get(self.recorded_action)
            return "agree" if self.predicted_action == want else "action differs"
        if self.predicted == self.recorded:
            return "agree"
        if self.predicted == "-":
            return "action differs"
        if self.predicted == "Conditional":
            return "conditional"
        if self.recorded in ("True", "Conditional") and self.predicted == "False":
            return "missed"
        return "false alarm"


def _predicted(change: object) -> tuple[str, str]:
    from planguard.model import Action, Change

    assert isinstance(change, Change)
    if change.action is Action.REPLACE:
        return "replace", "Conditional" if change.conditional else "True"
    if change.action in (Action.CREATE, Action.DELETE):
        return change.action.value, "-"
    return change.action.value, "False"


def measure() -> list[Row]:
    """Every row, in the order of PAIRS.tsv and of each change set."""
    from planguard.errors import InputError
    from planguard.load import LoadOptions, load

    rows: list[Row] = []
    with PAIRS.open(encoding="utf-8") as fh:
        pairs = list(csv.DictReader(fh, delimiter="\t"))
    for pair in pairs:
        before = str(CFN / "agreement" / pair["before"])
        after = str(CFN / "agreement" / pair["after"])
        try:
            [plan] = load([], LoadOptions(before=[before], after=[after]))
        except InputError:
            plan = None  # the pair is refused: every row says so
        predicted = {c.address: c for c in plan.changes} if plan else {}
        for name in pair["change_sets"].split(","):
            doc = json.loads((CFN / "localstack" / name).read_text(encoding="utf-8"))
            named = set()
            for entry in doc["Changes"]:
                rc = entry["ResourceChange"]
                lid = rc["LogicalResourceId"]
                named.add(lid)
                action, replacement = ("refused", "-") if plan is None else ("-", "-")
                if lid in predicted:
                    action, replacement = _predicted(predicted[lid])
                recorded = rc.get("Replacement") if rc["Action"] == "Modify" else None
                rows.append(
                    Row(pair["pair"], name, lid, rc["Action"], recorded or "-", action, replacement)
                )
            for lid, change in predicted.items():  # predicted, but not in the change set
                if lid not in named:
                    action, replacement = _predicted(change)
                    rows.append(Row(pair["pair"], name, lid, "-", "-", action, replacement))
    return rows


def summary(rows: list[Row]) -> dict[str, object]:
    modify = [r for r in rows if r.recorded_action == "Modify"]
    outcomes = Counter(r.outcome for r in modify)
    agree = outcomes["agree"]
    return {
        "pairs": len({r.pair for r in rows}),
        "change sets": len({r.change_set for r in rows}),
        "rows": len(rows),
        "modify rows": len(modify),
        "agree": agree,
        "conditional": outcomes["conditional"],
        "missed": outcomes["missed"],
        "false alarm": outcomes["false alarm"],
        "action differs": outcomes["action differs"],
        "refused": outcomes["refused"],
        "rate": round(agree / len(modify), 4) if modify else 0.0,
        "other rows agreeing": sum(
            r.outcome == "agree" for r in rows if r.recorded_action != "Modify"
        ),
        "other rows": sum(r.recorded_action != "Modify" for r in rows),
        "actions agree": f"{sum(r.same_action for r in rows)} of {len(rows)}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", action="store_true", help="the rows as TSV, no summary")
    args = parser.parse_args(argv)
    rows = measure()
    out = sys.stdout
    header = ("pair", "logical id", "recorded", "predicted", "outcome", "change set")
    if args.tsv:
        out.write("\t".join(header) + "\n")
    else:
        out.write(f"{'pair':<52} {'id':<16} {'recorded':<18} {'predicted':<22} outcome\n")
    for r in rows:
        recorded = f"{r.recorded_action} {r.recorded}".rstrip(" -")
        predicted = f"{r.predicted_action} {r.predicted}".rstrip(" -")
        if args.tsv:
            out.write(
                "\t".join((r.pair, r.logical_id, recorded, predicted, r.outcome, r.change_set))
            )
            out.write("\n")
        else:
            out.write(
                f"{r.pair:<52} {r.logical_id:<16} {recorded:<18} {predicted:<22} {r.outcome}\n"
            )
    if not args.tsv:
        out.write("\n")
        for key, value in summary(rows).items():
            out.write(f"{key}: {value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
