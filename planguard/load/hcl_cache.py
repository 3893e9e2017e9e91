"""Parsed `.tf` files kept between runs, so that a review of sources parses only what changed.

Reading a `.tf` file is a pure function of its bytes (given the versions of
planguard, python-hcl2 and lark): each file's top-level blocks, as
planguard.load.hcl_parse uses them (labels, serialised body, first and last
line). Entries are keyed by the blake2b of those versions and the bytes, and
hold that form as msgpack. A run whose files are all known never imports
python-hcl2 (~50 ms) nor builds its parser (~100 ms); a file the base commit
and the working tree share is parsed once per run even without the cache.

The parser is kept too, for the files that must be parsed: lark rebuilds it
from its own cache through Python-level deserialisation (~70 ms), unpickling
the built parser takes ~20 ms. It is loaded only with lark's own parser
classes and compiled regular expressions allowed (see `_Unpickler`), after a
copy has been checked to parse like the parser it was made from.

Where: `$PLANGUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/planguard`, else
`~/.cache/planguard` (in `hcl/`). No cache at all with `PLANGUARD_NO_CACHE=1`,
in CI (`CI` set) unless `PLANGUARD_CACHE_DIR` names one, or when the
directory cannot be written or is not the user's own. The cache only ever
saves time: an entry that does not decode, fails its checksum or belongs to
other bytes is ignored and the file parsed again; nothing about it is ever an
error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import tempfile
import time
from typing import Any

import msgspec

import planguard
from planguard.speed.cachedir import root
from planguard.speed.cachedir import usable as _usable

# A block as hcl_parse reads it: labels, serialised body, first line, last line.
Block = tuple[list[str], dict[str, Any], int, int]

FORMAT = b"planguard-hcl-cache-1"
MAX_ENTRIES = 4000  # a few hundred bytes to a few KB each: some MB at most
KEEP_ENTRIES = 3000  # what pruning leaves
MEMORY_ENTRIES = 1024  # per process (a long-running server reads many files)
_TOUCH_AFTER = 86400.0  # seconds: hits refresh an entry's age at most daily
_SUBDIR = "hcl"
_PARSER_PREFIX = "parser-"
_CHECK = 16  # bytes of the checksum in front of each entry


class _Entry(msgspec.Struct, array_like=True):
    key: str
    blocks: list[tuple[list[str], dict[str, Any], int, int]]


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Entry)


# -- where ---------------------------------------------------------------------


# -- keys ----------------------------------------------------------------------


def _package_file(package: str, name: str) -> bytes:
    """A file of an installed package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise OSError(f"{package} is not installed")
    with open(os.path.join(next(iter(spec.submodule_search_locations)), name), "rb") as fh:
        return fh.read()


@functools.cache
def _salt() -> bytes | None:
    """What a parse depends on besides the file: planguard's, python-hcl2's and lark's versions."""
    try:
        parts = [
            FORMAT,
            planguard.__version__.encode(),
            _package_file("hcl2", "version.py"),
            _package_file("lark", "__init__.py"),  # holds __version__
        ]
    except (OSError, ImportError, ValueError):
        return None
    return hashlib.blake2b(b"\0".join(parts), digest_size=32).digest()


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_CHECK).digest()


def _write(path: str, data: bytes) -> bool:
    """Atomically: a reader sees the old file or the whole new one."""
    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False


# -- parsed files --------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types and key order all the way down (what msgpack keeps)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float and a != a:
        return bool(b != b)  # NaN
    return bool(a == b)


