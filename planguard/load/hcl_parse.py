"""Read a Terraform configuration (a root module and the local modules it calls) from `.tf` sources.

python-hcl2 turns each file into rules that carry line numbers; this module
keeps, for every block that matters to a review, its file and line, its
literal values (expressions stay as their source text, `${...}`), its
`lifecycle`, the references it makes and the inline `# planguard:ignore`
comments written on it. Comments are dropped by the parser, so ignores are
read from the raw lines around the block header. Values, and the references
in them, are read by planguard.load.hcl_values.

Sources come from a `Source` (the working tree or a git commit), so the
same reader serves both sides of a prediction. A file's blocks are parsed
once per content and kept between runs (planguard.load.hcl_cache).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from planguard.errors import InputError
from planguard.load import hcl_cache
from planguard.load.hcl_cache import Block
from planguard.load.hcl_values import normalise, ref_list, references, unquote, value

ModulePath = tuple[str, ...]
MAX_MODULE_DEPTH = 16

_IGNORE = re.compile(
    r"(?:#|//)\s*planguard:ignore\s+(PG\d{3}(?:\s*,\s*PG\d{3})*)\s*(.*?)\s*(?:\*/)?$"
)
_COMMENT = re.compile(r"^\s*(#|//|/\*|\*)")
_META_KEYS = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})


class Source(Protocol):
    """A tree of files addressed by repository-relative POSIX paths."""

    def tf_files(self, directory: str) -> list[str]: ...

    def read(self, path: str) -> bytes | None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Lifecycle:
    prevent_destroy: Any = None
    create_before_destroy: Any = None
    ignore_changes: tuple[str, ...] | str = ()
    replace_triggered_by: tuple[str, ...] = ()


@dataclass
class ResourceBlock:
    mode: str  # "managed" or "data"
    type: str
    name: str
    module: ModulePath
    file: str
    line: int
    attrs: dict[str, Any]
    lifecycle: Lifecycle
    refs: list[str]
    depends_on: list[str]
    count_refs: list[str]
    repeated: bool  # count or for_each
    provider: str | None
    ignores: tuple[tuple[str, str], ...]

    @property
    def local_address(self) -> str:
        return (
            f"data.{self.type}.{self.name}" if self.mode == "data" else f"{self.type}.{self.name}"
        )

    @property
    def address(self) -> str:
        return "".join(f"module.{m}." for m in self.module) + self.local_address


@dataclass
class ModuleCall:
    name: str
    module: ModulePath  # the calling module
    source: str
    file: str
    line: int
    inputs: dict[str, list[str]]  # input name → references
    count_refs: list[str]
    depends_on: list[str]
    directory: str | None  # where its sources are, when local and followed
    ignores: tuple[tuple[str, str], ...]

    @property
    def address(self) -> str:
        return "".join(f"module.{m}." for m in self.module) + f"module.{self.name}"


@dataclass(frozen=True)
class Moved:
    from_: str
    to: str
    file: str
    line: int


@dataclass(frozen=True)
class Removed:
    from_: str
    destroy: bool
    file: str
    line: int


@dataclass(frozen=True)
class Import:
    to: str
    file: str
    line: int


@dataclass
class Module:
    path: ModulePath
    directory: str
    resources: dict[str, ResourceBlock] = field(default_factory=dict)  # by local address
    calls: dict[str, ModuleCall] = field(default_factory=dict)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    locals: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Configuration:
    """Every module of one root, by module path, with the blocks that move things."""

    root: str
    modules: dict[ModulePath, Module] = field(default_factory=dict)
    moved: list[Moved] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def resources(self) -> dict[str, ResourceBlock]:
        """Every resource and data block, by config address."""
        return {r.address: r for m in self.modules.values() for r in m.resources.values()}

    def calls(self) -> dict[str, ModuleCall]:
        return {c.address: c for m in self.modules.values() for c in m.calls.values()}


# -- comments ----------------------------------------------------------------


def inline_ignores(lines: list[str], header: int, end: int) -> tuple[tuple[str, str], ...]:
    """`# planguard:ignore PG101[,PG105] reason` just above, on, or first inside a block.

    `header` and `end` are 1-based line numbers of the block's first and last line.
    """
    found: list[tuple[str, str]] = []

    def scan(text: str) -> None:
        m = _IGNORE.search(text)
        if m:
            reason = m.group(2) or "no reason given"
            for check in re.split(r"\s*,\s*", m.group(1)):
                found.append((check, reason))

    i = header - 2
    while i >= 0 and _COMMENT.match(lines[i]):
        scan(lines[i])
        i -= 1
    if header - 1 < len(lines):
        scan(lines[header - 1])
    i = header
    while i < min(end, len(lines)) and (_COMMENT.match(lines[i]) or not lines[i].strip()):
        scan(lines[i])
        i += 1
    return tuple(dict.fromkeys(found))


# -- parsing -----------------------------------------------------------------


def _parse(path: str, text: str, cache: hcl_cache.ParseCache) -> Any:
    import hcl2  # 50+ ms to import: only when a .tf file is not in the cache
    from lark.exceptions import LarkError

    try:
        # What hcl2.parses does, with the parser from the cache (newline: lark issue 237).
        return hcl2.transform(hcl_cache.parser(cache).parse(text + "\n"))
    except (LarkError, ValueError) as exc:  # parse errors, and transform errors (VisitError)
        line = getattr(exc, "line", None)
        column = getattr(exc, "column", None)
        where = f"{path}:{line}" if isinstance(line, int) and line > 0 else path
        detail = _problem(exc)
        if isinstance(column, int) and column > 0:
            detail = f"{detail} (column {column})"
        raise InputError(where, f"cannot parse HCL: {detail}") from None


# Token kinds of the HCL grammar, in words.
_TOKEN_WORDS = {
    "STRING_CHARS": "text",
    "INT_LITERAL": "number",
    "FLOAT_LITERAL": "number",
    "NAME": "name",
    "INTERP_START": "`${`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "EQ": "`=`",
}


def _problem(exc: Exception) -> str:
    """The kind of problem, never the input's text: the lexer's token can be a
    whole unterminated heredoc (a password, a private key) to the file's end."""
    token = getattr(exc, "token", None)
    kind = getattr(token, "type", None)
    if kind == "$END":
        return "unexpected end of file (an unclosed block, string or heredoc?)"
    if token is not None and str(token).startswith("<<"):
        return "a heredoc that is never closed"
    if isinstance(kind, str):
        return f"unexpected {_TOKEN_WORDS.get(kind, kind.lower().replace('_', ' '))}"
    if exc.__class__.__name__ == "UnexpectedCharacters":
        return "unexpected character"
    return f"not valid HCL ({type(exc).__name__})"


