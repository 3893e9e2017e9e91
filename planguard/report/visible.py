"""Characters a person cannot see, shown so that they can.

Unicode's default-ignorable code points (soft hyphen, the Hangul fillers,
variation selectors, TAG characters that can spell hidden text, zero-width
joiners) and the bidi controls draw nothing, or reorder what is drawn: a
resource address holding them can pass for another. Every format a person
reads shows them as `\\u{E0049}`; JSON keeps the data as it is.
"""

from __future__ import annotations

import re

# Default_Ignorable_Code_Point (Unicode 15.1, DerivedCoreProperties.txt) and
# the bidi controls (U+061C, U+200E/F, U+202A–E, U+2066–9).
_HIDDEN = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def show_hidden(text: str) -> str:
    """`text` with each invisible or reordering character written as \\u{XXXX}."""
    return _HIDDEN.sub(lambda m: f"\\u{{{ord(m.group()):04X}}}", text)


def escape_controls(text: str) -> str:
    """`text` with every character that is not printable (newlines, escape
    sequences, other controls) written as Python writes it in a string: one
    line, nothing that moves a cursor or recolours a terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def printable(text: str) -> str:
    """`text` as a person may safely be shown it on one line: invisible and
    reordering characters shown (show_hidden), controls escaped."""
    return escape_controls(show_hidden(text))


def elide(text: str, limit: int = 1000) -> str:
    """`text` bounded to about `limit` characters, cut in the middle with its
    length said, so that what renders it stays linear in the input (a
    2-million-character for_each key once took seconds to wrap)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}…({len(text):,} characters)…{text[-half:]}"