class ParseCache:
    """Parsed files by content key: in memory for this process, and on disk in `directory`."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self.memory: dict[str, bytes] = {}
        self._pruned = False

    def key(self, raw: bytes) -> str | None:
        salt = _salt()
        if salt is None:
            return None
        return hashlib.blake2b(raw, digest_size=20, key=salt).hexdigest()

    def _path(self, key: str) -> str:
        assert self.directory is not None
        return os.path.join(self.directory, key)

    def get(self, key: str) -> list[Block] | None:
        data = self.memory.get(key)
        if data is None and self.directory is not None:
            data = self._read(key)
        if data is None:
            return None
        blocks = self._decode(key, data)
        if blocks is not None and key not in self.memory:
            self._remember(key, data)
        return blocks

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
                age = time.time() - os.fstat(fh.fileno()).st_mtime
        except OSError:
            return None
        if age > _TOUCH_AFTER:  # still in use: keep it from being pruned as old
            with contextlib.suppress(OSError):
                os.utime(path)
        return data

    @staticmethod
    def _decode(key: str, data: bytes) -> list[Block] | None:
        payload = data[_CHECK:]
        if len(data) <= _CHECK or _checksum(payload) != data[:_CHECK]:
            return None
        try:
            entry = _decoder.decode(payload)
        except (msgspec.DecodeError, ValueError):
            return None
        return entry.blocks if entry.key == key else None

    def _remember(self, key: str, data: bytes) -> None:
        if len(self.memory) >= MEMORY_ENTRIES:
            self.memory.clear()
        self.memory[key] = data

    def put(self, key: str, blocks: list[Block]) -> list[Block]:
        """Keep `blocks` for `key`; returns them as every later `get` will (a fresh copy).

        Blocks that msgpack would not give back exactly are not kept.
        """
        try:
            payload = _encoder.encode(_Entry(key, blocks))
            data = _checksum(payload) + payload
            again = self._decode(key, data)
        except (msgspec.EncodeError, OverflowError, TypeError, ValueError):
            return blocks
        if again is None or not _same(again, blocks):
            return blocks
        self._remember(key, data)
        if self.directory is not None and _write(self._path(key), data):
            self._prune()
        return again

    def _prune(self) -> None:
        """Once a process, when over MAX_ENTRIES: drop the least recently used entries."""
        if self._pruned or self.directory is None:
            return
        self._pruned = True
        try:
            with os.scandir(self.directory) as it:
                found = [
                    (e.stat().st_mtime, e.path)
                    for e in it
                    if e.is_file() and not e.name.startswith(_PARSER_PREFIX)
                ]
        except OSError:
            return
        if len(found) <= MAX_ENTRIES:
            return
        found.sort()
        for _, path in found[: len(found) - KEEP_ENTRIES]:
            with contextlib.suppress(OSError):
                os.unlink(path)


@functools.lru_cache(maxsize=4)
def _cache_at(directory: str | None) -> ParseCache:
    usable = directory is not None and _usable(directory)
    return ParseCache(directory if usable else None)


def shared() -> ParseCache:
    """The process's cache, for the current environment's cache directory."""
    base = root()
    return _cache_at(os.path.join(base, _SUBDIR) if base else None)


# -- the parser ----------------------------------------------------------------

# Parsed by a new parser and by its pickled copy: the copy is kept only when
# both give the same tree (a grammar's every construct, in short).
_PROBE = """\
terraform {
  required_version = ">= 1.5"
}

variable "names" {
  type    = list(string)
  default = ["a", "b"]
}

locals {
  tags    = { team = "platform", "cost-centre" = 42, ratio = 1.5e3 }
  enabled = var.count > 0 && !var.disabled || null == false
  names   = [for n in var.names : upper(n) if n != ""]
  by_name = { for k, v in var.map : k => v... }
  first   = try(var.list[0].id, var.list.*.id, var.list[*].id, -1)
  text    = "${var.a}-%{if var.b}b%{else}c%{endif}-%{for x in var.c}${x}%{endfor}"
  escaped = "$${not} %%{this} \\"quoted\\""
  sum     = (1 + 2) * 3 / 4 % 5 - 6
  cond    = var.a >= 1 ? var.b <= 2 : var.c < 3
  policy  = <<EOT
line one
EOT
  trimmed = <<-EOT
    indented
  EOT
}

# a comment
// another
/* and a
   block */
resource "aws_s3_bucket" "b" {
  for_each = toset(local.names)
  bucket   = each.key
  provider = aws.west

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [tags]
  }

  dynamic "rule" {
    for_each = var.rules
    content {
      id = rule.value.id
    }
  }
}
"""


def _module(name: str) -> Any:
    """The regular-expression module a lexer configuration names (pickled by name)."""
    if name not in ("re", "regex"):
        raise pickle.UnpicklingError(f"module {name} is not allowed")
    import importlib

    return importlib.import_module(name)


def _action(name: str) -> Any:
    """lark's Shift and Reduce, compared by identity, so pickled by name."""
    from lark.parsers import lalr_analysis

    if name not in ("Shift", "Reduce"):
        raise pickle.UnpicklingError(f"action {name} is not allowed")
    return getattr(lalr_analysis, name)


