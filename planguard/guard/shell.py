"""A shell command line as the commands it runs, read with shlex.

The guard sees the text an agent hands its shell tool. This splits it into
simple commands (words, leading `NAME=value` assignments, redirections) and
works out the directory each one runs in, following `cd dir &&` and `( … )`.
Command substitutions (`$( … )`, backticks) are read as commands of their
own, wherever they are, since the shell runs them too.

What it cannot read raises `Unparsable`: the caller decides (fail closed for
anything that names an infrastructure tool).

Imported on every hook call: standard library only, nothing heavy.
"""

from __future__ import annotations

import os
import re
import shlex

TYPE_CHECKING = False  # not typing's: importing typing costs every hook call
if TYPE_CHECKING:
    from collections.abc import Iterator

# Longer than this is not a command an agent types; reading it is not bounded.
MAX_CHARS = 64 * 1024
MAX_DEPTH = 6  # nested `bash -c`, `$( … )`

SEPARATORS = frozenset({";", "&", "&&", "||", "|", "|&", "\n", ";;", ";&", ";;&"})
# Separators after which a `cd` does not carry to the next command: a pipe
# or `&` runs it in a subshell, `||` runs the next one only when it failed.
_NO_CARRY = frozenset({"|", "|&", "&"})
REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&", "<", "<&", "<<", "<<-", "<<<"})
WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_OPERATOR = re.compile(r"&&|\|\||;;&|;;|;&|\|&|&>>|&>|>>|>\||>&|<<<|<<-|<<|<&|<>|[;&|()<>\n]")
_PUNCTUATION = "();<>|&\n"
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")
# Words that open or close a compound command; what follows is a command.
_RESERVED = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "{", "}"})
_CLOSERS = frozenset({"fi", "done", "esac"})
# Words that open a header whose words are not a command (`for x in a b`).
_HEADERS = frozenset({"for", "select", "case", "function"})


class Unparsable(Exception):
    """The text is not a command line this reader can split."""


class Simple:
    """One simple command: `argv` with leading assignments and redirections
    taken out, and the directory it runs in (None when it cannot be told)."""

    __slots__ = ("argv", "assignments", "cwd", "redirects")

    def __init__(
        self,
        argv: list[str],
        assignments: list[tuple[str, str]],
        redirects: list[tuple[str, str]],
        cwd: str | None,
    ) -> None:
        self.argv = argv
        self.assignments = assignments
        self.redirects = redirects
        self.cwd = cwd

    def __repr__(self) -> str:
        return f"Simple({self.argv!r}, cwd={self.cwd!r})"

    @property
    def written(self) -> list[str]:
        """Files its redirections write (not `2>&1`, not here-documents)."""
        return [t for op, t in self.redirects if op in WRITE_REDIRECTS and not _is_fd(t)]


def _is_fd(target: str) -> bool:
    return target.isdigit() or target == "-"


