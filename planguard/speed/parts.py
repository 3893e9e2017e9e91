"""Report parts made ahead: in the worker processes that review several plans,
or while one review waits for its value checks.

Reviewing several big plans, the workers run side by side and the parent
waits; then the parent alone renders the reports, and before that it would
build every plan's graph and impact again. The per-plan parts of the JSON
report (a plan's summary, with its explaining paths) and of the Markdown
report (its picture and change lines) need nothing but that plan's review:
the worker that made the review makes them too, where the graph and impact
are at hand, and the parent puts them in the review for the reports to use
(planguard.review.ReportParts). On 8 plans of 10k resources that is ~0.2 s
of rendering (summaries, pictures, change lines) no longer done by the
parent alone after the last worker is done, and ~0.15 s of graphs and
impacts it no longer builds at all (docs/performance.md, "Round three").

A single big review makes them too, in the moment it would wait for its value
checks (planguard.value_checks) to finish: work taken off the end of the run.

A part is what the report would work out itself from the same review: the
reports come out byte for byte the same (tests/test_many_reports.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planguard.review import PlanReview

# The formats whose per-plan parts are made ahead (names of planguard.report.Format).
MADE = frozenset({"json", "markdown"})


class Parts:
    """The parts of `formats` (some of MADE)."""

    # With these parts, no report of a review asks for a plan's graph or
    # impact (the terminal and SARIF reports never do): the workers send no
    # edges (~25 ms a 10k plan, both ends), tests/test_many_reports.py checks.
    needs_graph = False

    def __init__(self, formats: Iterable[str]) -> None:
        self.formats = frozenset(formats) & MADE

    def ready(self) -> None:
        """Import the reports, before any worker is forked: not once in each
        worker and again here (~0.06 s each), as this process renders them
        anyway. Not at start: a single review imports them while it waits for
        its value checks (planguard.review.review_plan), where the time is free."""
        if "json" in self.formats:
            import planguard.report.json
        if "markdown" in self.formats:
            import planguard.report.markdown  # noqa: F401

    def make(self, pr: PlanReview) -> dict[str, Any]:
        """In the worker (or here, while the value checks finish): plain data,
        cheap to send."""
        made: dict[str, Any] = {}
        if "json" in self.formats:
            import msgspec

            from planguard.report import json as json_report

            made["json"] = msgspec.json.encode(json_report.plan_summary(pr, compact=True))
        if "markdown" in self.formats:
            from planguard.report import markdown
            from planguard.report.common import destructive_rows
            from planguard.report.picture import comment_graph

            position = {id(c): i for i, c in enumerate(pr.plan.changes)}
            made["markdown"] = {
                "graph": comment_graph(pr, destructive_rows(pr)),
                # Each change by its position in the plan: the parent has its own.
                "changes": [
                    (position[id(line.change)], line.label) for line in markdown._change_lines(pr)
                ],
            }
        return made

    def take(self, pr: PlanReview, made: dict[str, Any]) -> None:
        """Here: `made` into `pr.parts`, as the reports read them."""
        if "json" in made:
            import msgspec

            pr.parts["json"] = msgspec.Raw(made["json"])
        if "markdown" in made:
            from planguard.report.markdown import ChangeLine

            graph, lines = made["markdown"]["graph"], made["markdown"]["changes"]
            changes = pr.plan.changes
            pr.parts["markdown"] = {
                "graph": graph,
                "changes": [ChangeLine(changes[i], label) for i, label in lines],
            }


def for_formats(formats: Iterable[str]) -> Parts | None:
    """The parts to make for reports in `formats`; None when none has any."""
    parts = Parts(formats)
    return parts if parts.formats else None