def _recorded(labels: list[str]) -> bool:
    """Whether a review reads a block with these labels: the cache keeps only
    those, and `_read_block` skips the others."""
    kind, n = labels[0] if labels else "", len(labels)
    if kind in ("resource", "data"):
        return n == 3
    if kind in ("module", "output"):
        return n == 2
    return kind in ("locals", "moved", "removed", "import")


def _blocks(start: Any) -> list[Block]:
    """The top-level blocks of a parsed file that a review reads: labels, serialised
    body, first and last line."""
    from hcl2.rules.base import BlockRule
    from hcl2.utils import SerializationOptions

    options = SerializationOptions(with_comments=False, preserve_heredocs=False)
    out: list[Block] = []
    for child in start.body.children:
        if isinstance(child, BlockRule):
            labels = [unquote(str(label.serialize())) for label in child.labels]
            if not _recorded(labels):
                continue
            meta = child._meta  # lark positions; python-hcl2 has no public accessor
            body: dict[str, Any] = child.body.serialize(options)  # python-hcl2 types it Any
            out.append((labels, body, getattr(meta, "line", 0), getattr(meta, "end_line", 0)))
    return out


def parsed(path: str, raw: bytes, text: str) -> list[Block]:
    """The top-level blocks of file `path` (`raw`, decoded as `text`), parsed once per content."""
    cache = hcl_cache.shared()
    key = cache.key(raw)
    found = cache.get(key) if key is not None else None
    if found is not None:
        return found
    blocks = _blocks(_parse(path, text, cache))
    return cache.put(key, blocks) if key is not None else blocks


def _lifecycle(body: dict[str, Any]) -> Lifecycle:
    blocks = body.get("lifecycle") or []
    lc = value(blocks[0]) if blocks and isinstance(blocks[0], dict) else {}
    ignore = lc.get("ignore_changes", ())
    if isinstance(ignore, str):
        ignore = "all" if ignore in ("all", "${all}") else tuple(ref_list(ignore))
    else:
        ignore = tuple(ref_list(ignore))
    return Lifecycle(
        prevent_destroy=lc.get("prevent_destroy"),
        create_before_destroy=lc.get("create_before_destroy"),
        ignore_changes=ignore,
        replace_triggered_by=tuple(ref_list(lc.get("replace_triggered_by", []))),
    )


def _scoped(module: ModulePath, address: str) -> str:
    return "".join(f"module.{m}." for m in module) + address


def _read_module(
    source: Source,
    config: Configuration,
    path: ModulePath,
    directory: str,
    chain: tuple[str, ...],
) -> None:
    module = Module(path, directory)
    config.modules[path] = module
    files = source.tf_files(directory)
    for file in files:
        raw = source.read(file)
        if raw is None:
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(file, f"not UTF-8 text (bad byte at offset {exc.start})") from None
        lines = text.splitlines()
        for labels, body, line, end in parsed(file, raw, text):
            _read_block(source, config, module, file, lines, labels, body, line, end, chain)