def _lark() -> Any:
    """An empty Lark (its state follows): the class itself is never called, its
    constructor reads and unpickles cache files."""
    from lark import Lark

    return Lark.__new__(Lark)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        import types

        from lark import Lark
        from lark.parsers import lalr_analysis

        if isinstance(obj, types.ModuleType):
            return _module, (obj.__name__,)
        if obj is lalr_analysis.Shift or obj is lalr_analysis.Reduce:
            return _action, (str(obj),)
        if type(obj) is Lark:
            return _lark, (), obj.__dict__
        return NotImplemented


# The modules whose classes a parser is made of; nothing else is constructed or called.
_PARSER_MODULES = frozenset(
    {
        "lark.common",
        "lark.grammar",
        "lark.lark",
        "lark.lexer",
        "lark.parse_tree_builder",
        "lark.parser_frontends",
        "lark.parsers.lalr_analysis",
        "lark.parsers.lalr_interactive_parser",
        "lark.parsers.lalr_parser",
        "lark.parsers.lalr_parser_state",
        "lark.tree",
        "lark.utils",
        "hcl2.postlexer",
    }
)
_HELPERS = {"_module": _module, "_action": _action, "_lark": _lark}


class _Unpickler(pickle.Unpickler):
    """Only classes of the modules a parser is made of (never Lark itself), re's
    compiler, functools.partial and the helpers above."""

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name in _HELPERS:
            return _HELPERS[name]
        if (module, name) in (("re", "_compile"), ("functools", "partial")):
            return super().find_class(module, name)
        if module in _PARSER_MODULES and name != "Lark" and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type) and found.__module__ == module:
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a parser")


def _shape(node: Any) -> Any:
    """A parse tree as plain data: rule names, token kinds, values and positions."""
    from lark import Token, Tree

    if isinstance(node, Tree):
        meta = node.meta
        where = (getattr(meta, "line", None), getattr(meta, "end_line", None))
        return (str(node.data), where, [_shape(c) for c in node.children])
    if isinstance(node, Token):
        return (node.type, str(node), node.line, node.column)
    return repr(node)


def _parser_path(directory: str | None) -> str | None:
    salt = _salt()
    if directory is None or salt is None:
        return None
    import sys

    try:
        grammar = _package_file("hcl2", "hcl2.lark")
    except (OSError, ImportError, ValueError):
        return None
    tag = f"{sys.implementation.cache_tag}-{pickle.HIGHEST_PROTOCOL}".encode()
    digest = hashlib.blake2b(grammar + b"\0" + tag, digest_size=20, key=salt).hexdigest()
    return os.path.join(directory, f"{_PARSER_PREFIX}{digest}.pickle")


def _unpickle(data: bytes) -> Any:
    """A parser from `data`, or None: checksum, allowed classes, and it parses."""
    import io

    from lark import Lark, Tree

    payload = data[_CHECK:]
    if len(data) <= _CHECK or _checksum(payload) != data[:_CHECK]:
        return None
    try:
        parser = _Unpickler(io.BytesIO(payload)).load()
        if type(parser) is not Lark or not isinstance(parser.parse("a = 1\n"), Tree):
            return None
    except Exception:  # anything at all: a cached parser is never worth an error
        return None
    return parser


def _save_parser(path: str, built: Any) -> None:
    """Keep a pickled copy of `built` when the copy parses the probe exactly as it does.

    Pickled before its first parse: lexers compile their regular expressions on
    first use (~1 ms each), so a copy with none compiled loads fastest and
    compiles only what the files at hand need.
    """
    import io

    try:
        buf = io.BytesIO()
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(built)
        payload = buf.getvalue()
        data = _checksum(payload) + payload
        copy = _unpickle(data)
        if copy is None or _shape(copy.parse(_PROBE)) != _shape(built.parse(_PROBE)):
            return
    except Exception:  # a parser that does not pickle is only slower to start
        return
    if _write(path, data):
        directory, name = os.path.split(path)
        with contextlib.suppress(OSError), os.scandir(directory) as it:
            for e in it:  # parsers of other versions
                if e.name.startswith(_PARSER_PREFIX) and e.name != name:
                    with contextlib.suppress(OSError):
                        os.unlink(e.path)


_parser: Any = None


def parser(cache: ParseCache) -> Any:
    """python-hcl2's parser: a checked copy from the cache, else built (and kept)."""
    global _parser
    if _parser is not None:
        return _parser
    path = _parser_path(cache.directory)
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            data = b""
        _parser = _unpickle(data) if data else None
        if _parser is not None:
            return _parser
    import hcl2.parser

    built = hcl2.parser.parser()
    if path is not None:
        _save_parser(path, built)
    _parser = built
    return built
