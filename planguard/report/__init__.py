"""Report formats: each module renders a Review to a string; the CLI decides
where it goes. Reporters never filter and never see an unmasked value."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:
    from planguard.review import Review


class Format(StrEnum):
    TERMINAL = "terminal"
    MARKDOWN = "markdown"
    JSON = "json"
    SARIF = "sarif"


def render(
    review: Review,
    fmt: Format,
    *,
    verbose: bool = False,
    color: bool = False,
    columns: int | None = None,
) -> str:
    match fmt:
        case Format.TERMINAL:
            from planguard.report import terminal
            from planguard.report.width import WIDTH

            return terminal.render(review, verbose=verbose, color=color, columns=columns or WIDTH)
        case Format.MARKDOWN:
            from planguard.report import markdown

            return markdown.render(review)
        case Format.JSON:
            from planguard.report import json as json_report

            return json_report.render(review)
        case Format.SARIF:
            from planguard.report import sarif

            return sarif.render(review)
        case _:
            assert_never(fmt)
