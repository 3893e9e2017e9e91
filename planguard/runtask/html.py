"""The report page: the Markdown comment (the same template as every other
front end) rendered to HTML.

The comment is GitHub-flavoured Markdown with a few HTML tags of its own
(`<details>`, `<summary>`, `<code>`, `<sub>`, a marker comment); every
user-controlled string in it has been escaped by planguard.report.markdown_text.
GitHub would sanitize the HTML anyway; here the same is done by an allowlist:
those tags, bare, pass; any other tag in the Markdown is shown as text.
Rendered with markdown-it-py (CommonMark, plus GFM tables and strikethrough).

The page loads nothing and runs nothing: the server sends it with a Content
Security Policy that allows no script, no image and no connection, only the
inline style below (see planguard.runtask.app).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

_ALLOWED_TAG = re.compile(r"</?(?:details|summary|code|sub|br)\s*/?>")
_TAG_OR_COMMENT = re.compile(r"<!--.*?-->|<[^>]*>?", re.DOTALL)

STYLE = """
body{font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;
max-width:980px;margin:2em auto;padding:0 1em}
h3{font-size:1.3em}code,pre{font:13px ui-monospace,Menlo,Consolas,monospace}
code{background:#eff1f3;padding:.1em .3em;border-radius:4px}
pre{background:#f6f8fa;padding:1em;overflow:auto}pre code{background:none;padding:0}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #d1d9e0;padding:.3em .6em}
blockquote{margin:1em 0;padding:0 1em;color:#59636e;border-left:.25em solid #d1d9e0}
summary{cursor:pointer;font-weight:600}footer{margin-top:2em;color:#59636e;font-size:.9em}
""".strip()


def _filter_html(text: str) -> str:
    """Raw HTML from the Markdown: allowed bare tags kept, comments dropped,
    anything else escaped to text."""
    out = []
    pos = 0
    for m in _TAG_OR_COMMENT.finditer(text):
        out.append(text[pos : m.start()].replace("<", "&lt;").replace(">", "&gt;"))
        tag = m.group()
        if tag.startswith("<!--"):
            pass
        elif _ALLOWED_TAG.fullmatch(tag):
            out.append(tag.replace(" ", ""))
        else:
            out.append(html.escape(tag, quote=False))
        pos = m.end()
    out.append(text[pos:].replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(out)


def _html_rule(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return _filter_html(tokens[idx].content)


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.add_render_rule("html_block", _html_rule)
    md.add_render_rule("html_inline", _html_rule)
    return md


def to_html(markdown: str) -> str:
    """The Markdown report as an HTML fragment."""
    return str(_markdown().render(markdown))


def page(markdown: str, title: str) -> bytes:
    """A whole HTML page for the report; `title` is plain text (escaped here)."""
    body = to_html(markdown)
    shown = html.escape(title)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>planguard — {shown}</title><style>{STYLE}</style></head>\n"
        f"<body><main>\n{body}</main>\n"
        f"<footer>planguard run task report · {shown}</footer></body></html>\n"
    ).encode()