def _read_block(
    source: Source,
    config: Configuration,
    module: Module,
    file: str,
    lines: list[str],
    labels: list[str],
    raw: dict[str, Any],
    line: int,
    end: int,
    chain: tuple[str, ...],
) -> None:
    """Record one top-level block of `module` (labels[0] is its kind); others are skipped."""
    if not _recorded(labels):
        return
    kind = labels[0]
    path = module.path
    if kind in ("resource", "data"):
        res = _resource(module, file, lines, labels, raw, line, end)
        module.resources[res.local_address] = res
    elif kind == "module":
        _module_call(source, config, module, file, lines, labels[1], raw, line, end, chain)
    elif kind == "output":
        body = {k: value(v) for k, v in raw.items()}
        module.outputs[labels[1]] = references(body.get("value")) + ref_list(
            body.get("depends_on", [])
        )
    elif kind == "locals":
        for k, v in raw.items():
            module.locals[k] = references(value(v))
    elif kind == "moved":
        body = {k: value(v) for k, v in raw.items()}
        frm, to = ref_list(body.get("from", "")), ref_list(body.get("to", ""))
        if frm and to and frm[0] and to[0]:
            config.moved.append(Moved(_scoped(path, frm[0]), _scoped(path, to[0]), file, line))
    elif kind == "removed":
        body = {k: value(v) for k, v in raw.items()}
        frm = ref_list(body.get("from", ""))
        lc = body.get("lifecycle") or [{}]
        destroy = lc[0].get("destroy", True) if isinstance(lc[0], dict) else True
        if frm and frm[0]:
            config.removed.append(Removed(_scoped(path, frm[0]), destroy is not False, file, line))
    elif kind == "import":
        body = {k: value(v) for k, v in raw.items()}
        to = ref_list(body.get("to", ""))
        if to and to[0]:
            config.imports.append(Import(_scoped(path, normalise(to[0])), file, line))


def _resource(
    module: Module,
    file: str,
    lines: list[str],
    labels: list[str],
    raw: dict[str, Any],
    line: int,
    end: int,
) -> ResourceBlock:
    """A `resource` or `data` block: its literal arguments, meta-arguments and references."""
    body = raw
    mode = "data" if labels[0] == "data" else "managed"
    attrs = {k: value(v) for k, v in body.items() if k not in _META_KEYS}
    count = value(body.get("count")) if "count" in body else None
    for_each = value(body.get("for_each")) if "for_each" in body else None
    depends = ref_list(value(body.get("depends_on", [])))
    res = ResourceBlock(
        mode=mode,
        type=labels[1],
        name=labels[2],
        module=module.path,
        file=file,
        line=line,
        attrs=attrs,
        lifecycle=_lifecycle(body) if mode == "managed" else Lifecycle(),
        refs=references(attrs),
        depends_on=depends,
        count_refs=references([count, for_each]),
        repeated="count" in body or "for_each" in body,
        provider=ref_list(value(body["provider"]))[0] if "provider" in body else None,
        ignores=inline_ignores(lines, line, end),
    )
    if "lifecycle" in body and mode == "managed":
        res.attrs["lifecycle"] = [value(b) for b in body["lifecycle"]]
    return res


def _module_call(
    source: Source,
    config: Configuration,
    module: Module,
    file: str,
    lines: list[str],
    name: str,
    raw: dict[str, Any],
    line: int,
    end: int,
    chain: tuple[str, ...],
) -> None:
    """A `module` block: the call, and the called module's own blocks when its
    source is a local directory inside the repository (else a note says why not)."""
    path = module.path
    body = {k: value(v) for k, v in raw.items()}
    src = body.get("source", "")
    src = src if isinstance(src, str) else ""
    call = ModuleCall(
        name=name,
        module=path,
        source=src,
        file=file,
        line=line,
        inputs={
            k: references(v)
            for k, v in body.items()
            if k not in ("source", "version", "count", "for_each", "depends_on", "providers")
        },
        count_refs=references([body.get("count"), body.get("for_each")]),
        depends_on=ref_list(body.get("depends_on", [])),
        directory=None,
        ignores=inline_ignores(lines, line, end),
    )
    module.calls[call.name] = call
    if src.startswith(("./", "../")):
        target = posixpath.normpath(posixpath.join(module.directory, src))
        if target.startswith("../") or target == "..":
            config.notes.append(
                f"{file}:{line}: module {call.name} source {src} is outside the repository; "
                "its resources are not predicted"
            )
        elif target in chain or len(chain) > MAX_MODULE_DEPTH:
            raise InputError(f"{file}:{line}", f"module {call.name} calls itself ({src})")
        else:
            call.directory = target
            _read_module(source, config, (*path, call.name), target, (*chain, target))
    else:
        config.notes.append(
            f"{file}:{line}: module {call.name} comes from {src or 'an unknown source'}; "
            "only local modules are followed, so its resources are not predicted"
        )


def read(source: Source, directory: str) -> Configuration:
    """The configuration rooted at `directory` (repository-relative), modules followed."""
    directory = posixpath.normpath(directory or ".")
    config = Configuration(root=directory)
    _read_module(source, config, (), directory, (directory,))
    return config
