"""Text for the Markdown report: the filters its template applies to what it shows.

User-controlled strings (addresses, module names, messages, reasons, plan
paths) go through `md_escape` or `md_code`, which leave them inert in a
GitHub comment: no HTML, no mention, no link, no table break. `code_block`
fences text so that its content cannot close the fence; `plural` words
counts (fixed words only, never user text).
"""

from __future__ import annotations

import re

from planguard.report.visible import show_hidden

TEXT_LIMIT = 1000  # characters of one user string (a message, a reason)

# Line breaks and other control characters would end a table row or a list
# item. (Invisible and bidi characters are shown escaped: planguard.report.visible.)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# Markdown punctuation that can start emphasis, links, code spans, table cells,
# strikethrough or math; a backslash makes each literal (CommonMark §2.4).
_MD_PUNCT = frozenset("\\`*_[]|~$")
_ZWJ = "\u200d"
# GFM turns bare URLs into links (the autolink extension); a crafted name must
# not become a link in a comment the bot signs.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)")
# GitHub also links and cross-references issues and pull requests (#12,
# GH-12, owner/repo#12) and commits (a full SHA): a for_each key "fixes
# acme/infra#12" would close an issue. A zero-width joiner breaks each.
# (Shorter hex runs are left alone: they are mostly cloud ids, which readers copy.)
_REFERENCE = re.compile(
    r"(?<=#)(?=\d)|(?i:(?<=\bgh-))(?=\d)|(?<=\b[0-9a-fA-F]{6})(?=[0-9a-fA-F]{34}\b)"
)
# One table for every character md_escape rewrites (str.translate, one pass in C).
_ESCAPES = {
    **{ord(ch): "\\" + ch for ch in _MD_PUNCT},
    **{ord(ch): entity for ch, entity in _HTML.items()},
    # GitHub links @name (and notifies) even after backslash or entity
    # decoding; a zero-width joiner breaks the pattern, not the look.
    ord("@"): "@" + _ZWJ,
}


def md_escape(value: object, limit: int = TEXT_LIMIT) -> str:
    """User text made inert in Markdown: no HTML, no mention, no table break.

    Safe in paragraphs, list items, table cells and inside <code>…</code>.
    Not for HTML blocks (<summary>) or code fences: those get fixed text only.
    """
    text = _CONTROL.sub(" ", str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _REFERENCE.sub(_ZWJ, _AUTOLINK.sub(_ZWJ, show_hidden(text)))
    return text.translate(_ESCAPES)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 node`, `2 nodes` (fixed words only, never user text)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def md_code(value: object, limit: int = TEXT_LIMIT) -> str:
    """User text shown as code: <code> with escaped content (safe in tables)."""
    return f"<code>{md_escape(value, limit)}</code>"


_BACKTICKS = re.compile(r"`+")
_FENCE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def code_block(value: str, lang: str = "", indent: int = 0) -> str:
    """A fenced code block that its content cannot close.

    A fence ends only at a run of at least as many backticks as opened it
    (CommonMark §4.5), so the fence is one longer than any run inside.
    """
    text = _FENCE_CONTROL.sub("", show_hidden(value.replace("\r\n", "\n")))
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)
    fence = "`" * max(3, longest + 1)
    pad = " " * indent
    lines = [f"{fence}{lang}", *text.rstrip("\n").split("\n"), fence]
    return "\n".join(pad + line if line else "" for line in lines)
