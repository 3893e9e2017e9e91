"""Commands as the decision log keeps them: without the secrets they carry.

A command line can hold secrets: `TF_VAR_db_password=… terraform apply`,
`-var 'token=…'`, `-backend-config="access_key=…"`, `--parameter-overrides
DbPassword=…`, `--password …`, a URL with a password in it. Every value
given as `NAME=value` (an assignment, an argument, an option's value) is
replaced by `***`, and so is the word after an option whose name says it is
a secret. What stays is what a reader of the log needs: the programs, their
subcommands, options and files.
"""

from __future__ import annotations

import re
import shlex

MASK = "***"
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)=(.+)$", re.DOTALL)
_OPTION_VALUE = re.compile(r"^(--?[A-Za-z][A-Za-z0-9\-]*=)(.+)$", re.DOTALL)
_SECRET_OPTION = re.compile(
    r"^--?[A-Za-z0-9\-]*(password|passwd|secret|token|key|credential|auth)[A-Za-z0-9\-]*$",
    re.IGNORECASE,
)
_VAR_OPTIONS = frozenset({"-var", "--var", "-backend-config", "--backend-config"})
_URL_PASSWORD = re.compile(r"(\w+://)[^/\s:@]+:[^/\s@]+@")
# Values no option name gives away: cloud keys, tokens, private keys.
_TOKENS = re.compile(
    r"(AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|"
    r"xox[abprs]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,}|-----BEGIN[^-]*PRIVATE KEY-----"
)


def command(text: str) -> str:
    """`text` with every value that may be a secret replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _TOKENS.sub(MASK, text)
    try:
        lex = shlex.shlex(text, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        lex.commenters = ""
        words = list(lex)
    except ValueError:
        return _ASSIGNMENT_ANYWHERE.sub(rf"\1{MASK}", text)
    out: list[str] = []
    secret_next = False
    for word in words:
        if secret_next:
            out.append(_value(word) if "=" in word else MASK)
            secret_next = False
            continue
        if word in _VAR_OPTIONS or _SECRET_OPTION.match(word):
            secret_next = True
            out.append(word)
            continue
        option = _OPTION_VALUE.match(word)
        if option:
            name, value = option.groups()
            secret = name.rstrip("=") in _VAR_OPTIONS or _SECRET_OPTION.match(name.rstrip("="))
            out.append(name + (MASK if secret and "=" not in value else _value(value)))
            continue
        out.append(_value(word))
    return " ".join(w if _bare(w) else shlex.quote(w) for w in out)


_ASSIGNMENT_ANYWHERE = re.compile(r"(\b[A-Za-z_][A-Za-z0-9_]*=)[^\s;&|]+")


def _value(word: str) -> str:
    match = _ASSIGNMENT.match(word)
    return f"{match.group(1)}={MASK}" if match else word


def _bare(word: str) -> bool:
    """Written without quotes: operators, and words of plain characters."""
    return bool(word) and (
        all(ch in "();<>|&" for ch in word) or re.fullmatch(r"[\w@%+=:,./*\-]+", word) is not None
    )