def parse(text: str, cwd: str | None, depth: int = 0) -> list[Simple]:
    """Every simple command `text` runs, command substitutions included, in
    the order written."""
    if len(text) > MAX_CHARS:
        raise Unparsable(f"longer than {MAX_CHARS} characters")
    if depth > MAX_DEPTH:
        raise Unparsable("nested more than {MAX_DEPTH} levels deep")
    clean, inner = _prescan(text)
    out = _commands(_tokens(clean), cwd)
    for sub in inner:
        out.extend(parse(sub, cwd, depth + 1))
    return out


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, is_operator) pairs. shlex keeps quoted text whole and returns
    each run of operator characters as one token, split here into operators."""
    lex = shlex.shlex(text, posix=True, punctuation_chars=_PUNCTUATION)
    lex.whitespace_split = True
    lex.whitespace = " \t\r"
    lex.commenters = ""  # comments are taken out by _prescan, which sees quotes
    out: list[tuple[str, bool]] = []
    try:
        for token in lex:
            if token and all(ch in _PUNCTUATION for ch in token):
                out.extend((op, True) for op in _OPERATOR.findall(token))
            else:
                out.append((token, False))
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise Unparsable(str(exc).lower()) from None
    return out


def _prescan(text: str) -> tuple[str, list[str]]:
    """`text` without comments, line continuations and here-document bodies,
    and the commands hidden in it: every command substitution, and the body
    of a here-document that a shell reads as its script (`bash <<EOF`).
    shlex knows quotes, but not `#` comments that start a word, `$( … )`
    inside double quotes, nor here-documents (whose lines are data: a quote
    in one is no unclosed quotation)."""
    out: list[str] = []
    inner: list[str] = []
    pending: list[tuple[str, bool, bool]] = []  # (delimiter, strip tabs, a script)
    i, n = 0, len(text)
    quote = ""  # "'" or '"' while inside quotes
    while i < n:
        ch = text[i]
        if quote == "'":
            out.append(ch)
            if ch == "'":
                quote = ""
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            if text[i + 1] == "\n":  # a line continuation
                i += 2
                continue
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch == "$" and text.startswith("$(", i) and not text.startswith("$((", i):
            end = _closing(text, i + 2)
            inner.append(text[i + 2 : end])
            out.append(text[i : end + 1])
            i = end + 1
            continue
        if ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise Unparsable("no closing backquote")
            inner.append(text[i + 1 : end])
            out.append(text[i : end + 1])
            i = end + 1
            continue
        if quote == '"':
            if ch == '"':
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (not out or out[-1][-1:] in " \t\n;&|()"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
            i = _heredoc(text, i, out, pending)
            continue
        elif ch == "\n" and pending:
            out.append(ch)
            i = _bodies(text, i + 1, pending, inner)
            pending = []
            continue
        out.append(ch)
        i += 1
    if quote:
        raise Unparsable("no closing quotation")
    if pending:
        raise Unparsable("a here-document without its end line")
    return "".join(out), inner


# Commands that read a here-document as a script of commands.
_SCRIPT_READERS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "ash", "mksh", "ssh", "su"})
_HEREDOC = r"<<(-?)[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([^\s;&|()<>]+))"


def _heredoc(text: str, i: int, out: list[str], pending: list[tuple[str, bool, bool]]) -> int:
    """Note the here-document that starts at `i` (its body follows the line)."""
    match = re.compile(_HEREDOC).match(text, i)  # re caches it; compiled only if used
    if match is None:
        raise Unparsable("a here-document without a delimiter")
    delimiter = next(g for g in match.groups()[1:] if g is not None)
    line = "".join(out)
    segment = re.split(r"[;&|(\n]", line)[-1].split()
    script = any(os.path.basename(word) in _SCRIPT_READERS for word in segment)
    pending.append((delimiter, match.group(1) == "-", script))
    out.append("<< " + shlex.quote(delimiter))
    return match.end()


def _bodies(text: str, i: int, pending: list[tuple[str, bool, bool]], inner: list[str]) -> int:
    """Skip the bodies of the pending here-documents, which start at `i`;
    keep those a shell runs."""
    for delimiter, strip_tabs, script in pending:
        body: list[str] = []
        while True:
            if i >= len(text):
                raise Unparsable("a here-document without its end line")
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            line = text[i:end]
            i = end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
            body.append(line)
        if script:
            inner.append("\n".join(body))
    return min(i, len(text))


def _closing(text: str, start: int) -> int:
    """Where the `)` closing a `$(` that ends at `start` is."""
    depth = 1
    quote = ""
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch == "\\":
            i += 2
            continue
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise Unparsable("no closing parenthesis")


def _commands(tokens: list[tuple[str, bool]], cwd: str | None) -> list[Simple]:
    out: list[Simple] = []
    stack: list[str | None] = []
    words: list[str] = []
    assignments: list[tuple[str, str]] = []
    redirects: list[tuple[str, str]] = []
    header = False
    i = 0

    def finish(separator: str) -> None:
        nonlocal words, assignments, redirects, header, cwd
        if words and not header:
            out.append(Simple(words, assignments, redirects, cwd))
            cwd = _after(words, cwd, separator)
        elif redirects and not header:
            out.append(Simple([], assignments, redirects, cwd))
        words, assignments, redirects, header = [], [], [], False

    while i < len(tokens):
        token, op = tokens[i]
        i += 1
        if op and token in SEPARATORS:
            finish(token)
        elif op and token == "(":
            finish(";")
            stack.append(cwd)
        elif op and token == ")":
            finish(";")
            if stack:
                cwd = stack.pop()
        elif op and token in REDIRECTS:
            if words and words[-1].isdigit():
                words.pop()  # `2>`: a file descriptor, not an argument
            if i < len(tokens) and not tokens[i][1]:
                redirects.append((token, tokens[i][0]))
                i += 1
        elif op:
            raise Unparsable(f"unexpected {token!r}")
        elif (not words and not header and token in _RESERVED) or (
            not words and not header and token in _CLOSERS
        ):
            continue
        elif not words and not header and token in _HEADERS:
            header = True
        elif not words and _ASSIGNMENT.match(token):
            name, _, value = token.partition("=")
            assignments.append((name.rstrip("+"), value))
        else:
            words.append(token)
    finish(";")
    return out


def _after(words: list[str], cwd: str | None, separator: str) -> str | None:
    """The directory the next command runs in, after `words` ran in `cwd`."""
    name = words[0]
    if name not in ("cd", "pushd", "popd"):
        return cwd
    if separator in _NO_CARRY:
        return cwd
    if separator == "||" or name == "popd":
        return None
    target = next((w for w in words[1:] if not w.startswith("-")), "~")
    return resolve(cwd, target)


def resolve(cwd: str | None, path: str) -> str | None:
    """`path` as the shell would find it from `cwd`; None when a variable,
    a glob or an unknown directory makes it unknowable."""
    if "$" in path or "*" in path or "?" in path or path == "-":
        return None
    if path.startswith("~"):
        path = os.path.expanduser(path)
        if path.startswith("~"):
            return None
    if os.path.isabs(path):
        return os.path.normpath(path)
    if cwd is None:
        return None
    return os.path.normpath(os.path.join(cwd, path))


def words_of(commands: list[Simple]) -> Iterator[str]:
    """Every word of every command (for the mentions a caller looks for)."""
    for command in commands:
        yield from command.argv
        yield from (target for _, target in command.redirects)
